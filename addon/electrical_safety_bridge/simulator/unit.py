"""One simulated detector: the registers its profile defines, and the behaviour behind them.

The unit is plain Python with no I/O and no pymodbus: the bus feeds it Modbus reads and
writes, scenarios and tests change its values, and it keeps its status registers consistent
the way a real detector does. Everything it does is derived from the profile, so that any
profile (vendor or simulated) can be served without inventing a single register:

* Only the registers the profile names exist. Reading or writing anything else is exception
  02, exactly what a real unit answers for a reserved address; so is writing a read-only
  one. A setpoint written outside its min/max is exception 03 (illegal data value).
* A measured channel whose alarm (or warning) condition names a status ``source`` drives that
  source when the channel reaches its threshold setpoint (see :func:`_threshold`). When the
  alarm is raised, the value is copied to ``<channel>_at_alarm`` if the profile has that
  value-at-alarm channel.
* Wiring faults are set by scenarios; a channel with sentinels also shows the sentinel value.
* With a ``reset`` command in the profile, alarms latch until reset (and the cause is gone);
  without one, the status follows the value, as on devices with no remote reset.
* Commands written to their register have their side effects: reset, mute, self-test, trip
  and close (the last two move the command's ``verify`` channel to its expected state).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Final

from ..common.enums import ChannelKind, CommandName, SetpointKind
from ..profiles.codec import Reading, decode, encode
from ..profiles.model import (
    Channel,
    Command,
    Profile,
    RegisterSpec,
    RegisterType,
    Setpoint,
    WordOrder,
)

#: A value as a test or a scenario gives it: a number, or a state name of a bitfield.
Value = float | int | str

#: How long a self-test alarm shows on a device that has no reset command to clear it.
DEFAULT_SELF_TEST_SECONDS: Final = 5.0


class ExceptionCode(IntEnum):
    """Modbus exception codes a unit answers with (same numbers as on the wire)."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_ADDRESS = 2
    ILLEGAL_VALUE = 3
    DEVICE_FAILURE = 4


class UnitException(Exception):
    """A request the unit refuses with a Modbus exception response."""

    def __init__(self, code: ExceptionCode, message: str) -> None:
        self.code = code
        super().__init__(f"exception {int(code):02d} ({code.name.lower()}): {message}")


class _Level(IntEnum):
    """Priority of what a status register shows when several causes compete."""

    WARNING = 1
    ALARM = 2
    WIRING_FAULT = 3


@dataclass(frozen=True, slots=True)
class _AlarmRule:
    """The device raises ``source`` to ``state`` while ``channel`` is at or over ``threshold``.

    ``threshold`` is None when the profile names no single threshold setpoint: the rule then
    fires only from an arc burst or a self-test.
    """

    channel: str
    source: str
    state: str | int
    level: _Level
    threshold: str | None


@dataclass(frozen=True, slots=True)
class _FaultRule:
    """``source`` shows a wiring fault of ``channel``; ``states`` are the accepted states."""

    channel: str
    source: str
    states: tuple[str, ...]


#: Setpoint kinds that hold the alarm / warning threshold of a channel kind.
_ALARM_SETPOINT_KIND: Final = {
    ChannelKind.RESIDUAL_CURRENT: SetpointKind.RESIDUAL_CURRENT_ALARM,
    ChannelKind.TEMPERATURE: SetpointKind.TEMPERATURE_ALARM,
}
_WARNING_SETPOINT_KIND: Final = {
    ChannelKind.RESIDUAL_CURRENT: SetpointKind.RESIDUAL_CURRENT_PREWARNING,
}
#: State names a status channel shows when nothing is wrong, in order of preference.
_NORMAL_STATES: Final = ("normal", "ok", "none", "idle", "off")
_BREAKER_NORMAL_STATES: Final = ("closed", "on", "normal")
#: Default setpoint values by kind: a standard value where one exists (GB 50116 recommends
#: 300-500 mA for residual current), otherwise filled in by :meth:`SimulatedUnit._default`.
_STANDARD_SETPOINTS: Final = {
    SetpointKind.RESIDUAL_CURRENT_ALARM: 300.0,
    SetpointKind.RESIDUAL_CURRENT_PREWARNING: 150.0,
    SetpointKind.TEMPERATURE_ALARM: 80.0,
}


def _threshold(profile: Profile, channel: Channel, level: _Level) -> str | None:
    """The setpoint that holds ``channel``'s alarm or warning threshold, if one is clear.

    First ``<channel>_alarm_setpoint`` (``_prewarning_setpoint`` / ``_warning_setpoint`` for
    a warning); otherwise the profile's only setpoint of the matching kind. With several
    candidates and no name match the threshold is ambiguous and the rule gets none.
    """
    keys = {setpoint.key for setpoint in profile.setpoints}
    names = (
        (f"{channel.key}_alarm_setpoint",)
        if level is _Level.ALARM
        else (f"{channel.key}_prewarning_setpoint", f"{channel.key}_warning_setpoint")
    )
    for name in names:
        if name in keys:
            return name
    kinds = _ALARM_SETPOINT_KIND if level is _Level.ALARM else _WARNING_SETPOINT_KIND
    kind = kinds.get(channel.kind)
    matching = [s.key for s in profile.setpoints if s.kind is kind]
    return matching[0] if len(matching) == 1 else None


def _rules(profile: Profile) -> tuple[list[_AlarmRule], list[_FaultRule]]:
    """The alarm, warning and wiring-fault behaviour the profile implies."""
    alarms: list[_AlarmRule] = []
    faults: list[_FaultRule] = []
    for channel in profile.channels:
        for level, conditions in ((_Level.ALARM, channel.alarm), (_Level.WARNING, channel.warning)):
            source = next((c for c in conditions if c.source is not None), None)
            if source is None or source.source is None:
                continue
            state: str | int = source.states[0] if source.states else 1
            threshold = _threshold(profile, channel, level)
            alarms.append(_AlarmRule(channel.key, source.source, state, level, threshold))
        for condition in channel.wiring_fault:
            if condition.source is not None:
                faults.append(_FaultRule(channel.key, condition.source, condition.states))
    return alarms, faults


def _raw_words(spec: RegisterSpec, raw: int, current: list[int]) -> list[int]:
    """Registers holding an exact raw value (a sentinel), bypassing scale and sign."""
    match spec.type:
        case RegisterType.U32 | RegisterType.S32 | RegisterType.F32:
            words = [(raw >> 16) & 0xFFFF, raw & 0xFFFF]
            return words if spec.word_order is WordOrder.BIG else words[::-1]
        case RegisterType.U8_HI:
            return [(current[0] & 0x00FF) | ((raw & 0xFF) << 8)]
        case RegisterType.U8_LO:
            return [(current[0] & 0xFF00) | (raw & 0xFF)]
        case RegisterType.BITFIELD:
            bit = spec.bit or 0
            mask = ((1 << spec.bits) - 1) << bit
            return [(current[0] & ~mask & 0xFFFF) | ((raw << bit) & mask)]
        case _:
            return [raw & 0xFFFF]


def _numeric(reading: Reading) -> float | None:
    value = reading.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class SimulatedUnit:
    """A detector on a simulated bus, serving one profile at one unit id.

    ``values`` overrides the plausible defaults every channel and setpoint starts with
    (residual currents 20-80 mA, temperatures 25-35 °C, 230 V, 300 mA alarm setpoints,
    status channels in their normal state, the identify register matching the profile).
    """

    def __init__(
        self,
        profile: Profile,
        unit_id: int,
        values: Mapping[str, Value] | None = None,
        *,
        self_test_seconds: float = DEFAULT_SELF_TEST_SECONDS,
    ) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit id {unit_id} is outside 1-247")
        self.profile = profile
        self.unit_id = unit_id
        #: False simulates a dropout: the unit does not answer at all (the master times out).
        self.online = True
        #: Seconds this unit takes to turn a request round, on top of the line's own delay
        #: (a slow unit: the master waits longer for it, and the line is busy meanwhile).
        self.turnaround_delay = 0.0
        #: True after a mute command, until a reset.
        self.muted = False
        #: Every command the unit has executed, in order (for tests and the demo log).
        self.command_log: list[CommandName] = []
        self.self_test_seconds = self_test_seconds

        self._specs: dict[str, RegisterSpec] = {}
        self._channels: dict[str, Channel] = {}
        self._setpoints: dict[str, Setpoint] = {}
        for channel in profile.channels:
            self._specs[channel.key] = channel.register
            self._channels[channel.key] = channel
        for setpoint in profile.setpoints:
            self._specs[setpoint.key] = setpoint.register
            self._setpoints[setpoint.key] = setpoint

        readable: set[int] = set()
        for spec in self._specs.values():
            readable.update(spec.span)
        writable_setpoints: set[int] = set()
        for setpoint in profile.setpoints:
            if setpoint.writable:
                writable_setpoints.update(setpoint.register.span)
        self._commands: tuple[Command, ...] = tuple(
            c for c in profile.commands.values() if c.address is not None
        )
        command_addresses = {c.address for c in self._commands if c.address is not None}
        self.readable: frozenset[int] = frozenset(readable)
        self.writable: frozenset[int] = frozenset(writable_setpoints | command_addresses)
        # A command register that is not also a value register keeps what was last written
        # (so an FC 06 echo is right); a command aimed at a value register leaves it alone.
        self._command_only = frozenset(command_addresses - readable - writable_setpoints)
        self._setpoint_addresses = frozenset(writable_setpoints)
        self._registers: dict[int, int] = dict.fromkeys(sorted(readable | self.writable), 0)

        self._alarm_rules, self._fault_rules = _rules(profile)
        self._driven = frozenset(
            [r.source for r in self._alarm_rules] + [r.source for r in self._fault_rules]
        )
        self._latching = CommandName.RESET in profile.commands
        self._latched: set[_AlarmRule] = set()
        self._raised: set[_AlarmRule] = set()  # alarms showing after the last evaluation
        self._bursting: set[str] = set()
        self._faults: dict[str, str] = {}
        self._hidden: dict[str, list[int]] = {}  # registers behind a sentinel
        self._self_test_timer: asyncio.TimerHandle | None = None

        self._load_defaults()
        self._evaluate()
        for key, value in (values or {}).items():
            self.set(key, value)

    # ------------------------------------------------------------------ values

    @property
    def registers(self) -> Mapping[int, int]:
        """Every register the unit has, by address (a live read-only view)."""
        return MappingProxyType(self._registers)

    @property
    def address_range(self) -> range:
        """From register 0 to the highest register the unit has, gaps included."""
        return range(max(self._registers, default=0) + 1)

    @property
    def keys(self) -> tuple[str, ...]:
        """Channel and setpoint keys, in profile order."""
        return tuple(self._specs)

    def spec(self, key: str) -> RegisterSpec:
        """Where a channel or setpoint lives."""
        try:
            return self._specs[key]
        except KeyError:
            known = ", ".join(self._specs)
            raise KeyError(
                f"{self.profile.model} has no channel or setpoint '{key}'; known: {known}"
            ) from None

    def get(self, key: str) -> Reading:
        """Decode a channel or setpoint from the registers."""
        spec = self.spec(key)
        return decode(spec, [self._registers[a] for a in spec.span])

    def set(self, key: str, value: Value) -> None:
        """Set a channel or setpoint (a number, or a state name) and let the device react.

        A status channel that the device drives from its rules may be set too, but is
        recomputed the next time any other value changes.
        """
        self._store(key, value)
        if key not in self._driven:
            self._evaluate()

    def _store(self, key: str, value: Value) -> None:
        spec = self.spec(key)
        if spec.address is None:
            raise ValueError(f"'{key}' has no register address")
        if key in self._hidden:  # the sensor is broken: the new value hides behind it
            self._hidden[key] = encode(spec, value, self._hidden[key])
            return
        try:
            words = encode(spec, value, [self._registers[a] for a in spec.span])
        except ValueError as exc:
            raise ValueError(f"{self.profile.model} '{key}': {exc}") from None
        for address, word in zip(spec.span, words, strict=True):
            self._registers[address] = word

    def _load_defaults(self) -> None:
        counters: dict[ChannelKind, int] = {}
        for channel in self.profile.channels:
            index = counters.get(channel.kind, 0)
            counters[channel.kind] = index + 1
            self._store_default(channel.key, self._channel_default(channel, index))
        for setpoint in self.profile.setpoints:
            self._store_default(setpoint.key, self._setpoint_default(setpoint))
        identify = self.profile.identify
        if identify is not None and identify.address in self._registers:
            word = self._registers[identify.address]
            self._registers[identify.address] = (word & ~identify.mask & 0xFFFF) | (
                identify.equals & identify.mask
            )

    def _store_default(self, key: str, value: Value) -> None:
        try:
            self._store(key, value)
        except ValueError:
            self._store(key, 0)  # a default that does not fit the register type

    def _channel_default(self, channel: Channel, index: int) -> Value:
        states = channel.register.states
        if states:
            names = list(states.values())
            preferred = (
                _BREAKER_NORMAL_STATES if channel.kind is ChannelKind.BREAKER else _NORMAL_STATES
            )
            for name in preferred:
                if name in names:
                    return name
            return states.get(0, names[0])
        match channel.kind:
            case ChannelKind.RESIDUAL_CURRENT:
                return 20 + (index * 17) % 61  # 20..80 mA, different per loop
            case ChannelKind.TEMPERATURE:
                return 25 + (index * 3) % 11  # 25..35 °C
            case ChannelKind.VOLTAGE:
                return 230
            case ChannelKind.CURRENT:
                return 5
            case ChannelKind.POWER:
                return 1150
            case ChannelKind.FREQUENCY:
                return 50
            case ChannelKind.CONFIGURATION if "address" in channel.key:
                return self.unit_id
            case _:
                return 0

    @staticmethod
    def _setpoint_default(setpoint: Setpoint) -> Value:
        standard = _STANDARD_SETPOINTS.get(setpoint.kind)
        if standard is not None:
            value = standard
        elif setpoint.kind in (SetpointKind.DELAY, SetpointKind.MODE):
            value = setpoint.minimum
        elif setpoint.kind is SetpointKind.ENABLE:
            value = setpoint.maximum
        else:
            value = (setpoint.minimum + setpoint.maximum) / 2
        value = min(max(value, setpoint.minimum), setpoint.maximum)
        return int(value) if float(value).is_integer() else value

    # ------------------------------------------------------------------ behaviour

    def _normal_state(self, key: str) -> Value:
        states = self._specs[key].states
        for name in _NORMAL_STATES:
            if name in states.values():
                return name
        return 0

    def _condition_now(self, rule: _AlarmRule) -> bool:
        """Whether the cause of an alarm or warning is present right now."""
        if rule.level is _Level.ALARM and rule.channel in self._bursting:
            return True
        if rule.threshold is None or rule.channel in self._faults:
            return False
        value = _numeric(self.get(rule.channel))
        threshold = _numeric(self.get(rule.threshold))
        return value is not None and threshold is not None and value >= threshold

    def _evaluate(self) -> None:
        """Recompute every status register the device drives, most serious cause first."""
        shown: dict[str, tuple[_Level, Value]] = {}

        def offer(source: str, level: _Level, state: Value) -> None:
            if source not in shown or shown[source][0] < level:
                shown[source] = (level, state)

        alarms: set[_AlarmRule] = set()
        for rule in self._alarm_rules:
            now = self._condition_now(rule)
            if now and self._latching and rule.level is _Level.ALARM:
                self._latched.add(rule)
            if now or rule in self._latched:
                offer(rule.source, rule.level, rule.state)
                if rule.level is _Level.ALARM:
                    alarms.add(rule)
        for rule in alarms - self._raised:
            self._record_at_alarm(rule.channel)
        self._raised = alarms
        for fault in self._fault_rules:
            state = self._faults.get(fault.channel)
            if state is not None and (not fault.states or state in fault.states):
                offer(fault.source, _Level.WIRING_FAULT, state if fault.states else 1)
        for source in self._driven:
            self._store(source, shown[source][1] if source in shown else self._normal_state(source))

    def _record_at_alarm(self, channel: str) -> None:
        """Keep the value at the moment of the alarm in ``<channel>_at_alarm``, if the profile
        has such a value-at-alarm channel (as detectors that record it do)."""
        target = self._channels.get(f"{channel}_at_alarm")
        if target is None or target.kind is not ChannelKind.VALUE_AT_ALARM:
            return
        value = self.get(channel).value
        if isinstance(value, (int, float)):
            with contextlib.suppress(ValueError):
                self._store(target.key, value)

    def alarm_active(self) -> bool:
        """Whether any alarm-level cause is present or latched (used by tests and the demo)."""
        return bool(self._latched) or any(
            self._condition_now(r) for r in self._alarm_rules if r.level is _Level.ALARM
        )

    def wiring_fault_states(self, channel: str) -> tuple[str, ...]:
        """States a wiring fault of ``channel`` may take: its conditions' and its sentinels'.

        A condition without states (the source is simply non-zero) accepts ``fault``.
        """
        spec = self.spec(channel)
        rules = [r for r in self._fault_rules if r.channel == channel]
        states = [s for r in rules for s in r.states]
        states += [name for name in spec.sentinels.values() if name not in states]
        if any(not r.states for r in rules) and "fault" not in states:
            states.append("fault")
        return tuple(states)

    def wiring_fault_channels(self) -> tuple[str, ...]:
        """Channels that can show a wiring fault, in profile order."""
        return tuple(c.key for c in self.profile.channels if self.wiring_fault_states(c.key))

    def set_wiring_fault(self, channel: str, state: str | None) -> None:
        """Show a wiring fault of ``channel`` (for example ``open_circuit``), or clear it."""
        spec = self.spec(channel)
        if state is None:
            self._faults.pop(channel, None)
            hidden = self._hidden.pop(channel, None)
            if hidden is not None:
                for address, word in zip(spec.span, hidden, strict=True):
                    self._registers[address] = word
            self._evaluate()
            return
        allowed = self.wiring_fault_states(channel)
        if state not in allowed:
            if not allowed:
                raise ValueError(f"{self.profile.model} '{channel}' has no wiring-fault condition")
            raise ValueError(
                f"'{state}' is not a wiring fault of '{channel}'; use one of {', '.join(allowed)}"
            )
        self._faults[channel] = state
        sentinel = next((raw for raw, name in spec.sentinels.items() if name == state), None)
        if sentinel is not None:
            current = [self._registers[a] for a in spec.span]
            self._hidden.setdefault(channel, current)
            for address, word in zip(spec.span, _raw_words(spec, sentinel, current), strict=True):
                self._registers[address] = word
        self._evaluate()

    def arc_channels(self) -> tuple[str, ...]:
        """Arc-count channels, those with an alarm condition first."""
        arcs = [c for c in self.profile.channels if c.kind is ChannelKind.ARC_COUNT]
        arcs.sort(key=lambda c: not c.alarm)
        return tuple(c.key for c in arcs)

    def start_arc_burst(self, channel: str) -> None:
        """Arcs are being detected on ``channel``: its alarm source is raised."""
        self.spec(channel)
        self._bursting.add(channel)
        self._evaluate()

    def add_arcs(self, channel: str, count: int = 1) -> None:
        """Count ``count`` more arcs on an arc-count channel."""
        value = _numeric(self.get(channel)) or 0.0
        self.set(channel, int(value) + count)

    def end_arc_burst(self, channel: str) -> None:
        """No more arcs; the alarm stays if the device latches."""
        self._bursting.discard(channel)
        self._evaluate()

    # ------------------------------------------------------------------ Modbus

    def read_registers(self, function: int, address: int, count: int) -> list[int]:
        """Answer a read: the registers, or a :class:`UnitException` as the device would."""
        if function not in (3, 4) or function != self.profile.read_function:
            raise UnitException(
                ExceptionCode.ILLEGAL_FUNCTION,
                f"{self.profile.model} reads with function {self.profile.read_function}",
            )
        for register in range(address, address + count):
            if register not in self.readable:
                raise UnitException(
                    ExceptionCode.ILLEGAL_ADDRESS, f"register {register:#06x} does not exist"
                )
        return [self._registers[a] for a in range(address, address + count)]

    def peek(self, address: int, count: int) -> list[int]:
        """Registers as stored, without checks (0 where the unit has none)."""
        return [self._registers.get(a, 0) for a in range(address, address + count)]

    def write_registers(self, function: int, address: int, values: Sequence[int]) -> None:
        """Apply a write (FC 06 or 16): store setpoints, run commands, or refuse it."""
        if function not in (6, 16):
            raise UnitException(ExceptionCode.ILLEGAL_FUNCTION, f"function {function}")
        span = range(address, address + len(values))
        for register in span:
            if register not in self.writable:
                raise UnitException(
                    ExceptionCode.ILLEGAL_ADDRESS, f"register {register:#06x} is not writable"
                )
        written = dict(zip(span, values, strict=True))
        commands = [
            c for c in self._commands if c.address is not None and written.get(c.address) == c.value
        ]
        commanded = {c.address for c in commands}
        for register in self._command_only & written.keys():
            if register not in commanded:
                raise UnitException(
                    ExceptionCode.ILLEGAL_VALUE,
                    f"{written[register]} is not a command of register {register:#06x}",
                )
        stored = {a: v for a, v in written.items() if a in self._setpoint_addresses}
        self._check_setpoints(stored)
        self._registers.update(stored)
        self._registers.update({a: v for a, v in written.items() if a in self._command_only})
        for command in commands:
            self.execute(command.name)
        self._evaluate()

    def _check_setpoints(self, stored: Mapping[int, int]) -> None:
        """Refuse (exception 03) a setpoint outside what the device accepts."""
        if not stored:
            return
        for setpoint in self.profile.setpoints:
            span = setpoint.register.span
            if not stored.keys() & set(span):
                continue
            words = [stored.get(a, self._registers[a]) for a in span]
            value = _numeric(decode(setpoint.register, words))
            if value is not None and not setpoint.minimum <= value <= setpoint.maximum:
                bounds = f"{setpoint.minimum:g}-{setpoint.maximum:g}"
                raise UnitException(
                    ExceptionCode.ILLEGAL_VALUE, f"{setpoint.key} {value:g} is outside {bounds}"
                )

    def execute(self, name: CommandName) -> None:
        """Do what the device does when it receives a command (already written or simulated)."""
        command = self.profile.commands.get(name)
        self.command_log.append(name)
        match name:
            case CommandName.RESET:
                self._latched = {r for r in self._latched if self._condition_now(r)}
                self.muted = False
                self._cancel_self_test()
            case CommandName.MUTE:
                self.muted = True
            case CommandName.SELF_TEST:
                self._self_test()
            case CommandName.TRIP | CommandName.CLOSE:
                pass
        self._evaluate()
        if command is not None and command.verify is not None and name is not CommandName.RESET:
            verify = command.verify
            if verify.state is not None:
                self._store(verify.channel, verify.state)
            elif verify.value is not None:
                self._store(verify.channel, verify.value)

    def _self_test(self) -> None:
        """Raise the first alarm the device can show, as its test button does."""
        rule = next((r for r in self._alarm_rules if r.level is _Level.ALARM), None)
        if rule is None:
            return
        self._latched.add(rule)
        if self._latching:
            return
        # Nothing can reset it remotely: the device ends the test by itself.
        self._cancel_self_test()
        with contextlib.suppress(RuntimeError):  # no running loop: stays until cleared
            loop = asyncio.get_running_loop()
            self._self_test_timer = loop.call_later(self.self_test_seconds, self._end_self_test)

    def _end_self_test(self) -> None:
        self._self_test_timer = None
        self._latched.clear()
        self._evaluate()

    def _cancel_self_test(self) -> None:
        if self._self_test_timer is not None:
            self._self_test_timer.cancel()
            self._self_test_timer = None

    def close(self) -> None:
        """Cancel the unit's pending timers (the bus calls this when it stops)."""
        self._cancel_self_test()

    def __repr__(self) -> str:
        state = "online" if self.online else "offline"
        return f"SimulatedUnit({self.profile.model!r}, unit {self.unit_id}, {state})"
