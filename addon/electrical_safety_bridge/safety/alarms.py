"""Alarm latching: raised → acknowledged → cleared. Pure: observations in, events out.

An alarm is raised when its condition appears and stays *open* until it has been both
acknowledged by someone and seen gone. The value at the moment of the alarm is kept,
because the reading that mattered is the one that tripped it, not the one seen later.
Wiring faults (an open or shorted sensor) follow the same lifecycle in their own kind, so
that a broken sensor is never mistaken for, or hidden by, a leak.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..common import models as wire
from ..common.enums import AlarmKind, EventType
from .events import BridgeEvent

_EVENTS = {
    AlarmKind.ALARM: (
        EventType.ALARM_RAISED,
        EventType.ALARM_ACKNOWLEDGED,
        EventType.ALARM_CLEARED,
    ),
    AlarmKind.WIRING_FAULT: (
        EventType.WIRING_FAULT_RAISED,
        EventType.WIRING_FAULT_ACKNOWLEDGED,
        EventType.WIRING_FAULT_CLEARED,
    ),
}


@dataclass(frozen=True, slots=True)
class Alarm:
    """One latched alarm or wiring fault."""

    id: str
    kind: AlarmKind
    device_id: str
    channel: str
    raised_at: float
    value_at_alarm: float | int | str | None
    detail: str | None = None
    active: bool = True
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    inactive_since: float | None = None
    #: Seconds between the read that found it and the previous read of the same registers:
    #: the condition appeared within this window before ``raised_at`` (None: not known).
    detection_window_s: float | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether somebody has acknowledged it."""
        return self.acknowledged_by is not None

    def to_wire(self) -> wire.Alarm:
        """The contract's form (``open_alarms``, alarm events' data)."""
        return wire.Alarm(
            id=self.id,
            kind=self.kind,
            device_id=self.device_id,
            channel=self.channel,
            raised_at=self.raised_at,
            value_at_alarm=self.value_at_alarm,
            detail=self.detail,
            active=self.active,
            acknowledged=self.acknowledged,
            acknowledged_by=self.acknowledged_by,
            acknowledged_at=self.acknowledged_at,
            detection_window_s=self.detection_window_s,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the wire form."""
        return self.to_wire().to_dict()


class UnknownAlarm(KeyError):
    """No open alarm has this id."""


class AlarmBook:
    """The open alarms and wiring faults of every device."""

    def __init__(self, id_prefix: str = "a") -> None:
        self._open: dict[tuple[AlarmKind, str, str], Alarm] = {}
        self._ids = itertools.count(1)
        self._prefix = id_prefix

    def open_alarms(self, device_id: str | None = None) -> list[Alarm]:
        """Open records, optionally of one device, oldest first."""
        return sorted(
            (a for a in self._open.values() if device_id is None or a.device_id == device_id),
            key=lambda a: a.raised_at,
        )

    def observe(
        self,
        kind: AlarmKind,
        device_id: str,
        channel: str,
        present: bool,
        value: float | int | str | None,
        now: float,
        detail: str | None = None,
        detection_window_s: float | None = None,
    ) -> list[BridgeEvent]:
        """Feed one evaluation of a condition; returns the events it causes. A record it
        raises keeps ``detection_window_s`` (see :attr:`Alarm.detection_window_s`)."""
        raised, _, cleared = _EVENTS[kind]
        key = (kind, device_id, channel)
        alarm = self._open.get(key)
        if alarm is None:
            if not present:
                return []
            alarm = Alarm(
                id=f"{self._prefix}{next(self._ids)}-{int(now * 1000)}",
                kind=kind,
                device_id=device_id,
                channel=channel,
                raised_at=now,
                value_at_alarm=value,
                detail=detail,
                detection_window_s=detection_window_s,
            )
            self._open[key] = alarm
            return [self._event(raised, alarm, now)]
        if present:
            if not alarm.active:
                # Back before anyone acknowledged it: still the same latched alarm.
                self._open[key] = replace(alarm, active=True, inactive_since=None)
            return []
        if not alarm.active:
            return []
        alarm = replace(alarm, active=False, inactive_since=now)
        if alarm.acknowledged:
            del self._open[key]
            return [self._event(cleared, alarm, now)]
        self._open[key] = alarm
        return []

    def acknowledge(self, alarm_id: str, who: str, now: float) -> list[BridgeEvent]:
        """Record who acknowledged an alarm; it clears now if its condition is gone."""
        for key, alarm in self._open.items():
            if alarm.id != alarm_id:
                continue
            _, acknowledged, cleared = _EVENTS[alarm.kind]
            if alarm.acknowledged:
                return []
            alarm = replace(alarm, acknowledged_by=who, acknowledged_at=now)
            events = [self._event(acknowledged, alarm, now)]
            if alarm.active:
                self._open[key] = alarm
            else:
                del self._open[key]
                events.append(self._event(cleared, alarm, now))
            return events
        raise UnknownAlarm(alarm_id)

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Reload open records kept by the event store across a restart."""
        for alarm in alarms:
            self._open[(alarm.kind, alarm.device_id, alarm.channel)] = alarm

    @staticmethod
    def _event(event_type: EventType, alarm: Alarm, now: float) -> BridgeEvent:
        return BridgeEvent(
            type=event_type,
            at=now,
            device_id=alarm.device_id,
            channel=alarm.channel,
            data=alarm.as_dict(),
        )
