"""The long-running bridge: buses, the event store, the API and the optional gateway.

The same service runs inside the add-on, as a standalone process for Home Assistant
Container and Core users, and on simulated buses (``run --demo``). Every event the buses
emit is written to the store before anyone hears of it: WebSocket pushes, API answers and
the console all come after the durable append, so nothing a client was told can be lost
by a crash. SIGTERM stops it cleanly: buses first, then the API, then the store is flushed.

The one exception is a store that cannot write (a full disk, see storage/guard.py): then an
event is pushed at once marked ``"stored": false`` (with the id it will keep), held in
memory and written, in order, as soon as the store takes writes again; meanwhile commands
and acknowledgements, which must never happen unrecorded, are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from . import __version__
from .announce import supervisor
from .announce.mdns import Advertiser, advertised_addresses
from .api.auth import load_or_create_bridge_id, load_or_create_token
from .api.http import broadcast, client_count, close_clients, create_app, first_listener
from .api.proof_routes import add_proof_routes
from .bus.scheduler import Bus
from .common import models as wire
from .common.enums import (
    AlarmKind,
    EventType,
    HazardState,
    HealthStatus,
    MessageType,
    RefusalReason,
)
from .common.errors import CommandRefused, UnknownDevice
from .common.proof import SelfTestRecord
from .common.schema import API_VERSION, MIN_SUPPORTED_SCHEMA_VERSION, SCHEMA_VERSION
from .common.site import Finding, Site
from .common.workflow import Actor, Hazard, Lockout
from .compliance.checker import ComplianceChecker
from .compliance.explanations import explain
from .config.bridge_config import BridgeConfig
from .errors import StorageFailing
from .profiles.metadata import device_model
from .proof_service import Proof
from .report.sampling import TelemetrySampler
from .report.sources import ReportExtras
from .safety.alarms import Alarm, AlarmBook, UnknownAlarm
from .safety.early_warning import BUCKET_S
from .safety.events import BridgeEvent
from .safety.hazards import HazardBook, hazard_statistics
from .safety.trend_book import TrendBook, watched_channels
from .storage.event_store import (
    AsyncEventStore,
    InvalidEvent,
    StoredEvent,
    StoreError,
    new_event_id,
)
from .storage.guard import DEFAULT_RESERVE_BYTES, StorageGuard
from .storage.last_heard import load_last_heard, save_last_heard
from .storage.telemetry_stats import TELEMETRY_FILE, AsyncTelemetryStats
from .storage.trend_state import load_trend_state, save_trend_state

if TYPE_CHECKING:
    from .relay.core import Relay

_LOGGER = logging.getLogger(__name__)

STORE_FILE = "events.sqlite3"
#: The units' last-heard times (storage/last_heard.py) are looked at this often, and saved
#: when a unit has been heard that the file lacks, else every LAST_HEARD_EVERY_S: a time in
#: the file that is late by a minute only makes a restarted bridge's grace the limit, and an
#: SD card is not rewritten every few seconds.
LAST_HEARD_CHECK_S = 1.0
LAST_HEARD_EVERY_S = 60.0
PRUNE_EVERY_S = 24 * 3600.0
#: How often the free space of the data folder is looked at: a disk that fills up is
#: reported within this, even when no event is being written.
STORAGE_CHECK_S = 2.0
#: While the store cannot write, held events are tried again this often (and at each new
#: event).
HELD_RETRY_S = 2.0
#: The status is pushed on every change, and every this many storage checks (30 s) anyway.
STATUS_EVERY_CHECKS = 15
#: Events that change what the bridge's status says (pushed as a ``status`` message).
_STATUS_EVENTS = frozenset(
    {
        EventType.STORAGE_FAILING,
        EventType.STORAGE_RECOVERED,
        EventType.BUS_OVERLOADED,
        EventType.BUS_OVERLOAD_CLEARED,
        EventType.BUS_UP,
        EventType.BUS_DOWN,
    }
)
_RAISED_EVENTS = frozenset({EventType.ALARM_RAISED, EventType.WIRING_FAULT_RAISED})
_HAZARD_EVENTS = frozenset(
    {EventType.HAZARD_OPENED, EventType.HAZARD_ACKNOWLEDGED, EventType.HAZARD_ELIMINATED}
)
#: Who the bridge records for what it does by itself (a lock-out that ran out, a hazard
#: opened for an alarm restored without one).
BRIDGE_ACTOR = "bridge"
#: The longest note an elimination keeps.
MAX_NOTE = 2000
#: Early warning: how often the baselines take the values read last (real seconds; a
#: bucket of 15 minutes gets 15 of them), and how often they are saved to the data folder.
TREND_SAMPLE_S = 60.0
TREND_SAVE_S = 300.0
#: With a compressed clock (``early_warning.time_scale``), the sampler wakes at least this
#: far apart and stamps the value it holds at every half bucket that passed meanwhile.
TREND_MIN_SAMPLE_S = 0.05
#: At most two days of half buckets are stamped after a stall.
MAX_STAMPS = 2 * 2 * 96


class Simulation(Protocol):
    """What the service needs of a simulated line it runs on (demo and tests)."""

    async def start(self) -> None:
        """Start serving."""
        ...

    async def stop(self) -> None:
        """Stop serving."""
        ...


class Bridge:
    """One bridge process."""

    def __init__(
        self,
        config: BridgeConfig,
        *,
        simulation: Simulation | None = None,
        console: Callable[[BridgeEvent], None] | None = None,
        storage_reserve_bytes: int = DEFAULT_RESERVE_BYTES,
    ) -> None:
        self.config = config
        self.simulation = simulation
        self.console = console
        self.token = ""
        self.bridge_id = config.bridge_id or ""
        self.alarms = AlarmBook()
        self.hazards = HazardBook()
        self._lockouts: dict[str, Lockout] = {}
        self._lockouts_changed = asyncio.Event()
        self.buses: dict[str, Bus] = {}
        self.device_bus: dict[str, Bus] = {}
        self.running = False
        self.api_port: int | None = None
        self.ingress_port: int | None = None
        self.last_seq = 0
        self._heard_unsaved = False
        self.gateway: Any = None
        self.advertiser: Advertiser | None = None
        self.relay: Relay | None = None
        #: Scheduled self-tests and inspection records (proof_service.py).
        self.proof: Proof | None = None
        self._store: AsyncEventStore | None = None
        # The safety report: hourly leakage and temperature statistics, and the providers of
        # the records other parts keep (findings, scheduled tests, early warnings).
        self._telemetry: AsyncTelemetryStats | None = None
        self._sampler: TelemetrySampler | None = None
        # The compliance rules over the site, the detectors and the self-test log; the
        # report takes the latest findings and their explanations.
        self.compliance_checker = ComplianceChecker(
            self.site_model, self._devices, self._self_tests_since, time.time
        )
        self.report_extras = ReportExtras(
            site=self.site_model,
            findings=lambda: self.compliance_checker.last,
            explain=self._explained,
            refresh=self.compliance_checker.check,
        )
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._pending: asyncio.Queue[BridgeEvent] = asyncio.Queue()
        self._enqueued = 0
        self._written = 0
        self._written_changed = asyncio.Condition()
        self._dirty: set[str] = set()
        self._dirty_event = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._bus_tasks: list[asyncio.Task[None]] = []
        self.storage = StorageGuard(config.data_dir, reserve_bytes=storage_reserve_bytes)
        # Held events already pushed as not yet stored, by id: a client that connects
        # meanwhile gets them in its snapshot.
        self._pushed_unstored: dict[str, dict[str, Any]] = {}
        # Early warning (safety/trend_book.py): None when switched off.
        self.trends: TrendBook | None = None

    @property
    def store(self) -> AsyncEventStore:
        """The event store (open while the bridge runs)."""
        if self._store is None:
            raise RuntimeError("the bridge is not started")
        return self._store

    @property
    def profile_dir(self) -> Path | None:
        """The folder of user profiles (the profile editor saves there); None: none set."""
        return self.config.profile_dir

    @property
    def telemetry(self) -> AsyncTelemetryStats:
        """The hourly telemetry statistics (open while the bridge runs)."""
        if self._telemetry is None:
            raise RuntimeError("the bridge is not started")
        return self._telemetry

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the store, restore open alarms, start polling, then serve the API."""
        data_dir = self.config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.token = load_or_create_token(data_dir)
        self.bridge_id = self.bridge_id or load_or_create_bridge_id(data_dir)
        await asyncio.to_thread(self.storage.start)
        if self.storage.status.problem:
            self._storage_event()
        self._store = await AsyncEventStore.open(
            data_dir / STORE_FILE, retention_days=self.config.retention_days
        )
        self.alarms.restore(await self._store.open_alarms())
        self.hazards.load(await self._store.hazards())
        self._lockouts = await self._store.lockouts()
        self.last_seq = await self._store.last_seq()
        self._telemetry = await AsyncTelemetryStats.open(data_dir / TELEMETRY_FILE)
        for alarm in self.alarms.open_alarms():
            # An alarm stored just before a crash, without its hazard: open it now.
            self._open_hazard(alarm)
        if self.simulation is not None:
            await self.simulation.start()
        heard_before = await asyncio.to_thread(load_last_heard, data_dir)
        for bus_config in self.config.buses:
            bus = Bus(
                bus_config.settings,
                bus_config.devices,
                alarms=self.alarms,
                emit=self._emit,
                on_change=self._changed,
                cannot_record=self._cannot_record,
                lockout=self.lockout_of,
                self_test_limits=self.config.proof.limits,
                heard_before=heard_before,
            )
            self.buses[bus_config.settings.id] = bus
            for device in bus_config.devices:
                self.device_bus[device.id] = bus
        if self.config.relay is not None:
            # Off-site relay: catches up from the store, then gets every event after it.
            from .relay.core import Relay
            from .relay.remote_commands import BridgeTarget

            self.relay = Relay(
                self.config.relay,
                data_dir=data_dir,
                store=self._store,
                site=self.site_model().id,
                profile=self.site_model(),
                host=self,
                target=BridgeTarget(self),
                emit=self._emit,
            )
            await self.relay.start()
        self._tasks.append(asyncio.create_task(self._write_events(), name="event writer"))
        self._tasks.append(asyncio.create_task(self._push_changes(), name="change pusher"))
        self._tasks.append(asyncio.create_task(self._prune(), name="retention"))
        self._tasks.append(asyncio.create_task(self._watch_storage(), name="storage watch"))
        self._tasks.append(asyncio.create_task(self._expire_lockouts(), name="lock-out expiry"))
        self._tasks.append(
            asyncio.create_task(self._remember_heard(set(heard_before)), name="last heard")
        )
        self.proof = Proof(
            self.config.proof,
            {d.id: d.profile for bus_config in self.config.buses for d in bus_config.devices},
            self.device_bus,
            self,
        )
        await self.proof.start()
        if self.config.early_warning.settings.enabled:
            self.trends = await self._open_trends()
            self._tasks.append(asyncio.create_task(self._sample_trends(), name="early warning"))
        self._sampler = TelemetrySampler(self.device_bus, self._telemetry)
        self._tasks.append(asyncio.create_task(self._sampler.run(), name="telemetry sampler"))
        self._bus_tasks = [
            asyncio.create_task(bus.run(), name=f"bus {bus_id}")
            for bus_id, bus in self.buses.items()
        ]
        self._app = create_app(self, ingress_proxy=self.config.ingress_proxy)
        add_proof_routes(self._app)  # self-tests and inspections (api/proof_routes.py)
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.api_host, self.config.api_port)
        await site.start()
        if self.config.ingress_port is not None:
            # The add-on's ingress port: Supervisor proxies the web UI (at /) to it.
            ingress = web.TCPSite(self._runner, self.config.api_host, self.config.ingress_port)
            await ingress.start()
            bound = getattr(ingress._server, "sockets", None) or []
            self.ingress_port = bound[0].getsockname()[1] if bound else self.config.ingress_port
        server = site._server  # aiohttp keeps the bound sockets here; needed for port 0
        sockets = getattr(server, "sockets", None) or []
        self.api_port = sockets[0].getsockname()[1] if sockets else self.config.api_port
        gateway_config = self.config.gateway
        if gateway_config.tcp_port or gateway_config.rtu_over_tcp_port:
            from .gateway.server import Gateway

            self.gateway = Gateway(
                list(self.buses.values()),
                host=gateway_config.host,
                tcp_port=gateway_config.tcp_port,
                rtu_port=gateway_config.rtu_over_tcp_port,
                allow_writes=gateway_config.allow_writes,
                idle_timeout=gateway_config.idle_timeout,
                record=self._emit,
            )
            await self.gateway.start()
        if self._should_advertise():
            self.advertiser = Advertiser(
                self.bridge_id, self.api_port, advertised_addresses(self.config.api_host)
            )
            await self.advertiser.start()
        if os.environ.get("SUPERVISOR_TOKEN"):
            # Inside the add-on: tell Home Assistant where the bridge is and its token.
            self._tasks.append(
                asyncio.create_task(
                    supervisor.announce(self.api_port, self.token), name="discovery"
                )
            )
        self.running = True
        _LOGGER.info(
            "bridge %s serving API v%d on %s:%s (%d buses, %d devices)",
            self.bridge_id,
            API_VERSION,
            self.config.api_host,
            self.api_port,
            len(self.buses),
            len(self.device_bus),
        )

    def _should_advertise(self) -> bool:
        if self.config.advertise is not None:
            return self.config.advertise
        standalone = not os.environ.get("SUPERVISOR_TOKEN")
        reachable = not self.config.api_host.startswith("127.") and self.config.api_host != "::1"
        return standalone and reachable

    async def stop(self) -> None:
        """Stop polling, close the ports, write every pending event, close the store."""
        self.running = False
        if self.advertiser is not None:
            await self.advertiser.stop()
        if self.proof is not None:
            await self.proof.stop()
        for bus in self.buses.values():
            bus.stop()
        if self._bus_tasks:
            # Each bus finishes the transaction in flight; together, within the add-on's
            # stop grace time.
            _, late = await asyncio.wait(self._bus_tasks, timeout=10)
            for task in late:
                task.cancel()
        if self.gateway is not None:
            await self.gateway.stop()
        if self._runner is not None:
            assert self._app is not None
            await close_clients(self._app)
            await self._runner.cleanup()
        if self.simulation is not None:
            await self.simulation.stop()
        await self._wait_written(self._enqueued)
        if self.relay is not None:
            await self.relay.stop()  # events it records meanwhile are caught up at next start
            await self._wait_written(self._enqueued)
        if self.storage.status.held:
            _LOGGER.error(
                "stopping with %d event(s) the full disk kept out of the event store; they"
                " were pushed to clients but are not stored",
                self.storage.status.held,
            )
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._save_trends()
        if self.buses:
            await self._save_heard(self._heard_times())
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self._telemetry is not None:
            if self._sampler is not None:
                await self._sampler.flush()
            await self._telemetry.close()
            self._telemetry = None

    # ------------------------------------------------------------------ events

    def emit(self, event: BridgeEvent) -> None:
        """Record an event: stored, then pushed and relayed."""
        self._emit(event)

    async def written(self) -> None:
        """Wait until every event emitted so far is stored (or pushed as held)."""
        await self._wait_written(self._enqueued)

    def cannot_record(self) -> str | None:
        """Why nothing can be recorded right now (a failing store), or None."""
        return self._cannot_record()

    def _emit(self, event: BridgeEvent) -> None:
        self._enqueued += 1
        self._pending.put_nowait(event)
        if self.proof is not None:
            self.proof.observe(event)
        if event.type in _RAISED_EVENTS:
            alarm = next(
                (a for a in self.alarms.open_alarms() if a.id == event.data.get("id")), None
            )
            if alarm is not None:
                self._open_hazard(alarm)

    async def _write_events(self) -> None:
        """Store every event in order; hold them, pushed as unstored, while the store fails."""
        held: list[tuple[str, BridgeEvent]] = []
        while True:
            if not held:
                held.append((new_event_id(), await self._pending.get()))
            while not self._pending.empty():
                held.append((new_event_id(), self._pending.get_nowait()))
            stored, failed = await self._store_held(held)
            await self._stored(stored)
            if not failed:
                if self.storage.write_succeeded():
                    self._storage_event()
                continue
            await self._hold(held)
            with contextlib.suppress(TimeoutError):
                event = await asyncio.wait_for(self._pending.get(), HELD_RETRY_S)
                held.append((new_event_id(), event))

    async def _store_held(
        self, held: list[tuple[str, BridgeEvent]]
    ) -> tuple[list[StoredEvent], bool]:
        """Append the held events in one transaction, taking them out of ``held``.

        Returns what was stored, and whether the store failed (the rest stays held).
        """
        error = ""
        for attempt in (1, 2):
            try:
                stored = await self.store.append_many([e for _, e in held], [i for i, _ in held])
            except InvalidEvent:
                return await self._store_each(held)
            except StoreError as exc:
                error = str(exc)
                # Make room from the reserve, and try once more at once.
                if attempt == 2 or not self.storage.release():
                    break
                self._storage_event()
                continue
            except Exception:
                # One event the store did not foresee: found and dropped one by one.
                return await self._store_each(held)
            held.clear()
            return stored, False
        self._store_failed(error, len(held))
        return [], True

    async def _store_each(
        self, held: list[tuple[str, BridgeEvent]]
    ) -> tuple[list[StoredEvent], bool]:
        """One by one, dropping an event the store refuses as malformed (a bug, logged)."""
        stored: list[StoredEvent] = []
        while held:
            event_id, event = held[0]
            try:
                stored.extend(await self.store.append_many([event], [event_id]))
            except StoreError as exc:
                if not isinstance(exc, InvalidEvent):
                    self._store_failed(str(exc), len(held))
                    return stored, True
                await self._drop_malformed(event_id, event)
            except Exception:
                # Not an error the store foresaw: this one event cannot be stored. Ending
                # the writer instead would leave every later event, alarms too, unstored.
                await self._drop_malformed(event_id, event)
            held.pop(0)
        return stored, False

    async def _drop_malformed(self, event_id: str, event: BridgeEvent) -> None:
        """Drop an event the store refuses as malformed (a bug, logged with its cause)."""
        _LOGGER.exception("dropping a malformed %s event", event.type.value)
        if event_id not in self._pushed_unstored:
            await self._count_written(1)
        self._pushed_unstored.pop(event_id, None)

    def _store_failed(self, error: str, held: int) -> None:
        if self.storage.write_failed(error, held):  # it counts the held events too
            self._storage_event()

    async def _stored(self, stored: list[StoredEvent]) -> None:
        """After the durable append: the relay, the clients, the console."""
        counted = sum(1 for event in stored if event.id not in self._pushed_unstored)
        for event in stored:
            self.last_seq = event.seq
            if self.relay is not None:
                self.relay.offer(event)
            self._announce(event)
        for event in stored:
            self._pushed_unstored.pop(event.id, None)
        await self._count_written(counted)

    async def _hold(self, held: list[tuple[str, BridgeEvent]]) -> None:
        """Push the held events nobody has heard of yet, marked as not yet stored."""
        fresh = [(i, e) for i, e in held if i not in self._pushed_unstored]
        for event_id, event in fresh:
            message = event.to_wire(event_id, seq=None).to_dict()
            self._pushed_unstored[event_id] = message
            if self._app is not None:
                broadcast(self._app, wire.message(MessageType.EVENT, event=message))
                if event.type in _HAZARD_EVENTS:
                    self._push_hazard(str(event.data["id"]))
            if self.console is not None:
                self.console(event)
        await self._count_written(len(fresh))

    async def _count_written(self, count: int) -> None:
        """``count`` more events are stored or pushed as held: wake whoever waits."""
        self._written += count
        async with self._written_changed:
            self._written_changed.notify_all()

    def _announce(self, stored: StoredEvent) -> None:
        if self._app is not None:
            broadcast(self._app, wire.message(MessageType.EVENT, event=stored.as_dict()))
            if stored.type in _STATUS_EVENTS:
                self._push_status()
            if stored.type in _HAZARD_EVENTS and stored.id not in self._pushed_unstored:
                self._push_hazard(str(stored.data["id"]))
        if self.console is not None and stored.id not in self._pushed_unstored:
            self.console(stored.event)

    # ------------------------------------------------------------------ storage

    def _cannot_record(self) -> str | None:
        if self.storage.can_record:
            return None
        return (
            "refused: the bridge cannot record it right now (the event store is failing:"
            f" {self.storage.status.error})"
        )

    def _storage_event(self) -> None:
        """Tell the world the storage state changed (an event, stored when it can be)."""
        status = self.storage.status
        event_type = EventType.STORAGE_FAILING if status.problem else EventType.STORAGE_RECOVERED
        self._emit(BridgeEvent(event_type, time.time(), data=status.as_dict()))
        self._push_status()

    def _push_status(self) -> None:
        """Tell every WebSocket client the bridge's status (see :meth:`status`)."""
        if self._app is not None:
            broadcast(self._app, wire.message(MessageType.STATUS, status=self.status()))

    async def _watch_storage(self) -> None:
        """Check the free space, and push the status now and then: the measured figures
        (alarm round, free space, held events) move without any state changing."""
        checks = 0
        while True:
            await asyncio.sleep(STORAGE_CHECK_S)
            checks += 1
            if checks % STATUS_EVERY_CHECKS == 0:
                self._push_status()
            try:
                changed = await asyncio.to_thread(self.storage.check)
            except Exception:  # a bug here must not end the watch
                _LOGGER.exception("storage check failed")
                continue
            if changed:
                self._storage_event()

    async def _wait_written(self, count: int) -> None:
        async with self._written_changed:
            await self._written_changed.wait_for(lambda: self._written >= count)

    def _changed(self, device_id: str) -> None:
        self._dirty.add(device_id)
        self._dirty_event.set()
        self._follow_conditions(device_id)

    async def _push_changes(self) -> None:
        while True:
            await self._dirty_event.wait()
            self._dirty_event.clear()
            dirty, self._dirty = self._dirty, set()
            if self._app is None:
                continue
            for device_id in sorted(dirty):
                broadcast(
                    self._app,
                    wire.message(MessageType.DEVICE_STATE, device=self.device_state(device_id)),
                )

    async def _prune(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.prune(time.time())
            with contextlib.suppress(Exception):
                await self.telemetry.prune(time.time() - self.config.retention_days * 86400.0)
            await asyncio.sleep(PRUNE_EVERY_S)

    async def prune(self, now: float) -> None:
        """Apply the store's retention: old events, and the hazards eliminated before it
        (their events stay in the log until its retention takes them too)."""
        removed = await self.store.prune(now)
        if removed:
            _LOGGER.info("retention: removed %d events", removed)
        forgotten = await self.store.prune_hazards(now)
        if forgotten:
            self.hazards.forget(forgotten)
            _LOGGER.info("retention: forgot %d eliminated hazards", len(forgotten))

    # ------------------------------------------------------------------ hazards

    def _open_hazard(self, alarm: Alarm) -> None:
        """Open the hazard of a latched alarm record (once), and record it."""
        hazard = self.hazards.open(alarm)
        if hazard is not None:
            self._hazard_event(EventType.HAZARD_OPENED, hazard, hazard.opened_at)

    def _hazard_event(self, event_type: EventType, hazard: Hazard, at: float) -> None:
        self._emit(
            BridgeEvent(
                event_type,
                at,
                device_id=hazard.device_id,
                channel=hazard.channel,
                data=hazard.to_dict(),
            )
        )

    def _push_hazard(self, hazard_id: str) -> None:
        """Tell every client a hazard as it is now, and the statistics after it."""
        if self._app is None:
            return
        hazard = self.hazards.get(hazard_id)
        broadcast(
            self._app,
            wire.message(MessageType.HAZARD, hazard=hazard.to_dict(), statistics=self.statistics()),
        )

    def _follow_conditions(self, device_id: str) -> None:
        """The hazards of a device follow its conditions as read (``active``)."""
        bus = self.device_bus.get(device_id)
        if bus is None:
            return
        for hazard in self.hazards.hazards(device_id=device_id):
            present = bus.condition(device_id, AlarmKind(hazard.kind), hazard.channel)
            if present is not None and self.hazards.set_active(hazard.id, present) is not None:
                self._push_hazard(hazard.id)

    def _acknowledge_hazard(self, hazard: Hazard, actor: Actor) -> None:
        """Acknowledge an open hazard, and its alarm if that is still latched unacknowledged."""
        alarm = next((a for a in self.alarms.open_alarms() if a.id == hazard.alarm_id), None)
        bus = self.device_bus.get(hazard.device_id)
        if alarm is not None and not alarm.acknowledged and bus is not None:
            bus.acknowledge(alarm.id, actor.who)
        acknowledged = self.hazards.acknowledge(hazard.id, actor)
        if acknowledged is not None:
            self._hazard_event(EventType.HAZARD_ACKNOWLEDGED, acknowledged, actor.at)

    def hazard_list(
        self, state: HazardState | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Hazards oldest first: of one state, or those not eliminated (GET /hazards)."""
        return [h.to_dict() for h in self.hazards.hazards(state=state, device_id=device_id)]

    def hazard(self, hazard_id: str) -> dict[str, Any]:
        """One hazard (UnknownHazard if there is none)."""
        return self.hazards.get(hazard_id).to_dict()

    def statistics(self) -> dict[str, Any]:
        """The hazards' statistics now, this month in the bridge's local time."""
        return hazard_statistics(self.hazards.all(), time.time()).to_dict()

    async def acknowledge_hazard(
        self, hazard_id: str, who: str, source: str | None
    ) -> dict[str, Any]:
        """Acknowledge a hazard and the alarm that opened it; returns once stored.

        Acknowledging one already acknowledged (or eliminated) changes nothing.
        """
        hazard = self.hazards.get(hazard_id)
        if hazard.state == HazardState.OPEN:
            if (why := self._cannot_record()) is not None:
                raise StorageFailing(why)
            self._acknowledge_hazard(hazard, Actor(who, source, time.time()))
            await self._wait_written(self._enqueued)
        return self.hazard(hazard_id)

    async def eliminate_hazard(
        self, hazard_id: str, who: str, note: str, source: str | None
    ) -> dict[str, Any]:
        """Eliminate a hazard once a fresh read of its device shows the condition gone.

        Refused with ``condition_persists`` while it is still there, ``device_offline``
        when the device cannot be read. An open hazard is acknowledged in the same step,
        by the same person. Eliminating one already eliminated changes nothing.
        """
        if not note.strip():
            raise ValueError("'note' must say what the cause was and how it was fixed")
        hazard = self.hazards.get(hazard_id)
        if hazard.state == HazardState.ELIMINATED:
            return hazard.to_dict()
        if (why := self._cannot_record()) is not None:
            raise StorageFailing(why)
        bus = self.device_bus.get(hazard.device_id)
        if bus is None:
            raise UnknownDevice(
                hazard.device_id,
                f"hazard '{hazard_id}' is on '{hazard.device_id}', which the bridge no longer"
                " polls: it cannot read whether the condition is gone",
            )
        kind = AlarmKind(hazard.kind)
        present = await bus.read_condition(hazard.device_id, kind, hazard.channel)
        self._follow_conditions(hazard.device_id)
        hazard = self.hazards.get(hazard_id)
        if hazard.state == HazardState.ELIMINATED:
            return hazard.to_dict()
        what = f"the {kind.value.replace('_', ' ')} on {hazard.channel} of {hazard.device_id}"
        if present is None:
            raise CommandRefused(
                RefusalReason.DEVICE_OFFLINE,
                f"hazard '{hazard_id}' not eliminated: the bridge cannot tell yet whether {what}"
                " is gone (not read yet)",
            )
        if present:
            raise CommandRefused(
                RefusalReason.CONDITION_PERSISTS,
                f"hazard '{hazard_id}' not eliminated: a fresh read still shows {what}; find"
                " and fix the cause first",
            )
        if (why := self._cannot_record()) is not None:
            raise StorageFailing(why)
        actor = Actor(who, source, time.time())
        if hazard.state == HazardState.OPEN:
            self._acknowledge_hazard(hazard, actor)
        eliminated = self.hazards.eliminate(hazard_id, actor, note[:MAX_NOTE])
        self._hazard_event(EventType.HAZARD_ELIMINATED, eliminated, actor.at)
        await self._wait_written(self._enqueued)
        return eliminated.to_dict()

    # ------------------------------------------------------------------ early warning

    async def _open_trends(self) -> TrendBook:
        """The baselines of every watched channel, as saved at the last stop."""
        channels = [
            watched
            for bus in self.buses.values()
            for device_id, unit in bus.units.items()
            for watched in watched_channels(device_id, unit.spec.profile)
        ]
        book = TrendBook(self.config.early_warning.settings, channels)
        saved = await asyncio.to_thread(load_trend_state, self.config.data_dir)
        for problem in book.load(saved):
            _LOGGER.error("early_warning.json: %s; that baseline starts anew", problem)
        return book

    async def _remember_heard(self, saved: set[str]) -> None:
        """Keep when each unit was last heard, for the next start (storage/last_heard.py).

        ``saved``: the units the file holds already."""
        loop = asyncio.get_running_loop()
        saved_at = loop.time()
        while True:
            await asyncio.sleep(LAST_HEARD_CHECK_S)  # a period, not a wait for a result
            heard = self._heard_times()
            if heard.keys() <= saved and loop.time() - saved_at < LAST_HEARD_EVERY_S:
                continue
            if await self._save_heard(heard):
                saved, saved_at = set(heard), loop.time()

    def _heard_times(self) -> dict[str, float]:
        return {k: v for bus in self.buses.values() for k, v in bus.heard_times().items()}

    async def _save_heard(self, heard: dict[str, float]) -> bool:
        try:
            await asyncio.to_thread(save_last_heard, self.config.data_dir, heard)
        except OSError as exc:
            # Tried again next period (said once a streak); a full disk is reported by the
            # storage guard.
            if not self._heard_unsaved:
                _LOGGER.warning("last-heard times not saved (tried again): %s", exc)
            self._heard_unsaved = True
            return False
        self._heard_unsaved = False
        return True

    async def _save_trends(self) -> None:
        if self.trends is None:
            return
        try:
            await asyncio.to_thread(save_trend_state, self.config.data_dir, self.trends.to_state())
        except OSError as exc:
            # Kept in memory and tried again; a full disk is reported by the storage guard.
            _LOGGER.warning("early-warning baselines not saved: %s", exc)

    async def _sample_trends(self) -> None:
        """Feed the baselines the values read last, stamped on the baselines' clock.

        In real use that clock is the wall clock and a sample is taken every minute. A
        compressed clock (demonstrations, tests) runs ``time_scale`` times faster; the
        value held is then stamped at every half bucket that passed since the last
        sample, so that weeks pass in minutes with every quarter hour covered.
        """
        assert self.trends is not None
        scale = self.config.early_warning.time_scale
        step = BUCKET_S / 2
        interval = min(TREND_SAMPLE_S, max(TREND_MIN_SAMPLE_S, step / scale))
        started = time.time()
        # A compressed clock restarts where the saved baselines stopped: a reading
        # stamped before their newest one would be ignored.
        offset = max(0.0, (self.trends.latest_at() or 0.0) - started) if scale > 1 else 0.0
        last: float | None = None
        saved_at = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            wall = time.time()
            now = started + offset + (wall - started) * scale
            stamps = [now]
            if last is not None and now - last > step:
                count = min(int((now - last) / step), MAX_STAMPS)
                stamps = [now - step * k for k in range(count, 0, -1)] + [now]
            last = now
            try:
                self._feed_trends(stamps, wall)
            except Exception:  # a bug here must not end early warning, nor the bridge
                _LOGGER.exception("early warning: a sample could not be taken")
            if time.monotonic() - saved_at >= TREND_SAVE_S:
                saved_at = time.monotonic()
                await self._save_trends()

    def _feed_trends(self, stamps: list[float], wall: float) -> None:
        """Each online device's values and setpoints as read last, at each stamp."""
        assert self.trends is not None
        for bus in self.buses.values():
            for device_id, unit in bus.units.items():
                if unit.online is not True:
                    continue
                values = {k: r.value for k, r in unit.readings.items()}
                setpoints = {k: r.value for k, r in unit.setpoints.items()}
                for at in stamps:
                    for event in self.trends.observe(
                        at, device_id, values, setpoints, event_at=wall
                    ):
                        self._emit(event)

    def early_warnings(self, *, warning_only: bool = False) -> list[dict[str, Any]]:
        """Every watched channel's baseline, or only those warning (GET /early-warnings)."""
        if self.trends is None:
            return []
        setpoints = {
            device_id: {key: reading.value for key, reading in unit.setpoints.items()}
            for bus in self.buses.values()
            for device_id, unit in bus.units.items()
        }
        trends = self.trends.trends(warning_only=warning_only, setpoints=setpoints)
        return [t.to_dict() for t in trends]

    # ------------------------------------------------------------------ lock-outs

    def lockout_of(self, device_id: str) -> Lockout | None:
        """The device's maintenance lock-out, while it lasts (one past its ``until`` is
        over at once, even before the bridge records its end)."""
        lockout = self._lockouts.get(device_id)
        if lockout is not None and lockout.until is not None and lockout.until <= time.time():
            return None
        return lockout

    async def lock_out(
        self, device_id: str, who: str, why: str, until: float | None, source: str | None
    ) -> dict[str, Any]:
        """Lock a device out for maintenance (close refused on every path) until it is
        lifted, or ``until`` passes; a new lock-out replaces the one before. Returns once
        stored."""
        if device_id not in self.device_bus:
            raise UnknownDevice(device_id)
        now = time.time()
        if not why.strip():
            raise ValueError("'why' must say why the device is locked out")
        if until is not None and until <= now:
            raise ValueError(f"'until' must be in the future, not {until!r}")
        if (reason := self._cannot_record()) is not None:
            raise StorageFailing(reason)
        lockout = Lockout(who=who, source=source, why=why.strip(), since=now, until=until)
        self._lockouts[device_id] = lockout
        self._emit(
            BridgeEvent(
                EventType.LOCKOUT_SET,
                now,
                device_id=device_id,
                data={"device_id": device_id, "lockout": lockout.to_dict()},
            )
        )
        self._changed(device_id)
        self._lockouts_changed.set()
        await self._wait_written(self._enqueued)
        return lockout.to_dict()

    async def lift_lock_out(
        self, device_id: str, who: str, source: str | None
    ) -> dict[str, Any] | None:
        """Lift a device's lock-out; the lock-out lifted, or None when there was none."""
        if device_id not in self.device_bus:
            raise UnknownDevice(device_id)
        if device_id not in self._lockouts:
            return None
        if (reason := self._cannot_record()) is not None:
            raise StorageFailing(reason)
        lifted = self._lift(device_id, Actor(who, source, time.time()), expired=False)
        await self._wait_written(self._enqueued)
        return lifted.to_dict()

    def _lift(self, device_id: str, actor: Actor, *, expired: bool) -> Lockout:
        lockout = self._lockouts.pop(device_id)
        self._emit(
            BridgeEvent(
                EventType.LOCKOUT_LIFTED,
                actor.at,
                device_id=device_id,
                data={
                    "device_id": device_id,
                    "lockout": lockout.to_dict(),
                    "lifted": actor.to_dict(),
                    "expired": expired,
                },
            )
        )
        self._changed(device_id)
        return lockout

    async def _expire_lockouts(self) -> None:
        """Lift each lock-out when its ``until`` passes (recorded as the bridge's doing)."""
        while True:
            now = time.time()
            for device_id, lockout in list(self._lockouts.items()):
                if lockout.until is not None and lockout.until <= now:
                    _LOGGER.info("lock-out of %s ran out; lifted", device_id)
                    self._lift(device_id, Actor(BRIDGE_ACTOR, BRIDGE_ACTOR, now), expired=True)
            ends = [lo.until for lo in self._lockouts.values() if lo.until is not None]
            self._lockouts_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._lockouts_changed.wait(),
                    timeout=max(0.0, min(ends) - now) if ends else None,
                )

    # ------------------------------------------------------------------ queries

    async def acknowledge(
        self, alarm_id: str, who: str, source: str | None = "api"
    ) -> list[BridgeEvent]:
        """Acknowledge an alarm, and its hazard; returns once the acknowledgement is stored.

        Refused (StorageFailing) while the store cannot write: an acknowledgement that
        could be lost would let an alarm come back unacknowledged after a restart.
        """
        alarm = next((a for a in self.alarms.open_alarms() if a.id == alarm_id), None)
        if alarm is None:
            raise UnknownAlarm(alarm_id)
        if (why := self._cannot_record()) is not None:
            raise StorageFailing(why)
        events = self.device_bus[alarm.device_id].acknowledge(alarm_id, who)
        hazard = self.hazards.by_alarm(alarm_id)
        if hazard is not None and hazard.state == HazardState.OPEN:
            at = events[0].at if events else time.time()
            self._acknowledge_hazard(hazard, Actor(who, source, at))
        await self._wait_written(self._enqueued)
        return events

    def websocket_clients(self) -> int:
        """How many clients (Home Assistant among them) listen on the WebSocket."""
        return 0 if self._app is None else client_count(self._app)

    async def wait_for_listener(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bound
        """Whether a WebSocket client connected (now or before) within ``timeout`` s."""
        if self._app is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_listener(self._app).wait(), timeout)
        return first_listener(self._app).is_set()

    def info(self) -> dict[str, Any]:
        """The bridge, the contract it speaks, and its buses (``GET /info``)."""
        return self.bridge_info().to_dict()

    def bridge_info(self) -> wire.BridgeInfo:
        """The bridge, the contract it speaks, and its buses."""
        return wire.BridgeInfo(
            bridge_id=self.bridge_id,
            version=__version__,
            api_version=API_VERSION,
            schema_version=SCHEMA_VERSION,
            min_supported_schema_version=MIN_SUPPORTED_SCHEMA_VERSION,
            last_seq=self.last_seq,
            buses=tuple(
                wire.Bus(
                    id=bus_id,
                    line=bus.settings.line.describe(),
                    up=bus.up,
                    devices=tuple(sorted(bus.units)),
                    stats=bus.stats.as_dict(),
                    schedule=bus.schedule(),
                )
                for bus_id, bus in self.buses.items()
            ),
            storage=self.storage.status.to_wire(),
            gateway={
                "tcp_port": getattr(self.gateway, "tcp_port", None),
                "rtu_over_tcp_port": getattr(self.gateway, "rtu_port", None),
                "clients": getattr(self.gateway, "clients", 0),
                "stats": self.gateway.stats.as_dict() if self.gateway is not None else None,
            },
        )

    async def read_registers(
        self, bus_id: str, unit: int, function: int, address: int, count: int
    ) -> list[int]:
        """Read raw registers of any unit on a bus, at the lowest priority (the register
        explorer). KeyError for an unknown bus; otherwise as :meth:`Bus.explore`."""
        bus = self.buses.get(bus_id)
        if bus is None:
            raise KeyError(f"no bus '{bus_id}'; the buses are: {', '.join(sorted(self.buses))}")
        return await bus.explore(unit, function, address, count)

    def status(self) -> dict[str, Any]:
        """Health in one place: ``ok``, or ``degraded`` with what is wrong."""
        problems: list[str] = []
        if self.storage.status.problem:
            problems.append(f"storage_{self.storage.status.state.value}")
        for bus_id, bus in self.buses.items():
            if bus.up is False:
                problems.append(f"bus_down:{bus_id}")
            if bus.load.overloaded:
                problems.append(f"bus_overloaded:{bus_id}")
        health = (
            (HealthStatus.DEGRADED if problems else HealthStatus.OK)
            if self.running
            else HealthStatus.STARTING
        )
        return wire.BridgeStatus(
            status=health,
            problems=tuple(problems),
            storage=self.storage.status.to_wire(),
            buses={bus_id: (bus.up, bus.schedule()) for bus_id, bus in self.buses.items()},
        ).to_dict()

    def device_state(self, device_id: str) -> dict[str, Any]:
        """The live state of one device (a ``device_state`` message's ``device``)."""
        return self._device_state(device_id).to_dict()

    def _device_state(self, device_id: str) -> wire.DeviceState:
        bus = self.device_bus[device_id]
        snapshot = bus.snapshot(device_id)
        return wire.DeviceState(
            id=device_id,
            online=snapshot["online"],
            values=snapshot["values"],
            setpoint_values=snapshot["setpoints"],
            alarms=snapshot["alarms"],
            warnings=snapshot["warnings"],
            wiring_faults=snapshot["wiring_faults"],
            open_alarms=tuple(wire.Alarm.from_dict(a) for a in snapshot["open_alarms"]),
            unsupported=frozenset(snapshot["unsupported"]),
            lockout=self.lockout_of(device_id),
        )

    def device(self, device_id: str) -> dict[str, Any]:
        """One device: identity, channel metadata and its live state."""
        return self._device(device_id).to_dict()

    def _device(self, device_id: str) -> wire.Device:
        bus = self.device_bus[device_id]
        spec = bus.units[device_id].spec
        return device_model(
            device_id,
            name=spec.name or device_id,
            bus=bus.settings.id,
            unit=spec.unit,
            profile=spec.profile,
            state=dataclasses.replace(self._device_state(device_id), id=None),
            area=spec.area,
            installation=spec.installation,
        )

    def site_model(self) -> Site:
        """The site this bridge serves: its configured profile, named by the bridge's id
        when the configuration names none."""
        return self.config.site.site(self.bridge_id)

    def site(self) -> dict[str, Any]:
        """The site this bridge serves (``GET /site``)."""
        return self.site_model().to_dict()

    def _devices(self) -> list[wire.Device]:
        return [self._device(device_id) for device_id in sorted(self.device_bus)]

    async def _self_tests_since(self, since: float) -> list[SelfTestRecord]:
        return [] if self.proof is None else await self.proof.self_tests(since=since)

    def _explained(self, finding: Finding, language: str) -> str:
        """A finding's explanation for the report's table: its one-line title, naming the
        device as configured (the repair issue and the docs carry what to do)."""
        bus = self.device_bus.get(finding.device_id or "")
        spec = None if bus is None else bus.units[finding.device_id or ""].spec
        name = self.site_model().name if spec is None else (spec.name or spec.id)
        return explain(finding, language, name).title

    async def compliance(self, device_id: str | None = None) -> dict[str, Any]:
        """The site and every finding of the compliance rules, worked out now; only one
        device's when ``device_id`` is given (``GET /compliance``)."""
        if device_id is not None and device_id not in self.device_bus:
            raise UnknownDevice(device_id)
        findings = await self.compliance_checker.check()
        return {
            "site": self.site(),
            "findings": [
                f.to_dict() for f in findings if device_id is None or f.device_id == device_id
            ],
        }

    def devices(self) -> list[dict[str, Any]]:
        """Every device."""
        return [self.device(device_id) for device_id in sorted(self.device_bus)]

    def snapshot(self) -> dict[str, Any]:
        """What a WebSocket client gets first: the schema, then the whole picture."""
        return wire.Snapshot(
            info=self.bridge_info(),
            devices=tuple(self._device(device_id) for device_id in sorted(self.device_bus)),
            alarms=tuple(a.to_wire() for a in self.alarms.open_alarms()),
            last_seq=self.last_seq,
            # Events the full disk keeps out of the store, oldest first (pushed unstored).
            held_events=tuple(
                wire.BridgeEvent.from_dict(e) for e in self._pushed_unstored.values()
            ),
            hazards=tuple(self.hazards.hazards()),
            statistics=hazard_statistics(self.hazards.all(), time.time()),
            site=self.site_model(),
        ).to_dict()


async def run_until_stopped(bridge: Bridge, ready: Callable[[Bridge], None] | None = None) -> int:
    """Run a bridge until SIGINT or SIGTERM, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await bridge.start()
        if ready is not None:
            ready(bridge)
        await stop.wait()
    finally:
        await bridge.stop()
    return 0
