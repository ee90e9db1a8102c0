"""Hazards: each latched alarm or wiring fault followed to its resolution. Pure.

A hazard opens with the alarm record that raised it (one hazard per ``Alarm.id``) and
moves open → acknowledged → eliminated; each step keeps who took it, from where and when
(an :class:`~..common.workflow.Actor`). The book only keeps the records and their rules;
the bridge reads the device, records the events and tells the clients.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from datetime import datetime, tzinfo
from statistics import fmean

from ..common.enums import HazardState
from ..common.errors import UnknownHazard
from ..common.workflow import Actor, Hazard, HazardStatistics
from .alarms import Alarm


def new_hazard_id() -> str:
    """A new hazard id, unique across restarts (it is stored, never recomputed)."""
    return f"hz-{uuid.uuid4().hex[:16]}"


class HazardBook:
    """Every hazard the bridge has opened, by id (eliminated ones kept for the record)."""

    def __init__(self) -> None:
        self._hazards: dict[str, Hazard] = {}
        self._by_alarm: dict[str, str] = {}

    def load(self, hazards: Iterable[Hazard]) -> None:
        """Take the hazards kept across a restart.

        Whether an open hazard's condition is still there is unknown (None) until its
        device is read again: what was stored is how it read before the restart.
        """
        for hazard in hazards:
            self._put(dataclasses.replace(hazard, active=None) if hazard.open else hazard)

    def forget(self, hazard_ids: Iterable[str]) -> None:
        """Drop hazards the store no longer keeps (eliminated before the retention)."""
        for hazard_id in hazard_ids:
            hazard = self._hazards.pop(hazard_id, None)
            if hazard is not None and self._by_alarm.get(hazard.alarm_id) == hazard_id:
                del self._by_alarm[hazard.alarm_id]

    def _put(self, hazard: Hazard) -> Hazard:
        self._hazards[hazard.id] = hazard
        self._by_alarm[hazard.alarm_id] = hazard.id
        return hazard

    def get(self, hazard_id: str) -> Hazard:
        """The hazard with this id; ``UnknownHazard`` if there is none."""
        hazard = self._hazards.get(hazard_id)
        if hazard is None:
            raise UnknownHazard(hazard_id)
        return hazard

    def by_alarm(self, alarm_id: str) -> Hazard | None:
        """The hazard the alarm record ``alarm_id`` opened, if any."""
        hazard_id = self._by_alarm.get(alarm_id)
        return None if hazard_id is None else self._hazards.get(hazard_id)

    def hazards(
        self, *, state: HazardState | None = None, device_id: str | None = None
    ) -> list[Hazard]:
        """Hazards oldest first: of one state, or (``state`` None) those not eliminated."""
        return sorted(
            (
                h
                for h in self._hazards.values()
                if (h.open if state is None else h.state == state)
                and (device_id is None or h.device_id == device_id)
            ),
            key=lambda h: (h.opened_at, h.id),
        )

    def all(self) -> list[Hazard]:
        """Every hazard, eliminated ones too."""
        return list(self._hazards.values())

    def open(self, alarm: Alarm) -> Hazard | None:
        """Open the hazard of a newly latched alarm record (None if it already has one)."""
        if alarm.id in self._by_alarm:
            return None
        return self._put(
            Hazard(
                id=new_hazard_id(),
                alarm_id=alarm.id,
                kind=alarm.kind,
                device_id=alarm.device_id,
                channel=alarm.channel,
                state=HazardState.OPEN,
                opened_at=alarm.raised_at,
                value_at_alarm=alarm.value_at_alarm,
                detail=alarm.detail,
                active=alarm.active,
                acknowledged=None,
                eliminated=None,
                note=None,
            )
        )

    def acknowledge(self, hazard_id: str, actor: Actor) -> Hazard | None:
        """Record the acknowledgement of an open hazard (None: it was not open)."""
        hazard = self.get(hazard_id)
        if hazard.state != HazardState.OPEN:
            return None
        return self._put(
            dataclasses.replace(hazard, state=HazardState.ACKNOWLEDGED, acknowledged=actor)
        )

    def eliminate(self, hazard_id: str, actor: Actor, note: str) -> Hazard:
        """Record the elimination of an acknowledged hazard, with its note."""
        hazard = self.get(hazard_id)
        if hazard.state != HazardState.ACKNOWLEDGED:
            raise ValueError(
                f"hazard '{hazard_id}' is {hazard.state}: only an acknowledged hazard is eliminated"
            )
        if not note.strip():
            raise ValueError("'note' must say what the cause was and how it was fixed")
        return self._put(
            dataclasses.replace(
                hazard,
                state=HazardState.ELIMINATED,
                eliminated=actor,
                note=note.strip(),
                active=False,
            )
        )

    def set_active(self, hazard_id: str, active: bool) -> Hazard | None:
        """Follow the condition as read; the hazard if that changed it, else None."""
        hazard = self.get(hazard_id)
        if hazard.active == active or not hazard.open:
            return None
        return self._put(dataclasses.replace(hazard, active=active))


def month_start(now: float, tz: tzinfo | None = None) -> tuple[float, str]:
    """The start of ``now``'s month in ``tz`` (None: local time), and the month "YYYY-MM"."""
    moment = datetime.fromtimestamp(now, tz)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.timestamp(), f"{start.year:04d}-{start.month:02d}"


def hazard_statistics(
    hazards: Iterable[Hazard], now: float, tz: tzinfo | None = None
) -> HazardStatistics:
    """The statistics of ``hazards`` at ``now``: this month is ``now``'s, in ``tz``
    (None: the bridge's local time). The mean times are over the hazards acknowledged
    (eliminated) this month, from when each was opened; None when there were none."""
    since, month = month_start(now, tz)
    every = list(hazards)
    acknowledged = [
        h.acknowledged.at - h.opened_at
        for h in every
        if h.acknowledged is not None and since <= h.acknowledged.at
    ]
    eliminated = [
        h.eliminated.at - h.opened_at
        for h in every
        if h.eliminated is not None and since <= h.eliminated.at
    ]
    return HazardStatistics(
        open_hazards=sum(1 for h in every if h.open),
        unacknowledged_alarms=sum(1 for h in every if h.state == HazardState.OPEN),
        alarms_this_month=sum(1 for h in every if since <= h.opened_at),
        eliminated_this_month=len(eliminated),
        mean_time_to_acknowledge_s=round(fmean(acknowledged), 3) if acknowledged else None,
        mean_time_to_eliminate_s=round(fmean(eliminated), 3) if eliminated else None,
        month=month,
    )
