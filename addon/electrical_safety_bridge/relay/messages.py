"""What the relay sends: one JSON body per message, the same bytes to every sink and every retry.

Three kinds of message go through the outbox:

* ``event``: a stored event, identified by the event store's id (``StoredEvent.id``), so a
  receiver dedupes repeats of one event by ``id`` whichever sink or attempt brought it;
* ``telemetry``: a device's state snapshot (values, alarms, online), with an id of its own;
* ``gap``: written when telemetry was coalesced under pressure: how many snapshots of which
  device between which times were dropped in favour of the newest.

Priorities order delivery: alarms, wiring faults and alerts about the monitoring itself (storage
failing, an overloaded line) first, then the other events (including
gap markers), then telemetry. Within one priority, delivery follows the order of the outbox,
which is the store's order, so the events of one device keep their order. Every event body
carries the store's ``seq`` too, so a receiver can merge the priorities back into one order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ..common.enums import EventType
from ..common.site import Site
from ..storage.event_store import StoredEvent, iso_utc

SCHEMA = 1
"""``v`` in every body: bumped if a field changes meaning."""

KIND_EVENT = "event"
KIND_TELEMETRY = "telemetry"
KIND_GAP = "gap"
KIND_HEARTBEAT = "heartbeat"
KIND_SITE = "site"
GAP_TYPE = "relay_gap"
TELEMETRY_TYPE = "telemetry"
HEARTBEAT_TYPE = "heartbeat"
SITE_DEVICE = "_site"
"""The device level of topics for events that belong to no device (bus up/down, relay)."""

ALARM_TYPES = frozenset(
    {
        EventType.ALARM_RAISED,
        EventType.ALARM_ACKNOWLEDGED,
        EventType.ALARM_CLEARED,
        EventType.WIRING_FAULT_RAISED,
        EventType.WIRING_FAULT_ACKNOWLEDGED,
        EventType.WIRING_FAULT_CLEARED,
    }
)
#: Alerts about the monitoring itself: a full disk, an overloaded line. They travel with
#: the alarms, because they say the alarms may not be all there is.
ALERT_TYPES = frozenset(
    {
        EventType.STORAGE_FAILING,
        EventType.STORAGE_RECOVERED,
        EventType.BUS_OVERLOADED,
        EventType.BUS_OVERLOAD_CLEARED,
    }
)


class Priority(IntEnum):
    """Delivery order between classes of message; lower goes first."""

    ALARM = 0
    EVENT = 1
    TELEMETRY = 2


@dataclass(frozen=True, slots=True)
class Message:
    """One message as the outbox holds it."""

    event_id: str
    kind: str
    type: str
    priority: Priority
    device_id: str | None
    at: float
    body: bytes

    @property
    def is_alarm(self) -> bool:
        """Whether this goes first: an alarm, a wiring fault, or an alert (storage, load)."""
        return self.priority is Priority.ALARM


def _dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def priority_of(event_type: EventType) -> Priority:
    """Alarms and alerts first, then everything else the store records."""
    return Priority.ALARM if event_type in ALARM_TYPES | ALERT_TYPES else Priority.EVENT


def event_message(site: str, stored: StoredEvent) -> Message:
    """A stored event, keyed by its store id."""
    body = {
        "v": SCHEMA,
        "id": stored.id,
        "site": site,
        "kind": KIND_EVENT,
        "type": stored.type.value,
        "seq": stored.seq,
        "at": stored.at,
        "time": iso_utc(stored.at),
        "device_id": stored.device_id,
        "channel": stored.channel,
        "data": dict(stored.data),
    }
    return Message(
        event_id=stored.id,
        kind=KIND_EVENT,
        type=stored.type.value,
        priority=priority_of(stored.type),
        device_id=stored.device_id,
        at=stored.at,
        body=_dumps(body),
    )


def telemetry_message(site: str, device_id: str, state: Mapping[str, Any], at: float) -> Message:
    """A device's state snapshot."""
    event_id = uuid.uuid4().hex
    body = {
        "v": SCHEMA,
        "id": event_id,
        "site": site,
        "kind": KIND_TELEMETRY,
        "type": TELEMETRY_TYPE,
        "at": at,
        "time": iso_utc(at),
        "device_id": device_id,
        "data": dict(state),
    }
    return Message(
        event_id=event_id,
        kind=KIND_TELEMETRY,
        type=TELEMETRY_TYPE,
        priority=Priority.TELEMETRY,
        device_id=device_id,
        at=at,
        body=_dumps(body),
    )


def gap_message(
    site: str, device_id: str | None, dropped: int, first_at: float, last_at: float, at: float
) -> Message:
    """The record that ``dropped`` telemetry snapshots of a device were coalesced away."""
    event_id = uuid.uuid4().hex
    body = {
        "v": SCHEMA,
        "id": event_id,
        "site": site,
        "kind": KIND_GAP,
        "type": GAP_TYPE,
        "at": at,
        "time": iso_utc(at),
        "device_id": device_id,
        "data": {
            "reason": "outbox over its size bound: telemetry coalesced to the newest snapshot",
            "dropped": dropped,
            "from": first_at,
            "to": last_at,
        },
    }
    return Message(
        event_id=event_id,
        kind=KIND_GAP,
        type=GAP_TYPE,
        priority=Priority.EVENT,
        device_id=device_id,
        at=at,
        body=_dumps(body),
    )


def heartbeat_body(
    site: str, at: float, status: Mapping[str, Any], profile: Site | None = None
) -> tuple[str, bytes]:
    """A heartbeat's id and body: proof of life with the outbox's depth (never stored), and
    the site's profile (name, region, location…), so that a webhook receiver, which gets no
    retained ``site`` topic, learns where the site is too."""
    beat_id = uuid.uuid4().hex
    body: dict[str, Any] = {
        "v": SCHEMA,
        "id": beat_id,
        "site": site,
        "kind": KIND_HEARTBEAT,
        "type": HEARTBEAT_TYPE,
        "at": at,
        "time": iso_utc(at),
        "data": dict(status),
    }
    if profile is not None:
        body["site_profile"] = profile.to_dict()
    return beat_id, _dumps(body)


def site_body(profile: Site, at: float) -> bytes:
    """The site's profile, published retained at each connect (``<prefix>/<site>/site``):
    its id, name, region, location, supply and contracts, for a landlord's map and lists."""
    return _dumps(
        {
            "v": SCHEMA,
            "site": profile.id,
            "kind": KIND_SITE,
            "type": KIND_SITE,
            "at": at,
            "time": iso_utc(at),
            "data": profile.to_dict(),
        }
    )
