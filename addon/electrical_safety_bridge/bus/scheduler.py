"""The per-bus scheduler: one owner for one line, one priority queue, alarms first.

Every transaction on a line goes through one :class:`Bus`. Between two transactions it
chooses the next one, in this order:

1. commands from Home Assistant (and the bridge's own API), so a command waits for at most
   one transaction in flight;
2. alarm-status polls that are due (every second by default), oldest due first;
3. the rest, shared: requests of other masters (the Modbus gateway) take turns with the
   bridge's own telemetry (every ten seconds) and setpoint and identity reads (slow), so
   neither can starve the other; the gateway's clients take turns among themselves (one
   queue per client, served round robin);
4. a person's exploratory reads (the web UI's register explorer, :meth:`Bus.explore`),
   only when nothing above is waiting: mapping an unknown device may be slow, it must never
   delay an alarm;
5. last, whenever nothing above is waiting, more alarm-status polls, back to back: the unit
   read longest ago first, each unit at most every :attr:`BusSettings.alarm_poll_min_gap`
   (so a fast line, such as Modbus TCP, is not read in a tight loop). After the first
   reads, each unit's telemetry and slow polls are spread over their interval, so that they
   come one at a time between these alarm polls rather than as a whole round at once.
   The line is never idle while a unit's alarm status could be fresher, so on a quiet line
   an alarm waits for about one sweep of the units (16 detectors at 9600 baud: about
   0.45 s, plus the odd telemetry read) rather than for a period. These polls only fill
   time nobody else wants: anything queued above waits for at most the one poll in flight,
   as it would behind any transaction. While the shared tier (3) is waiting, the sweep
   still takes :data:`SWEEP_TURNS_PER_SHARED_TURN` polls before each of its turns (about
   :data:`ALARM_LINE_SHARE` of the line), so that a master reading back to back does not
   double an alarm's wait; the shared tier keeps the rest of the line.

So whatever other masters do, a unit's alarm status is read at most one alarm interval,
plus one alarm round, plus the longest single transaction (a request to a silent unit ends
at that unit's timeout) after the previous read; while nothing else is queued, at most one
alarm round (or ``alarm_poll_min_gap``, when that is longer) plus one transaction after it.
A request of another master to a unit the bridge has backed off (it stopped answering) is
answered "no response" at once, without using the line.

Each alarm carries its *detection window*: the time since the previous successful alarm
read of its unit, within which the condition appeared (``detection_window_s`` in its
record). :meth:`Bus.schedule` reports the line's *alarm cycle*, the measured time between
two alarm reads of a unit (a running mean over the units), which is what an alarm waits
for at most as the line runs now.

When the alarm polls alone need more of the line than :data:`ALARM_LINE_SHARE` of their
interval (too many units for the baud rate), the line is *overloaded*: the alarm interval is
stretched to what the line can hold, the rest keeps its share, and the bus says so (a
``bus_overloaded`` event, a warning in the log and :meth:`Bus.schedule_status`), rather than
silently reading nothing but alarms.

A unit that stops answering is backed off on its own, so it cannot stall the others, and is
reported offline only after a configurable silence (60 s by default, never above 100 s:
GB 14287.1 gives a monitor 100 s to report a broken link). A line that vanishes (a USB
adapter unplugged) is reopened with backoff; other buses run on, each in its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..common import models as wire
from ..common.enums import (
    AlarmKind,
    CommandName,
    CommandOutcome,
    EventType,
    PollClass,
    SelfTestResult,
)
from ..common.proof import SelfTestRecord
from ..common.workflow import Lockout
from ..errors import (
    BusBusy,
    BusError,
    CommandRefused,
    DeviceException,
    DeviceTimeout,
    RefusalReason,
)
from ..modbus import framing, timing
from ..modbus.framing import ModbusPDU
from ..modbus.lines import TcpLine
from ..modbus.planner import Block, PlanState, learn_illegal_address, plan
from ..modbus.transport import ModbusTransport, Transport
from ..profiles.codec import Reading, decode, encode
from ..profiles.evaluate import ChannelStatus, evaluate
from ..profiles.model import Channel, RegisterSpec, Setpoint
from ..safety.alarms import AlarmBook
from ..safety.commands import (
    WRITE_FUNCTIONS,
    CommandResult,
    authorise_command,
    authorise_forwarded_write,
    authorise_setpoint,
    check_close_interlock,
    check_lockout,
)
from ..safety.events import BridgeEvent
from ..safety.self_tests import DETECTOR_LIMIT_S, SelfTestLimits, SelfTestRun, time_limit_s
from .bus_settings import BusSettings, DeviceSpec

_LOGGER = logging.getLogger(__name__)

ILLEGAL_DATA_ADDRESS = 0x02
#: A detector must raise its alarm within 30 s of the test (GB 50166: residual current
#: and arc-fault detectors; 40 s for temperature: see safety/self_tests.py, which gives
#: each device its limit).
SELF_TEST_WINDOW_S = DETECTOR_LIMIT_S
_PRIORITY = (PollClass.ALARM, PollClass.TELEMETRY, PollClass.SLOW)
_SHARED = (PollClass.TELEMETRY, PollClass.SLOW)
#: The share of each alarm interval that alarm polls may take. Beyond it the line is
#: overloaded and the interval is stretched, so that telemetry, setpoints, commands and
#: other masters keep at least the remaining quarter of the line.
ALARM_LINE_SHARE = 0.75
#: While the shared tier (telemetry, other masters) is waiting, the back-to-back alarm sweep
#: still takes this many polls before each shared turn: about ALARM_LINE_SHARE of the line
#: (an alarm-status poll and a gateway read take about as long), so a master reading back to
#: back leaves an alarm's wait at about one sweep and a third, not two sweeps.
SWEEP_TURNS_PER_SHARED_TURN = round(ALARM_LINE_SHARE / (1 - ALARM_LINE_SHARE))
#: After a start, a unit silent since before it is reported offline no sooner than three of
#: its alarm polls, and this, after the start: its first polls come first (last_heard.py).
RESTART_GRACE_MIN_S = 2.0
#: An overloaded line counts as recovered once its alarm round needs at most this share of
#: the configured interval (below ALARM_LINE_SHARE, so the state does not flap).
_RECOVERED_SHARE = 0.6
#: Weight of the newest measurement in each unit's running alarm-poll time.
_SMOOTHING = 0.3


@dataclass(slots=True)
class UnitState:
    """What the bus knows of one unit. Mutable, owned by its Bus."""

    spec: DeviceSpec
    started: float
    readings: dict[str, Reading] = field(default_factory=dict)
    setpoints: dict[str, Reading] = field(default_factory=dict)
    statuses: dict[str, ChannelStatus] = field(default_factory=dict)
    plan_state: PlanState = field(default_factory=PlanState)
    unsupported: set[str] = field(default_factory=set)
    online: bool | None = None
    last_seen: float | None = None
    failures: int = 0
    retry_at: float = 0.0
    due: dict[PollClass, float] = field(default_factory=dict)
    self_test_since: float | None = None
    #: The self-test under way (who started it, its time limit, who waits for it).
    self_test: SelfTestRun | None = None
    #: Line time of one alarm poll of this unit (running mean), and when its alarm status
    #: was last read; the longest gap between two alarm reads, for health and tests.
    alarm_poll_s: float | None = None
    alarm_read_at: float | None = None
    alarm_gap_max_s: float = 0.0
    #: When an alarm poll of this unit last ended, answered or not (idle-time polls wait
    #: ``alarm_poll_min_gap`` after it).
    alarm_tried_at: float | None = None
    #: When each class's registers were last read successfully, by any path: the start of
    #: the detection window of an alarm the next read of that class finds.
    read_at: dict[PollClass, float] = field(default_factory=dict)


def restart_grace(settings: BusSettings) -> float:
    """How long after a start a unit silent since before it may be reported offline."""
    return max(RESTART_GRACE_MIN_S, 3 * settings.intervals.alarm)


@dataclass(slots=True)
class BusStats:
    """Counters for health pages and benchmarks."""

    transactions: int = 0  # answered exchanges, exception replies included
    timeouts: int = 0
    exceptions: int = 0  # exception replies (also counted in transactions)
    # The wire time of every answered transaction, exception replies included: an
    # exception reply is a frame on the line like any other (and the simulator times it).
    wire_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "transactions": self.transactions,
            "timeouts": self.timeouts,
            "exceptions": self.exceptions,
            "wire_seconds": round(self.wire_seconds, 6),
        }


@dataclass(slots=True)
class _Job:
    run: Callable[[], Any]
    done: asyncio.Future[Any]


@dataclass(slots=True)
class LineLoad:
    """Whether the alarm polls of a line keep their interval, measured."""

    configured_s: float
    effective_s: float
    round_s: float = 0.0  # line time one alarm poll of every unit takes
    overloaded: bool = False
    #: The measured time between two alarm reads of a unit, a running mean over every unit
    #: (each gap weighs 1/units of the smoothing, so each unit counts about once a round).
    cycle_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The data of a ``bus_overloaded`` event: the schedule's load fields."""
        return {
            "alarm_interval_s": self.configured_s,
            "effective_alarm_interval_s": round(self.effective_s, 3),
            "alarm_round_s": round(self.round_s, 3),
            "alarm_line_share": ALARM_LINE_SHARE,
            "overloaded": self.overloaded,
        }


def _jsonable(reading: Reading | None) -> Any:
    return None if reading is None else reading.value


class Bus:
    """One line, its units and its queue."""

    def __init__(
        self,
        settings: BusSettings,
        devices: Sequence[DeviceSpec],
        *,
        alarms: AlarmBook | None = None,
        emit: Callable[[BridgeEvent], None] | None = None,
        on_change: Callable[[str], None] | None = None,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        cannot_record: Callable[[], str | None] = lambda: None,
        lockout: Callable[[str], Lockout | None] = lambda device_id: None,
        self_test_limits: SelfTestLimits | None = None,
        heard_before: Mapping[str, float] | None = None,
    ) -> None:
        """``heard_before`` gives the wall-clock time each unit was last heard before this
        start (storage/last_heard.py): a unit's silence counts from then, not from now, so a
        restart does not put off its offline report, though never sooner than
        :func:`restart_grace` after the start (a live unit is polled first).
        ``cannot_record`` says why commands cannot be recorded right now (a failing
        event store), or None: a command is never executed unrecorded. ``lockout`` gives a
        device's maintenance lock-out: while there is one, close is refused on every path
        (commands and other masters' writes)."""
        ids = [d.id for d in devices]
        if len(set(ids)) != len(ids):
            raise ValueError("device ids on a bus must be unique")
        self.settings = settings
        self.alarms = alarms if alarms is not None else AlarmBook()
        self.transport: Transport = transport or ModbusTransport(settings.line)
        self.stats = BusStats()
        self.up: bool | None = None
        self._emit = emit or (lambda event: None)
        self._on_change = on_change or (lambda device_id: None)
        self._clock = clock
        self._wall = wall_clock
        now = clock()
        self.units: dict[str, UnitState] = {d.id: UnitState(spec=d, started=now) for d in devices}
        self._unit_index = {device_id: index for index, device_id in enumerate(self.units)}
        self._heard_before = dict(heard_before or {})
        wall_now = wall_clock()
        grace = restart_grace(settings)
        for device_id, heard in self._heard_before.items():
            unit = self.units.get(device_id)
            if unit is not None:
                silent = max(0.0, wall_now - heard)
                unit.started = now - max(0.0, min(silent, settings.offline_after - grace))
        self._cannot_record = cannot_record
        self._lockout = lockout
        self.self_test_limits = self_test_limits or SelfTestLimits()
        self._commands: deque[_Job] = deque()
        # Other masters' requests: one queue per client, served round robin.
        self._forwarded: OrderedDict[str, deque[_Job]] = OrderedDict()
        self._gateway_turn = False
        self._sweep_turns = SWEEP_TURNS_PER_SHARED_TURN
        # A person's exploratory reads: served only when the line has nothing else to do.
        self._explorations: deque[_Job] = deque()
        self.load = LineLoad(settings.intervals.alarm, settings.intervals.alarm)
        self._wake = asyncio.Event()
        self._stopping = False
        self._reopen_delay = 0.5

    # ------------------------------------------------------------------ public

    def heard_times(self) -> dict[str, float]:
        """The wall-clock time each unit was last heard, in this run or before it."""
        now, wall_now = self._clock(), self._wall()
        heard = dict(self._heard_before)
        for device_id, unit in self.units.items():
            if unit.last_seen is not None:
                heard[device_id] = wall_now - (now - unit.last_seen)
        return heard

    def stop(self) -> None:
        """Ask the run loop to finish after the transaction in flight."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Poll until stopped; reopen the line with backoff whenever it vanishes."""
        try:
            while not self._stopping:
                if not self.transport.connected and not await self._reopen():
                    continue
                # Whatever keeps the line busy, offline detection and self-test deadlines
                # are looked at before every transaction.
                self._mark_silent_units_offline()
                self._expire_self_tests()
                if self._commands:
                    await self._run_job(self._commands.popleft())
                    continue
                alarm_unit = self._next_due((PollClass.ALARM,))
                if alarm_unit is not None:
                    await self._guarded(self._poll_job(*alarm_unit))
                    continue
                own = self._next_due(_SHARED)
                if (own is not None or self._forwarded) and self._sweep_turns > 0:
                    # The shared tier is waiting, but the alarm sweep keeps going for its
                    # share of the line first, so that another master reading back to back
                    # does not double the time an alarm waits.
                    early = self._next_idle_alarm_poll()
                    if early is not None:
                        self._sweep_turns -= 1
                        await self._guarded(self._poll_job(early, PollClass.ALARM, early=True))
                        continue
                forwarded = self._forwarded_job() if own is None or self._gateway_turn else None
                if forwarded is not None:
                    self._gateway_turn = False
                    self._sweep_turns = SWEEP_TURNS_PER_SHARED_TURN
                    await self._run_job(forwarded)
                    continue
                if own is not None:
                    self._gateway_turn = True
                    self._sweep_turns = SWEEP_TURNS_PER_SHARED_TURN
                    await self._guarded(self._poll_job(*own))
                    continue
                if self._explorations:
                    await self._run_job(self._explorations.popleft())
                    continue
                idle_alarm = self._next_idle_alarm_poll()
                if idle_alarm is not None:
                    await self._guarded(self._poll_job(idle_alarm, PollClass.ALARM, early=True))
                    continue
                await self._idle()
        finally:
            self.transport.close()
            for job in self._queued_jobs():
                if not job.done.done():
                    job.done.set_exception(BusError("the bridge is stopping"))

    async def command(self, device_id: str, name: str, who: str = "unknown") -> CommandResult:
        """Queue a command ahead of every poll and wait for its result."""
        unit = self._unit(device_id)
        result: CommandResult = await self._submit(lambda: self._execute_command(unit, name, who))
        return result

    async def self_test(self, device_id: str, run: SelfTestRun) -> SelfTestRecord:
        """Write the self-test command ahead of every poll, then judge it by the alarm polls'
        read-back within ``run.time_limit_s``: the record once it is known (and emitted).

        CommandRefused when the bridge refuses to write it (an unverified profile, no
        self-test command, a failing event store).
        """
        unit = self._unit(device_id)
        if run.time_limit_s is None:
            run.time_limit_s = time_limit_s(unit.spec.profile, self.self_test_limits)
        run.done = asyncio.get_running_loop().create_future()
        result: CommandResult = await self._submit(
            lambda: self._execute_command(unit, CommandName.SELF_TEST.value, run.who, run)
        )
        if result.outcome is CommandOutcome.REFUSED:
            raise CommandRefused(
                RefusalReason(result.reason)
                if result.reason
                else RefusalReason.COMMAND_UNSUPPORTED,
                result.message,
            )
        record: SelfTestRecord = await run.done
        return record

    async def write_setpoint(
        self, device_id: str, key: str, value: float, who: str = "unknown"
    ) -> CommandResult:
        """Queue a setpoint write ahead of every poll and wait for its read-back."""
        unit = self._unit(device_id)
        result: CommandResult = await self._submit(
            lambda: self._execute_setpoint(unit, key, value, who)
        )
        return result

    def acknowledge(self, alarm_id: str, who: str) -> list[BridgeEvent]:
        """Record who acknowledged an alarm (UnknownAlarm if it is not open)."""
        events = self.alarms.acknowledge(alarm_id, who, self._wall())
        for event in events:
            self._emit(event)
            if event.device_id is not None:
                self._on_change(event.device_id)
        return events

    def condition(self, device_id: str, kind: AlarmKind, channel: str) -> bool | None:
        """Whether an alarm (or a wiring fault) of a channel is there as last read; None
        when not known (never read, or a setpoint it compares with is unread)."""
        status = self._unit(device_id).statuses.get(channel)
        if status is None:
            return None
        if kind is AlarmKind.WIRING_FAULT:
            return status.wiring_fault is not None
        return status.alarm

    def online(self, device_id: str) -> bool | None:
        """Whether the device answers (None before its first read)."""
        return self._unit(device_id).online

    def alarm_active(self, device_id: str) -> bool:
        """Whether an alarm shows on the device as last read."""
        return any(s.alarm for s in self._unit(device_id).statuses.values())

    async def read_condition(self, device_id: str, kind: AlarmKind, channel: str) -> bool | None:
        """Read the device now (its alarm status, and the channel itself when it is read in
        another class), ahead of every poll; then :meth:`condition`. A device that cannot
        be read refuses (``device_offline``): what it showed before proves nothing now."""
        unit = self._unit(device_id)

        async def read() -> bool | None:
            try:
                await self._poll(unit, PollClass.ALARM)
                poll_class = next(
                    (c.poll for c in unit.spec.profile.channels if c.key == channel), None
                )
                if poll_class is not None and poll_class is not PollClass.ALARM:
                    await self._poll(unit, poll_class)
            except (DeviceTimeout, DeviceException):
                raise CommandRefused(
                    RefusalReason.DEVICE_OFFLINE,
                    f"{device_id} cannot be read right now, so the bridge cannot tell whether"
                    f" the {kind.value.replace('_', ' ')} on {channel} is gone",
                ) from None
            return self.condition(device_id, kind, channel)

        result: bool | None = await self._submit(read)
        return result

    async def poll_once(self, device_id: str) -> None:
        """Read every class of one unit now (the `read` command and tests)."""
        unit = self._unit(device_id)
        if not self.transport.connected:
            await self.transport.open()
        for poll_class in _PRIORITY:
            await self._poll(unit, poll_class)

    async def sweep(self) -> None:
        """Read every class of every unit once, in queue order (benchmarks)."""
        if not self.transport.connected:
            await self.transport.open()
        for poll_class in _PRIORITY:
            for unit in self.units.values():
                with contextlib.suppress(DeviceTimeout, DeviceException):
                    await self._poll(unit, poll_class)

    def snapshot(self, device_id: str) -> dict[str, Any]:
        """Decoded values, setpoints, alarms and faults of one unit, JSON-ready."""
        unit = self._unit(device_id)
        profile = unit.spec.profile
        statuses = unit.statuses
        return {
            "device_id": unit.spec.id,
            "name": unit.spec.name,
            "unit": unit.spec.unit,
            "manufacturer": profile.manufacturer,
            "model": profile.model,
            "verified": profile.verified,
            "simulated": profile.simulated,
            "online": unit.online,
            "values": {
                c.key: _jsonable(unit.readings.get(c.key))
                for c in profile.channels
                if c.key not in unit.unsupported
            },
            "units": {c.key: c.unit for c in profile.channels if c.unit},
            "setpoints": {
                s.key: _jsonable(unit.setpoints.get(s.key))
                for s in profile.setpoints
                if s.key not in unit.unsupported
            },
            # None: not known yet (never read, or a setpoint it compares with is unread).
            "alarms": {
                c.key: statuses[c.key].alarm if c.key in statuses else None
                for c in profile.channels
                if c.alarm
            },
            "warnings": {k: s.warning for k, s in statuses.items() if s.warning},
            "wiring_faults": {k: s.wiring_fault for k, s in statuses.items() if s.wiring_fault},
            "open_alarms": [a.as_dict() for a in self.alarms.open_alarms(unit.spec.id)],
            "unsupported": sorted(unit.unsupported),
        }

    # ------------------------------------------------------------------ queue

    def _unit(self, device_id: str) -> UnitState:
        try:
            return self.units[device_id]
        except KeyError:
            raise CommandRefused(
                RefusalReason.UNKNOWN_DEVICE, f"no device '{device_id}' on bus {self.settings.id}"
            ) from None

    async def _submit(self, run: Callable[[], Any], client: str | None = None) -> Any:
        """Queue a job and wait for its result: a command, or (with ``client``) another
        master's request, in that client's own queue."""
        if client is None:
            queue, queued = self._commands, len(self._commands)
        else:
            queue = self._forwarded.setdefault(client, deque())
            queued = sum(len(q) for q in self._forwarded.values())
        if queued >= self.settings.max_queued:
            if client is not None and not queue:
                del self._forwarded[client]
            raise BusBusy(f"bus {self.settings.id}: {queued} requests already queued")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue.append(_Job(run=run, done=done))
        self._wake.set()
        return await done

    def _forwarded_job(self) -> _Job | None:
        """The next request of another master: each client in turn, oldest first."""
        while self._forwarded:
            client, queue = next(iter(self._forwarded.items()))
            job = queue.popleft() if queue else None
            if queue:
                self._forwarded.move_to_end(client)
            else:
                del self._forwarded[client]
            if job is not None and not job.done.cancelled():
                return job
        return None

    def _queued_jobs(self) -> list[_Job]:
        return [
            *self._commands,
            *(job for q in self._forwarded.values() for job in q),
            *self._explorations,
        ]

    async def explore(self, unit: int, function: int, address: int, count: int) -> list[int]:
        """Read ``count`` registers (function 03 holding or 04 input) of any unit on this
        line, at the lowest priority: the register explorer and the profile editor's
        read-only try. Reads only, never retried.

        The unit need not be configured (a person maps a new detector before it has a
        profile). Raises ValueError for a request outside Modbus's limits, DeviceTimeout for
        a silent (or backed-off) unit, DeviceException for the unit's exception reply,
        BusError when the line is down and BusBusy when too many reads are waiting.
        """
        if function not in (3, 4):
            raise ValueError(f"function must be 3 (holding) or 4 (input), not {function}")
        if not 1 <= unit <= 247:
            raise ValueError(f"unit must be from 1 to 247, not {unit}")
        if not 1 <= count <= 125:
            raise ValueError(f"count must be from 1 to 125 registers, not {count}")
        if not 0 <= address <= 0xFFFF - count + 1:
            raise ValueError(f"address must be from 0 to {0xFFFF - count + 1}, not {address}")
        if self.up is False:
            raise BusError(f"bus {self.settings.id} is down")
        known = next((u for u in self.units.values() if u.spec.unit == unit), None)
        if known is not None and known.retry_at > self._clock():
            raise DeviceTimeout(f"unit {unit} is not answering (backed off)")
        if len(self._explorations) >= self.settings.max_queued:
            raise BusBusy(f"bus {self.settings.id}: {len(self._explorations)} reads already queued")

        async def read() -> list[int]:
            request, response = timing.read_request_bytes(), timing.read_response_bytes(count)
            # Counted like any transaction: the explorer uses the line too.
            with self._exchange(known, request, response):
                return await self.transport.read(
                    unit, function, address, count, self._timeout(request, response)
                )

        done: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._explorations.append(_Job(run=read, done=done))
        self._wake.set()
        return await done

    async def forward(self, request: ModbusPDU, who: str = "modbus gateway") -> ModbusPDU:
        """Pass another master's request through this bus's queue (the Modbus gateway).

        It waits behind commands like one, but is never retried: a write from another
        master is that master's to repeat. A write to a unit the bridge knows obeys the
        same rules as the bridge's own commands: never through an unverified profile, and
        never to the close register while an alarm is active or unacknowledged; a refused
        write raises CommandRefused and is recorded. Raises DeviceTimeout when the unit is
        silent, BusError when the line is down and BusBusy when the queue is full. A caller
        that gives up (its client went away) cancels the wait, and the request is dropped
        if it has not been sent yet.
        """
        if self.up is False:
            raise BusError(f"bus {self.settings.id} is down")
        unit = next((u for u in self.units.values() if u.spec.unit == request.dev_id), None)
        function = request.function_code
        writes = function in WRITE_FUNCTIONS
        if unit is not None and unit.retry_at > self._clock():
            # The unit stopped answering and is backed off: asking it again would only hold
            # the line for its timeout. The bus's own polls find out when it is back.
            raise DeviceTimeout(f"unit {unit.spec.unit} is not answering (backed off)")
        if writes and unit is not None and (why := self._cannot_record()) is not None:
            exc = CommandRefused(RefusalReason.STORAGE_FAILING, why)
            self._refused(unit, f"gateway write fc={function}", exc, who)
            raise exc

        async def send() -> ModbusPDU:
            if writes and unit is not None:
                try:
                    address, count = framing.write_target(request)
                    authorise_forwarded_write(
                        unit.spec.profile,
                        unit.spec.id,
                        function,
                        address,
                        count,
                        self.alarms.open_alarms(unit.spec.id),
                        self._lockout(unit.spec.id),
                    )
                except CommandRefused as exc:
                    self._refused(unit, f"gateway write fc={function}", exc, who)
                    raise
            request_bytes, response_bytes = framing.pdu_sizes(request)
            try:
                response = await self.transport.execute(
                    request, self._timeout(request_bytes, response_bytes)
                )
            except DeviceTimeout:
                if unit is not None:
                    self._silent(unit)
                raise
            self._account(request_bytes, response_bytes)
            if unit is not None:
                self._heard(unit)
                if writes:
                    self._record_command(
                        CommandResult(
                            unit.spec.id,
                            f"gateway write fc={function}",
                            CommandOutcome.FAILED
                            if response.isError()
                            else CommandOutcome.CONFIRMED,
                            message="written through the Modbus gateway",
                        ),
                        who,
                    )
            _LOGGER.debug("gateway request fc=%d unit=%d answered", function, request.dev_id)
            return response

        result: ModbusPDU = await self._submit(send, client=who)
        return result

    def schedule(self) -> wire.BusSchedule:
        """The line's load: configured and effective alarm interval, the measured alarm
        round, whether it is overloaded, the longest gap between two alarm reads and the
        alarm cycle (the mean gap)."""
        load = self.load
        return wire.BusSchedule(
            alarm_interval_s=load.configured_s,
            effective_alarm_interval_s=round(load.effective_s, 3),
            alarm_round_s=round(load.round_s, 3),
            alarm_line_share=ALARM_LINE_SHARE,
            overloaded=load.overloaded,
            alarm_gap_max_s=round(
                max((u.alarm_gap_max_s for u in self.units.values()), default=0.0), 3
            ),
            queued_commands=len(self._commands),
            queued_gateway_requests=sum(len(q) for q in self._forwarded.values()),
            alarm_cycle_s=None if load.cycle_s is None else round(load.cycle_s, 3),
        )

    def schedule_status(self) -> dict[str, Any]:
        """``schedule`` in its wire form."""
        return self.schedule().to_dict()

    async def _run_job(self, job: _Job) -> None:
        if job.done.cancelled():
            return  # its caller went away before its turn: never send it
        try:
            result = await job.run()
        except Exception as exc:  # the caller gets every failure, the loop goes on
            if not job.done.done():
                job.done.set_exception(exc)
            if isinstance(exc, BusError):
                self._line_lost(exc)
            return
        if not job.done.done():
            job.done.set_result(result)

    def _next_due(self, classes: Iterable[PollClass]) -> tuple[UnitState, PollClass] | None:
        """The poll of these classes that is due now, in class order, oldest due first."""
        now = self._clock()
        for poll_class in classes:
            due = [
                (u.due.get(poll_class, u.started), index, u)
                for index, u in enumerate(self.units.values())
                if u.retry_at <= now and u.due.get(poll_class, u.started) <= now
            ]
            if due:
                _, _, unit = min(due, key=lambda d: (d[0], d[1]))
                return unit, poll_class
        return None

    def _next_idle_alarm_poll(self) -> UnitState | None:
        """The unit whose alarm status to read now because the line is otherwise idle: of
        those not backed off and not read within ``alarm_poll_min_gap``, the one whose next
        alarm poll is due soonest (the one read longest ago)."""
        now = self._clock()
        gap = self.settings.alarm_poll_min_gap
        ready = [
            (u.due.get(PollClass.ALARM, u.started), index, u)
            for index, u in enumerate(self.units.values())
            if u.retry_at <= now and (u.alarm_tried_at is None or now - u.alarm_tried_at >= gap)
        ]
        if not ready:
            return None
        return min(ready, key=lambda r: (r[0], r[1]))[2]

    def _next_wakeup(self) -> float:
        times = [
            max(u.due.get(p, u.started), u.retry_at) for u in self.units.values() for p in _PRIORITY
        ]
        # The next idle-time alarm poll (see _next_idle_alarm_poll).
        times += [
            max(u.alarm_tried_at + self.settings.alarm_poll_min_gap, u.retry_at)
            for u in self.units.values()
            if u.alarm_tried_at is not None
        ]
        offline_checks = [
            (u.last_seen or u.started) + self.settings.offline_after
            for u in self.units.values()
            if u.online is not False
        ]
        self_tests = [
            u.self_test_since + u.self_test.limit
            for u in self.units.values()
            if u.self_test_since is not None and u.self_test is not None
        ]
        return min(times + offline_checks + self_tests, default=self._clock() + 1.0)

    async def _idle(self) -> None:
        delay = max(0.0, self._next_wakeup() - self._clock())
        self._wake.clear()
        if self._commands or self._forwarded or self._explorations or self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except BusError as exc:
            self._line_lost(exc)

    def _emit_now(
        self,
        event_type: EventType,
        *,
        device_id: str | None = None,
        channel: str | None = None,
        data: Mapping[str, Any],
    ) -> None:
        """Emit an event the bus itself observed, stamped with the wall clock now.

        Alarm events do not come through here: the alarm book makes them, stamped with the
        time it is given.
        """
        self._emit(
            BridgeEvent(event_type, self._wall(), device_id=device_id, channel=channel, data=data)
        )

    # ------------------------------------------------------------------ line health

    def _line_lost(self, exc: BusError) -> None:
        self.transport.close()
        if self.up is not False:
            self.up = False
            _LOGGER.warning("bus %s is down: %s", self.settings.id, exc)
            self._emit_now(EventType.BUS_DOWN, data={"bus": self.settings.id, "error": str(exc)})

    async def _reopen(self) -> bool:
        try:
            await self.transport.open()
        except BusError as exc:
            self._line_lost(exc)
            self._mark_silent_units_offline()
            self._fail_queued_commands(exc)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._reopen_delay)
            self._reopen_delay = min(self._reopen_delay * 2, self.settings.reopen_max)
            return False
        self._reopen_delay = 0.5
        if self.up is not True:
            if self.up is False:
                _LOGGER.info("bus %s is back", self.settings.id)
            self.up = True
            self._emit_now(EventType.BUS_UP, data={"bus": self.settings.id})
        return True

    def _fail_queued_commands(self, exc: BusError) -> None:
        jobs = self._queued_jobs()
        self._commands.clear()
        self._forwarded.clear()
        for job in jobs:
            if not job.done.done():
                job.done.set_exception(exc)

    def _mark_silent_units_offline(self) -> None:
        now = self._clock()
        for unit in self.units.values():
            silent_since = unit.last_seen if unit.last_seen is not None else unit.started
            if unit.online is not False and now - silent_since >= self.settings.offline_after:
                unit.online = False
                _LOGGER.warning(
                    "%s (unit %d) is offline: silent for %.0f s",
                    unit.spec.id,
                    unit.spec.unit,
                    now - silent_since,
                )
                self._emit_now(
                    EventType.DEVICE_OFFLINE,
                    device_id=unit.spec.id,
                    data={"silent_s": round(now - silent_since, 1)},
                )
                self._on_change(unit.spec.id)

    def _self_test_result(
        self,
        unit: UnitState,
        result: SelfTestResult,
        channel: str | None,
        message: str,
    ) -> None:
        """Record how the self-test under way ended, and tell whoever waits for it."""
        since = unit.self_test_since
        run = unit.self_test or self._manual_run(unit, "unknown")
        unit.self_test_since = None
        unit.self_test = None
        elapsed = None if since is None else round(self._clock() - since, 1)
        _LOGGER.info("self-test of %s: %s (%s)", unit.spec.id, result.value, message)
        record = run.record(
            unit.spec.id,
            result,
            at=self._wall(),
            seconds_to_alarm=elapsed if result is SelfTestResult.PASSED else None,
            channel=channel,
            message=message,
        )
        self._emit_now(
            run.event_type,
            device_id=unit.spec.id,
            channel=channel,
            # ``seconds`` and ``window_s`` are what a self-test event said before records.
            data={**record.to_dict(), "seconds": elapsed, "window_s": run.limit},
        )
        if run.done is not None and not run.done.done():
            run.done.set_result(record)

    def _manual_run(self, unit: UnitState, who: str) -> SelfTestRun:
        return SelfTestRun(
            who=who, time_limit_s=time_limit_s(unit.spec.profile, self.self_test_limits)
        )

    def _expire_self_tests(self) -> None:
        now = self._clock()
        for unit in self.units.values():
            since = unit.self_test_since
            run = unit.self_test
            limit = run.limit if run is not None else SELF_TEST_WINDOW_S
            if since is not None and now - since >= limit:
                if run is not None and run.heard:
                    self._self_test_result(
                        unit,
                        SelfTestResult.FAILED,
                        None,
                        f"the device answered but showed no alarm within {limit:g} s",
                    )
                else:
                    self._self_test_result(
                        unit,
                        SelfTestResult.NO_RESPONSE,
                        None,
                        f"the device did not answer within {limit:g} s",
                    )

    def _heard(self, unit: UnitState) -> None:
        unit.last_seen = self._clock()
        if unit.self_test is not None and unit.self_test_since is not None:
            unit.self_test.heard = True
        unit.failures = 0
        unit.retry_at = 0.0
        if unit.online is not True:
            was_offline = unit.online is False
            unit.online = True
            if was_offline:
                _LOGGER.info("%s (unit %d) is back online", unit.spec.id, unit.spec.unit)
            self._emit_now(
                EventType.DEVICE_ONLINE, device_id=unit.spec.id, data={"recovered": was_offline}
            )
            self._on_change(unit.spec.id)

    def _silent(self, unit: UnitState) -> None:
        unit.failures += 1
        self.stats.timeouts += 1
        # One lost frame is noise; from the second in a row the unit is backed off, so a
        # dead unit costs one timeout per interval instead of one per poll.
        if unit.failures >= 2:
            backoff = min(
                self.settings.intervals.alarm * 2 ** (unit.failures - 2), self.settings.backoff_max
            )
            unit.retry_at = self._clock() + backoff

    # ------------------------------------------------------------------ transactions

    def _timeout(self, request_bytes: int, response_bytes: int) -> float:
        wire_time = self.settings.wire_seconds(request_bytes, response_bytes)
        if wire_time is None:
            return self.settings.tcp_timeout
        margin = self.settings.turnaround
        if isinstance(self.settings.line, TcpLine):
            margin += self.settings.tcp_timeout / 4  # the network hop to the gateway
        return wire_time + margin

    def _account(self, request_bytes: int, response_bytes: int) -> None:
        self.stats.transactions += 1
        self.stats.wire_seconds += self.settings.wire_seconds(request_bytes, response_bytes) or 0.0

    @contextlib.contextmanager
    def _exchange(self, unit: UnitState | None, request: int, response: int) -> Iterator[None]:
        """Around one request to ``unit``: count its wire time, and mark the unit heard or
        silent by how it ends. ``request`` and ``response`` are the frames' sizes in bytes; an
        exception reply is counted at its own size. Shared by reads and writes; ``unit`` is
        None for a unit the bridge does not poll (the register explorer), which is counted
        but not tracked."""
        try:
            yield
        except DeviceTimeout:
            if unit is None:
                self.stats.timeouts += 1
            else:
                self._silent(unit)
            raise
        except DeviceException:
            self.stats.exceptions += 1
            self._account(request, timing.EXCEPTION_RESPONSE_BYTES)
            if unit is not None:
                self._heard(unit)  # an exception response is an answer: the unit is alive
            raise
        self._account(request, response)
        if unit is not None:
            self._heard(unit)

    async def _read(self, unit: UnitState, block: Block) -> list[int]:
        request, response = timing.read_request_bytes(), timing.read_response_bytes(block.count)
        with self._exchange(unit, request, response):
            return await self.transport.read(
                unit.spec.unit,
                unit.spec.profile.read_function,
                block.start,
                block.count,
                self._timeout(request, response),
            )

    async def _write(self, unit: UnitState, function: int, address: int, values: list[int]) -> None:
        if function == 6:
            request, response = (
                timing.write_single_request_bytes(),
                timing.write_single_response_bytes(),
            )
        else:
            request = timing.write_multiple_request_bytes(len(values))
            response = timing.write_multiple_response_bytes()
        with self._exchange(unit, request, response):
            await self.transport.write(
                unit.spec.unit, function, address, values, self._timeout(request, response)
            )

    # ------------------------------------------------------------------ polling

    def _values_of(self, unit: UnitState, poll_class: PollClass) -> list[Channel | Setpoint]:
        profile = unit.spec.profile
        values: list[Channel | Setpoint] = [c for c in profile.channels if c.poll is poll_class]
        if poll_class is PollClass.SLOW:
            values.extend(profile.setpoints)
        return [v for v in values if v.key not in unit.unsupported]

    def _interval(self, poll_class: PollClass) -> float:
        if poll_class is PollClass.ALARM:
            return self.load.effective_s
        return self.settings.intervals.of(poll_class)

    async def _poll_job(self, unit: UnitState, poll_class: PollClass, early: bool = False) -> None:
        """One scheduled poll; ``early`` for an alarm poll before it is due (the line is
        otherwise idle), after which the next due poll is one interval away."""
        interval = self._interval(poll_class)
        first = poll_class not in unit.due
        due = unit.due.get(poll_class, unit.started)
        now = self._clock()
        if early:
            unit.due[poll_class] = now + interval
        elif first and poll_class is not PollClass.ALARM:
            # Every unit is read at start; after that, each class's polls are spread over
            # its interval unit by unit, so that they come one at a time between the
            # idle-time alarm polls instead of all at once (a round of telemetry would hold
            # the alarm polls off for as long as it takes).
            spread = self._unit_index[unit.spec.id] / len(self.units)
            unit.due[poll_class] = now + interval * (1 + spread)
        else:
            # Keep the cadence, but never queue up a backlog of missed polls.
            unit.due[poll_class] = due + interval if due + interval > now else now + interval
        try:
            await self._poll(unit, poll_class)
        except (DeviceTimeout, DeviceException):
            pass
        finally:
            if poll_class is PollClass.ALARM:
                self._measure_alarm_poll(unit, started=now)

    # ------------------------------------------------------------------ line load

    def _measure_alarm_poll(self, unit: UnitState, started: float) -> None:
        """Account one alarm poll's line time, then see whether the line keeps up."""
        now = self._clock()
        took = now - started
        load = self.load
        unit.alarm_tried_at = now
        if unit.failures:
            unit.alarm_read_at = None  # a silent unit's gaps are its backoff, not the queue's
        else:
            if unit.alarm_read_at is not None:
                gap = now - unit.alarm_read_at
                unit.alarm_gap_max_s = max(unit.alarm_gap_max_s, gap)
                load.cycle_s = (
                    gap
                    if load.cycle_s is None
                    else load.cycle_s + _SMOOTHING * (gap - load.cycle_s) / max(1, len(self.units))
                )
            unit.alarm_read_at = now
        previous = unit.alarm_poll_s
        unit.alarm_poll_s = took if previous is None else previous + _SMOOTHING * (took - previous)
        self._assess_load()

    def _assess_load(self) -> None:
        load = self.load
        # A backed-off unit is asked once per backoff, not once per interval.
        round_s = sum(
            (u.alarm_poll_s or 0.0)
            * (
                1.0
                if u.online is not False
                else min(1.0, load.configured_s / self.settings.backoff_max)
            )
            for u in self.units.values()
        )
        load.round_s = round_s
        needed = round_s / ALARM_LINE_SHARE
        if needed > load.configured_s:
            # Stretch in steps of a tenth of a second, so the cadence does not jitter.
            stretched = math.ceil(needed * 10) / 10
            if not load.overloaded:
                load.overloaded = True
                load.effective_s = stretched
                self._report_overload(round_s)
            elif stretched > load.effective_s or stretched < load.effective_s * 0.9:
                load.effective_s = stretched
        elif load.overloaded and round_s <= _RECOVERED_SHARE * load.configured_s:
            load.overloaded = False
            load.effective_s = load.configured_s
            _LOGGER.info(
                "bus %s keeps its %.1f s alarm interval again (alarm round %.2f s)",
                self.settings.id,
                load.configured_s,
                round_s,
            )
            self._emit_now(
                EventType.BUS_OVERLOAD_CLEARED,
                data={"bus": self.settings.id, **load.as_dict()},
            )

    def _report_overload(self, round_s: float) -> None:
        load = self.load
        advice = (
            "split the detectors over a second line, raise the baud rate, or poll fewer"
            " units on this line"
        )
        _LOGGER.warning(
            "bus %s is overloaded: one round of alarm polls of its %d units takes %.2f s of"
            " line time, more than %d %% of the %.1f s alarm interval; alarms are now read"
            " every %.1f s so that the other readings still get their share. To keep the"
            " interval: %s",
            self.settings.id,
            len(self.units),
            round_s,
            round(ALARM_LINE_SHARE * 100),
            load.configured_s,
            load.effective_s,
            advice,
        )
        self._emit_now(
            EventType.BUS_OVERLOADED,
            data={"bus": self.settings.id, **load.as_dict(), "advice": advice},
        )

    async def _poll(self, unit: UnitState, poll_class: PollClass) -> None:
        """Read one class of one unit, then evaluate its alarms."""
        values = self._values_of(unit, poll_class)
        if not values:
            return
        fresh = await self._read_values(unit, values)
        read_at = self._clock()
        previous = unit.read_at.get(poll_class)
        unit.read_at[poll_class] = read_at
        # An alarm this read finds appeared since the previous read of the same registers.
        window = None if previous is None else read_at - previous
        changed = self._store(unit, values, fresh)
        # An alarm flag is polled every second but the value it concerns may be telemetry,
        # read every ten: re-read it now, so the value kept "at the moment of the alarm" is
        # the one that tripped it and not one from several seconds before.
        rising = self._rising_alarms(unit, poll_class)
        if rising:
            with contextlib.suppress(DeviceTimeout, DeviceException):
                changed |= self._store(unit, rising, await self._read_values(unit, rising))
        if changed:
            self._evaluate(unit, detection_window_s=window)
            self._on_change(unit.spec.id)

    def _rising_alarms(self, unit: UnitState, poll_class: PollClass) -> list[Channel | Setpoint]:
        statuses = evaluate(unit.spec.profile, unit.readings, unit.setpoints)
        latched = {
            a.channel for a in self.alarms.open_alarms(unit.spec.id) if a.kind is AlarmKind.ALARM
        }
        return [
            c
            for c in unit.spec.profile.channels
            if c.poll is not poll_class
            and c.key not in latched
            and c.key not in unit.unsupported
            and statuses.get(c.key, ChannelStatus()).alarm
        ]

    async def _read_values(
        self, unit: UnitState, values: list[Channel | Setpoint]
    ) -> dict[int, int]:
        """Registers of these values, in as few blocks as the device allows.

        Exception 02 teaches the plan (see modbus/planner.py) and the read goes on with the
        narrower blocks, a bounded number of times.
        """
        spans = [v.register.span for v in values]
        pending = list(plan(spans, unit.plan_state, max_gap=self.settings.max_gap))
        attempts = 2 * len(spans) + 2  # bounded: every failure splits or retires a span
        fresh: dict[int, int] = {}
        while pending and attempts > 0:
            attempts -= 1
            block = pending.pop(0)
            try:
                registers = await self._read(unit, block)
            except DeviceException as exc:
                if exc.exception_code != ILLEGAL_DATA_ADDRESS:
                    raise
                unit.plan_state = learn_illegal_address(block, spans, unit.plan_state)
                pending = [
                    b
                    for b in plan(spans, unit.plan_state, max_gap=self.settings.max_gap)
                    if not all(a in fresh for a in range(b.start, b.stop))
                ]
                self._retire_unsupported(unit, values)
                continue
            fresh.update(zip(range(block.start, block.stop), registers, strict=True))
        return fresh

    def _retire_unsupported(self, unit: UnitState, values: Iterable[Channel | Setpoint]) -> None:
        for value in values:
            span = value.register.span
            if value.key not in unit.unsupported and unit.plan_state.unsupported.intersection(span):
                unit.unsupported.add(value.key)
                _LOGGER.warning(
                    "%s: %s (register %#06x) is not supported by the device; not read again",
                    unit.spec.id,
                    value.key,
                    span.start,
                )

    def _store(
        self, unit: UnitState, values: Iterable[Channel | Setpoint], fresh: dict[int, int]
    ) -> bool:
        """Decode what was read; whether anything changed."""
        changed = False
        for value in values:
            span = value.register.span
            if not all(a in fresh for a in span):
                continue
            reading = decode(value.register, [fresh[a] for a in span])
            store = unit.setpoints if isinstance(value, Setpoint) else unit.readings
            if store.get(value.key) != reading:
                store[value.key] = reading
                changed = True
        return changed

    def _evaluate(self, unit: UnitState, detection_window_s: float | None = None) -> None:
        """Raise and clear alarms by the values now held. ``detection_window_s``: the time
        since the previous read of the registers just read, which an alarm raised now
        carries (None when it is not known, as after a command's read-back)."""
        unit.statuses = evaluate(unit.spec.profile, unit.readings, unit.setpoints)
        window = None if detection_window_s is None else round(detection_window_s, 3)
        now = self._wall()
        device_id = unit.spec.id
        for key, status in unit.statuses.items():
            value = _jsonable(unit.readings.get(key))
            # An alarm raised while a self-test runs is marked, so that notifications can
            # tell a test from a fault; it still latches and is acknowledged like any other.
            testing = "self_test" if unit.self_test_since is not None else None
            events: list[BridgeEvent] = []
            if status.alarm is not None:  # unknown neither raises nor clears a latch
                events += self.alarms.observe(
                    AlarmKind.ALARM,
                    device_id,
                    key,
                    status.alarm,
                    value,
                    now,
                    detail=testing,
                    detection_window_s=window,
                )
            events += self.alarms.observe(
                AlarmKind.WIRING_FAULT,
                device_id,
                key,
                status.wiring_fault is not None,
                value,
                now,
                detail=status.wiring_fault,
                detection_window_s=window,
            )
            for event in events:
                _LOGGER.info("%s %s %s", event.type.value, device_id, key)
                self._emit(event)
                if event.type is EventType.ALARM_RAISED and unit.self_test_since is not None:
                    self._self_test_result(
                        unit, SelfTestResult.PASSED, key, f"{key} alarmed in time"
                    )
        run = unit.self_test
        if unit.self_test_since is not None and run is not None and not run.alarm_before:
            # The device's alarm indication read back on after the test was written (an
            # alarm record still open from an earlier test raises no new event).
            alarming = [key for key, status in unit.statuses.items() if status.alarm]
            if alarming:
                self._self_test_result(
                    unit, SelfTestResult.PASSED, alarming[0], f"{alarming[0]} alarmed in time"
                )

    # ------------------------------------------------------------------ commands

    def _refused(self, unit: UnitState, name: str, exc: CommandRefused, who: str) -> CommandResult:
        result = CommandResult(
            unit.spec.id, name, CommandOutcome.REFUSED, reason=str(exc.reason), message=str(exc)
        )
        self._record_command(result, who)
        return result

    def _record_command(self, result: CommandResult, who: str) -> None:
        self._emit_now(
            EventType.COMMAND, device_id=result.device_id, data={**result.as_dict(), "who": who}
        )

    async def _execute_command(
        self, unit: UnitState, name: str, who: str, run: SelfTestRun | None = None
    ) -> CommandResult:
        profile = unit.spec.profile
        try:
            if (why := self._cannot_record()) is not None:
                raise CommandRefused(RefusalReason.STORAGE_FAILING, why)
            command = authorise_command(
                profile,
                unit.spec.id,
                name,
                self.alarms.open_alarms(unit.spec.id),
                self._lockout(unit.spec.id),
            )
            if command.name is CommandName.CLOSE:
                # Decide on the device's state now, not on the last poll's.
                try:
                    await self._poll(unit, PollClass.ALARM)
                except (DeviceTimeout, DeviceException):
                    raise CommandRefused(
                        RefusalReason.DEVICE_OFFLINE,
                        "close refused: the device's alarm state cannot be read right now",
                    ) from None
                check_lockout(unit.spec.id, self._lockout(unit.spec.id))
                check_close_interlock(unit.spec.id, self.alarms.open_alarms(unit.spec.id))
        except CommandRefused as exc:
            return self._refused(unit, name, exc, who)
        assert command.address is not None  # a profile with empty addresses never loads
        write_error: Exception | None = None
        try:
            await self._write(unit, command.function, command.address, [command.value])
        except DeviceException as exc:
            result = CommandResult(
                unit.spec.id,
                name,
                CommandOutcome.FAILED,
                reason="device_exception",
                message=str(exc),
            )
            self._record_command(result, who)
            if command.name is CommandName.SELF_TEST:
                # The device answered and refused the test: it cannot show it works.
                unit.self_test = run or self._manual_run(unit, who)
                unit.self_test_since = self._clock()
                self._self_test_result(
                    unit, SelfTestResult.FAILED, None, f"the device refused the test: {exc}"
                )
            return result
        except DeviceTimeout as exc:
            # The write may or may not have reached the device. It is never sent again
            # here: the read-back below tells what the device did.
            write_error = exc
        result = await self._verify_command(unit, name, command.verify, write_error)
        self._record_command(result, who)
        if command.name is CommandName.SELF_TEST and result.outcome is not CommandOutcome.FAILED:
            # Passed when the detector raises an alarm within the limit; see _evaluate.
            # Failed when it answers without alarming; no response when it says nothing.
            unit.self_test = run or self._manual_run(unit, who)
            unit.self_test.heard = write_error is None
            unit.self_test.alarm_before = any(st.alarm for st in unit.statuses.values())
            unit.self_test.started_at = self._wall()
            unit.self_test_since = self._clock()
        return result

    async def _verify_command(
        self,
        unit: UnitState,
        name: str,
        verify: Any,
        write_error: Exception | None,
    ) -> CommandResult:
        device_id = unit.spec.id
        if verify is None:
            if write_error is not None:
                return CommandResult(
                    device_id, name, CommandOutcome.UNCONFIRMED, "no_response", str(write_error)
                )
            return CommandResult(device_id, name, CommandOutcome.CONFIRMED, message="written")
        channel = unit.spec.profile.channel(verify.channel)
        reading: Reading | None = None
        for attempt in range(3):
            if attempt:
                await asyncio.sleep(0.1)  # give a breaker or relay time to move
            try:
                reading = await self._read_value(unit, channel.register)
            except (DeviceTimeout, DeviceException):
                continue
            unit.readings[channel.key] = reading
            expected = verify.state if verify.state is not None else verify.value
            if reading.value == expected:
                self._evaluate(unit)
                self._on_change(device_id)
                return CommandResult(
                    device_id,
                    name,
                    CommandOutcome.CONFIRMED,
                    message=f"{channel.key} is {reading.value}",
                    state=reading.value,
                )
        state = reading.value if reading is not None else None
        return CommandResult(
            device_id,
            name,
            CommandOutcome.UNCONFIRMED,
            reason="no_response" if write_error else "not_confirmed",
            message=(
                f"{name} sent but {channel.key} reads {state!r}"
                if reading is not None
                else f"{name} sent but {channel.key} could not be read back"
            ),
            state=state,
        )

    async def _read_value(self, unit: UnitState, spec: RegisterSpec) -> Reading:
        span = spec.span
        registers = await self._read(unit, Block(span.start, len(span)))
        return decode(spec, registers)

    async def _execute_setpoint(
        self, unit: UnitState, key: str, value: float, who: str
    ) -> CommandResult:
        name = f"set {key}"
        try:
            if (why := self._cannot_record()) is not None:
                raise CommandRefused(RefusalReason.STORAGE_FAILING, why)
            setpoint = authorise_setpoint(unit.spec.profile, key, value)
        except CommandRefused as exc:
            return self._refused(unit, name, exc, who)
        spec = setpoint.register
        span = spec.span
        try:
            current = await self._read(unit, Block(span.start, len(span)))
            before = decode(spec, current)
            registers = encode(spec, value, current)
            await self._write(unit, 16, span.start, registers)
            after = await self._read_value(unit, spec)
        except (DeviceTimeout, DeviceException) as exc:
            result = CommandResult(
                unit.spec.id, name, CommandOutcome.FAILED, "device_error", str(exc)
            )
            self._record_command(result, who)
            return result
        unit.setpoints[key] = after
        self._evaluate(unit)
        self._on_change(unit.spec.id)
        confirmed = after.value == decode(spec, registers).value
        result = CommandResult(
            unit.spec.id,
            name,
            CommandOutcome.CONFIRMED if confirmed else CommandOutcome.UNCONFIRMED,
            None if confirmed else "not_confirmed",
            f"{key} reads {after.value}",
            state=after.value,
        )
        self._emit_now(
            EventType.SETPOINT_CHANGED,
            device_id=unit.spec.id,
            channel=key,
            data={"who": who, "from": before.value, "to": after.value, "confirmed": confirmed},
        )
        self._record_command(result, who)
        return result
