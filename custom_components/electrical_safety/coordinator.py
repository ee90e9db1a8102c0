"""One push coordinator per bridge, fed by the bridge's WebSocket.

Set-up reads the bridge once over REST (so that an unreachable bridge or a wrong token
fails the set-up the way Home Assistant expects), then a background task holds the
WebSocket open: a snapshot first, then device states and events as they happen. When the
socket breaks, every entity becomes unavailable, the loss is logged once, and the task
reconnects with a doubling, capped delay. Events that happened while the socket was down
are fetched from the bridge's log after the next snapshot, so an alarm raised during a
blip still reaches the event entities, in order and once. The position in the log reached
is kept in Home Assistant's storage, so the same holds across a restart of Home Assistant:
an alarm raised while it restarts still fires its event entity (and the notifications
triggered by it) once Home Assistant is back.

An event the bridge could not store (a full disk) arrives without a ``seq``: it is
dispatched at once, and its id remembered, so that its stored copy, pushed later with the
same id, only moves the position in the log on. ``status`` messages carry the bridge's
health (its storage, each line's load); they update the bridge's entities and raise or
clear the storage and overload repair issues.

Hazards (each alarm or wiring fault followed until someone eliminates it) and their
statistics come with the snapshot, with every ``hazard`` message, and over REST at set-up;
a bridge from before hazards answers 404 for their routes and simply has none. A hazard left
open longer than the entry's option is a repair issue until it is eliminated.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from electrical_safety_bridge.client import BridgeClient, check_schema
from electrical_safety_bridge.common.enums import EventType, MessageType, StorageState
from electrical_safety_bridge.common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeError,
    BridgeResponseError,
    SchemaMismatch,
)
from electrical_safety_bridge.common.models import (
    BridgeData,
    BridgeEvent,
    BridgeInfo,
    BridgeStatus,
    BusSchedule,
    DeviceState,
    StorageStatus,
    site_from,
)
from electrical_safety_bridge.common.schema import MIN_SUPPORTED_SCHEMA_VERSION, SCHEMA_VERSION
from electrical_safety_bridge.common.site import Site
from electrical_safety_bridge.common.workflow import Hazard, HazardStatistics, hazards_from

from .alarm_delivery import AlarmDeliveries
from .const import (
    CONF_HAZARD_REPAIR_AFTER,
    CONF_REPAIR_AFTER,
    DEFAULT_HAZARD_REPAIR_AFTER,
    DEFAULT_REPAIR_AFTER,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
    RECONNECT_MAX,
    RECONNECT_MIN,
    REPLAY_LIMIT,
    SEEN_SAVE_DELAY,
)
from .hazards import hazard_placeholders, is_wiring_fault
from .proof import ProofTracker

if TYPE_CHECKING:
    from .compliance_tracker import ComplianceTracker
    from .early_warning import EarlyWarnings

type ElectricalSafetyConfigEntry = ConfigEntry[ElectricalSafetyCoordinator]
type EventListener = Callable[[BridgeEvent], None]


def seen_events_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The storage of how far in its bridge's log an entry has dispatched events."""
    return Store(hass, 1, f"{DOMAIN}.{entry_id}.seen_events")


def device_identifier(bridge_id: str, device_id: str) -> tuple[str, str]:
    """The device-registry identifier of one detector (device ids are unique per bridge)."""
    return (DOMAIN, f"{bridge_id}:{device_id}")


def site_identifier(bridge_id: str) -> tuple[str, str]:
    """The device-registry identifier of the site a bridge serves (one per bridge). A ``/``
    is in no bridge or device id, so it cannot meet a detector's identifier."""
    return (DOMAIN, f"{bridge_id}/site")


def shown_site(data: BridgeData) -> Site | None:
    """The site Home Assistant shows as a device: None from a bridge before sites, and for a
    site nobody configured (the bridge names it by its own id), whose detectors are shown
    through the bridge's device as before."""
    site = data.site
    return None if site is None or site.name == data.info.bridge_id else site


def unreachable_issue_id(entry_id: str) -> str:
    """The repair issue raised when a bridge stays unreachable."""
    return f"bridge_unreachable_{entry_id}"


def unverified_issue_id(entry_id: str, device_id: str) -> str:
    """The repair issue of a device read with an unverified profile."""
    return f"unverified_profile_{entry_id}_{device_id}"


def storage_issue_id(entry_id: str, state: str) -> str:
    """The repair issue of the bridge's storage in trouble: on its reserve, or failing.

    Two issues, not one: a person who dismissed "the disk is full" still hears of "events
    can no longer be stored".
    """
    return f"storage_{state}_{entry_id}"


def schema_issue_id(entry_id: str) -> str:
    """The repair issue of a bridge whose contract this integration cannot speak."""
    return f"schema_mismatch_{entry_id}"


def overloaded_issue_id(entry_id: str, bus_id: str) -> str:
    """The repair issue of a line whose alarm polls cannot keep their interval."""
    return f"bus_overloaded_{entry_id}_{bus_id}"


def hazard_issue_id(entry_id: str, hazard_id: str) -> str:
    """The repair issue of a hazard left open too long."""
    return f"hazard_open_{entry_id}_{hazard_id}"


#: How often hazards are checked for having been open too long.
HAZARD_CHECK_INTERVAL = timedelta(minutes=1)


def _route_missing(err: BridgeError) -> bool:
    """A bridge older than the route answers 404 (``not_found``), which the client reads as
    a plain response error."""
    return isinstance(err, BridgeResponseError) and str(err).startswith("HTTP 404")


def _cannot_read(err: BridgeError) -> UpdateFailed:
    """Set-up (or a refresh) failed reading the bridge: retried, saying why."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"error": str(err)},
    )


#: Ids of unstored events remembered until their stored copy arrives. An event beyond it
#: (a bridge restarted while failing never stores what it held) is forgotten; were its
#: stored copy to come after all, it would be dispatched twice rather than never.
UNSTORED_MEMORY = 1000


def _seconds(value: float | None) -> str:
    """A duration for a message: ``0.08``, ``1.5``, ``2``."""
    return "?" if value is None else f"{round(value, 2):g}"


def _size(value: int | None) -> str:
    """Free space for a message, in MiB: ``0.4 MiB``."""
    return "?" if value is None else f"{value / 1048576:.1f} MiB"


class ElectricalSafetyCoordinator(DataUpdateCoordinator[BridgeData]):
    """The bridge's devices and their state, pushed over the WebSocket."""

    config_entry: ElectricalSafetyConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ElectricalSafetyConfigEntry, client: BridgeClient
    ) -> None:
        """Set up the coordinator; nothing connects until the first refresh."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,  # pushed, never polled
        )
        self.client = client
        #: The WebSocket is open and its snapshot was received.
        self.connected = False
        #: When the bridge was last found unreachable (None while it is reachable).
        self.down_since: datetime | None = None
        self.reconnects = 0
        self._down = False
        self._listeners_by_event: list[EventListener] = []
        self._seen_seq: int | None = None
        #: Where ``_seen_seq`` outlives Home Assistant's restarts.
        self._seen_store = seen_events_store(hass, entry.entry_id)
        #: Ids of events dispatched unstored, whose stored copy has not arrived yet.
        self._unstored: OrderedDict[str, None] = OrderedDict()
        self._unreachable_timer: CALLBACK_TYPE | None = None
        self._unverified: set[str] = set()
        self._overloaded: set[str] = set()
        #: Hazards with a repair issue for having been open too long.
        self._overdue: set[str] = set()
        #: The bridge's own device in the device registry (set once the entry is set up).
        self.bridge_device_id: str | None = None
        #: The site's device, through which the detectors are shown (None: a bridge before
        #: sites, whose detectors are shown through the bridge's device).
        self.site_device_id: str | None = None
        #: Self-test schedule and inspections due (proof.py), set up with the entry.
        self.proof: ProofTracker | None = None
        #: The bridge's early-warning baselines (early_warning.py), read at set-up.
        self.early_warnings: EarlyWarnings | None = None
        #: The compliance rules' findings (compliance_tracker.py), set up with the entry.
        self.compliance: ComplianceTracker | None = None
        #: How fast the last alarm arrived (alarm_delivery.py).
        self.alarm_deliveries = AlarmDeliveries()

    @property
    def bridge_id(self) -> str:
        """The bridge's id (the config entry's unique id)."""
        return self.data.info.bridge_id

    # ------------------------------------------------------------------ set-up

    async def _async_update_data(self) -> BridgeData:
        """Read everything over REST: set-up, and a manual refresh."""
        try:
            data = await self.client.data()
        except BridgeAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except SchemaMismatch as err:
            self._async_raise_schema_issue(err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.problem,
                translation_placeholders=self._schema_placeholders(err),
            ) from err
        except BridgeError as err:
            raise _cannot_read(err) from err
        if data.info.bridge_id != self.config_entry.unique_id:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_bridge",
                translation_placeholders={"bridge_id": data.info.bridge_id},
            )
        if self._seen_seq is None:
            self._seen_seq = await self._async_restore_seen_seq(data.last_seq)
        data = await self._async_read_workflow(data)
        data = await self._async_read_site(data)
        ir.async_delete_issue(self.hass, DOMAIN, schema_issue_id(self.config_entry.entry_id))
        self.async_sync_registries(data)
        self._async_sync_hazard_issues(data)
        return data

    async def _async_read_workflow(self, data: BridgeData) -> BridgeData:
        """Add the open hazards and their statistics, read over REST.

        A bridge from before hazards answers 404: it has none, and no statistics. Any other
        failure fails the set-up like the rest of the reading.
        """
        try:
            hazards = await self.client.hazards()
            statistics: HazardStatistics | None = await self.client.statistics()
        except BridgeError as err:
            if not _route_missing(err):
                raise _cannot_read(err) from err
            LOGGER.debug("The bridge has no hazards yet (%s): an add-on before them", err)
            return data
        return dataclasses.replace(
            data, hazards={h.id: h for h in hazards if h.open}, statistics=statistics
        )

    async def _async_read_site(self, data: BridgeData) -> BridgeData:
        """Add the site the bridge serves; a bridge before sites answers 404 and has none."""
        try:
            site = await self.client.site()
        except BridgeError as err:
            if not _route_missing(err):
                raise _cannot_read(err) from err
            LOGGER.debug("The bridge has no site yet (%s): an add-on before sites", err)
            return data
        return dataclasses.replace(data, site=site)

    @callback
    def async_start(self) -> None:
        """Open the WebSocket in the background, for as long as the entry is loaded."""
        self.config_entry.async_create_background_task(
            self.hass, self._async_listen_forever(), f"{DOMAIN} bridge {self.config_entry.title}"
        )
        self.config_entry.async_on_unload(self._async_cancel_timer)
        self.config_entry.async_on_unload(
            async_track_time_interval(self.hass, self._async_check_hazards, HAZARD_CHECK_INTERVAL)
        )

    # ------------------------------------------------------------------ the socket

    async def _async_listen_forever(self) -> None:
        delay = RECONNECT_MIN
        while True:
            try:
                await self._async_listen()
                error: BridgeError = BridgeConnectionError("the bridge closed the connection")
            except BridgeAuthenticationError as err:
                self._async_went_down(err)
                # A new token is needed: reauth, and no more reconnecting with the old one.
                self.config_entry.async_start_reauth(self.hass)
                return
            except SchemaMismatch as err:
                # Kept trying: the add-on or the integration may be updated meanwhile.
                self._async_raise_schema_issue(err)
                error = err
            except BridgeError as err:
                error = err
            if self.connected:
                delay = RECONNECT_MIN
            self._async_went_down(error)
            await self._async_backoff(delay)
            delay = min(delay * 2, RECONNECT_MAX)
            self.reconnects += 1

    async def _async_backoff(self, delay: float) -> None:
        """Wait before the next attempt."""
        await asyncio.sleep(delay)

    async def _async_listen(self) -> None:
        async with self.client.websocket() as socket:
            async for message in socket:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await self._async_handle(message.data)
                elif message.type is aiohttp.WSMsgType.ERROR:
                    raise BridgeConnectionError(str(socket.exception()))

    async def _async_handle(self, text: str) -> None:
        try:
            message = json.loads(text)
            kind = message.get("type")
            if kind == MessageType.SNAPSHOT:
                # A bridge whose contract this integration cannot read: nothing of it is
                # shown, and the socket is closed (SchemaMismatch goes past this handler).
                check_schema(message)
                await self._async_on_snapshot(message)
            elif kind == MessageType.DEVICE_STATE:
                self._async_on_device_state(message["device"])
            elif kind == MessageType.EVENT:
                event = BridgeEvent.from_dict(message["event"])
                self._async_on_event(event)
                self.alarm_deliveries.async_on_live_event(event, self.data.devices)
            elif kind == MessageType.STATUS:
                self._async_on_status(message["status"])
            elif kind == MessageType.HAZARD:
                self._async_on_hazard(message)
            # Anything else ("pong", or a newer bridge's message) needs nothing from us.
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            LOGGER.warning("Ignoring a message from the bridge that could not be read: %s", err)

    async def _async_on_snapshot(self, message: Mapping[str, Any]) -> None:
        data = BridgeData.from_parts(
            message.get("info") or {}, message.get("devices") or [], message.get("last_seq")
        )
        if data.info.bridge_id != self.config_entry.unique_id:
            # Another bridge answers at this address now: show nothing of it as ours.
            raise BridgeConnectionError(f"bridge {data.info.bridge_id} answers at this address")
        statistics = message.get("statistics")
        if isinstance(statistics, Mapping):
            data = dataclasses.replace(
                data,
                hazards={h.id: h for h in hazards_from(message) if h.open},
                statistics=HazardStatistics.from_dict(statistics),
            )
        else:
            # No statistics: a bridge from before hazards (its snapshot may still carry an
            # empty list of them). What set-up read stays: nothing, from such a bridge.
            data = dataclasses.replace(
                data, hazards=self.data.hazards, statistics=self.data.statistics
            )
        # A bridge before sites sends none: what set-up read stays (nothing, from it).
        data = dataclasses.replace(data, site=site_from(message) or self.data.site)
        missed_after = self._seen_seq
        ir.async_delete_issue(self.hass, DOMAIN, schema_issue_id(self.config_entry.entry_id))
        self._async_came_back()
        self.async_set_updated_data(data)
        self.async_sync_registries(data)
        self._async_sync_hazard_issues(data)
        if missed_after is not None and data.last_seq is not None and data.last_seq > missed_after:
            await self._async_replay(missed_after, data.last_seq)
        if data.last_seq is not None:
            self._async_saw(max(self._seen_seq or 0, data.last_seq))
        # Events a full disk keeps out of the bridge's store: heard now, or never until they
        # are stored. Those already dispatched are recognised by id.
        for raw in message.get("held_events") or []:
            self._async_on_event(BridgeEvent.from_dict(raw))

    async def _async_replay(self, after: int, until: int) -> None:
        """Dispatch the events that happened between the last one seen and the snapshot."""
        try:
            events = await self.client.events(after=after, limit=REPLAY_LIMIT)
        except BridgeError as err:
            LOGGER.warning("Could not fetch the events missed while disconnected: %s", err)
            return
        for event in events:
            if event.seq is not None and event.seq <= until:
                self._async_on_event(event)

    @callback
    def _async_on_device_state(self, raw: Mapping[str, Any]) -> None:
        device = self.data.devices.get(str(raw["id"]))
        if device is None:
            return  # not described yet: the next snapshot brings it with its metadata
        devices = dict(self.data.devices)
        devices[device.id] = dataclasses.replace(device, state=DeviceState.from_dict(raw))
        self.async_set_updated_data(dataclasses.replace(self.data, devices=devices))
        # Its entities show the new state now: an alarm they show is delivered.
        self.alarm_deliveries.async_on_device_state(devices[device.id])

    @callback
    def _async_on_hazard(self, message: Mapping[str, Any]) -> None:
        """A hazard opened or moved on: replace it, or drop it once eliminated."""
        hazard = Hazard.from_dict(message["hazard"])
        hazards = dict(self.data.hazards)
        if hazard.open:
            hazards[hazard.id] = hazard
        else:
            hazards.pop(hazard.id, None)
        statistics = message.get("statistics")
        data = dataclasses.replace(
            self.data,
            hazards=hazards,
            statistics=HazardStatistics.from_dict(statistics)
            if isinstance(statistics, Mapping)
            else self.data.statistics,
        )
        self.async_set_updated_data(data)
        self._async_sync_hazard_issues(data)

    @callback
    def _async_on_status(self, raw: Mapping[str, Any]) -> None:
        info = self.data.info.with_status(BridgeStatus.from_dict(raw))
        self.async_set_updated_data(dataclasses.replace(self.data, info=info))
        self._async_sync_health_issues(info)

    @callback
    def _async_on_event(self, event: BridgeEvent) -> None:
        if event.seq is None:
            # Not stored yet (a full disk): an alarm must not wait for the disk.
            if event.id in self._unstored:
                return
            self._unstored[event.id] = None
            if len(self._unstored) > UNSTORED_MEMORY:
                self._unstored.popitem(last=False)
        else:
            if self._seen_seq is not None and event.seq <= self._seen_seq:
                return  # already dispatched (a replay overlapping the live stream)
            self._async_saw(event.seq)
            if event.id in self._unstored:
                # The stored copy of an event dispatched when it was pushed unstored.
                del self._unstored[event.id]
                return
        bus = event.data.get("bus")
        if event.type in (EventType.BUS_UP, EventType.BUS_DOWN) and isinstance(bus, str):
            info = self.data.info.with_bus(bus, event.type == EventType.BUS_UP)
            self.async_set_updated_data(dataclasses.replace(self.data, info=info))
        for listener in list(self._listeners_by_event):
            listener(event)

    async def _async_restore_seen_seq(self, last_seq: int | None) -> int | None:
        """Where the events dispatched before Home Assistant last stopped ended in the
        bridge's log; those stored since are replayed after the first snapshot. On a first
        set-up, or from a bridge whose log is behind it (its data folder replaced), the
        log's end: nothing of the past is fired."""
        saved = await self._seen_store.async_load()
        seq = saved.get("seq") if saved is not None else None
        if isinstance(seq, int) and last_seq is not None and seq <= last_seq:
            return seq
        return last_seq

    @callback
    def _async_saw(self, seq: int) -> None:
        """The events up to ``seq`` were dispatched: remember it, in storage too."""
        self._seen_seq = seq
        self._seen_store.async_delay_save(lambda: {"seq": self._seen_seq}, SEEN_SAVE_DELAY)

    async def async_shutdown(self) -> None:
        """Save the position in the bridge's log now: the entry unloads (a reload, or Home
        Assistant stopping), and the next set-up reads it."""
        await super().async_shutdown()
        if self._seen_seq is not None:
            await self._seen_store.async_save({"seq": self._seen_seq})

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call ``listener`` with every event of the bridge's log; returns the remover."""
        self._listeners_by_event.append(listener)

        @callback
        def remove() -> None:
            self._listeners_by_event.remove(listener)

        return remove

    # ------------------------------------------------------------------ up and down

    @callback
    def _async_went_down(self, err: Exception) -> None:
        self.connected = False
        if self._down:
            LOGGER.debug("The bridge is still unreachable: %s", err)
            return
        self._down = True
        self.down_since = dt_util.utcnow()
        LOGGER.info(
            "Lost the connection to the bridge at %s:%s (%s); its entities are unavailable"
            " until it reconnects",
            self.client.host,
            self.client.port,
            err,
        )
        self.last_exception = err
        self.last_update_success = False
        self.async_update_listeners()
        minutes = self.config_entry.options.get(CONF_REPAIR_AFTER, DEFAULT_REPAIR_AFTER)
        self._async_cancel_timer()
        self._unreachable_timer = async_call_later(
            self.hass, minutes * 60, self._async_raise_unreachable
        )

    @callback
    def _async_came_back(self) -> None:
        self.connected = True
        if not self._down:
            return
        self._down = False
        LOGGER.info("Reconnected to the bridge at %s:%s", self.client.host, self.client.port)
        self.down_since = None
        self._async_cancel_timer()
        ir.async_delete_issue(self.hass, DOMAIN, unreachable_issue_id(self.config_entry.entry_id))

    def _schema_placeholders(self, err: SchemaMismatch) -> dict[str, str]:
        return {
            "title": self.config_entry.title,
            "bridge_schema": "?" if err.server_schema is None else str(err.server_schema),
            "bridge_min": "?"
            if err.server_min_supported is None
            else str(err.server_min_supported),
            "schema": str(SCHEMA_VERSION),
            "min": str(MIN_SUPPORTED_SCHEMA_VERSION),
        }

    @callback
    def _async_raise_schema_issue(self, err: SchemaMismatch) -> None:
        """Say which side to update: the add-on (bridge too old) or the integration."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            schema_issue_id(self.config_entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=err.problem,
            translation_placeholders=self._schema_placeholders(err),
        )

    @callback
    def _async_raise_unreachable(self, _now: datetime) -> None:
        self._unreachable_timer = None
        minutes = self.config_entry.options.get(CONF_REPAIR_AFTER, DEFAULT_REPAIR_AFTER)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            unreachable_issue_id(self.config_entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="bridge_unreachable",
            translation_placeholders={
                "title": self.config_entry.title,
                "host": self.client.host,
                "port": str(self.client.port),
                "minutes": str(minutes),
            },
        )

    @callback
    def _async_cancel_timer(self) -> None:
        if self._unreachable_timer is not None:
            self._unreachable_timer()
            self._unreachable_timer = None

    # ------------------------------------------------------------------ hazards

    @callback
    def _async_check_hazards(self, _now: datetime) -> None:
        self._async_sync_hazard_issues(self.data)

    @callback
    def _async_sync_hazard_issues(self, data: BridgeData) -> None:
        """A repair issue for each hazard open longer than the option allows; none for
        those eliminated."""
        entry_id = self.config_entry.entry_id
        hours = self.config_entry.options.get(CONF_HAZARD_REPAIR_AFTER, DEFAULT_HAZARD_REPAIR_AFTER)
        deadline = dt_util.utcnow().timestamp() - hours * 3600
        overdue = {h.id: h for h in data.hazards.values() if h.opened_at <= deadline}
        for hazard_id in self._overdue - set(overdue):
            ir.async_delete_issue(self.hass, DOMAIN, hazard_issue_id(entry_id, hazard_id))
        for hazard_id, hazard in overdue.items():
            if hazard_id in self._overdue:
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                hazard_issue_id(entry_id, hazard_id),
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="hazard_open_wiring_fault"
                if is_wiring_fault(hazard)
                else "hazard_open_alarm",
                translation_placeholders={
                    **hazard_placeholders(data.devices.get(hazard.device_id), hazard),
                    "hours": str(hours),
                },
            )
        self._overdue = set(overdue)

    # ------------------------------------------------------------------ registries

    @callback
    def async_link_to_bridge(self, device_id: str | None) -> None:
        """Show a detector's device as connected through the site's device (through the
        bridge's, from a bridge before sites), and the site's through the bridge's.

        The link is made in the device registry (``via_device_id``, which every supported
        Home Assistant takes), not with ``DeviceInfo(via_device=...)``, deprecated from
        Home Assistant 2026.8. A detector's first entity links it as soon as the registry
        has its device; ``async_sync_registries`` links those already there.
        """
        bridge_device_id = self.bridge_device_id
        if device_id is None or bridge_device_id is None or device_id == bridge_device_id:
            return
        hub = bridge_device_id if device_id == self.site_device_id else self.site_device_id
        hub = hub or bridge_device_id
        registry = dr.async_get(self.hass)
        device = registry.async_get(device_id)
        if device is not None and device.via_device_id != hub:
            registry.async_update_device(device_id, via_device_id=hub)

    @callback
    def async_sync_site_device(self, data: BridgeData) -> None:
        """The site's device, made (or renamed) as the bridge reports its site, once the
        bridge's own device is there; linked through the bridge's."""
        site = shown_site(data)
        if site is None or self.bridge_device_id is None:
            return
        device = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            identifiers={site_identifier(data.info.bridge_id)},
            name=site.name,
            manufacturer=MANUFACTURER,
            model="Site",
        )
        self.site_device_id = device.id
        self.async_link_to_bridge(device.id)

    @callback
    def async_sync_registries(self, data: BridgeData) -> None:
        """Remove devices the bridge no longer has, link the others to the site's device;
        raise or clear unverified-profile issues."""
        entry_id = self.config_entry.entry_id
        self.async_sync_site_device(data)
        bridge_id = data.info.bridge_id
        wanted = {(DOMAIN, bridge_id)} | {device_identifier(bridge_id, d) for d in data.devices}
        if shown_site(data) is not None:
            wanted.add(site_identifier(bridge_id))
        registry = dr.async_get(self.hass)
        for entry_device in dr.async_entries_for_config_entry(registry, entry_id):
            if not entry_device.identifiers & wanted:
                LOGGER.debug("Removing %s: the bridge no longer reports it", entry_device.name)
                registry.async_remove_device(entry_device.id)
            else:
                self.async_link_to_bridge(entry_device.id)

        unverified = {d.id for d in data.devices.values() if not d.verified}
        for device_id in self._unverified - unverified:
            ir.async_delete_issue(self.hass, DOMAIN, unverified_issue_id(entry_id, device_id))
        for device_id in unverified:
            device = data.devices[device_id]
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                unverified_issue_id(entry_id, device_id),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="unverified_profile",
                translation_placeholders={"device": device.name, "model": device.model or "?"},
            )
        self._unverified = unverified
        self._async_sync_health_issues(data.info)

    @callback
    def _async_sync_health_issues(self, info: BridgeInfo) -> None:
        """Raise or clear the storage and line-overload issues, as the bridge reports."""
        entry_id = self.config_entry.entry_id
        storage = info.storage
        trouble: StorageState | None = None
        if storage is not None and storage.problem:
            # A problem state this version does not know is taken for the milder one.
            if storage.state == StorageState.FAILING:
                trouble = StorageState.FAILING
            else:
                trouble = StorageState.ON_RESERVE
            self._async_raise_storage_issue(storage, trouble)
        for state in (StorageState.ON_RESERVE, StorageState.FAILING):
            if state is not trouble:
                ir.async_delete_issue(self.hass, DOMAIN, storage_issue_id(entry_id, state))

        overloaded = {
            bus.id: bus.schedule
            for bus in info.buses
            if bus.schedule is not None and bus.schedule.overloaded
        }
        for bus_id in self._overloaded - set(overloaded):
            ir.async_delete_issue(self.hass, DOMAIN, overloaded_issue_id(entry_id, bus_id))
        for bus_id, schedule in overloaded.items():
            self._async_raise_overload_issue(bus_id, schedule)
        self._overloaded = set(overloaded)

    @callback
    def _async_raise_storage_issue(self, storage: StorageStatus, state: StorageState) -> None:
        failing = state is StorageState.FAILING
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            storage_issue_id(self.config_entry.entry_id, state),
            is_fixable=False,
            # On the reserve, events are still stored; failing, they are only held in memory.
            severity=ir.IssueSeverity.ERROR if failing else ir.IssueSeverity.WARNING,
            translation_key="storage_failing" if failing else "storage_on_reserve",
            translation_placeholders={
                "title": self.config_entry.title,
                "error": storage.error or "?",
                "held": str(storage.held_events),
                "free": _size(storage.free_bytes),
            },
        )

    @callback
    def _async_raise_overload_issue(self, bus_id: str, schedule: BusSchedule) -> None:
        share = schedule.alarm_line_share
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            overloaded_issue_id(self.config_entry.entry_id, bus_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="bus_overloaded",
            translation_placeholders={
                "title": self.config_entry.title,
                "bus": bus_id,
                "round": _seconds(schedule.alarm_round_s),
                "share": "?" if share is None else f"{share * 100:.0f}",
                "interval": _seconds(schedule.alarm_interval_s),
                "effective": _seconds(schedule.effective_alarm_interval_s),
            },
        )
