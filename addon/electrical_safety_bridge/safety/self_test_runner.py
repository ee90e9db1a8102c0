"""The bridge's self-test schedule: runs each device's test when due, Home Assistant or not.

One task in the bridge. For each device whose profile is verified and offers a self-test
(never an unverified one: it is never written to), the test is due ``every_days`` after
the last one at the configured time of day. When it falls due:

- the bus is up and the device answers: the test command is written through the bus's
  command queue (ahead of every poll) and judged by the alarm polls' read-back within the
  standard's time (``safety/self_tests.py``);
- the bus is down or the device is offline: the test is recorded ``missed`` at once (a
  ``self_test_missed`` event, a repair in Home Assistant), and it **runs as soon as the
  device answers again** (we choose a late test over a month without one); the next one is
  then due ``every_days`` after that late test;
- an alarm is active on the device: the test waits for it to clear (a test cannot be judged
  while the device already shows an alarm), and runs then;
- the device has not been read yet (the bridge just started): it waits for the first read.

A test that fell due while the bridge was not running is overdue at start, and runs (or
is recorded missed) the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ..common.enums import EventType, SelfTestTrigger
from ..common.proof import SelfTestRecord, SelfTestScheduleEntry
from ..errors import BridgeError
from ..profiles.model import Profile
from .events import BridgeEvent
from .self_tests import (
    DISABLED,
    SCHEDULE_WHO,
    SelfTestLimits,
    SelfTestRun,
    SelfTestSchedule,
    cannot_self_test,
    missed_record,
    next_due,
    time_limit_s,
)

_LOGGER = logging.getLogger(__name__)

#: How often the schedule looks at devices waiting to run (a missed test waiting for its
#: device, an overdue one waiting for an alarm to clear).
CHECK_EVERY_S = 1.0


class TestableBus(Protocol):
    """What the schedule needs of a bus."""

    @property
    def up(self) -> bool | None:
        """Whether the line is open (None before the first attempt)."""
        ...

    def online(self, device_id: str) -> bool | None:
        """Whether the device answers (None before its first read)."""
        ...

    def alarm_active(self, device_id: str) -> bool:
        """Whether an alarm shows on the device now."""
        ...

    async def self_test(self, device_id: str, run: SelfTestRun) -> SelfTestRecord:
        """Run and judge a self-test."""
        ...


@dataclass(slots=True)
class _Device:
    profile: Profile
    schedule: SelfTestSchedule
    reason: str | None
    next_due: float | None = None
    #: The due time of a test that was missed (or overdue) and still waits to run.
    pending_due: float | None = None
    running: bool = False
    last: SelfTestRecord | None = None


class SelfTestScheduler:
    """Runs the devices' scheduled self-tests (see the module's doc)."""

    def __init__(
        self,
        devices: Mapping[str, tuple[Profile, SelfTestSchedule]],
        bus_of: Callable[[str], TestableBus | None],
        emit: Callable[[BridgeEvent], None],
        *,
        limits: SelfTestLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._devices = {
            device_id: _Device(
                profile,
                schedule,
                cannot_self_test(profile) or (None if schedule.enabled else DISABLED),
            )
            for device_id, (profile, schedule) in devices.items()
        }
        self._bus_of = bus_of
        self._emit = emit
        self.limits = limits or SelfTestLimits()
        self._clock = clock
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, last: Mapping[str, SelfTestRecord]) -> None:
        """Set each device's next due time from its last record (from the store)."""
        now = self._clock()
        for device_id, device in self._devices.items():
            device.last = last.get(device_id)
            if device.reason is None:
                device.next_due = next_due(
                    device.schedule, None if device.last is None else device.last.at, now
                )

    def recorded(self, record: SelfTestRecord) -> None:
        """A self-test of a device ended (any trigger): its next one counts from it."""
        device = self._devices.get(record.device_id)
        if device is None:
            return
        device.last = record
        if device.reason is None:
            device.next_due = next_due(device.schedule, record.at, self._clock())
        self._wake.set()

    def wake(self) -> None:
        """Look at the schedule now (a test moved the clock, a device came back)."""
        self._wake.set()

    def entries(self) -> list[SelfTestScheduleEntry]:
        """Every device's schedule (``GET /self-tests/schedule``)."""
        return [
            SelfTestScheduleEntry(
                device_id=device_id,
                enabled=device.reason is None,
                reason=device.reason,
                every_days=device.schedule.every_days,
                at=device.schedule.at_text,
                next_due=None
                if device.reason is not None
                else (device.pending_due if device.pending_due is not None else device.next_due),
                pending=device.pending_due is not None,
                last=device.last,
            )
            for device_id, device in sorted(self._devices.items())
        ]

    async def run(self) -> None:
        """Check the schedule until cancelled."""
        try:
            while True:
                self._check()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._sleep_s())
        finally:
            for task in list(self._tasks):
                task.cancel()

    def _sleep_s(self) -> float:
        now = self._clock()
        if any(d.pending_due is not None for d in self._devices.values()):
            return CHECK_EVERY_S
        dues = [d.next_due for d in self._devices.values() if d.next_due is not None]
        return max(0.0, min(min(dues, default=now + 3600.0) - now, 3600.0))

    def _check(self) -> None:
        now = self._clock()
        for device_id, device in self._devices.items():
            if device.reason is not None or device.running or device.next_due is None:
                continue
            if device.pending_due is None and device.next_due > now:
                continue
            due = device.pending_due if device.pending_due is not None else device.next_due
            bus = self._bus_of(device_id)
            online = None if bus is None else bus.online(device_id)
            if bus is None or bus.up is False or online is False:
                if device.pending_due is None:
                    self._missed(device_id, device, due, now, bus)
                continue
            if online is None or bus.alarm_active(device_id):
                device.pending_due = due  # waits for its first read, or the alarm to clear
                continue
            device.running = True
            task = asyncio.create_task(self._test(device_id, device, bus, due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _missed(
        self, device_id: str, device: _Device, due: float, now: float, bus: TestableBus | None
    ) -> None:
        why = "the bus is down" if bus is None or bus.up is False else "the device is offline"
        record = missed_record(device_id, due, now, why, time_limit_s(device.profile, self.limits))
        _LOGGER.warning(
            "self-test of %s missed: %s; it runs once the device answers", device_id, why
        )
        self._emit(
            BridgeEvent(EventType.SELF_TEST_MISSED, now, device_id=device_id, data=record.to_dict())
        )
        device.last = record
        device.next_due = next_due(device.schedule, now, now)
        device.pending_due = due

    async def _test(self, device_id: str, device: _Device, bus: TestableBus, due: float) -> None:
        run = SelfTestRun(
            who=SCHEDULE_WHO,
            trigger=SelfTestTrigger.SCHEDULED,
            due_at=due,
            time_limit_s=time_limit_s(device.profile, self.limits),
        )
        try:
            record = await bus.self_test(device_id, run)
        except BridgeError as exc:
            # Refused (a failing event store) or the bus stopped: try again at the next check.
            _LOGGER.warning("scheduled self-test of %s did not run: %s", device_id, exc)
            device.pending_due = due
        else:
            device.pending_due = None
            self.recorded(record)
        finally:
            device.running = False
