"""The durable event store: real SQLite files, a real SIGKILL, no mocks."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from electrical_safety_bridge.common.enums import AlarmKind, EventType
from electrical_safety_bridge.common.workflow import Actor, Hazard
from electrical_safety_bridge.errors import BridgeError
from electrical_safety_bridge.safety.alarms import AlarmBook
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.safety.hazards import HazardBook
from electrical_safety_bridge.storage.event_store import (
    CSV_HEADER,
    AsyncEventStore,
    EventStore,
    InvalidEvent,
    StoredEvent,
    StoreError,
)

ADDON = Path(__file__).resolve().parents[3] / "addon"
DAY = 86400.0
ALARM = AlarmKind.ALARM
WIRING = AlarmKind.WIRING_FAULT


def command(at: float, device_id: str | None = "d1", **data: object) -> BridgeEvent:
    return BridgeEvent(EventType.COMMAND, at=at, device_id=device_id, channel=None, data=data)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore(tmp_path / "events.db") as s:
        yield s


# -- append and query ---------------------------------------------------------------------


def test_append_returns_the_committed_event_with_increasing_seq_and_unique_id(
    store: EventStore,
) -> None:
    first = store.append(command(10.0, who="owner", result="ok"))
    second = store.append(
        BridgeEvent(EventType.DEVICE_OFFLINE, at=11.5, device_id="d2", channel="rc")
    )
    assert isinstance(first, StoredEvent)
    assert second.seq > first.seq >= 1
    assert first.id != second.id
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    assert first.type is EventType.COMMAND
    assert first.data == {"who": "owner", "result": "ok"}
    assert store.query() == [first, second]
    assert store.last_seq() == second.seq
    assert first.as_dict() == {
        "seq": first.seq,
        "id": first.id,
        **command(10.0, who="owner", result="ok").as_dict(),
    }
    assert second.event == BridgeEvent(
        EventType.DEVICE_OFFLINE, at=11.5, device_id="d2", channel="rc"
    )


def test_wal_mode_and_full_synchronous_are_in_effect(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with EventStore(path) as s:
        s.append(command(1.0))
        assert s.pragmas() == {"journal_mode": "wal", "synchronous": 2, "user_version": 3}
        assert path.with_name("events.db-wal").exists()
        # WAL mode is a property of the file: another connection sees it too.
        other = sqlite3.connect(path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            other.close()


def test_query_filters_by_device_type_and_half_open_time_window(store: EventStore) -> None:
    store.append(command(100.0, device_id="d1"))
    store.append(BridgeEvent(EventType.DEVICE_OFFLINE, at=200.0, device_id="d1"))
    store.append(command(200.0, device_id="d2"))
    store.append(BridgeEvent(EventType.BUS_DOWN, at=300.0))
    assert [e.at for e in store.query(device_id="d1")] == [100.0, 200.0]
    assert [e.type for e in store.query(types=[EventType.BUS_DOWN])] == [EventType.BUS_DOWN]
    assert [e.device_id for e in store.query(types={EventType.COMMAND})] == ["d1", "d2"]
    assert [e.at for e in store.query(since=200.0, until=300.0)] == [200.0, 200.0]
    assert store.query(device_id="d2", types=[EventType.DEVICE_OFFLINE]) == []
    assert store.query(types=[]) == []


def test_paging_by_after_seq_returns_everything_once_in_order(store: EventStore) -> None:
    stored = store.append_many(command(float(i), i=i) for i in range(25))
    pages: list[list[StoredEvent]] = []
    after: int | None = None
    while page := store.query(after_seq=after, limit=10):
        pages.append(page)
        after = page[-1].seq
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [e for p in pages for e in p] == stored


def test_paging_newest_first_by_before_seq_returns_everything_once(store: EventStore) -> None:
    stored = store.append_many(command(float(i), i=i) for i in range(25))
    pages: list[list[StoredEvent]] = []
    before: int | None = None
    while page := store.query(before_seq=before, newest_first=True, limit=10):
        pages.append(page)
        before = page[-1].seq
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [e for p in pages for e in p] == stored[::-1]
    # Both bounds together: a window of sequence numbers.
    window = store.query(after_seq=stored[2].seq, before_seq=stored[6].seq, newest_first=True)
    assert window == stored[5:2:-1]


@pytest.mark.parametrize("limit", [0, -1, 1001, True])
def test_query_limit_is_bounded(store: EventStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.query(limit=limit)


def test_append_many_is_one_transaction(store: EventStore) -> None:
    stored = store.append_many([command(1.0, i=0), command(2.0, i=1), command(3.0, i=2)])
    assert [e.seq for e in stored] == list(range(stored[0].seq, stored[0].seq + 3))
    assert store.append_many([]) == []
    with pytest.raises(InvalidEvent):
        store.append_many([command(4.0, i=3), command(5.0, bad=object())])
    assert store.query() == stored  # the valid first event was not written either


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (command(1.0, when=datetime.now()), "not JSON-serialisable"),
        (command(1.0, blob=b"\x00"), "not JSON-serialisable"),
        (command(float("nan")), "finite"),
        (command(1e300), "representable"),
        (BridgeEvent(EventType.ALARM_RAISED, at=1.0, device_id="d1", data={}), "alarm's id"),
        (
            BridgeEvent(EventType.ALARM_ACKNOWLEDGED, at=1.0, data={"id": "a1"}),
            "who acknowledged",
        ),
        (
            BridgeEvent(EventType.ALARM_RAISED, at=1.0, data={"id": "a1", "kind": "wiring_fault"}),
            "kind",
        ),
    ],
)
def test_bad_events_are_refused_before_anything_is_written(
    store: EventStore, event: BridgeEvent, message: str
) -> None:
    with pytest.raises(InvalidEvent, match=message) as caught:
        store.append(event)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, StoreError)
    assert store.query() == []
    assert store.last_seq() == 0


# -- durability -----------------------------------------------------------------------------

CHILD = """
import sys, time
from pathlib import Path
from electrical_safety_bridge.safety.alarms import AlarmBook, AlarmKind
from electrical_safety_bridge.safety.events import BridgeEvent, EventType
from electrical_safety_bridge.storage.event_store import EventStore

store = EventStore(Path(sys.argv[1]))
(raised,) = AlarmBook().observe(AlarmKind.ALARM, "d1", "rc", True, 350, now=time.time())
s = store.append(raised)
print("alarm", s.seq, s.id, raised.data["id"], flush=True)
i = 0
while True:
    s = store.append(BridgeEvent(EventType.COMMAND, time.time(), "d1", None, {"i": i}))
    print("event", s.seq, s.id, flush=True)
    i += 1
"""


def _read_lines(
    proc: subprocess.Popen[bytes], count: int, timeout: float
) -> tuple[list[str], bytes]:
    """Complete stdout lines until ``count`` of them arrived; fails after ``timeout`` s."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    lines: list[str] = []
    pending = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while len(lines) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(lines)} of {count} lines within {timeout} s")
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                raise AssertionError(f"child exited after {len(lines)} lines:\n{stderr}")
            *complete, pending = (pending + chunk).split(b"\n")
            lines.extend(line.decode() for line in complete)
    return lines, pending


def test_every_append_that_returned_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    env = {**os.environ, "PYTHONPATH": str(ADDON)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        bufsize=0,
    )
    try:
        lines, pending = _read_lines(proc, count=40, timeout=20.0)
        proc.send_signal(signal.SIGKILL)  # mid-burst: the child is appending right now
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert proc.stdout is not None
        rest = pending + proc.stdout.read()
        lines += [line.decode() for line in rest.split(b"\n")[:-1]]  # complete lines only
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    kind, alarm_seq, alarm_event_id, alarm_id = lines[0].split()
    assert kind == "alarm"
    printed = {int(alarm_seq): alarm_event_id}
    for line in lines[1:]:
        _, seq, event_id = line.split()
        printed[int(seq)] = event_id
    assert len(printed) >= 40

    with EventStore(path) as reopened:
        stored: dict[int, str] = {}
        after = 0
        while page := reopened.query(after_seq=after, limit=1000):
            stored.update((e.seq, e.id) for e in page)
            after = page[-1].seq
        missing = {seq: eid for seq, eid in printed.items() if stored.get(seq) != eid}
        assert not missing, f"appends that returned but were lost: {missing}"
        # The alarm raised before the crash is still open and unacknowledged.
        (alarm,) = reopened.open_alarms()
        assert alarm.id == alarm_id
        assert alarm.active and not alarm.acknowledged
        assert alarm.value_at_alarm == 350
        # The store is intact and keeps counting upwards.
        assert reopened.append(command(time.time())).seq > max(stored)
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()


# -- open alarms --------------------------------------------------------------------------


def test_open_alarms_are_rebuilt_from_raised_acknowledged_and_cleared_events(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    book = AlarmBook()
    events: list[BridgeEvent] = []
    # raised only: open, unacknowledged
    events += book.observe(ALARM, "d1", "rc", True, 350, now=1.0)
    # raised and acknowledged while still present: open, acknowledged
    events += book.observe(ALARM, "d1", "t1", True, 85.5, now=2.0, detail="over temperature")
    t1 = book.open_alarms("d1")[1].id
    events += book.acknowledge(t1, "landlord", now=3.0)
    # raised, gone, then acknowledged: cleared
    events += book.observe(ALARM, "d2", "rc", True, 420, now=4.0)
    events += book.observe(ALARM, "d2", "rc", False, 10, now=5.0)
    events += book.acknowledge(book.open_alarms("d2")[0].id, "tenant", now=6.0)
    # raised, acknowledged, then gone: cleared
    events += book.observe(ALARM, "d3", "arc", True, 7, now=7.0)
    events += book.acknowledge(book.open_alarms("d3")[0].id, "owner", now=8.0)
    events += book.observe(ALARM, "d3", "arc", False, 0, now=9.0)
    # a wiring fault on the same channel as an open alarm: kept separately
    events += book.observe(WIRING, "d1", "rc", True, "open", now=10.0)
    # a cleared wiring fault
    events += book.observe(WIRING, "d4", "t2", True, "short", now=11.0)
    events += book.acknowledge(book.open_alarms("d4")[0].id, "owner", now=12.0)
    events += book.observe(WIRING, "d4", "t2", False, None, now=13.0)
    # an alarm that went inactive but is unacknowledged: still open
    events += book.observe(ALARM, "d5", "rc", True, 500, now=14.0)
    events += book.observe(ALARM, "d5", "rc", False, 5, now=15.0)

    with EventStore(path) as s:
        for event in events:
            s.append(event)
    with EventStore(path) as s:  # as after a restart
        restored = s.open_alarms()

    expected = {(a.kind, a.device_id, a.channel): a for a in book.open_alarms()}
    assert {(a.kind, a.device_id, a.channel) for a in restored} == set(expected)
    by_key = {(a.kind, a.device_id, a.channel): a for a in restored}
    for key, alarm in by_key.items():
        original = expected[key]
        assert alarm.id == original.id
        assert alarm.active is True and alarm.inactive_since is None
        assert alarm.value_at_alarm == original.value_at_alarm
        assert alarm.raised_at == original.raised_at
        assert alarm.detail == original.detail
        assert alarm.acknowledged_by == original.acknowledged_by
        assert alarm.acknowledged_at == original.acknowledged_at
    assert by_key[(ALARM, "d1", "rc")].acknowledged is False
    assert by_key[(ALARM, "d1", "t1")].acknowledged_by == "landlord"
    assert by_key[(WIRING, "d1", "rc")].value_at_alarm == "open"
    assert [a.raised_at for a in restored] == sorted(a.raised_at for a in restored)

    # A restarted bridge restores them: still latched, no second raise, ack still works.
    fresh = AlarmBook()
    fresh.restore(restored)
    assert fresh.observe(ALARM, "d1", "rc", True, 900, now=20.0) == []
    d5 = by_key[(ALARM, "d5", "rc")].id
    assert [e.type for e in fresh.observe(ALARM, "d5", "rc", False, 0, now=21.0)] == []
    assert [e.type for e in fresh.acknowledge(d5, "owner", now=22.0)] == [
        EventType.ALARM_ACKNOWLEDGED,
        EventType.ALARM_CLEARED,
    ]


# -- retention ----------------------------------------------------------------------------


def test_prune_deletes_old_events_but_never_an_open_alarm(tmp_path: Path) -> None:
    now = 1_000 * DAY
    old, recent = now - 10 * DAY, now - DAY / 2
    book = AlarmBook()
    with EventStore(tmp_path / "events.db", retention_days=1.0) as s:
        s.append(command(old, i="old"))
        # open since long ago, acknowledged long ago
        s.append_many(book.observe(ALARM, "d1", "rc", True, 350, now=old))
        s.append_many(book.acknowledge(book.open_alarms("d1")[0].id, "owner", now=old + 1))
        # raised, acknowledged and cleared long ago: goes
        s.append_many(book.observe(ALARM, "d2", "rc", True, 400, now=old))
        s.append_many(book.acknowledge(book.open_alarms("d2")[0].id, "owner", now=old + 1))
        s.append_many(book.observe(ALARM, "d2", "rc", False, 0, now=old + 2))
        # raised long ago, cleared recently: its whole history stays for now
        s.append_many(book.observe(WIRING, "d3", "t1", True, "open", now=old))
        s.append_many(book.acknowledge(book.open_alarms("d3")[0].id, "owner", now=old + 1))
        s.append_many(book.observe(WIRING, "d3", "t1", False, None, now=recent))
        newest = s.append(command(recent, i="recent"))
        before = s.open_alarms()

        assert s.prune(now) == 4  # old command + the three events of the d2 alarm
        assert s.prune(now) == 0
        assert s.open_alarms() == before
        assert [a.device_id for a in before] == ["d1"]
        left = s.query()
        assert [(e.type, e.device_id) for e in left] == [
            (EventType.ALARM_RAISED, "d1"),
            (EventType.ALARM_ACKNOWLEDGED, "d1"),
            (EventType.WIRING_FAULT_RAISED, "d3"),
            (EventType.WIRING_FAULT_ACKNOWLEDGED, "d3"),
            (EventType.WIRING_FAULT_CLEARED, "d3"),
            (EventType.COMMAND, "d1"),
        ]
        # Years later the open alarm is still there; everything else has gone.
        assert s.prune(now + 3650 * DAY) == 4
        assert [e.type for e in s.query()] == [
            EventType.ALARM_RAISED,
            EventType.ALARM_ACKNOWLEDGED,
        ]
        assert s.open_alarms() == before
        # Sequence numbers never go back, even after the newest event was pruned.
        assert s.last_seq() == newest.seq
        assert s.append(command(now)).seq > newest.seq


def hazard_event(event_type: EventType, hazard: Hazard, at: float) -> BridgeEvent:
    return BridgeEvent(
        event_type,
        at=at,
        device_id=hazard.device_id,
        channel=hazard.channel,
        data=hazard.to_dict(),
    )


def test_prune_hazards_forgets_those_eliminated_before_the_retention(tmp_path: Path) -> None:
    """An eliminated hazard goes with the retention, its events left to the log's own
    pruning; open hazards, recent ones and those whose alarm is still open stay."""
    now = 1_000 * DAY
    old, recent = now - 10 * DAY, now - DAY / 2
    alarms, hazards = AlarmBook(), HazardBook()
    with EventStore(tmp_path / "events.db", retention_days=1.0) as s:

        def eliminate(device_id: str, opened: float, eliminated: float, *, clear: bool) -> str:
            s.append_many(alarms.observe(ALARM, device_id, "rc", True, 400, now=opened))
            (alarm,) = alarms.open_alarms(device_id)
            hazard = hazards.open(alarm)
            assert hazard is not None
            s.append(hazard_event(EventType.HAZARD_OPENED, hazard, opened))
            actor = Actor("electrician", "api", eliminated)
            s.append_many(alarms.acknowledge(alarm.id, "electrician", now=eliminated))
            hazards.acknowledge(hazard.id, actor)
            done = hazards.eliminate(hazard.id, actor, "replaced the cable")
            s.append(hazard_event(EventType.HAZARD_ELIMINATED, done, eliminated))
            if clear:
                s.append_many(alarms.observe(ALARM, device_id, "rc", False, 0, now=eliminated))
            return hazard.id

        gone = eliminate("d1", old, old + 60, clear=True)
        fresh = eliminate("d2", old, recent, clear=True)
        latched = eliminate("d3", old, old + 60, clear=False)
        s.append_many(alarms.observe(ALARM, "d4", "rc", True, 400, now=old))
        opened = hazards.open(alarms.open_alarms("d4")[0])
        assert opened is not None
        s.append(hazard_event(EventType.HAZARD_OPENED, opened, old))

        assert s.prune_hazards(now) == [gone]
        assert s.prune_hazards(now) == []
        assert sorted(h.id for h in s.hazards()) == sorted([fresh, latched, opened.id])
        # The hazard's record stays in the event log until the log's retention takes it.
        logged = [e.data["id"] for e in s.query(types=[EventType.HAZARD_ELIMINATED])]
        assert gone in logged


def test_retention_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retention_days"):
        EventStore(tmp_path / "events.db", retention_days=0)


# -- export -------------------------------------------------------------------------------


def test_csv_export_round_trips_every_field_across_pages(store: EventStore) -> None:
    base = 1_700_000_000.123456
    events = [
        command(base + i, device_id=f"d{i % 3}", i=i, text='日本語, "quoted"') for i in range(2100)
    ]
    events.append(BridgeEvent(EventType.BUS_DOWN, at=base + 5000, data={"bus": "rs485-1"}))
    stored = store.append_many(events)

    out = io.StringIO(newline="")
    assert store.export_csv(out) == len(stored)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == len(stored) + 1
    for row, event in zip(rows[1:], stored, strict=True):
        seq, event_id, at, type_, device_id, channel, data = row
        assert int(seq) == event.seq
        assert event_id == event.id
        parsed = datetime.fromisoformat(at)
        offset = parsed.utcoffset()
        assert offset is not None and offset.total_seconds() == 0
        assert parsed.timestamp() == pytest.approx(event.at, abs=1e-6)
        assert type_ == event.type.value
        assert (device_id or None) == event.device_id
        assert (channel or None) == event.channel
        assert json.loads(data) == event.data

    filtered = io.StringIO(newline="")
    assert store.export_csv(filtered, device_id="d1", since=base + 1000) == len(
        [e for e in stored if e.device_id == "d1" and e.at >= base + 1000]
    )
    only_bus = io.StringIO(newline="")
    assert store.export_csv(only_bus, types=[EventType.BUS_DOWN]) == 1
    assert "rs485-1" in only_bus.getvalue()


# -- robustness -----------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite_gives_a_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(b"this is not a database, just some text\n" * 200)
    with pytest.raises(StoreError, match="not a readable event store") as caught:
        EventStore(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, BridgeError)


def test_a_damaged_store_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with EventStore(path) as s:
        s.append_many(command(float(i), i=i, pad="x" * 200) for i in range(200))
    raw = bytearray(path.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page behind a valid header
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError) as caught:
        EventStore(path)
    assert str(path) in str(caught.value)


def test_a_store_written_by_a_newer_bridge_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    EventStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer bridge") as caught:
        EventStore(path)
    assert "99" in str(caught.value) and str(path) in str(caught.value)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE things (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an event store"):
        EventStore(path)


def test_a_closed_store_refuses_use(tmp_path: Path) -> None:
    s = EventStore(tmp_path / "events.db")
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(StoreError, match="closed"):
        s.append(command(1.0))


# -- asyncio facade -------------------------------------------------------------------------


async def test_async_facade_keeps_order_under_concurrent_appends(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = await AsyncEventStore.open(path)
    results = await asyncio.gather(*(store.append(command(float(i), i=i)) for i in range(200)))
    assert [r.data["i"] for r in results] == list(range(200))
    assert [r.seq for r in results] == sorted(r.seq for r in results)
    queried = await store.query(limit=1000)
    assert [e.data["i"] for e in queried] == list(range(200))
    many = await store.append_many([command(1000.0, i=200), command(1001.0, i=201)])
    assert [e.seq for e in many] == [results[-1].seq + 1, results[-1].seq + 2]
    with pytest.raises(InvalidEvent):
        await store.append(command(1.0, bad={1, 2}))

    # close() flushes writes that were queued but not yet awaited.
    pending = [
        asyncio.ensure_future(store.append(command(2000.0 + i, i=300 + i))) for i in range(50)
    ]
    await asyncio.sleep(0)  # let the tasks queue their writes
    await store.close()
    assert all(t.done() for t in pending)
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.append(command(1.0))

    async with await AsyncEventStore.open(path) as reopened:
        assert await reopened.last_seq() == 252
        tail = await reopened.query(after_seq=202, limit=1000)
        assert [e.data["i"] for e in tail] == list(range(300, 350))
        assert await reopened.open_alarms() == []
        assert await reopened.prune(now=3000.0) == 0
        out = io.StringIO(newline="")
        assert await reopened.export_csv(out, types=[EventType.COMMAND], after_seq=250) == 2
