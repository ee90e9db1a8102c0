"""The wire models: what the bridge's API v1 carries, as typed, frozen values.

The bridge builds every answer and WebSocket message from these models (``to_dict``), and
clients parse them back (``from_dict``). The bridge describes itself: every device carries
its channel, setpoint and command metadata, so that entities are built from data, never
from a list of models kept in a client.

Parsing is lenient about what it does not know and strict about what it needs. A field a
newer bridge adds is kept in ``extra`` and written back by ``to_dict``; an enum value this
version does not know stays a plain string (``enum_or_str``). A missing id is a broken
bridge, and raises ``ValueError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import (
    AlarmKind,
    ChannelKind,
    CommandName,
    CommandOutcome,
    DeviceKind,
    EventType,
    HealthStatus,
    MessageType,
    PollClass,
    SetpointKind,
    StorageState,
)
from .json_schema import wire
from .parsing import (
    _extra,
    _int,
    _list,
    _mapping,
    _number,
    _opt_bool,
    _opt_enum,
    _opt_str,
    _str,
    enum_or_str,
)
from .proof import PROOF_MODELS
from .schema import MIN_SUPPORTED_SCHEMA_VERSION, SCHEMA_VERSION
from .site import SITE_MODELS, Installation, Site
from .trends import TREND_MODELS
from .workflow import WORKFLOW_MODELS, Hazard, HazardStatistics, Lockout, hazards_from

type Value = float | int | str | bool | None


def numeric(value: Value) -> float | int | None:
    """A reading as a number; None for a sentinel such as "open_circuit" or a missing one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


@dataclass(frozen=True, slots=True)
class Channel:
    """A value the bridge reads from a device, and how a client should show it."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "key",
            "name",
            "kind",
            "unit",
            "device_class",
            "state_class",
            "diagnostic",
            "writable",
            "states",
            "has_alarm",
            "has_warning",
            "has_wiring_fault",
            "poll",
        }
    )

    key: str
    name: str
    #: A ``ChannelKind``, or the plain string of a kind this version does not know.
    kind: str = field(metadata=wire(enum=ChannelKind))
    unit: str | None
    #: Written as null when there are none.
    states: tuple[str, ...] = field(metadata=wire(nullable=True))
    has_alarm: bool
    has_warning: bool
    has_wiring_fault: bool
    #: Home Assistant's vocabulary as plain strings (the bridge imports nothing of it).
    device_class: str | None = None
    state_class: str | None = None
    diagnostic: bool = False
    writable: bool = False
    #: A ``PollClass``: which queue the bridge reads it in.
    poll: str | None = field(default=None, metadata=wire(enum=PollClass))
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Channel:
        """Parse one entry of a device's ``channels``."""
        key = _str(raw, "key")
        return cls(
            key=key,
            name=_opt_str(raw, "name") or key,
            kind=enum_or_str(ChannelKind, _str(raw, "kind")),
            unit=_opt_str(raw, "unit"),
            states=tuple(str(s) for s in _list(raw, "states")),
            has_alarm=bool(raw.get("has_alarm")),
            has_warning=bool(raw.get("has_warning")),
            has_wiring_fault=bool(raw.get("has_wiring_fault")),
            device_class=_opt_str(raw, "device_class"),
            state_class=_opt_str(raw, "state_class"),
            diagnostic=bool(raw.get("diagnostic")),
            writable=bool(raw.get("writable")),
            poll=_opt_enum(PollClass, raw, "poll"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": str(self.kind),
            "unit": self.unit,
            "device_class": self.device_class,
            "state_class": self.state_class,
            "diagnostic": self.diagnostic,
            "writable": self.writable,
            "states": list(self.states) or None,
            "has_alarm": self.has_alarm,
            "has_warning": self.has_warning,
            "has_wiring_fault": self.has_wiring_fault,
            "poll": None if self.poll is None else str(self.poll),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Setpoint:
    """A configuration value of a device, bounded by its profile."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "key",
            "name",
            "kind",
            "unit",
            "min",
            "max",
            "step",
            "writable",
            "options",
            "translation_key",
        }
    )
    #: Field → wire key, where they differ.
    _WIRE_NAMES: ClassVar[Mapping[str, str]] = {"minimum": "min", "maximum": "max"}

    key: str
    name: str
    #: A ``SetpointKind``, or the plain string of a kind this version does not know.
    kind: str = field(metadata=wire(enum=SetpointKind))
    unit: str | None
    minimum: float
    maximum: float
    step: float
    writable: bool
    #: A register that is an enumeration (a mode): option key → the value written for it,
    #: in the profile's order. Written as null when there are none; absent from bridges
    #: before it.
    options: Mapping[str, int] = field(default_factory=dict, metadata=wire(nullable=True))
    #: The profile's name for it in every language (``trip_delay``), where it gives one.
    translation_key: str | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Setpoint:
        """Parse one entry of a device's ``setpoints``."""
        key = _str(raw, "key")
        minimum = _number(raw, "min")
        maximum = _number(raw, "max")
        if minimum is None or maximum is None:
            raise ValueError(f"setpoint '{key}' has no bounds")
        return cls(
            key=key,
            name=_opt_str(raw, "name") or key,
            kind=enum_or_str(SetpointKind, _str(raw, "kind")),
            unit=_opt_str(raw, "unit"),
            minimum=minimum,
            maximum=maximum,
            # Bridges before the "step" field: whole units.
            step=_number(raw, "step") or 1.0,
            writable=bool(raw.get("writable")),
            options={
                str(option): value
                for option, value in _mapping(raw, "options").items()
                if isinstance(value, int) and not isinstance(value, bool)
            },
            translation_key=_opt_str(raw, "translation_key"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "key": self.key,
            "name": self.name,
            "kind": str(self.kind),
            "unit": self.unit,
            "min": self.minimum,
            "max": self.maximum,
            "step": self.step,
            "writable": self.writable,
            "options": dict(self.options) or None,
            "translation_key": self.translation_key,
            **self.extra,
        }

    def option_of(self, value: Value) -> str | None:
        """The option a value read from the device stands for; None for any other value."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return next((o for o, v in self.options.items() if v == value), None)


@dataclass(frozen=True, slots=True)
class Alarm:
    """One latched alarm or wiring fault: raised → acknowledged → cleared."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "kind",
            "device_id",
            "channel",
            "raised_at",
            "value_at_alarm",
            "detail",
            "active",
            "acknowledged",
            "acknowledged_by",
            "acknowledged_at",
            "detection_window_s",
        }
    )
    #: Written only when known: an alarm of an older bridge round-trips unchanged.
    _WIRE_OPTIONAL: ClassVar[frozenset[str]] = frozenset({"detection_window_s"})

    id: str
    #: An ``AlarmKind``, or the plain string of a kind this version does not know.
    kind: str = field(metadata=wire(enum=AlarmKind))
    device_id: str
    channel: str
    raised_at: float | None
    value_at_alarm: Value
    detail: str | None
    active: bool
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: float | None
    #: Seconds between the read that found it and the previous read of the same registers
    #: of its unit: the condition appeared within this window before ``raised_at``. None
    #: from older bridges, and when not known (the unit's first read).
    detection_window_s: float | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Alarm:
        """Parse an alarm record of ``open_alarms`` or of an alarm event's data."""
        value = raw.get("value_at_alarm")
        return cls(
            id=_str(raw, "id"),
            kind=enum_or_str(AlarmKind, _opt_str(raw, "kind") or AlarmKind.ALARM),
            device_id=_str(raw, "device_id"),
            channel=_str(raw, "channel"),
            raised_at=_number(raw, "raised_at"),
            value_at_alarm=value if isinstance(value, (int, float, str)) else None,
            detail=_opt_str(raw, "detail"),
            active=bool(raw.get("active")),
            acknowledged=bool(raw.get("acknowledged")),
            acknowledged_by=_opt_str(raw, "acknowledged_by"),
            acknowledged_at=_number(raw, "acknowledged_at"),
            detection_window_s=_number(raw, "detection_window_s"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "device_id": self.device_id,
            "channel": self.channel,
            "raised_at": self.raised_at,
            "value_at_alarm": self.value_at_alarm,
            "detail": self.detail,
            "active": self.active,
            "acknowledged": self.acknowledged,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            **(
                {}
                if self.detection_window_s is None
                else {"detection_window_s": self.detection_window_s}
            ),
            **self.extra,
        }

    @property
    def is_alarm(self) -> bool:
        """An alarm, not a wiring fault."""
        return self.kind == AlarmKind.ALARM


@dataclass(frozen=True, slots=True)
class DeviceState:
    """The live part of a device, which ``device_state`` messages replace."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "online",
            "values",
            "setpoint_values",
            "alarms",
            "warnings",
            "wiring_faults",
            "open_alarms",
            "unsupported",
            "lockout",
        }
    )
    #: Wire keys that may be absent: ``id`` is written only when known.
    _WIRE_OPTIONAL: ClassVar[frozenset[str]] = frozenset({"id"})

    online: bool = False
    values: Mapping[str, Value] = field(default_factory=dict)
    setpoint_values: Mapping[str, Value] = field(default_factory=dict)
    #: None: unknown (not read yet, or derived from a setpoint or value not read yet).
    alarms: Mapping[str, bool | None] = field(default_factory=dict)
    warnings: Mapping[str, bool] = field(default_factory=dict)
    wiring_faults: Mapping[str, str] = field(default_factory=dict)
    open_alarms: tuple[Alarm, ...] = ()
    unsupported: frozenset[str] = frozenset()
    #: The device this state belongs to (a ``device_state`` message names it).
    id: str | None = None
    #: The maintenance lock-out, while the device is locked out (close is refused).
    lockout: Lockout | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], *, known: frozenset[str] = frozenset()
    ) -> DeviceState:
        """Parse the state fields of a device (its own, or a ``device_state`` message);
        ``known`` names fields of the enclosing object, which are not this state's extras."""
        lockout = raw.get("lockout")
        return cls(
            online=bool(raw.get("online")),
            values=_mapping(raw, "values"),
            setpoint_values=_mapping(raw, "setpoint_values"),
            # Null is "cannot be decided yet", never "no alarm".
            alarms={k: None if v is None else bool(v) for k, v in _mapping(raw, "alarms").items()},
            warnings={k: bool(v) for k, v in _mapping(raw, "warnings").items() if v},
            wiring_faults={
                k: v if isinstance(v, str) else "fault"
                for k, v in _mapping(raw, "wiring_faults").items()
                if v
            },
            open_alarms=tuple(Alarm.from_dict(a) for a in _list(raw, "open_alarms")),
            unsupported=frozenset(str(k) for k in _list(raw, "unsupported")),
            id=_opt_str(raw, "id"),
            lockout=Lockout.from_dict(lockout) if isinstance(lockout, Mapping) else None,
            extra=_extra(raw, cls._KNOWN | known),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form of a ``device_state`` message's ``device``."""
        state: dict[str, Any] = {} if self.id is None else {"id": self.id}
        return {
            **state,
            "online": self.online,
            "values": dict(self.values),
            "setpoint_values": dict(self.setpoint_values),
            "alarms": dict(self.alarms),
            "warnings": dict(self.warnings),
            "wiring_faults": dict(self.wiring_faults),
            "open_alarms": [a.to_dict() for a in self.open_alarms],
            "unsupported": sorted(self.unsupported),
            "lockout": None if self.lockout is None else self.lockout.to_dict(),
            **self.extra,
        }

    def open_alarm(self, channel: str, kind: str = AlarmKind.ALARM) -> Alarm | None:
        """The open record of one channel, if any."""
        return next((a for a in self.open_alarms if a.channel == channel and a.kind == kind), None)


@dataclass(frozen=True, slots=True)
class Device:
    """One detector: identity and metadata from its profile, plus its live state."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "name",
            "bus",
            "unit",
            "manufacturer",
            "model",
            "kind",
            "manual_version",
            "verified",
            "simulated",
            "source",
            "channels",
            "setpoints",
            "commands",
            "area",
            "installation",
        }
    )

    id: str
    name: str
    bus: str | None
    unit: int | None
    manufacturer: str | None
    model: str | None
    #: A ``DeviceKind``, or the plain string of a kind this version does not know.
    kind: str | None = field(metadata=wire(enum=DeviceKind))
    manual_version: str | None
    verified: bool
    simulated: bool
    channels: tuple[Channel, ...]
    setpoints: tuple[Setpoint, ...]
    #: ``CommandName`` values (or plain strings a newer bridge offers).
    commands: frozenset[str] = field(metadata=wire(enum=CommandName))
    #: Written into the device's own object (its keys beside the device's).
    state: DeviceState = field(metadata=wire(flatten=True))
    #: Where the profile came from (a built-in file, or the user's).
    source: str | None = None
    #: The room it is in, from the bridge's configuration (None when not given).
    area: str | None = None
    #: How it is installed (CT, circuit, room); None when not configured, or from a bridge
    #: before installations.
    installation: Installation | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Device:
        """Parse one device of ``GET /devices`` or of a snapshot."""
        unit = raw.get("unit")
        device_id = _str(raw, "id")
        return cls(
            id=device_id,
            name=_opt_str(raw, "name") or device_id,
            bus=_opt_str(raw, "bus"),
            unit=unit if isinstance(unit, int) and not isinstance(unit, bool) else None,
            manufacturer=_opt_str(raw, "manufacturer"),
            model=_opt_str(raw, "model"),
            kind=_opt_enum(DeviceKind, raw, "kind"),
            manual_version=_opt_str(raw, "manual_version"),
            verified=bool(raw.get("verified")),
            simulated=bool(raw.get("simulated")),
            channels=tuple(Channel.from_dict(c) for c in _list(raw, "channels")),
            setpoints=tuple(Setpoint.from_dict(s) for s in _list(raw, "setpoints")),
            commands=frozenset(enum_or_str(CommandName, str(c)) for c in _list(raw, "commands")),
            # The device's extras live in its state, which keeps every unknown field.
            state=DeviceState.from_dict({**raw, "id": None}, known=cls._KNOWN),
            source=_opt_str(raw, "source"),
            area=_opt_str(raw, "area"),
            installation=Installation.from_dict(installation)
            if isinstance(installation := raw.get("installation"), Mapping)
            else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: identity, metadata and live state in one object."""
        state = self.state.to_dict()
        state.pop("id", None)
        return {
            "id": self.id,
            "name": self.name,
            "bus": self.bus,
            "unit": self.unit,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "kind": None if self.kind is None else str(self.kind),
            "manual_version": self.manual_version,
            "verified": self.verified,
            "simulated": self.simulated,
            "source": self.source,
            "area": self.area,
            "installation": None if self.installation is None else self.installation.to_dict(),
            "channels": [c.to_dict() for c in self.channels],
            "setpoints": [s.to_dict() for s in self.setpoints],
            "commands": sorted(str(c) for c in self.commands),
            **state,
        }

    def channel(self, key: str) -> Channel | None:
        """The channel with this key, if the device has it."""
        return next((c for c in self.channels if c.key == key), None)

    @property
    def layout(self) -> tuple[object, ...]:
        """What entities are built from: when it changes, entities are re-derived."""
        return (
            self.model,
            self.verified,
            self.channels,
            self.setpoints,
            self.commands,
            self.installation,
        )


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """Whether the bridge can store its events (``info.storage``, and ``status`` messages)."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"state", "problem", "since", "error", "held_events", "free_bytes", "reserve_bytes"}
    )

    #: A ``StorageState``, or the plain string of a state this version does not know.
    state: str = field(metadata=wire(enum=StorageState))
    problem: bool
    since: float | None
    error: str | None
    held_events: int
    free_bytes: int | None
    reserve_bytes: int | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StorageStatus:
        """Parse the bridge's storage status."""
        state = enum_or_str(StorageState, _opt_str(raw, "state") or StorageState.OK)
        problem = raw.get("problem")
        return cls(
            state=state,
            # A newer bridge's state this version does not know is a problem too.
            problem=problem if isinstance(problem, bool) else state != StorageState.OK,
            since=_number(raw, "since"),
            error=_opt_str(raw, "error"),
            held_events=_int(raw, "held_events") or 0,
            free_bytes=_int(raw, "free_bytes"),
            reserve_bytes=_int(raw, "reserve_bytes"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "state": str(self.state),
            "problem": self.problem,
            "since": self.since,
            "error": self.error,
            "held_events": self.held_events,
            "free_bytes": self.free_bytes,
            "reserve_bytes": self.reserve_bytes,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class BusSchedule:
    """How well one line keeps its alarm interval (``buses[].schedule``)."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "alarm_interval_s",
            "effective_alarm_interval_s",
            "alarm_round_s",
            "alarm_line_share",
            "overloaded",
            "alarm_gap_max_s",
            "queued_commands",
            "queued_gateway_requests",
            "alarm_cycle_s",
        }
    )
    #: Written only when known: a schedule of an older bridge round-trips unchanged.
    _WIRE_OPTIONAL: ClassVar[frozenset[str]] = frozenset({"alarm_cycle_s"})

    alarm_interval_s: float | None
    effective_alarm_interval_s: float | None
    alarm_round_s: float | None
    alarm_line_share: float | None
    overloaded: bool
    alarm_gap_max_s: float | None
    queued_commands: int | None
    queued_gateway_requests: int | None
    #: The measured time between two alarm reads of a unit (a running mean): how long an
    #: alarm waits at most to be seen as the line runs now. None from older bridges, and
    #: before the second round.
    alarm_cycle_s: float | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], *, known: frozenset[str] = frozenset()
    ) -> BusSchedule:
        """Parse a bus's schedule (also the fields of a ``status`` message's bus, whose
        other ``known`` fields are not this schedule's extras)."""
        return cls(
            alarm_interval_s=_number(raw, "alarm_interval_s"),
            effective_alarm_interval_s=_number(raw, "effective_alarm_interval_s"),
            alarm_round_s=_number(raw, "alarm_round_s"),
            alarm_line_share=_number(raw, "alarm_line_share"),
            overloaded=bool(raw.get("overloaded")),
            alarm_gap_max_s=_number(raw, "alarm_gap_max_s"),
            queued_commands=_int(raw, "queued_commands"),
            queued_gateway_requests=_int(raw, "queued_gateway_requests"),
            alarm_cycle_s=_number(raw, "alarm_cycle_s"),
            extra=_extra(raw, cls._KNOWN | known),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "alarm_interval_s": self.alarm_interval_s,
            "effective_alarm_interval_s": self.effective_alarm_interval_s,
            "alarm_round_s": self.alarm_round_s,
            "alarm_line_share": self.alarm_line_share,
            "overloaded": self.overloaded,
            "alarm_gap_max_s": self.alarm_gap_max_s,
            "queued_commands": self.queued_commands,
            "queued_gateway_requests": self.queued_gateway_requests,
            **({} if self.alarm_cycle_s is None else {"alarm_cycle_s": self.alarm_cycle_s}),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Bus:
    """One line of the bridge."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"id", "line", "up", "devices", "stats", "schedule"}
    )

    id: str
    line: str | None
    #: None until the bridge has tried the line.
    up: bool | None
    #: None from a bridge that does not report its load.
    schedule: BusSchedule | None = None
    #: The ids of the devices on this line.
    devices: tuple[str, ...] = ()
    #: Transaction counters (transactions, timeouts, exceptions, wire_seconds).
    stats: Mapping[str, Any] = field(default_factory=dict, compare=False)
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Bus:
        """Parse one entry of ``info.buses``."""
        schedule = raw.get("schedule")
        return cls(
            id=_str(raw, "id"),
            line=_opt_str(raw, "line"),
            up=_opt_bool(raw, "up"),
            schedule=BusSchedule.from_dict(schedule) if isinstance(schedule, Mapping) else None,
            devices=tuple(str(d) for d in _list(raw, "devices")),
            stats=_mapping(raw, "stats"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "line": self.line,
            "up": self.up,
            "devices": list(self.devices),
            "stats": dict(self.stats),
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
            **self.extra,
        }


#: The wire shape of ``BridgeStatus.buses``: bus id → a ``BusSchedule`` with ``up``.
_STATUS_BUSES: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "allOf": [
            {"$ref": "#/components/schemas/BusSchedule"},
            {
                "type": "object",
                "properties": {"up": {"type": ["boolean", "null"]}},
                "required": ["up"],
            },
        ]
    },
}


@dataclass(frozen=True, slots=True)
class BridgeStatus:
    """A ``status`` message: the bridge's health, pushed whenever it changes."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"status", "problems", "storage", "buses"})

    #: A ``HealthStatus``, or the plain string of one this version does not know.
    status: str | None = field(metadata=wire(enum=HealthStatus))
    problems: tuple[str, ...]
    storage: StorageStatus | None
    #: bus id → (up, schedule); on the wire bus id → {"up": …, **schedule}.
    buses: Mapping[str, tuple[bool | None, BusSchedule]] = field(
        metadata=wire(schema=_STATUS_BUSES)
    )
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeStatus:
        """Parse the ``status`` of a ``status`` message (or ``GET /health``)."""
        storage = raw.get("storage")
        return cls(
            status=_opt_enum(HealthStatus, raw, "status"),
            problems=tuple(str(p) for p in _list(raw, "problems")),
            storage=StorageStatus.from_dict(storage) if isinstance(storage, Mapping) else None,
            buses={
                str(bus_id): (
                    _opt_bool(bus, "up"),
                    BusSchedule.from_dict(bus, known=frozenset({"up"})),
                )
                for bus_id, bus in _mapping(raw, "buses").items()
                if isinstance(bus, Mapping)
            },
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "status": None if self.status is None else str(self.status),
            "problems": list(self.problems),
            "storage": None if self.storage is None else self.storage.to_dict(),
            "buses": {
                bus_id: {"up": up, **schedule.to_dict()}
                for bus_id, (up, schedule) in self.buses.items()
            },
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    """``GET /api/v1/info``: the bridge, the contract it speaks, and its buses."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "bridge_id",
            "version",
            "api_version",
            "schema_version",
            "min_supported_schema_version",
            "last_seq",
            "buses",
            "storage",
            "gateway",
        }
    )

    bridge_id: str
    version: str | None
    api_version: int | None
    buses: tuple[Bus, ...]
    last_seq: int | None
    #: None from a bridge that does not report its storage.
    storage: StorageStatus | None = None
    #: None from a bridge before schema versions (it counts as too old).
    schema_version: int | None = SCHEMA_VERSION
    min_supported_schema_version: int | None = MIN_SUPPORTED_SCHEMA_VERSION
    #: The Modbus gateway: ports, clients and counters (None when it is off).
    gateway: Mapping[str, Any] | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeInfo:
        """Parse the bridge's info."""
        api_version = raw.get("api_version")
        storage = raw.get("storage")
        gateway = raw.get("gateway")
        return cls(
            bridge_id=_str(raw, "bridge_id"),
            version=_opt_str(raw, "version"),
            api_version=api_version if isinstance(api_version, int) else None,
            buses=tuple(Bus.from_dict(b) for b in _list(raw, "buses")),
            last_seq=_int(raw, "last_seq"),
            storage=StorageStatus.from_dict(storage) if isinstance(storage, Mapping) else None,
            schema_version=_int(raw, "schema_version"),
            min_supported_schema_version=_int(raw, "min_supported_schema_version"),
            gateway=dict(gateway) if isinstance(gateway, Mapping) else None,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "bridge_id": self.bridge_id,
            "version": self.version,
            "api_version": self.api_version,
            "schema_version": self.schema_version,
            "min_supported_schema_version": self.min_supported_schema_version,
            # The newest stored event: a client that starts over REST and then opens the
            # WebSocket can fetch the events in between, so that none is missed.
            "last_seq": self.last_seq,
            "buses": [b.to_dict() for b in self.buses],
            "storage": None if self.storage is None else self.storage.to_dict(),
            "gateway": None if self.gateway is None else dict(self.gateway),
            **self.extra,
        }

    @property
    def layout(self) -> tuple[object, ...]:
        """What the bridge's own entities are built from."""
        return (
            self.storage is not None,
            tuple((b.id, b.schedule is not None) for b in self.buses),
        )

    def with_bus(self, bus_id: str, up: bool) -> BridgeInfo:
        """This info with one bus marked up or down."""
        return dataclasses.replace(
            self,
            buses=tuple(dataclasses.replace(b, up=up) if b.id == bus_id else b for b in self.buses),
        )

    def with_status(self, status: BridgeStatus) -> BridgeInfo:
        """This info updated by a ``status`` message. A bus it names that the info does
        not have yet is left for the next snapshot, which describes it."""
        buses = []
        for bus in self.buses:
            if bus.id in status.buses:
                up, schedule = status.buses[bus.id]
                bus = dataclasses.replace(bus, up=up, schedule=schedule)
            buses.append(bus)
        return dataclasses.replace(
            self,
            buses=tuple(buses),
            storage=status.storage if status.storage is not None else self.storage,
        )


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """One entry of the bridge's event log.

    ``seq`` is None for an event the bridge could not store yet (a full disk): it is pushed
    at once with ``"stored": false`` and pushed again, with the same ``id`` and its ``seq``,
    once stored.
    """

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"seq", "id", "type", "at", "device_id", "channel", "data", "stored"}
    )
    #: ``stored`` is no field: ``false`` on a held event (``seq`` null), absent otherwise.
    _WIRE_EXTRA: ClassVar[Mapping[str, Mapping[str, Any]]] = {"stored": {"const": False}}
    _WIRE_OPTIONAL: ClassVar[frozenset[str]] = frozenset({"stored"})

    seq: int | None
    id: str
    #: An ``EventType``, or the plain string of a type this version does not know.
    type: str = field(metadata=wire(enum=EventType))
    at: float | None
    device_id: str | None
    channel: str | None
    data: Mapping[str, Any]
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeEvent:
        """Parse an event of ``GET /events`` or of an ``event`` message."""
        seq = raw.get("seq")
        if seq is None and raw.get("stored") is False:
            # Not stored yet: its id is what ties it to the stored copy that follows.
            event_id = _str(raw, "id")
        elif isinstance(seq, int) and not isinstance(seq, bool):
            event_id = _opt_str(raw, "id") or str(seq)
        else:
            raise ValueError(f"an event needs an integer 'seq', not {seq!r}")
        return cls(
            seq=seq,
            id=event_id,
            type=enum_or_str(EventType, _str(raw, "type")),
            at=_number(raw, "at"),
            device_id=_opt_str(raw, "device_id"),
            channel=_opt_str(raw, "channel"),
            data=_mapping(raw, "data"),
            extra=_extra(raw, cls._KNOWN),
        )

    @property
    def stored(self) -> bool:
        """Whether the bridge has stored it (it has a ``seq``)."""
        return self.seq is not None

    def to_dict(self) -> dict[str, Any]:
        """The wire form; a held event says ``"stored": false``."""
        held = {} if self.stored else {"stored": False}
        return {
            "seq": self.seq,
            "id": self.id,
            "type": str(self.type),
            "at": self.at,
            "device_id": self.device_id,
            "channel": self.channel,
            "data": dict(self.data),
            **held,
            **self.extra,
        }

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (service responses): the wire form."""
        return self.to_dict()


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The answer to a command or a setpoint write (``POST /devices/{id}/commands``).

    Also the data of a ``command`` event, with ``who``. ``reason`` is a ``RefusalReason``
    when the bridge refused, or why a write failed or went unconfirmed (``device_exception``,
    ``device_error``, ``no_response``, ``not_confirmed``); ``state`` is the read-back.
    """

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"device_id", "command", "outcome", "reason", "message", "state"}
    )

    device_id: str
    #: A ``CommandName``, or ``set <setpoint key>`` for a setpoint write.
    command: str
    #: A ``CommandOutcome``, or the plain string of one this version does not know.
    outcome: str = field(metadata=wire(enum=CommandOutcome))
    reason: str | None = None
    message: str = ""
    state: Value = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CommandResult:
        """Parse a command's answer."""
        state = raw.get("state")
        message = raw.get("message")
        return cls(
            device_id=_str(raw, "device_id"),
            command=_str(raw, "command"),
            outcome=enum_or_str(CommandOutcome, _str(raw, "outcome")),
            reason=_opt_str(raw, "reason"),
            message=message if isinstance(message, str) else "",
            state=state if isinstance(state, (int, float, str, bool)) else None,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "device_id": self.device_id,
            "command": self.command,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "message": self.message,
            "state": self.state,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The first WebSocket message: the whole picture, then pushes keep it current."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "type",
            "schema_version",
            "min_supported_schema_version",
            "info",
            "devices",
            "alarms",
            "last_seq",
            "held_events",
            "hazards",
            "statistics",
            "site",
        }
    )
    #: Wire keys that are no field: the message type, and the schema from ``info``.
    _WIRE_EXTRA: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "type": {"const": MessageType.SNAPSHOT.value},
        "schema_version": {"type": ["integer", "null"]},
        "min_supported_schema_version": {"type": ["integer", "null"]},
    }

    info: BridgeInfo
    devices: tuple[Device, ...]
    alarms: tuple[Alarm, ...]
    last_seq: int | None
    #: Events the full disk keeps out of the store, oldest first (pushed unstored).
    held_events: tuple[BridgeEvent, ...] = ()
    #: Hazards not eliminated yet, oldest first.
    hazards: tuple[Hazard, ...] = ()
    #: None from a bridge before hazards.
    statistics: HazardStatistics | None = None
    #: The site the bridge serves; None from a bridge before sites.
    site: Site | None = None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Snapshot:
        """Parse a ``snapshot`` message."""
        info = raw.get("info")
        if not isinstance(info, Mapping):
            raise ValueError(f"a snapshot needs an 'info' object, not {info!r}")
        statistics = raw.get("statistics")
        return cls(
            info=BridgeInfo.from_dict(info),
            devices=tuple(Device.from_dict(d) for d in _list(raw, "devices")),
            alarms=tuple(Alarm.from_dict(a) for a in _list(raw, "alarms")),
            last_seq=_int(raw, "last_seq"),
            held_events=tuple(
                BridgeEvent.from_dict(e)
                for e in _list(raw, "held_events")
                if isinstance(e, Mapping)
            ),
            hazards=hazards_from(raw),
            statistics=HazardStatistics.from_dict(statistics)
            if isinstance(statistics, Mapping)
            else None,
            site=site_from(raw),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form of a ``snapshot`` message: the schema, then the picture."""
        return {
            "type": MessageType.SNAPSHOT.value,
            "schema_version": self.info.schema_version,
            "min_supported_schema_version": self.info.min_supported_schema_version,
            "info": self.info.to_dict(),
            "devices": [d.to_dict() for d in self.devices],
            "alarms": [a.to_dict() for a in self.alarms],
            "last_seq": self.last_seq,
            "held_events": [e.to_dict() for e in self.held_events],
            "hazards": [h.to_dict() for h in self.hazards],
            "statistics": None if self.statistics is None else self.statistics.to_dict(),
            "site": None if self.site is None else self.site.to_dict(),
            **self.extra,
        }


def site_from(raw: Mapping[str, Any]) -> Site | None:
    """The ``site`` of a snapshot; None when a bridge before sites sent none."""
    site = raw.get("site")
    return Site.from_dict(site) if isinstance(site, Mapping) else None


def message(kind: MessageType, **body: Any) -> dict[str, Any]:
    """A WebSocket message of ``kind``: ``{"type": kind, **body}``."""
    return {"type": kind.value, **body}


@dataclass(frozen=True, slots=True)
class BridgeData:
    """Everything a client holds: the bridge and its devices, as last heard."""

    info: BridgeInfo
    devices: Mapping[str, Device]
    last_seq: int | None = None
    #: Hazards not eliminated yet, by id.
    hazards: Mapping[str, Hazard] = field(default_factory=dict)
    #: None until the bridge has said (or from a bridge before hazards).
    statistics: HazardStatistics | None = None
    #: The site the bridge serves; None from a bridge before sites.
    site: Site | None = None

    @classmethod
    def from_parts(
        cls, info: Mapping[str, Any], devices: list[Any], last_seq: int | None = None
    ) -> BridgeData:
        """Build from ``GET /info`` and ``GET /devices``, or from a snapshot."""
        parsed = BridgeInfo.from_dict(info)
        return cls(
            info=parsed,
            devices={d.id: d for d in (Device.from_dict(raw) for raw in devices)},
            last_seq=last_seq if last_seq is not None else parsed.last_seq,
        )

    @property
    def open_alarms(self) -> list[Alarm]:
        """Every open alarm and wiring fault, oldest first."""
        alarms = [a for d in self.devices.values() for a in d.state.open_alarms]
        return sorted(alarms, key=lambda a: a.raised_at or 0.0)

    def find_alarm(self, alarm_id: str) -> Alarm | None:
        """The open record with this id, if any."""
        return next((a for a in self.open_alarms if a.id == alarm_id), None)


#: Every model of the wire, in the order the OpenAPI document lists them.
WIRE_MODELS: tuple[type[Any], ...] = (
    Channel,
    Setpoint,
    Alarm,
    DeviceState,
    Device,
    StorageStatus,
    BusSchedule,
    Bus,
    BridgeStatus,
    BridgeInfo,
    BridgeEvent,
    CommandResult,
    Snapshot,
    *WORKFLOW_MODELS,
    *SITE_MODELS,
    *PROOF_MODELS,
    *TREND_MODELS,
)
