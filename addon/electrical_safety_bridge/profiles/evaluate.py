"""Pure evaluation of a profile's conditions over decoded readings.

A channel is in alarm when any of its alarm conditions holds: a status channel in one of
the named states, or the channel's own value at or above a setpoint. Wiring faults come
from their own conditions and from sentinel values ("the sensor is shorted"), never from
the alarm conditions: an open sensor is a fault to repair, not a leak.

An alarm that cannot be decided is *unknown* (``alarm is None``), never "no alarm": a
condition whose setpoint, source or own value has not been read yet (an overloaded line
reads setpoints late), or reads as a sensor fault, says nothing about the circuit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..common.enums import ChannelKind
from .codec import Reading
from .model import Condition, Profile


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """The evaluated state of one channel. ``wiring_fault`` names the fault, if any.

    ``alarm`` is None when no alarm condition holds but at least one cannot be decided.
    """

    alarm: bool | None = False
    warning: bool = False
    wiring_fault: str | None = None


def _holds(
    condition: Condition,
    own: Reading | None,
    readings: Mapping[str, Reading],
    setpoints: Mapping[str, Reading],
) -> str | None:
    """The state that makes the condition true (for naming a fault), or None."""
    if condition.source is not None:
        source = readings.get(condition.source)
        if source is None or source.value is None:
            return None
        if condition.states:
            return str(source.value) if source.value in condition.states else None
        return condition.source if source.raw else None
    if condition.above is not None:
        limit = setpoints.get(condition.above)
        if (
            own is None
            or limit is None
            or not isinstance(own.value, (int, float))
            or not isinstance(limit.value, (int, float))
        ):
            return None
        return "above_setpoint" if own.value >= limit.value else None
    return None


def _decidable(
    condition: Condition,
    own: Reading | None,
    readings: Mapping[str, Reading],
    setpoints: Mapping[str, Reading],
) -> bool:
    """Whether everything the condition compares has been read as a value."""
    if condition.source is not None:
        source = readings.get(condition.source)
        return source is not None and source.value is not None
    if condition.above is not None:
        limit = setpoints.get(condition.above)
        return (
            own is not None
            and limit is not None
            and isinstance(own.value, (int, float))
            and isinstance(limit.value, (int, float))
        )
    return True


def _alarm(
    conditions: tuple[Condition, ...],
    own: Reading | None,
    readings: Mapping[str, Reading],
    setpoints: Mapping[str, Reading],
) -> bool | None:
    """True if any condition holds, None if none holds but one cannot be decided."""
    if any(_holds(c, own, readings, setpoints) for c in conditions):
        return True
    if all(_decidable(c, own, readings, setpoints) for c in conditions):
        return False
    return None


def evaluate(
    profile: Profile,
    readings: Mapping[str, Reading],
    setpoints: Mapping[str, Reading],
) -> dict[str, ChannelStatus]:
    """Status of every channel that has conditions or a sentinel fault."""
    statuses: dict[str, ChannelStatus] = {}
    for channel in profile.channels:
        own = readings.get(channel.key)
        has_conditions = channel.alarm or channel.warning or channel.wiring_fault
        if not has_conditions and (own is None or own.fault is None):
            continue
        if channel.kind is ChannelKind.VALUE_AT_ALARM and not has_conditions:
            continue
        # A sentinel in a history register (the value at a past event) is not a fault now.
        historic = channel.kind is ChannelKind.VALUE_AT_ALARM
        fault = own.fault if own is not None and not historic else None
        for condition in channel.wiring_fault:
            fault = fault or _holds(condition, own, readings, setpoints)
        statuses[channel.key] = ChannelStatus(
            alarm=_alarm(channel.alarm, own, readings, setpoints),
            warning=any(_holds(c, own, readings, setpoints) for c in channel.warning),
            wiring_fault=fault,
        )
    return statuses
