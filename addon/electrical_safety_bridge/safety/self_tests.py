"""Self-tests: the standard's time limits, one test under way, and the schedule. Pure.

A self-test is judged by reading back the device's test or alarm indication within the
standard's time (reference/devices.md §5):

- GB 50166-2019 §4.8.6(3) and the residual-current acceptance rule (GB-ARC-2, GB-RC-1): the
  alarm confirmation lamp lights **within 30 s**;
- GB 50166-2019 §4.8.5 (GB-T-1): a temperature detector's within **40 s**.

The bridge reads the alarm back through the bus's alarm polls (every second by default), so
the measured seconds include at most one alarm interval of lag. Results: ``pass`` (an alarm
within the limit), ``fail`` (the device answered, but showed no alarm in time, or refused
the test), ``no_response`` (it did not answer at all), ``missed`` (due, and not run).

Only a device whose profile is verified and offers a ``self_test`` command is tested: an
unverified profile is never written to (the bridge's first safety rule).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING

from ..common.enums import ChannelKind, CommandName, EventType, SelfTestResult, SelfTestTrigger
from ..common.proof import SelfTestRecord

if TYPE_CHECKING:
    from ..profiles.model import Profile

#: GB 50166-2019 §4.8.6(3) (arc fault) and the residual-current acceptance rule quoted in
#: reference/devices.md §5 (GB-RC-1): the alarm within 30 s.
DETECTOR_LIMIT_S = 30.0
#: GB 50166-2019 §4.8.5 (reference/devices.md §5, GB-T-1): a temperature detector's alarm
#: within 40 s.
TEMPERATURE_LIMIT_S = 40.0
#: Monthly by default (issue 12); at a time of day someone is likely there to hear it.
DEFAULT_EVERY_DAYS = 30.0
DEFAULT_AT = time(10, 0)
#: Who the bridge records for a test its schedule starts.
SCHEDULE_WHO = "bridge (schedule)"

# Reasons a device's schedule is off (``SelfTestScheduleEntry.reason``).
UNVERIFIED_PROFILE = "unverified_profile"
NO_SELF_TEST_COMMAND = "no_self_test_command"
DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class SelfTestLimits:
    """The time a detector has to show its alarm. The defaults are the standard's; a test
    or a trial may give shorter ones (stricter, so a pass still meets the standard)."""

    detector_s: float = DETECTOR_LIMIT_S
    temperature_s: float = TEMPERATURE_LIMIT_S


def time_limit_s(profile: Profile, limits: SelfTestLimits = SelfTestLimits()) -> float:
    """The time a device's self-test must alarm within: 40 s when every channel that can
    alarm is a temperature (GB-T-1), else 30 s (GB-ARC-2, GB-RC-1)."""
    alarming = {c.kind for c in profile.channels if c.alarm}
    alarming.discard(ChannelKind.ALARM_STATUS)
    if alarming and alarming <= {ChannelKind.TEMPERATURE}:
        return limits.temperature_s
    return limits.detector_s


def cannot_self_test(profile: Profile) -> str | None:
    """Why the bridge never runs this device's self-test, or None when it may."""
    if not profile.can_write:
        return UNVERIFIED_PROFILE
    if CommandName.SELF_TEST not in profile.commands:
        return NO_SELF_TEST_COMMAND
    return None


@dataclass(slots=True)
class SelfTestRun:
    """One self-test under way on a bus: who started it and how long the device has."""

    who: str
    trigger: SelfTestTrigger = SelfTestTrigger.MANUAL
    due_at: float | None = None
    #: None: the device's standard limit (set by the bus from its profile).
    time_limit_s: float | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float | None = None
    #: Whether the device answered anything since the test was written.
    heard: bool = False
    #: Whether an alarm already showed when the test was written: then the test cannot
    #: be judged from the alarm indication (it fails unless a new alarm is raised).
    alarm_before: bool = False
    done: asyncio.Future[SelfTestRecord] | None = None

    @property
    def limit(self) -> float:
        """The time limit in seconds."""
        return DETECTOR_LIMIT_S if self.time_limit_s is None else self.time_limit_s

    @property
    def event_type(self) -> EventType:
        """``self_test`` for a test a person started (as before), ``self_test_result`` for
        one the schedule started."""
        if self.trigger is SelfTestTrigger.SCHEDULED:
            return EventType.SELF_TEST_RESULT
        return EventType.SELF_TEST

    def record(
        self,
        device_id: str,
        result: SelfTestResult,
        *,
        at: float,
        seconds_to_alarm: float | None,
        channel: str | None,
        message: str,
    ) -> SelfTestRecord:
        """The record of how it ended."""
        return SelfTestRecord(
            id=self.id,
            device_id=device_id,
            result=result,
            trigger=self.trigger,
            at=at,
            due_at=self.due_at,
            started_at=self.started_at,
            seconds_to_alarm=seconds_to_alarm,
            time_limit_s=self.limit,
            channel=channel,
            who=self.who,
            message=message,
        )


@dataclass(frozen=True, slots=True)
class SelfTestSchedule:
    """How often a device is tested, and at what local time of day."""

    every_days: float = DEFAULT_EVERY_DAYS
    at: time = DEFAULT_AT
    enabled: bool = True

    @property
    def at_text(self) -> str:
        """The time of day as written in the configuration ("10:00")."""
        return self.at.strftime("%H:%M")


def next_due(schedule: SelfTestSchedule, last_at: float | None, now: float) -> float:
    """When the next test is due, in seconds since the epoch (local time of day).

    On the day ``every_days`` after the last test (whatever its result, a missed one
    included), at the schedule's time of day; a device never tested is due at the next
    such time from ``now``. The answer may be in the past: the test is then overdue.
    """
    if last_at is None:
        due = _at_local(now, schedule.at)
        return due if due >= now else _at_local(now + 86400.0, schedule.at)
    return _at_local(last_at + schedule.every_days * 86400.0, schedule.at)


def _at_local(when: float, at: time) -> float:
    """``at`` o'clock, local time, on the local day of ``when``."""
    day = datetime.fromtimestamp(when).date()
    return datetime.combine(day, at).timestamp()  # naive: local, with that day's offset


def missed_record(
    device_id: str, due_at: float, at: float, why: str, limit: float
) -> SelfTestRecord:
    """The record of a test that was due and could not run."""
    return SelfTestRecord(
        id=uuid.uuid4().hex,
        device_id=device_id,
        result=SelfTestResult.MISSED,
        trigger=SelfTestTrigger.SCHEDULED,
        at=at,
        due_at=due_at,
        started_at=None,
        seconds_to_alarm=None,
        time_limit_s=limit,
        channel=None,
        who=SCHEDULE_WHO,
        message=why,
    )
