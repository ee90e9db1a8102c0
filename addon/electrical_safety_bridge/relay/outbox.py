"""The relay's durable outbox: SQLite in WAL mode, one row per message, one per sink to deliver.

Durability: a message is committed with ``synchronous=FULL`` (fsynced) before any sink can
fetch it, so nothing is reported sent that a crash could take back. A delivery row is deleted
only once its sink has confirmed the message (MQTT PUBACK, HTTP 2xx); those deletions are
committed without the fsync, because losing one to a power cut only sends a duplicate, which
at-least-once delivery allows. A message goes when no sink still owes it.

Order: sinks fetch by priority (alarms, events, telemetry) and, within one, by the outbox's
own id, which follows the event store's ``seq``; so each device's events keep their order.

The store cursor: the highest store ``seq`` whose event is in the outbox, written in the same
transaction as the messages. On start the relay re-reads the event store past it, so an event
stored just before a crash (and not yet handed to the relay) is still sent.

Bounds: the outbox is bounded by ``max_bytes`` of message bodies. Over it, telemetry is
coalesced: each device keeps its newest snapshot, and a gap message records how many were
dropped and between which times. Alarms and the other events are never evicted; if they alone
exceed the bound, the outbox grows past it and says so in the log once per crossing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BridgeError
from ..storage.sqlite_files import SerialWorker, create_schema, make_owner_only, switch_to_wal
from .messages import KIND_TELEMETRY, Message, Priority, gap_message

SCHEMA_VERSION = 1
APPLICATION_ID = 0x45535231  # "ESR1": an electrical-safety relay outbox
_BUSY_TIMEOUT_MS = 5000

_SCHEMA_V1 = (
    """
    CREATE TABLE messages (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id  TEXT NOT NULL UNIQUE,
        kind      TEXT NOT NULL,
        type      TEXT NOT NULL,
        priority  INTEGER NOT NULL,
        device_id TEXT,
        at        REAL NOT NULL,
        body      BLOB NOT NULL,
        size      INTEGER NOT NULL
    )
    """,
    "CREATE INDEX messages_telemetry ON messages (device_id, id) WHERE kind = 'telemetry'",
    """
    CREATE TABLE deliveries (
        sink     TEXT NOT NULL,
        priority INTEGER NOT NULL,
        message  INTEGER NOT NULL,
        PRIMARY KEY (sink, priority, message)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX deliveries_message ON deliveries (message)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """
    CREATE TABLE disabled_sinks (
        sink TEXT PRIMARY KEY, target TEXT NOT NULL, at REAL NOT NULL, reason TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE TABLE seen_commands (command_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
    "CREATE INDEX seen_commands_at ON seen_commands (seen_at)",
)

_LOGGER = logging.getLogger(__name__)


class OutboxError(BridgeError):
    """The outbox cannot be opened or used; the message names the file."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A message a sink still owes, as fetched for delivery."""

    id: int
    message: Message


@dataclass(slots=True)
class OutboxMetrics:
    """Counters since the outbox was opened, for the heartbeat, the log and the bench."""

    added: int = 0
    acked: int = 0
    coalesced: int = 0
    gaps: int = 0
    over_bound: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "added": self.added,
            "acked": self.acked,
            "telemetry_coalesced": self.coalesced,
            "gaps": self.gaps,
            "over_bound": self.over_bound,
        }


class Outbox:
    """The outbox in one SQLite file. Use from one thread at a time (the lock enforces it)."""

    def __init__(
        self,
        path: Path,
        *,
        site: str,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.site = site
        self.max_bytes = max_bytes
        self.metrics = OutboxMetrics()
        self._clock = clock
        self._lock = threading.Lock()
        make_owner_only(self.path)
        try:
            conn = sqlite3.connect(self.path, autocommit=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise OutboxError(f"{self.path}: cannot open the relay outbox: {exc}") from exc
        try:
            self._setup(conn)
            self.size = int(
                conn.execute("SELECT coalesce(sum(size), 0) FROM messages").fetchone()[0]
            )
        except sqlite3.Error as exc:
            conn.close()
            raise OutboxError(f"{self.path}: cannot open the relay outbox: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise OutboxError(
                f"{self.path}: not a readable relay outbox ({exc}). Move it aside: the relay"
                " starts a new one and re-sends from the event store's newest event."
            ) from exc
        if version > SCHEMA_VERSION:
            raise OutboxError(
                f"{self.path}: outbox schema {version} was written by a newer bridge"
                f" (this one reads up to {SCHEMA_VERSION})"
            )
        if version and app_id != APPLICATION_ID:
            raise OutboxError(f"{self.path}: an SQLite file of another application")
        mode = switch_to_wal(conn)
        if mode != "wal":
            raise OutboxError(f"{self.path}: SQLite could not switch to WAL mode (got {mode!r})")
        if version == 0:
            create_schema(conn, _SCHEMA_V1, APPLICATION_ID, SCHEMA_VERSION)

    # -- writing ------------------------------------------------------------------------

    def add(
        self, items: Iterable[tuple[Message, Sequence[str]]], store_seq: int | None = None
    ) -> int:
        """Commit messages, each for its sinks, and advance the store cursor; fsynced.

        A message whose id is already in the outbox is skipped (the cursor makes that rare).
        Returns how many messages were added. Coalesces telemetry if over the bound.
        """
        added = 0
        grown = 0
        with self._transaction() as conn:
            for message, sinks in items:
                if not sinks:
                    continue
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO messages"
                    " (event_id, kind, type, priority, device_id, at, body, size)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message.event_id,
                        message.kind,
                        message.type,
                        int(message.priority),
                        message.device_id,
                        message.at,
                        message.body,
                        len(message.body),
                    ),
                )
                if not cursor.rowcount:
                    continue
                row_id = cursor.lastrowid
                conn.executemany(
                    "INSERT INTO deliveries (sink, priority, message) VALUES (?, ?, ?)",
                    [(sink, int(message.priority), row_id) for sink in sinks],
                )
                added += 1
                grown += len(message.body)
            if store_seq is not None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('store_cursor', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    " WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                    (str(store_seq),),
                )
        self.size += grown
        self.metrics.added += added
        if self.size > self.max_bytes:
            self._relieve()
        elif self.metrics.over_bound and self.size <= self.max_bytes * 0.9:
            self.metrics.over_bound = False
            _LOGGER.info("relay outbox back under its bound (%d bytes)", self.size)
        return added

    def ack(self, sink: str, rows: Iterable[tuple[int, int]]) -> int:
        """Forget what ``sink`` confirmed: (priority, id) pairs. Not fsynced (see the module)."""
        rows = list(rows)
        if not rows:
            return 0
        freed = 0
        with self._transaction(durable=False) as conn:
            conn.executemany(
                "DELETE FROM deliveries WHERE sink = ? AND priority = ? AND message = ?",
                [(sink, priority, row_id) for priority, row_id in rows],
            )
            for _, row_id in rows:
                found = conn.execute(
                    "DELETE FROM messages WHERE id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM deliveries WHERE message = ?) RETURNING size",
                    (row_id, row_id),
                ).fetchone()
                if found:
                    freed += int(found[0])
        self.size -= freed
        self.metrics.acked += len(rows)
        return len(rows)

    def _relieve(self) -> None:
        """Coalesce telemetry to each device's newest snapshot, recording a gap per device."""
        now = self._clock()
        dropped_total = 0
        devices = 0
        with self._transaction() as conn:
            groups = conn.execute(
                "SELECT device_id, count(*), min(at), max(at), max(id) FROM messages"
                " WHERE kind = ? GROUP BY device_id HAVING count(*) > 1",
                (KIND_TELEMETRY,),
            ).fetchall()
            for device_id, count, first_at, last_at, newest in groups:
                doomed = "SELECT id FROM messages WHERE kind = ? AND device_id IS ? AND id < ?"
                args = (KIND_TELEMETRY, device_id, newest)
                sinks = [
                    row[0]
                    for row in conn.execute(
                        f"SELECT DISTINCT sink FROM deliveries WHERE message IN ({doomed})", args
                    )
                ]
                conn.execute(f"DELETE FROM deliveries WHERE message IN ({doomed})", args)
                conn.execute(
                    "DELETE FROM messages WHERE kind = ? AND device_id IS ? AND id < ?", args
                )
                dropped = count - 1
                dropped_total += dropped
                devices += 1
                gap = gap_message(self.site, device_id, dropped, first_at, last_at, now)
                row_id = conn.execute(
                    "INSERT INTO messages (event_id, kind, type, priority, device_id, at, body,"
                    " size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        gap.event_id,
                        gap.kind,
                        gap.type,
                        int(gap.priority),
                        gap.device_id,
                        gap.at,
                        gap.body,
                        len(gap.body),
                    ),
                ).lastrowid
                conn.executemany(
                    "INSERT INTO deliveries (sink, priority, message) VALUES (?, ?, ?)",
                    [(sink, int(gap.priority), row_id) for sink in sinks],
                )
        if dropped_total:
            self.size = self._measure()
            self.metrics.coalesced += dropped_total
            self.metrics.gaps += devices
            _LOGGER.warning(
                "relay outbox over its bound of %d bytes: coalesced %d telemetry snapshots of"
                " %d device(s) to the newest each and recorded a gap (now %d bytes)",
                self.max_bytes,
                dropped_total,
                devices,
                self.size,
            )
        if self.size > self.max_bytes and not self.metrics.over_bound:
            self.metrics.over_bound = True
            _LOGGER.warning(
                "relay outbox holds %d bytes, over its bound of %d, in alarms and events that"
                " are never evicted; it grows until the sinks catch up",
                self.size,
                self.max_bytes,
            )

    # -- reading ------------------------------------------------------------------------

    def fetch(self, sink: str, after: Mapping[int, int], limit: int) -> list[Pending]:
        """Up to ``limit`` messages ``sink`` owes, by priority then outbox order.

        ``after`` maps a priority to the last id already taken in this session.
        """
        found: list[Pending] = []
        with self._connection() as conn:
            for priority in Priority:
                if len(found) >= limit:
                    break
                rows = conn.execute(
                    "SELECT m.id, m.event_id, m.kind, m.type, m.priority, m.device_id, m.at,"
                    " m.body FROM deliveries d JOIN messages m ON m.id = d.message"
                    " WHERE d.sink = ? AND d.priority = ? AND d.message > ?"
                    " ORDER BY d.message LIMIT ?",
                    (sink, int(priority), after.get(priority, 0), limit - len(found)),
                ).fetchall()
                found.extend(_pending(row) for row in rows)
        return found

    def counts(self) -> dict[str, dict[str, int]]:
        """What each sink still owes, by priority name."""
        result: dict[str, dict[str, int]] = {}
        with self._connection() as conn:
            for sink, priority, count in conn.execute(
                "SELECT sink, priority, count(*) FROM deliveries GROUP BY sink, priority"
            ):
                result.setdefault(sink, {})[Priority(priority).name.lower()] = int(count)
        return result

    def oldest_alarm_at(self) -> float | None:
        """When the oldest alarm some sink still owes happened."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT min(m.at) FROM deliveries d JOIN messages m ON m.id = d.message"
                " WHERE d.priority = ?",
                (int(Priority.ALARM),),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def store_cursor(self) -> int | None:
        """The highest store seq in the outbox, or None for a new outbox."""
        with self._connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_cursor'").fetchone()
        return None if row is None else int(row[0])

    def set_store_cursor(self, seq: int) -> None:
        """Start a new outbox at this store seq (events before it are not sent)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('store_cursor', ?)", (str(seq),)
            )

    # -- sinks and commands -------------------------------------------------------------

    def disable_sink(self, sink: str, target: str, reason: str) -> int:
        """Stop owing anything to ``sink`` (HTTP 410) until its target changes."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO disabled_sinks (sink, target, at, reason)"
                " VALUES (?, ?, ?, ?)",
                (sink, target, self._clock(), reason),
            )
            dropped = conn.execute("DELETE FROM deliveries WHERE sink = ?", (sink,)).rowcount
            conn.execute(
                "DELETE FROM messages WHERE NOT EXISTS"
                " (SELECT 1 FROM deliveries WHERE message = messages.id)"
            )
        self.size = self._measure()
        return int(dropped)

    def keep_sinks(self, sinks: Iterable[str]) -> int:
        """Drop what is owed to sinks no longer configured; how many deliveries went."""
        names = sorted(set(sinks))
        marks = ",".join("?" * len(names))
        with self._transaction() as conn:
            dropped = conn.execute(
                f"DELETE FROM deliveries WHERE sink NOT IN ({marks})", names
            ).rowcount
            if dropped:
                conn.execute(
                    "DELETE FROM messages WHERE NOT EXISTS"
                    " (SELECT 1 FROM deliveries WHERE message = messages.id)"
                )
        if dropped:
            self.size = self._measure()
        return int(dropped)

    def disabled_sinks(self) -> dict[str, tuple[str, str]]:
        """Disabled sinks: name → (target, reason)."""
        with self._connection() as conn:
            rows = conn.execute("SELECT sink, target, reason FROM disabled_sinks").fetchall()
        return {str(sink): (str(target), str(reason)) for sink, target, reason in rows}

    def enable_sink(self, sink: str) -> None:
        """Forget that a sink was disabled (its target changed)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM disabled_sinks WHERE sink = ?", (sink,))

    def remember_command(self, command_id: str, now: float, keep: float) -> bool:
        """Record a command id; False if it was seen within ``keep`` seconds (a replay)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM seen_commands WHERE seen_at < ?", (now - keep,))
            cursor = conn.execute(
                "INSERT OR IGNORE INTO seen_commands (command_id, seen_at) VALUES (?, ?)",
                (command_id, now),
            )
            return bool(cursor.rowcount)

    def close(self) -> None:
        """Checkpoint the WAL and close. Safe to call twice."""
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            self._conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    # -- internals ----------------------------------------------------------------------

    def _measure(self) -> int:
        with self._connection() as conn:
            return int(conn.execute("SELECT coalesce(sum(size), 0) FROM messages").fetchone()[0])

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise OutboxError(f"{self.path}: the relay outbox is closed")
            try:
                yield conn
            except sqlite3.Error as exc:
                raise OutboxError(f"{self.path}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn:
            if not durable:
                conn.execute("PRAGMA synchronous = NORMAL")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    # A COMMIT that fails (a full disk) leaves the transaction open: roll it
                    # back too, or every later write on this connection would fail.
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
            finally:
                if not durable:
                    conn.execute("PRAGMA synchronous = FULL")


def _pending(row: Sequence[Any]) -> Pending:
    row_id, event_id, kind, type_, priority, device_id, at, body = row
    return Pending(
        id=int(row_id),
        message=Message(
            event_id=str(event_id),
            kind=str(kind),
            type=str(type_),
            priority=Priority(priority),
            device_id=device_id,
            at=float(at),
            body=bytes(body),
        ),
    )


class AsyncOutbox:
    """An :class:`Outbox` for asyncio: every call on one worker thread, in call order."""

    def __init__(self, outbox: Outbox) -> None:
        self.sync = outbox
        self._worker = SerialWorker(
            "relay-outbox", lambda: OutboxError(f"{self.sync.path}: the relay outbox is closed")
        )

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        site: str,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> AsyncOutbox:
        """Open (or create) the outbox without blocking the event loop."""
        outbox = await asyncio.to_thread(
            functools.partial(Outbox, path, site=site, max_bytes=max_bytes, clock=clock)
        )
        return cls(outbox)

    @property
    def metrics(self) -> OutboxMetrics:
        """The outbox's counters."""
        return self.sync.metrics

    @property
    def size(self) -> int:
        """Bytes of message bodies held."""
        return self.sync.size

    async def add(
        self, items: Sequence[tuple[Message, Sequence[str]]], store_seq: int | None = None
    ) -> int:
        """See :meth:`Outbox.add`."""
        return await self._run(self.sync.add, items, store_seq)

    async def ack(self, sink: str, rows: Sequence[tuple[int, int]]) -> int:
        """See :meth:`Outbox.ack`."""
        return await self._run(self.sync.ack, sink, rows)

    async def fetch(self, sink: str, after: Mapping[int, int], limit: int) -> list[Pending]:
        """See :meth:`Outbox.fetch`."""
        return await self._run(self.sync.fetch, sink, dict(after), limit)

    async def counts(self) -> dict[str, dict[str, int]]:
        """See :meth:`Outbox.counts`."""
        return await self._run(self.sync.counts)

    async def oldest_alarm_at(self) -> float | None:
        """See :meth:`Outbox.oldest_alarm_at`."""
        return await self._run(self.sync.oldest_alarm_at)

    async def store_cursor(self) -> int | None:
        """See :meth:`Outbox.store_cursor`."""
        return await self._run(self.sync.store_cursor)

    async def set_store_cursor(self, seq: int) -> None:
        """See :meth:`Outbox.set_store_cursor`."""
        await self._run(self.sync.set_store_cursor, seq)

    async def disable_sink(self, sink: str, target: str, reason: str) -> int:
        """See :meth:`Outbox.disable_sink`."""
        return await self._run(self.sync.disable_sink, sink, target, reason)

    async def keep_sinks(self, sinks: Iterable[str]) -> int:
        """See :meth:`Outbox.keep_sinks`."""
        return await self._run(self.sync.keep_sinks, list(sinks))

    async def disabled_sinks(self) -> dict[str, tuple[str, str]]:
        """See :meth:`Outbox.disabled_sinks`."""
        return await self._run(self.sync.disabled_sinks)

    async def enable_sink(self, sink: str) -> None:
        """See :meth:`Outbox.enable_sink`."""
        await self._run(self.sync.enable_sink, sink)

    async def remember_command(self, command_id: str, now: float, keep: float) -> bool:
        """See :meth:`Outbox.remember_command`."""
        return await self._run(self.sync.remember_command, command_id, now, keep)

    async def close(self) -> None:
        """Wait for queued calls, checkpoint and close. Safe to call twice."""
        await self._worker.close(self.sync.close)

    async def _run[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._worker.run(fn, *args, **kwargs)
