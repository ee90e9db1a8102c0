"""The bridge's proof: scheduled self-tests and inspection records, with their due dates.

A part of :class:`~.service.Bridge` kept in its own module (``bridge.proof``): it runs the
self-test schedule (``safety/self_test_runner.py``), records inspections a person fills in
(``safety/inspections.py``), and says ``inspection_overdue`` once when a tracked
inspection's due date passes. Everything it records goes through the bridge's event path
(stored first, then pushed, then relayed); the event store keeps the records in their own
tables, which retention never prunes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .common.enums import EventType, SelfTestTrigger
from .common.errors import StorageFailing, UnknownDevice
from .common.proof import InspectionDue, InspectionRecord, SelfTestRecord
from .config.proof_config import ProofConfig
from .safety.events import BridgeEvent
from .safety.inspections import checklists, inspections_due, parse_inspection
from .safety.self_test_runner import SelfTestScheduler, TestableBus
from .safety.self_tests import SelfTestRun

if TYPE_CHECKING:
    from .profiles.model import Profile
    from .storage.event_store import AsyncEventStore

_LOGGER = logging.getLogger(__name__)

#: How often tracked inspections are looked at for a due date that passed.
INSPECTION_CHECK_S = 600.0
_SELF_TEST_RECORDS = frozenset({EventType.SELF_TEST, EventType.SELF_TEST_RESULT})


class ProofHost(Protocol):
    """What the proof needs of the bridge."""

    @property
    def store(self) -> AsyncEventStore:
        """The event store."""
        ...

    def emit(self, event: BridgeEvent) -> None:
        """Record an event (stored, pushed, relayed)."""
        ...

    async def written(self) -> None:
        """Wait until every event emitted so far is stored."""
        ...

    def cannot_record(self) -> str | None:
        """Why nothing can be recorded now (a failing store), or None."""
        ...


class Proof:
    """Self-tests and inspections of one bridge."""

    def __init__(
        self,
        config: ProofConfig,
        devices: Mapping[str, Profile],
        bus_of: Mapping[str, TestableBus],
        host: ProofHost,
        *,
        clock: Any = time.time,
    ) -> None:
        self.config = config
        self._host = host
        self._bus_of = bus_of
        self._clock = clock
        self.scheduler = SelfTestScheduler(
            {d: (profile, config.schedule_of(d)) for d, profile in devices.items()},
            bus_of.get,
            host.emit,
            limits=config.limits,
            clock=clock,
        )
        self._overdue_said: set[tuple[str, float]] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Load the last records, then run the schedule and the inspections' watch."""
        self.scheduler.start(await self._host.store.last_self_tests())
        self._tasks = [
            asyncio.create_task(self.scheduler.run(), name="self-test schedule"),
            asyncio.create_task(self._watch_inspections(), name="inspection due dates"),
        ]

    async def stop(self) -> None:
        """Stop the schedule (a test under way ends with the bus)."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def observe(self, event: BridgeEvent) -> None:
        """Every event the bridge emits: a self-test's record moves its device's schedule."""
        if event.type in _SELF_TEST_RECORDS and "id" in event.data and event.device_id:
            with contextlib.suppress(ValueError):
                self.scheduler.recorded(SelfTestRecord.from_dict(event.data))
        elif event.type is EventType.DEVICE_ONLINE:
            self.scheduler.wake()

    # ------------------------------------------------------------------ self-tests

    async def self_tests(
        self,
        device_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[SelfTestRecord]:
        """Self-test records, newest first."""
        return await self._host.store.self_tests(
            device_id=device_id, since=since, until=until, limit=limit
        )

    def schedule(self) -> list[dict[str, Any]]:
        """Each device's self-test schedule and next due time."""
        return [entry.to_dict() for entry in self.scheduler.entries()]

    async def run_self_test(self, device_id: str, who: str) -> SelfTestRecord:
        """A self-test a person starts now, judged like a scheduled one; the record once
        it is stored. CommandRefused when the bridge will not write it."""
        bus = self._bus_of.get(device_id)
        if bus is None:
            raise UnknownDevice(device_id)
        # An unverified profile or one without a self-test command: the bus refuses it
        # before anything is written, and records the refusal.
        record = await bus.self_test(
            device_id, SelfTestRun(who=who, trigger=SelfTestTrigger.MANUAL)
        )
        await self._host.written()
        return record

    # ------------------------------------------------------------------ inspections

    async def inspections(
        self,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[InspectionRecord]:
        """Inspection records, newest first."""
        return await self._host.store.inspections(kind=kind, since=since, until=until, limit=limit)

    def checklists(self) -> list[dict[str, Any]]:
        """The checklists a person fills in, with every item's text in en / zh-Hans / ja."""
        return [c.to_dict() for c in checklists()]

    async def record_inspection(self, body: Mapping[str, Any], who: str) -> InspectionRecord:
        """Check and store an inspection record (InvalidInspection names the key at
        fault); returns once it is stored."""
        record = parse_inspection(body, who, self._clock())
        if (why := self._host.cannot_record()) is not None:
            raise StorageFailing(why)
        self._host.emit(
            BridgeEvent(EventType.INSPECTION_RECORDED, record.at, data=record.to_dict())
        )
        await self._host.written()
        return record

    async def due(self) -> list[InspectionDue]:
        """When each tracked inspection is next due."""
        last = await self._host.store.last_inspections()
        return inspections_due(
            self.config.inspections, self.config.inspection_every_days, last, self._clock()
        )

    async def _watch_inspections(self) -> None:
        """Say ``inspection_overdue`` once for each due date that passes."""
        said = await self._host.store.query(types=[EventType.INSPECTION_OVERDUE], limit=1000)
        for event in said:
            said_for = event.data.get("said_for")
            if isinstance(said_for, (int, float)):
                self._overdue_said.add((str(event.data.get("kind")), float(said_for)))
        while True:
            try:
                self._say_overdue(await self.due())
            except Exception:  # a bug here must not end the watch
                _LOGGER.exception("inspection due-date check failed")
            await asyncio.sleep(INSPECTION_CHECK_S)

    def _say_overdue(self, due: list[InspectionDue]) -> None:
        for entry in due:
            # A kind never recorded is due "now" at each look: it is said once, keyed
            # without a date.
            key = (str(entry.kind), entry.due_at if entry.last_at is not None else 0.0)
            if not entry.overdue or key in self._overdue_said:
                continue
            self._overdue_said.add(key)
            _LOGGER.warning("inspection %s is overdue", entry.kind)
            self._host.emit(
                BridgeEvent(
                    EventType.INSPECTION_OVERDUE,
                    self._clock(),
                    data=entry.to_dict() | {"said_for": key[1]},
                )
            )
