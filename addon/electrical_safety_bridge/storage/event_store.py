"""The durable event store: SQLite in WAL mode, append-only for events.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so once
:meth:`EventStore.append` has returned the event is committed and fsynced; it survives
the process being killed with SIGKILL (and, as far as the disk honours fsync, a power
cut). Events are never updated; the only deletion is :meth:`EventStore.prune`, which
applies the retention period and never removes an alarm that is still open
(:meth:`EventStore.prune_hazards` forgets the hazards eliminated before it likewise).

Alarm bookkeeping: every alarm or wiring-fault lifecycle event carries the alarm's id
(``data["id"]``, as :class:`~..safety.alarms.AlarmBook` emits it), stored in its own indexed
column. :meth:`EventStore.open_alarms` folds the raised / acknowledged / cleared events
of the alarms that have no cleared event back into :class:`~..safety.alarms.Alarm` records for
:meth:`~..safety.alarms.AlarmBook.restore`. Because of that, an ``*_RAISED`` event whose data could
not be turned back into an alarm is refused at append time rather than stored unusable.

Threads: an :class:`EventStore` may be used from any thread (one lock serialises its
connection). From asyncio use :class:`AsyncEventStore`, which runs every call on one
worker thread so writes keep their order and the event loop never blocks on a fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO, TypeGuard

from ..common import models as wire
from ..common.enums import AlarmKind, EventType, HazardState
from ..common.parsing import unencodable_text
from ..common.proof import InspectionRecord, SelfTestRecord
from ..common.workflow import Hazard, Lockout
from ..errors import BridgeError
from ..safety.alarms import Alarm
from ..safety.events import BridgeEvent
from .sqlite_files import SerialWorker, create_schema, make_owner_only, switch_to_wal

SCHEMA_VERSION = 3
"""``PRAGMA user_version`` written by this code. A file with a higher one is refused; a
version 1 file (events only) gets the hazard and lock-out tables when opened, a version 2
file the self-test and inspection tables (filled from the self-test events it holds)."""

APPLICATION_ID = 0x45534231  # "ESB1": marks the SQLite file as an electrical-safety event store
MAX_QUERY_LIMIT = 1000
DEFAULT_RETENTION_DAYS = 3650.0
CSV_HEADER = ("seq", "id", "at", "type", "device_id", "channel", "data")

_SECONDS_PER_DAY = 86400.0
_PRUNE_BATCH = 5000
_BUSY_TIMEOUT_MS = 5000

_RAISED = "raised"
_ACKNOWLEDGED = "acknowledged"
_CLEARED = "cleared"

_LIFECYCLE: dict[EventType, tuple[AlarmKind, str]] = {
    EventType.ALARM_RAISED: (AlarmKind.ALARM, _RAISED),
    EventType.ALARM_ACKNOWLEDGED: (AlarmKind.ALARM, _ACKNOWLEDGED),
    EventType.ALARM_CLEARED: (AlarmKind.ALARM, _CLEARED),
    EventType.WIRING_FAULT_RAISED: (AlarmKind.WIRING_FAULT, _RAISED),
    EventType.WIRING_FAULT_ACKNOWLEDGED: (AlarmKind.WIRING_FAULT, _ACKNOWLEDGED),
    EventType.WIRING_FAULT_CLEARED: (AlarmKind.WIRING_FAULT, _CLEARED),
}
_RAISED_TYPES = tuple(t.value for t, (_, stage) in _LIFECYCLE.items() if stage == _RAISED)
_CLEARED_TYPES = tuple(t.value for t, (_, stage) in _LIFECYCLE.items() if stage == _CLEARED)

# The alarms that are still open: raised, and not (yet) cleared.
_OPEN_IDS_SQL = (
    f"SELECT alarm_id FROM events WHERE type IN ({','.join('?' * len(_RAISED_TYPES))})"
    f" EXCEPT SELECT alarm_id FROM events WHERE type IN ({','.join('?' * len(_CLEARED_TYPES))})"
)
_OPEN_IDS_PARAMS: tuple[str, ...] = _RAISED_TYPES + _CLEARED_TYPES

_COLUMNS = "seq, id, at, type, device_id, channel, data"

_SCHEMA_V1 = (
    """
    CREATE TABLE events (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        id        TEXT NOT NULL UNIQUE,
        at        REAL NOT NULL,
        type      TEXT NOT NULL,
        device_id TEXT,
        channel   TEXT,
        data      TEXT NOT NULL,
        alarm_id  TEXT
    )
    """,
    "CREATE INDEX events_at ON events (at)",
    "CREATE INDEX events_device ON events (device_id, seq)",
    "CREATE INDEX events_type ON events (type, seq)",
    "CREATE INDEX events_alarm ON events (alarm_id) WHERE alarm_id IS NOT NULL",
)

# Version 2: the current state of each hazard and each lock-out, written in the same
# transaction as the event that changed it (so a row and its event are never apart).
_SCHEMA_V2 = (
    """
    CREATE TABLE hazards (
        id        TEXT PRIMARY KEY,
        alarm_id  TEXT NOT NULL,
        device_id TEXT NOT NULL,
        opened_at REAL NOT NULL,
        state     TEXT NOT NULL,
        data      TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE lockouts (
        device_id TEXT PRIMARY KEY,
        data      TEXT NOT NULL
    )
    """,
)
_HAZARD_EVENTS = frozenset(
    {EventType.HAZARD_OPENED, EventType.HAZARD_ACKNOWLEDGED, EventType.HAZARD_ELIMINATED}
)

# Version 3: proof. Every self-test record (pass, fail, no response, missed) and every
# inspection record, written in the transaction of the event that reports it. Retention
# prunes events, never these: they are what a landlord shows an inspector.
_SCHEMA_V3 = (
    """
    CREATE TABLE self_tests (
        id        TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        at        REAL NOT NULL,
        result    TEXT NOT NULL,
        data      TEXT NOT NULL
    )
    """,
    "CREATE INDEX self_tests_device ON self_tests (device_id, at)",
    "CREATE INDEX self_tests_at ON self_tests (at)",
    """
    CREATE TABLE inspections (
        id        TEXT PRIMARY KEY,
        kind      TEXT NOT NULL,
        at        REAL NOT NULL,
        data      TEXT NOT NULL
    )
    """,
    "CREATE INDEX inspections_kind ON inspections (kind, at)",
)
_SELF_TEST_EVENTS = frozenset(
    {EventType.SELF_TEST, EventType.SELF_TEST_RESULT, EventType.SELF_TEST_MISSED}
)


class StoreError(BridgeError):
    """The event store cannot be opened or used; the message names the file."""


class InvalidEvent(StoreError, ValueError):
    """An event was refused before anything was written (for example data that is not JSON)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as committed: ``seq`` orders the store, ``id`` is unique across stores."""

    seq: int
    id: str
    type: EventType
    at: float
    device_id: str | None = None
    channel: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def event(self) -> BridgeEvent:
        """The event without its storage identity."""
        return BridgeEvent(
            type=self.type,
            at=self.at,
            device_id=self.device_id,
            channel=self.channel,
            data=self.data,
        )

    def to_wire(self) -> wire.BridgeEvent:
        """The contract's form: the event's fields plus ``seq`` and ``id``."""
        return self.event.to_wire(self.id, self.seq)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the wire form."""
        return self.to_wire().to_dict()


@dataclass(frozen=True, slots=True)
class _Encoded:
    type: EventType
    at: float
    device_id: str | None
    channel: str | None
    data: dict[str, Any]
    data_json: str
    alarm_id: str | None


class EventStore:
    """The bridge's append-only event log in one SQLite file."""

    def __init__(self, path: Path, *, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        if not _finite_number(retention_days) or retention_days <= 0:
            raise ValueError(f"retention_days must be a positive number, not {retention_days!r}")
        self.path = Path(path)
        self.retention_days = float(retention_days)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not an event store file")
        make_owner_only(self.path)
        try:
            conn = sqlite3.connect(self.path, autocommit=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the event store: {exc}") from exc
        try:
            self._setup(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # -- opening ------------------------------------------------------------------------

    def _setup(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: not a readable event store ({exc}); the file is corrupt or is"
                " not an SQLite database. Move it aside to start a new store."
            ) from exc
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: event store schema version {version} was written by a newer"
                f" bridge; this one understands up to version {SCHEMA_VERSION}. Upgrade the"
                " bridge, or move the file aside."
            )
        try:
            if version == 0:
                tables = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                ).fetchone()[0]
                if tables:
                    raise StoreError(
                        f"{self.path}: an SQLite database, but not an event store"
                        " (it already holds other tables)"
                    )
            elif app_id != APPLICATION_ID:
                raise StoreError(
                    f"{self.path}: an SQLite database of another application"
                    f" (application_id {app_id:#x}), not an event store"
                )
            mode = switch_to_wal(conn)
            if mode != "wal":
                raise StoreError(
                    f"{self.path}: SQLite could not switch to WAL mode (got {mode!r});"
                    " put the data folder on a local filesystem"
                )
            if version == 0:
                create_schema(
                    conn, _SCHEMA_V1 + _SCHEMA_V2 + _SCHEMA_V3, APPLICATION_ID, SCHEMA_VERSION
                )
            elif version in (1, 2):
                # One transaction: the new tables, the old self-test events as records, and
                # the new version number, all or nothing.
                create_schema(
                    conn,
                    (_SCHEMA_V2 if version == 1 else ()) + _SCHEMA_V3,
                    APPLICATION_ID,
                    SCHEMA_VERSION,
                    _backfill_self_tests,
                )
            # Fail now, not at the first alarm, if the file is damaged where it matters.
            conn.execute("SELECT seq FROM events ORDER BY seq DESC LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the event store: {exc}") from exc

    # -- writing ------------------------------------------------------------------------

    def append(self, event: BridgeEvent) -> StoredEvent:
        """Store one event; returns once it is committed to disk."""
        (stored,) = self.append_many([event])
        return stored

    def append_many(
        self, events: Iterable[BridgeEvent], ids: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        """Store several events in one transaction: all of them, or (on error) none.

        ``ids`` gives the events ids chosen before (an event pushed while the store could
        not write keeps its id once stored); by default each gets a new one.
        """
        encoded = [_encode(event) for event in events]
        if not encoded:
            return []
        if ids is not None and len(ids) != len(encoded):
            raise InvalidEvent(f"{len(ids)} ids given for {len(encoded)} events")
        stored: list[StoredEvent] = []
        with self._transaction() as conn:
            for index, enc in enumerate(encoded):
                event_id = ids[index] if ids is not None else new_event_id()
                cursor = conn.execute(
                    "INSERT INTO events (id, at, type, device_id, channel, data, alarm_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        event_id,
                        enc.at,
                        enc.type.value,
                        enc.device_id,
                        enc.channel,
                        enc.data_json,
                        enc.alarm_id,
                    ),
                )
                seq = cursor.lastrowid
                assert seq is not None
                _keep_state(conn, enc)
                stored.append(
                    StoredEvent(
                        seq=seq,
                        id=event_id,
                        type=enc.type,
                        at=enc.at,
                        device_id=enc.device_id,
                        channel=enc.channel,
                        data=enc.data,
                    )
                )
        return stored

    def prune(self, now: float) -> int:
        """Delete events older than the retention period; returns how many were deleted.

        Alarms and wiring faults are pruned as a whole: all the events of one alarm go
        together, once it has been cleared and its newest event is older than the
        retention. The events of an alarm that is still open are never deleted, however
        old. Work is done in batches, each its own short transaction.
        """
        cutoff = self._cutoff(now)
        total = 0
        while True:
            deleted = self._prune_batch(cutoff, _PRUNE_BATCH)
            total += deleted
            if deleted < _PRUNE_BATCH:
                return total

    def _cutoff(self, now: float) -> float:
        if not _finite_number(now):
            raise ValueError(f"now must be a finite number, not {now!r}")
        return float(now) - self.retention_days * _SECONDS_PER_DAY

    def _prune_batch(self, cutoff: float, limit: int) -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM events WHERE seq IN ("
                " SELECT seq FROM events WHERE at < ? AND ("
                "  alarm_id IS NULL OR ("
                "   alarm_id NOT IN (SELECT alarm_id FROM events"
                "                    WHERE alarm_id IS NOT NULL AND at >= ?)"
                f"   AND alarm_id NOT IN ({_OPEN_IDS_SQL})))"
                " ORDER BY seq LIMIT ?)",
                (cutoff, cutoff, *_OPEN_IDS_PARAMS, limit),
            )
            return cursor.rowcount

    def prune_hazards(self, now: float) -> list[str]:
        """Forget the hazards eliminated before the retention period; returns their ids.

        Only the hazard's current state goes: its events stay in the event log until the
        log's own retention takes them (they are no newer than the elimination). A hazard
        whose alarm is still open is kept, so that the alarm never opens a second one.
        """
        cutoff = self._cutoff(now)
        with self._transaction() as conn:
            rows = conn.execute(
                "DELETE FROM hazards WHERE state = ?"
                " AND json_extract(data, '$.eliminated.at') < ?"
                f" AND alarm_id NOT IN ({_OPEN_IDS_SQL}) RETURNING id",
                (HazardState.ELIMINATED.value, cutoff, *_OPEN_IDS_PARAMS),
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    # -- reading ------------------------------------------------------------------------

    def query(
        self,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """Events matching every given filter, oldest (lowest ``seq``) first.

        ``since <= at < until``; ``after_seq`` pages on (pass the last ``seq`` you got).
        ``newest_first`` gives the newest ``limit`` instead, highest ``seq`` first, and
        ``before_seq`` pages back from there (a person's log reads newest first).
        An empty ``types`` matches nothing. ``limit`` is 1 to 1000.
        """
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValueError(f"limit must be an integer, not {limit!r}")
        if not 1 <= limit <= MAX_QUERY_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_QUERY_LIMIT}, not {limit}")
        where = _where(device_id, types, since, until, after_seq, before_seq)
        if where is None:
            return []
        clause, params = where
        order = "seq DESC" if newest_first else "seq"
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events{clause} ORDER BY {order} LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [self._row(row) for row in rows]

    def last_seq(self) -> int:
        """The highest ``seq`` ever stored (0 for a new store); pruning does not lower it."""
        with self._connection() as conn:
            row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def open_alarms(self) -> list[Alarm]:
        """The alarms and wiring faults still open, rebuilt for ``AlarmBook.restore``.

        Each comes back ``active=True`` (the bus re-evaluates it on its next poll), with the
        value at the moment of alarm and whoever acknowledged it, in the order raised.
        """
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE alarm_id IN ({_OPEN_IDS_SQL}) ORDER BY seq",
                _OPEN_IDS_PARAMS,
            ).fetchall()
        open_: dict[str, Alarm] = {}
        for row in rows:
            event = self._row(row)
            kind, stage = _LIFECYCLE[event.type]
            alarm_id = str(event.data["id"])
            if stage == _RAISED:
                if alarm_id not in open_:
                    open_[alarm_id] = _alarm_from(kind, event)
            elif stage == _ACKNOWLEDGED and alarm_id in open_:
                acked_at = event.data.get("acknowledged_at")
                open_[alarm_id] = replace(
                    open_[alarm_id],
                    acknowledged_by=str(event.data["acknowledged_by"]),
                    acknowledged_at=float(acked_at) if _finite_number(acked_at) else event.at,
                )
        return list(open_.values())

    def hazards(self) -> list[Hazard]:
        """Every hazard as its last event left it, oldest first."""
        with self._connection() as conn:
            rows = conn.execute("SELECT data FROM hazards ORDER BY opened_at, id").fetchall()
        return [Hazard.from_dict(json.loads(row[0])) for row in rows]

    def lockouts(self) -> dict[str, Lockout]:
        """The devices locked out, by device id."""
        with self._connection() as conn:
            rows = conn.execute("SELECT device_id, data FROM lockouts").fetchall()
        return {str(row[0]): Lockout.from_dict(json.loads(row[1])) for row in rows}

    def self_tests(
        self,
        *,
        device_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = MAX_QUERY_LIMIT,
    ) -> list[SelfTestRecord]:
        """Self-test records, newest first (``since <= at < until``)."""
        clause, params = _proof_where(("device_id", device_id), since, until)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT data FROM self_tests{clause} ORDER BY at DESC, id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [SelfTestRecord.from_dict(json.loads(row[0])) for row in rows]

    def last_self_tests(self) -> dict[str, SelfTestRecord]:
        """Each device's newest self-test record."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT data FROM self_tests AS t WHERE at = (SELECT max(at) FROM self_tests"
                " WHERE device_id = t.device_id) ORDER BY at"
            ).fetchall()
        records = (SelfTestRecord.from_dict(json.loads(row[0])) for row in rows)
        return {record.device_id: record for record in records}

    def inspections(
        self,
        *,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = MAX_QUERY_LIMIT,
    ) -> list[InspectionRecord]:
        """Inspection records, newest first (``since <= at < until``)."""
        clause, params = _proof_where(("kind", kind), since, until)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT data FROM inspections{clause} ORDER BY at DESC, id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [InspectionRecord.from_dict(json.loads(row[0])) for row in rows]

    def last_inspections(self) -> dict[str, float]:
        """When each kind of inspection was last recorded."""
        with self._connection() as conn:
            rows = conn.execute("SELECT kind, max(at) FROM inspections GROUP BY kind").fetchall()
        return {str(row[0]): float(row[1]) for row in rows}

    def export_csv(
        self,
        out: TextIO,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
    ) -> int:
        """Write matching events as CSV, oldest first, page by page; returns rows written.

        Columns: seq, id, at (ISO 8601, UTC), type, device_id, channel, data (JSON). A
        missing device or channel is an empty cell. Open ``out`` with ``newline=""``.
        """
        type_list = None if types is None else list(types)
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        written = 0
        cursor_seq = after_seq
        while True:
            page = self.query(
                device_id=device_id,
                types=type_list,
                since=since,
                until=until,
                after_seq=cursor_seq,
                limit=MAX_QUERY_LIMIT,
            )
            for event in page:
                writer.writerow(
                    (
                        event.seq,
                        event.id,
                        iso_utc(event.at),
                        event.type.value,
                        event.device_id or "",
                        event.channel or "",
                        _dumps(event.data),
                    )
                )
            written += len(page)
            if len(page) < MAX_QUERY_LIMIT:
                return written
            cursor_seq = page[-1].seq

    def pragmas(self) -> dict[str, int | str]:
        """The settings in effect on this connection (for diagnostics and tests)."""
        with self._connection() as conn:
            return {
                "journal_mode": str(conn.execute("PRAGMA journal_mode").fetchone()[0]),
                "synchronous": int(conn.execute("PRAGMA synchronous").fetchone()[0]),
                "user_version": int(conn.execute("PRAGMA user_version").fetchone()[0]),
            }

    # -- closing ------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close. Safe to call twice."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # Everything is committed already; the next open replays the WAL.
            finally:
                conn.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._conn is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventStore({str(self.path)!r}, retention_days={self.retention_days})"

    # -- internals ----------------------------------------------------------------------

    def _connection(self) -> _Guard:
        return _Guard(self, transaction=False)

    def _transaction(self) -> _Guard:
        return _Guard(self, transaction=True)

    def _row(self, row: Sequence[Any]) -> StoredEvent:
        seq, event_id, at, type_, device_id, channel, data = row
        try:
            event_type = EventType(type_)
        except ValueError:
            raise StoreError(
                f"{self.path}: event {seq} has unknown type {type_!r} (written by a newer bridge?)"
            ) from None
        try:
            decoded = json.loads(data)
        except ValueError as exc:
            raise StoreError(f"{self.path}: event {seq} has unreadable data: {exc}") from exc
        return StoredEvent(
            seq=int(seq),
            id=str(event_id),
            type=event_type,
            at=float(at),
            device_id=device_id,
            channel=channel,
            data=decoded if isinstance(decoded, dict) else {},
        )


class _Guard:
    """Holds the store's lock around one use of its connection; maps SQLite errors."""

    def __init__(self, store: EventStore, *, transaction: bool) -> None:
        self._store = store
        self._transaction = transaction

    def __enter__(self) -> sqlite3.Connection:
        self._store._lock.acquire()
        conn = self._store._conn
        if conn is None:
            self._store._lock.release()
            raise StoreError(f"{self._store.path}: the event store is closed")
        if self._transaction:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._store._lock.release()
                raise StoreError(f"{self._store.path}: cannot write: {exc}") from exc
        return conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self._store
        conn = store._conn
        try:
            if self._transaction and conn is not None:
                if exc is None:
                    try:
                        conn.execute("COMMIT")
                    except sqlite3.Error as commit_exc:
                        _rollback(conn)
                        raise StoreError(f"{store.path}: cannot commit: {commit_exc}") from (
                            commit_exc
                        )
                else:
                    _rollback(conn)
        finally:
            store._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"{store.path}: {exc}") from exc


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        # If even this fails, SQLite has already rolled back after a hard error.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class AsyncEventStore:
    """An :class:`EventStore` for asyncio: one worker thread, so writes stay in order.

    Calls are queued in the order they are made. An ``append`` whose awaiting task is
    cancelled is still written (cancellation only stops the waiting).
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._worker = SerialWorker(
            "event-store", lambda: StoreError(f"{self._store.path}: the event store is closed")
        )

    @classmethod
    async def open(
        cls, path: Path, *, retention_days: float = DEFAULT_RETENTION_DAYS
    ) -> AsyncEventStore:
        """Open (or create) the store at ``path`` without blocking the event loop."""
        store = await asyncio.to_thread(EventStore, path, retention_days=retention_days)
        return cls(store)

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._store.path

    async def append(self, event: BridgeEvent) -> StoredEvent:
        """Store one event; returns once it is committed to disk."""
        return await self._run(self._store.append, event)

    async def append_many(
        self, events: Iterable[BridgeEvent], ids: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        """Store several events in one transaction (see :meth:`EventStore.append_many`)."""
        return await self._run(
            self._store.append_many, list(events), None if ids is None else list(ids)
        )

    async def query(
        self,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """See :meth:`EventStore.query`."""
        return await self._run(
            self._store.query,
            device_id=device_id,
            types=None if types is None else list(types),
            since=since,
            until=until,
            after_seq=after_seq,
            before_seq=before_seq,
            newest_first=newest_first,
            limit=limit,
        )

    async def last_seq(self) -> int:
        """See :meth:`EventStore.last_seq`."""
        return await self._run(self._store.last_seq)

    async def open_alarms(self) -> list[Alarm]:
        """See :meth:`EventStore.open_alarms`."""
        return await self._run(self._store.open_alarms)

    async def hazards(self) -> list[Hazard]:
        """See :meth:`EventStore.hazards`."""
        return await self._run(self._store.hazards)

    async def lockouts(self) -> dict[str, Lockout]:
        """See :meth:`EventStore.lockouts`."""
        return await self._run(self._store.lockouts)

    async def self_tests(
        self,
        *,
        device_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = MAX_QUERY_LIMIT,
    ) -> list[SelfTestRecord]:
        """See :meth:`EventStore.self_tests`."""
        return await self._run(
            self._store.self_tests, device_id=device_id, since=since, until=until, limit=limit
        )

    async def last_self_tests(self) -> dict[str, SelfTestRecord]:
        """See :meth:`EventStore.last_self_tests`."""
        return await self._run(self._store.last_self_tests)

    async def inspections(
        self,
        *,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = MAX_QUERY_LIMIT,
    ) -> list[InspectionRecord]:
        """See :meth:`EventStore.inspections`."""
        return await self._run(
            self._store.inspections, kind=kind, since=since, until=until, limit=limit
        )

    async def last_inspections(self) -> dict[str, float]:
        """See :meth:`EventStore.last_inspections`."""
        return await self._run(self._store.last_inspections)

    async def prune(self, now: float) -> int:
        """See :meth:`EventStore.prune`; appends queued meanwhile run between batches."""
        cutoff = self._store._cutoff(now)
        total = 0
        while True:
            deleted = await self._run(self._store._prune_batch, cutoff, _PRUNE_BATCH)
            total += deleted
            if deleted < _PRUNE_BATCH:
                return total

    async def prune_hazards(self, now: float) -> list[str]:
        """See :meth:`EventStore.prune_hazards`."""
        return await self._run(self._store.prune_hazards, now)

    async def export_csv(
        self,
        out: TextIO,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
    ) -> int:
        """See :meth:`EventStore.export_csv` (``out`` is written from the worker thread)."""
        return await self._run(
            self._store.export_csv,
            out,
            device_id=device_id,
            types=None if types is None else list(types),
            since=since,
            until=until,
            after_seq=after_seq,
        )

    async def close(self) -> None:
        """Wait for every queued call, then checkpoint the WAL and close. Safe to call twice."""
        await self._worker.close(self._store.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._worker.run(fn, *args, **kwargs)


# -- encoding and decoding -----------------------------------------------------------------


def new_event_id() -> str:
    """A new event id, unique across stores."""
    return uuid.uuid4().hex


def iso_utc(at: float) -> str:
    """``at`` (seconds since the epoch) as ISO 8601 in UTC, to the microsecond."""
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="microseconds")


def _finite_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))


def _encode(event: BridgeEvent) -> _Encoded:
    """Validate one event completely, before anything is written."""
    if not isinstance(event, BridgeEvent):
        raise InvalidEvent(f"not a BridgeEvent: {event!r}")
    try:
        event_type = EventType(event.type)
    except ValueError:
        raise InvalidEvent(f"unknown event type {event.type!r}") from None
    what = f"{event_type.value} event"
    if not _finite_number(event.at):
        raise InvalidEvent(f"{what}: 'at' must be a finite number of seconds, not {event.at!r}")
    try:
        iso_utc(event.at)
    except (OverflowError, OSError, ValueError):
        raise InvalidEvent(f"{what}: 'at' {event.at!r} is not a representable time") from None
    for name in ("device_id", "channel"):
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            raise InvalidEvent(f"{what}: {name} must be a string or None, not {value!r}")
    if not isinstance(event.data, Mapping):
        raise InvalidEvent(f"{what}: data must be a mapping, not {type(event.data).__name__}")
    if not all(isinstance(key, str) for key in event.data):
        raise InvalidEvent(f"{what}: data keys must be strings")
    # SQLite takes only UTF-8: a lone surrogate (JSON's "\\ud800" read back) would fail the
    # insert with a UnicodeEncodeError, outside the errors a caller expects of the store.
    where = unencodable_text({"device_id": event.device_id, "channel": event.channel})
    where = where or unencodable_text(dict(event.data))
    if where is not None:
        raise InvalidEvent(f"{what}: '{where}' is not valid Unicode (a lone surrogate)")
    try:
        data_json = _dumps(event.data)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEvent(f"{what}: data is not JSON-serialisable: {exc}") from None
    data = json.loads(data_json)
    alarm_id: str | None = None
    lifecycle = _LIFECYCLE.get(event_type)
    if lifecycle is not None:
        kind, stage = lifecycle
        alarm_id = data.get("id")
        if not isinstance(alarm_id, str) or not alarm_id:
            raise InvalidEvent(f"{what}: data must carry the alarm's id as a non-empty 'id'")
        if data.get("kind", kind.value) != kind.value:
            raise InvalidEvent(f"{what}: data kind {data.get('kind')!r} is not {kind.value!r}")
        if stage == _RAISED:
            _alarm_from(
                kind,
                StoredEvent(
                    0, "", event_type, float(event.at), event.device_id, event.channel, data
                ),
            )
        elif stage == _ACKNOWLEDGED:
            who = data.get("acknowledged_by")
            if not isinstance(who, str) or not who:
                raise InvalidEvent(f"{what}: data must say who acknowledged ('acknowledged_by')")
    if event_type in _HAZARD_EVENTS:
        try:
            Hazard.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise InvalidEvent(f"{what}: data must be the hazard's wire form: {exc}") from None
    elif event_type in (EventType.LOCKOUT_SET, EventType.LOCKOUT_LIFTED):
        device = data.get("device_id", event.device_id)
        if not isinstance(device, str) or not device:
            raise InvalidEvent(f"{what}: data must name the device ('device_id')")
        lockout = data.get("lockout")
        try:
            if not isinstance(lockout, Mapping):
                raise ValueError(f"'lockout' must be an object, not {lockout!r}")
            Lockout.from_dict(lockout)
        except (ValueError, TypeError) as exc:
            raise InvalidEvent(f"{what}: data must carry the lock-out: {exc}") from None
    return _Encoded(
        type=event_type,
        at=float(event.at),
        device_id=event.device_id,
        channel=event.channel,
        data=data,
        data_json=data_json,
        alarm_id=alarm_id,
    )


def _keep_state(conn: sqlite3.Connection, enc: _Encoded) -> None:
    """Write the hazard or lock-out an event changed (in the event's transaction)."""
    data = enc.data
    if enc.type in _HAZARD_EVENTS:
        conn.execute(
            "INSERT INTO hazards (id, alarm_id, device_id, opened_at, state, data)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " state = excluded.state, data = excluded.data",
            (
                data["id"],
                data["alarm_id"],
                data["device_id"],
                float(data["opened_at"]),
                data["state"],
                enc.data_json,
            ),
        )
    elif enc.type is EventType.LOCKOUT_SET:
        conn.execute(
            "INSERT INTO lockouts (device_id, data) VALUES (?, ?) ON CONFLICT (device_id)"
            " DO UPDATE SET data = excluded.data",
            (data.get("device_id", enc.device_id), _dumps(data["lockout"])),
        )
    elif enc.type is EventType.LOCKOUT_LIFTED:
        conn.execute(
            "DELETE FROM lockouts WHERE device_id = ?", (data.get("device_id", enc.device_id),)
        )
    elif enc.type in _SELF_TEST_EVENTS and "id" in data:
        record = _self_test_record(data)
        conn.execute(
            "INSERT OR REPLACE INTO self_tests (id, device_id, at, result, data)"
            " VALUES (?, ?, ?, ?, ?)",
            (record.id, record.device_id, record.at, str(record.result), _dumps(record.to_dict())),
        )
    elif enc.type is EventType.INSPECTION_RECORDED:
        try:
            inspection = InspectionRecord.from_dict(data)
        except ValueError as exc:
            raise InvalidEvent(f"{enc.type.value} event: {exc}") from None
        conn.execute(
            "INSERT OR REPLACE INTO inspections (id, kind, at, data) VALUES (?, ?, ?, ?)",
            (inspection.id, str(inspection.kind), inspection.at, _dumps(inspection.to_dict())),
        )


def _self_test_record(data: Mapping[str, Any]) -> SelfTestRecord:
    try:
        record = SelfTestRecord.from_dict(
            {k: v for k, v in data.items() if k not in ("seconds", "window_s")}
        )
    except ValueError as exc:
        raise InvalidEvent(f"self-test event: {exc}") from None
    return record


def _backfill_self_tests(conn: sqlite3.Connection) -> None:
    """Turn the self-test events of a version 2 store (``{result, seconds, window_s}``, a
    test a person started) into records, keyed by the event's id."""
    rows = conn.execute(
        "SELECT id, at, device_id, channel, data FROM events WHERE type = ? AND device_id"
        " IS NOT NULL",
        (EventType.SELF_TEST.value,),
    ).fetchall()
    for event_id, at, device_id, channel, data_json in rows:
        data = json.loads(data_json)
        if "id" in data:
            continue
        passed = data.get("result") == "pass"
        seconds = data.get("seconds")
        window = data.get("window_s")
        record = SelfTestRecord(
            id=str(event_id),
            device_id=str(device_id),
            result=str(data.get("result") or "fail"),
            trigger="manual",
            at=float(at),
            due_at=None,
            started_at=float(at) - seconds if passed and _finite_number(seconds) else None,
            seconds_to_alarm=float(seconds) if passed and _finite_number(seconds) else None,
            time_limit_s=float(window) if _finite_number(window) else 30.0,
            channel=channel,
            who=None,
            message="recorded before self-test records existed",
        )
        conn.execute(
            "INSERT OR IGNORE INTO self_tests (id, device_id, at, result, data)"
            " VALUES (?, ?, ?, ?, ?)",
            (record.id, record.device_id, record.at, str(record.result), _dumps(record.to_dict())),
        )


def _proof_where(
    column: tuple[str, str | None], since: float | None, until: float | None
) -> tuple[str, list[Any]]:
    name, value = column
    conditions: list[str] = []
    params: list[Any] = []
    if value is not None:
        conditions.append(f"{name} = ?")
        params.append(value)
    for bound, op in ((since, ">="), (until, "<")):
        if bound is not None:
            conditions.append(f"at {op} ?")
            params.append(float(bound))
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), params


def _alarm_from(kind: AlarmKind, event: StoredEvent) -> Alarm:
    """The open alarm a raised event describes (its data is ``Alarm.as_dict()``)."""
    data = event.data
    what = f"{event.type.value} event"
    device_id = data.get("device_id", event.device_id)
    channel = data.get("channel", event.channel)
    if not isinstance(device_id, str) or not isinstance(channel, str):
        raise InvalidEvent(f"{what}: an alarm needs a device_id and a channel")
    raised_at = data.get("raised_at", event.at)
    if not _finite_number(raised_at):
        raise InvalidEvent(f"{what}: raised_at must be a number, not {raised_at!r}")
    value = data.get("value_at_alarm")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise InvalidEvent(f"{what}: value_at_alarm must be a number, a string or null")
    detail = data.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise InvalidEvent(f"{what}: detail must be a string or null")
    acked_by = data.get("acknowledged_by")
    if acked_by is not None and not isinstance(acked_by, str):
        raise InvalidEvent(f"{what}: acknowledged_by must be a string or null")
    acked_at = data.get("acknowledged_at")
    if acked_at is not None and not _finite_number(acked_at):
        raise InvalidEvent(f"{what}: acknowledged_at must be a number or null")
    window = data.get("detection_window_s")  # absent in events of older bridges
    if window is not None and not _finite_number(window):
        raise InvalidEvent(f"{what}: detection_window_s must be a number or null")
    return Alarm(
        id=str(data["id"]),
        kind=kind,
        device_id=device_id,
        channel=channel,
        raised_at=float(raised_at),
        value_at_alarm=value,
        detail=detail,
        active=True,
        acknowledged_by=acked_by,
        acknowledged_at=None if acked_at is None else float(acked_at),
        inactive_since=None,
        detection_window_s=None if window is None else float(window),
    )


def _where(
    device_id: str | None,
    types: Iterable[EventType] | None,
    since: float | None,
    until: float | None,
    after_seq: int | None,
    before_seq: int | None = None,
) -> tuple[str, list[Any]] | None:
    """The WHERE clause for the filters, or None when they can match nothing."""
    conditions: list[str] = []
    params: list[Any] = []
    if device_id is not None:
        conditions.append("device_id = ?")
        params.append(device_id)
    if types is not None:
        values = sorted({EventType(t).value for t in types})
        if not values:
            return None
        conditions.append(f"type IN ({','.join('?' * len(values))})")
        params.extend(values)
    for name, bound, op in (("since", since, ">="), ("until", until, "<")):
        if bound is None:
            continue
        if not _finite_number(bound):
            raise ValueError(f"{name} must be a finite number, not {bound!r}")
        conditions.append(f"at {op} ?")
        params.append(float(bound))
    for name, seq, op in (("after_seq", after_seq, ">"), ("before_seq", before_seq, "<")):
        if seq is None:
            continue
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ValueError(f"{name} must be an integer, not {seq!r}")
        conditions.append(f"seq {op} ?")
        params.append(seq)
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return clause, params
