"""The bridge's API v1 data as typed, frozen values.

The bridge describes itself: every device carries its channel, setpoint and command
metadata, so that entities are built from data, never from a list of models kept here.
Parsing is lenient about what it does not know (a newer bridge may add fields) and strict
about what it needs (a missing id is a broken bridge, and raises ``ValueError``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

type Value = float | int | str | bool | None


def numeric(value: Value) -> float | int | None:
    """A reading as a number; None for a sentinel such as "open_circuit" or a missing one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


class ChannelKind(StrEnum):
    """Semantic kinds of channel: the contract with the bridge's ``profile.ChannelKind``."""

    RESIDUAL_CURRENT = "residual_current"
    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"
    CURRENT = "current"
    POWER = "power"
    ENERGY = "energy"
    FREQUENCY = "frequency"
    ARC_COUNT = "arc_count"
    ALARM_STATUS = "alarm_status"
    FAULT_STATUS = "fault_status"
    BREAKER = "breaker"
    DIGITAL_INPUT = "digital_input"
    DIGITAL_OUTPUT = "digital_output"
    VALUE_AT_ALARM = "value_at_alarm"
    CONFIGURATION = "configuration"
    IDENTITY = "identity"


class SetpointKind(StrEnum):
    """Semantic kinds of setpoint: the contract with the bridge's ``profile.SetpointKind``."""

    RESIDUAL_CURRENT_ALARM = "residual_current_alarm"
    RESIDUAL_CURRENT_PREWARNING = "residual_current_prewarning"
    TEMPERATURE_ALARM = "temperature_alarm"
    VOLTAGE_LIMIT = "voltage_limit"
    CURRENT_LIMIT = "current_limit"
    DELAY = "delay"
    MODE = "mode"
    ENABLE = "enable"


class CommandName(StrEnum):
    """Commands a device may offer: the contract with the bridge's ``profile.CommandName``."""

    RESET = "reset"
    MUTE = "mute"
    SELF_TEST = "self_test"
    TRIP = "trip"
    CLOSE = "close"


class EventType(StrEnum):
    """Event types of the bridge's log that the integration acts on."""

    ALARM_RAISED = "alarm_raised"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_CLEARED = "alarm_cleared"
    WIRING_FAULT_RAISED = "wiring_fault_raised"
    WIRING_FAULT_ACKNOWLEDGED = "wiring_fault_acknowledged"
    WIRING_FAULT_CLEARED = "wiring_fault_cleared"
    BUS_DOWN = "bus_down"
    BUS_UP = "bus_up"
    BUS_OVERLOADED = "bus_overloaded"
    BUS_OVERLOAD_CLEARED = "bus_overload_cleared"
    STORAGE_FAILING = "storage_failing"
    STORAGE_RECOVERED = "storage_recovered"
    SELF_TEST = "self_test"


class StorageState(StrEnum):
    """How well the bridge's data folder takes writes: the bridge's ``StorageState``."""

    OK = "ok"
    #: The disk is full; events are stored in the room of the released reserve.
    ON_RESERVE = "on_reserve"
    #: Writes fail; events are held in memory, pushed unstored, and commands are refused.
    FAILING = "failing"


def _str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be a non-empty string, not {value!r}")
    return value


def _opt_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _mapping(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return list(value) if isinstance(value, list) else []


def _int(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_bool(raw: Mapping[str, Any], key: str) -> bool | None:
    """True, False, or None for unknown (null, missing, or not a flag)."""
    value = raw.get(key)
    return value if isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Channel:
    """A value the bridge reads from a device."""

    key: str
    name: str
    kind: str
    unit: str | None
    states: tuple[str, ...]
    has_alarm: bool
    has_warning: bool
    has_wiring_fault: bool

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Channel:
        """Parse one entry of a device's ``channels``."""
        key = _str(raw, "key")
        return cls(
            key=key,
            name=_opt_str(raw, "name") or key,
            kind=_str(raw, "kind"),
            unit=_opt_str(raw, "unit"),
            states=tuple(str(s) for s in _list(raw, "states")),
            has_alarm=bool(raw.get("has_alarm")),
            has_warning=bool(raw.get("has_warning")),
            has_wiring_fault=bool(raw.get("has_wiring_fault")),
        )


@dataclass(frozen=True, slots=True)
class Setpoint:
    """A configuration value of a device, bounded by its profile."""

    key: str
    name: str
    kind: str
    unit: str | None
    minimum: float
    maximum: float
    step: float
    writable: bool

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
            kind=_str(raw, "kind"),
            unit=_opt_str(raw, "unit"),
            minimum=minimum,
            maximum=maximum,
            # Bridges before the "step" field: whole units.
            step=_number(raw, "step") or 1.0,
            writable=bool(raw.get("writable")),
        )


@dataclass(frozen=True, slots=True)
class Alarm:
    """One latched alarm or wiring fault: raised → acknowledged → cleared."""

    id: str
    kind: str
    device_id: str
    channel: str
    raised_at: float | None
    value_at_alarm: Value
    detail: str | None
    active: bool
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: float | None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Alarm:
        """Parse an alarm record of ``open_alarms`` or of an alarm event's data."""
        value = raw.get("value_at_alarm")
        return cls(
            id=_str(raw, "id"),
            kind=_opt_str(raw, "kind") or "alarm",
            device_id=_str(raw, "device_id"),
            channel=_str(raw, "channel"),
            raised_at=_number(raw, "raised_at"),
            value_at_alarm=value if isinstance(value, (int, float, str)) else None,
            detail=_opt_str(raw, "detail"),
            active=bool(raw.get("active")),
            acknowledged=bool(raw.get("acknowledged")),
            acknowledged_by=_opt_str(raw, "acknowledged_by"),
            acknowledged_at=_number(raw, "acknowledged_at"),
        )

    @property
    def is_alarm(self) -> bool:
        """An alarm, not a wiring fault."""
        return self.kind == "alarm"


@dataclass(frozen=True, slots=True)
class DeviceState:
    """The live part of a device, which ``device_state`` messages replace."""

    online: bool = False
    values: Mapping[str, Value] = field(default_factory=dict)
    setpoint_values: Mapping[str, Value] = field(default_factory=dict)
    #: None: unknown (not read yet, or derived from a setpoint or value not read yet).
    alarms: Mapping[str, bool | None] = field(default_factory=dict)
    warnings: Mapping[str, bool] = field(default_factory=dict)
    wiring_faults: Mapping[str, str] = field(default_factory=dict)
    open_alarms: tuple[Alarm, ...] = ()
    unsupported: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeviceState:
        """Parse the state fields of a device (its own, or a ``device_state`` message)."""
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
        )

    def open_alarm(self, channel: str, kind: str = "alarm") -> Alarm | None:
        """The open record of one channel, if any."""
        return next((a for a in self.open_alarms if a.channel == channel and a.kind == kind), None)


@dataclass(frozen=True, slots=True)
class Device:
    """One detector: identity and metadata from its profile, plus its live state."""

    id: str
    name: str
    bus: str | None
    unit: int | None
    manufacturer: str | None
    model: str | None
    kind: str | None
    manual_version: str | None
    verified: bool
    simulated: bool
    channels: tuple[Channel, ...]
    setpoints: tuple[Setpoint, ...]
    commands: frozenset[str]
    state: DeviceState

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
            kind=_opt_str(raw, "kind"),
            manual_version=_opt_str(raw, "manual_version"),
            verified=bool(raw.get("verified")),
            simulated=bool(raw.get("simulated")),
            channels=tuple(Channel.from_dict(c) for c in _list(raw, "channels")),
            setpoints=tuple(Setpoint.from_dict(s) for s in _list(raw, "setpoints")),
            commands=frozenset(str(c) for c in _list(raw, "commands")),
            state=DeviceState.from_dict(raw),
        )

    def channel(self, key: str) -> Channel | None:
        """The channel with this key, if the device has it."""
        return next((c for c in self.channels if c.key == key), None)

    @property
    def layout(self) -> tuple[object, ...]:
        """What entities are built from: when it changes, entities are re-derived."""
        return (self.model, self.verified, self.channels, self.setpoints, self.commands)


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """Whether the bridge can store its events (``info.storage``, and ``status`` messages)."""

    state: str
    problem: bool
    since: float | None
    error: str | None
    held_events: int
    free_bytes: int | None
    reserve_bytes: int | None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StorageStatus:
        """Parse the bridge's storage status."""
        state = _opt_str(raw, "state") or StorageState.OK
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
        )


@dataclass(frozen=True, slots=True)
class BusSchedule:
    """How well one line keeps its alarm interval (``buses[].schedule``)."""

    alarm_interval_s: float | None
    effective_alarm_interval_s: float | None
    alarm_round_s: float | None
    alarm_line_share: float | None
    overloaded: bool
    alarm_gap_max_s: float | None
    queued_commands: int | None
    queued_gateway_requests: int | None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BusSchedule:
        """Parse a bus's schedule (also the fields of a ``status`` message's bus)."""
        return cls(
            alarm_interval_s=_number(raw, "alarm_interval_s"),
            effective_alarm_interval_s=_number(raw, "effective_alarm_interval_s"),
            alarm_round_s=_number(raw, "alarm_round_s"),
            alarm_line_share=_number(raw, "alarm_line_share"),
            overloaded=bool(raw.get("overloaded")),
            alarm_gap_max_s=_number(raw, "alarm_gap_max_s"),
            queued_commands=_int(raw, "queued_commands"),
            queued_gateway_requests=_int(raw, "queued_gateway_requests"),
        )


@dataclass(frozen=True, slots=True)
class Bus:
    """One line of the bridge."""

    id: str
    line: str | None
    #: None until the bridge has tried the line.
    up: bool | None
    #: None from a bridge that does not report its load.
    schedule: BusSchedule | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Bus:
        """Parse one entry of ``info.buses``."""
        schedule = raw.get("schedule")
        return cls(
            id=_str(raw, "id"),
            line=_opt_str(raw, "line"),
            up=_opt_bool(raw, "up"),
            schedule=BusSchedule.from_dict(schedule) if isinstance(schedule, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class BridgeStatus:
    """A ``status`` message: the bridge's health, pushed whenever it changes."""

    status: str | None
    problems: tuple[str, ...]
    storage: StorageStatus | None
    #: bus id → (up, schedule).
    buses: Mapping[str, tuple[bool | None, BusSchedule]]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeStatus:
        """Parse the ``status`` of a ``status`` message (or ``GET /health``)."""
        storage = raw.get("storage")
        return cls(
            status=_opt_str(raw, "status"),
            problems=tuple(str(p) for p in _list(raw, "problems")),
            storage=StorageStatus.from_dict(storage) if isinstance(storage, Mapping) else None,
            buses={
                str(bus_id): (_opt_bool(bus, "up"), BusSchedule.from_dict(bus))
                for bus_id, bus in _mapping(raw, "buses").items()
                if isinstance(bus, Mapping)
            },
        )


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    """``GET /api/v1/info``."""

    bridge_id: str
    version: str | None
    api_version: int | None
    buses: tuple[Bus, ...]
    last_seq: int | None
    #: None from a bridge that does not report its storage.
    storage: StorageStatus | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeInfo:
        """Parse the bridge's info."""
        api_version = raw.get("api_version")
        storage = raw.get("storage")
        return cls(
            bridge_id=_str(raw, "bridge_id"),
            version=_opt_str(raw, "version"),
            api_version=api_version if isinstance(api_version, int) else None,
            buses=tuple(Bus.from_dict(b) for b in _list(raw, "buses")),
            last_seq=_int(raw, "last_seq"),
            storage=StorageStatus.from_dict(storage) if isinstance(storage, Mapping) else None,
        )

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

    seq: int | None
    id: str
    type: str
    at: float | None
    device_id: str | None
    channel: str | None
    data: Mapping[str, Any]

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
            type=_str(raw, "type"),
            at=_number(raw, "at"),
            device_id=_opt_str(raw, "device_id"),
            channel=_opt_str(raw, "channel"),
            data=_mapping(raw, "data"),
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (service responses)."""
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "at": self.at,
            "device_id": self.device_id,
            "channel": self.channel,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True)
class BridgeData:
    """Everything the coordinator holds: the bridge and its devices, as last heard."""

    info: BridgeInfo
    devices: Mapping[str, Device]
    last_seq: int | None = None

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
