"""Hourly leakage and temperature statistics per channel, for the safety report.

The event store keeps events, not readings: a value is read every 10 s, and ten years of
readings would not be compact. The report needs, per channel and period, the highest and the
typical value and a chart against the setpoint, so the bridge keeps one row per channel and
hour: how many samples, their sum, lowest and highest.

The rows live in their own SQLite file beside the event store (``telemetry.sqlite3``, its own
application id and schema version), so this table's migrations never compete with the event
store's: a lost or damaged statistics file costs charts, never an alarm record. Samples are
folded in memory (:class:`HourlyAccumulator`) and merged into the file every few minutes and
on stop; a merge adds to an hour already there, so a flush in the middle of an hour is safe.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .event_store import StoreError
from .sqlite_files import SerialWorker, create_schema, make_owner_only, switch_to_wal

TELEMETRY_FILE = "telemetry.sqlite3"
APPLICATION_ID = 0x45535448  # "ESTH": electrical-safety telemetry, hourly
SCHEMA_VERSION = 1
HOUR_S = 3600

_SCHEMA_V1 = (
    """
    CREATE TABLE telemetry_hourly (
        device_id TEXT NOT NULL,
        channel   TEXT NOT NULL,
        hour      INTEGER NOT NULL,
        samples   INTEGER NOT NULL,
        total     REAL NOT NULL,
        minimum   REAL NOT NULL,
        maximum   REAL NOT NULL,
        PRIMARY KEY (device_id, channel, hour)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX telemetry_hourly_hour ON telemetry_hourly (hour)",
)


@dataclass(frozen=True, slots=True)
class HourlyStat:
    """One channel's samples in one hour (``hour``: its start, seconds since the epoch)."""

    device_id: str
    channel: str
    hour: int
    samples: int
    total: float
    minimum: float
    maximum: float

    @property
    def mean(self) -> float:
        """The hour's mean value."""
        return self.total / self.samples

    def merged(self, other: HourlyStat) -> HourlyStat:
        """Both together (same channel and hour)."""
        return HourlyStat(
            self.device_id,
            self.channel,
            self.hour,
            self.samples + other.samples,
            self.total + other.total,
            min(self.minimum, other.minimum),
            max(self.maximum, other.maximum),
        )


def hour_of(at: float) -> int:
    """The start of the (UTC) hour holding ``at``."""
    return int(at // HOUR_S) * HOUR_S


class HourlyAccumulator:
    """Samples folded into hourly rows in memory, until :meth:`drain` hands them over."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, int], HourlyStat] = {}

    def add(self, device_id: str, channel: str, value: float, at: float) -> None:
        """One reading; values that are not finite numbers are not statistics."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if not math.isfinite(value):
            return
        sample = HourlyStat(device_id, channel, hour_of(at), 1, float(value), value, value)
        key = (device_id, channel, sample.hour)
        known = self._rows.get(key)
        self._rows[key] = sample if known is None else known.merged(sample)

    def drain(self) -> list[HourlyStat]:
        """Everything folded so far; the accumulator starts empty again."""
        rows, self._rows = list(self._rows.values()), {}
        return rows

    def __len__(self) -> int:
        return len(self._rows)


class TelemetryStats:
    """The hourly statistics file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        make_owner_only(self.path)
        try:
            conn = sqlite3.connect(self.path, autocommit=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the telemetry statistics: {exc}") from exc
        try:
            self._setup(conn)
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: telemetry statistics schema version {version} was written by"
                    f" a newer bridge; this one understands up to {SCHEMA_VERSION}"
                )
            if version and app_id != APPLICATION_ID:
                raise StoreError(
                    f"{self.path}: an SQLite database of another application"
                    f" (application_id {app_id:#x}), not the telemetry statistics"
                )
            if switch_to_wal(conn) != "wal":
                raise StoreError(f"{self.path}: SQLite could not switch to WAL mode")
            if version == 0:
                create_schema(conn, _SCHEMA_V1, APPLICATION_ID, SCHEMA_VERSION)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the telemetry statistics: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the telemetry statistics are closed")
        return self._conn

    def merge(self, rows: Iterable[HourlyStat]) -> int:
        """Add rows to what is stored (an hour already there grows); returns how many."""
        batch = [
            (r.device_id, r.channel, r.hour, r.samples, r.total, r.minimum, r.maximum) for r in rows
        ]
        if not batch:
            return 0
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO telemetry_hourly"
                    " (device_id, channel, hour, samples, total, minimum, maximum)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, channel, hour)"
                    " DO UPDATE SET samples = samples + excluded.samples,"
                    " total = total + excluded.total,"
                    " minimum = min(minimum, excluded.minimum),"
                    " maximum = max(maximum, excluded.maximum)",
                    batch,
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return len(batch)

    def hours(self, since: float, until: float) -> list[HourlyStat]:
        """Every row whose hour starts in ``since <= hour < until``, by channel then hour."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT device_id, channel, hour, samples, total, minimum, maximum"
                    " FROM telemetry_hourly WHERE hour >= ? AND hour < ?"
                    " ORDER BY device_id, channel, hour",
                    (since, until),
                )
                .fetchall()
            )
        return [HourlyStat(*row) for row in rows]

    def prune(self, before: float) -> int:
        """Delete the hours before ``before`` (the event store's retention); returns how many."""
        with self._lock:
            cursor = self._connection().execute(
                "DELETE FROM telemetry_hourly WHERE hour < ?", (before,)
            )
            return cursor.rowcount

    def close(self) -> None:
        """Close the file. Safe to call twice."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class AsyncTelemetryStats:
    """:class:`TelemetryStats` for asyncio: one worker thread, calls in order."""

    def __init__(self, stats: TelemetryStats) -> None:
        self._stats = stats
        self._worker = SerialWorker(
            "telemetry-stats",
            lambda: StoreError(f"{stats.path}: the telemetry statistics are closed"),
        )

    @classmethod
    async def open(cls, path: Path) -> AsyncTelemetryStats:
        """Open (or create) the file at ``path``."""
        return cls(await asyncio.to_thread(TelemetryStats, path))

    async def merge(self, rows: Sequence[HourlyStat]) -> int:
        """See :meth:`TelemetryStats.merge`."""
        return await self._worker.run(self._stats.merge, list(rows))

    async def hours(self, since: float, until: float) -> list[HourlyStat]:
        """See :meth:`TelemetryStats.hours`."""
        return await self._worker.run(self._stats.hours, since, until)

    async def prune(self, before: float) -> int:
        """See :meth:`TelemetryStats.prune`."""
        return await self._worker.run(self._stats.prune, before)

    async def close(self) -> None:
        """Wait for queued calls, then close."""
        await self._worker.close(self._stats.close)
