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
    SELF_TEST = "self_test"


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
    alarms: Mapping[str, bool] = field(default_factory=dict)
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
            alarms={k: bool(v) for k, v in _mapping(raw, "alarms").items()},
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
class Bus:
    """One line of the bridge."""

    id: str
    line: str | None
    up: bool

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Bus:
        """Parse one entry of ``info.buses``."""
        return cls(id=_str(raw, "id"), line=_opt_str(raw, "line"), up=bool(raw.get("up")))


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    """``GET /api/v1/info``."""

    bridge_id: str
    version: str | None
    api_version: int | None
    buses: tuple[Bus, ...]
    last_seq: int | None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BridgeInfo:
        """Parse the bridge's info."""
        api_version = raw.get("api_version")
        last_seq = raw.get("last_seq")
        return cls(
            bridge_id=_str(raw, "bridge_id"),
            version=_opt_str(raw, "version"),
            api_version=api_version if isinstance(api_version, int) else None,
            buses=tuple(Bus.from_dict(b) for b in _list(raw, "buses")),
            last_seq=last_seq if isinstance(last_seq, int) else None,
        )

    def with_bus(self, bus_id: str, up: bool) -> BridgeInfo:
        """This info with one bus marked up or down."""
        return dataclasses.replace(
            self,
            buses=tuple(dataclasses.replace(b, up=up) if b.id == bus_id else b for b in self.buses),
        )


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """One entry of the bridge's event log."""

    seq: int
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
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError(f"an event needs an integer 'seq', not {seq!r}")
        return cls(
            seq=seq,
            id=_opt_str(raw, "id") or str(seq),
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
