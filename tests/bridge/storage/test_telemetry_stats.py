"""The hourly telemetry statistics file: merges add up, the file is its own and versioned."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from electrical_safety_bridge.storage.event_store import StoreError
from electrical_safety_bridge.storage.telemetry_stats import (
    HourlyAccumulator,
    TelemetryStats,
    hour_of,
)

HOUR = 1_790_784_000


def test_samples_fold_into_hours_and_merges_add_up(tmp_path: Path) -> None:
    acc = HourlyAccumulator()
    for offset, value in ((0, 10.0), (600, 30.0), (3599, 20.0), (3600, 5.0)):
        acc.add("rc", "residual_current", value, HOUR + offset)
    acc.add("rc", "residual_current", float("nan"), HOUR)  # not a statistic
    acc.add("rc", "residual_current", True, HOUR)  # type: ignore[arg-type]
    stats = TelemetryStats(tmp_path / "telemetry.sqlite3")
    try:
        stats.merge(acc.drain())
        assert len(acc) == 0
        # A flush in the middle of an hour, then the rest of it: one row.
        acc.add("rc", "residual_current", 50.0, HOUR + 1200)
        stats.merge(acc.drain())
        first, second = stats.hours(HOUR, HOUR + 7200)
    finally:
        stats.close()
    assert (first.hour, first.samples, first.minimum, first.maximum) == (HOUR, 4, 10.0, 50.0)
    assert first.mean == pytest.approx(27.5)
    assert (second.hour, second.samples, second.mean) == (HOUR + 3600, 1, 5.0)
    assert hour_of(HOUR + 3599.9) == HOUR


def test_rows_survive_a_reopen_and_prune_drops_old_hours(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    acc = HourlyAccumulator()
    acc.add("rc", "temperature_1", 40.0, HOUR)
    acc.add("rc", "temperature_1", 41.0, HOUR + 7200)
    stats = TelemetryStats(path)
    stats.merge(acc.drain())
    stats.close()
    stats = TelemetryStats(path)
    try:
        assert stats.prune(HOUR + 3600) == 1
        assert [r.hour for r in stats.hours(0, HOUR * 2)] == [HOUR + 7200]
    finally:
        stats.close()


def test_another_applications_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA application_id = 42")
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(StoreError, match=r"telemetry\.sqlite3: an SQLite database of another"):
        TelemetryStats(path)


def test_a_newer_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 9")
    with pytest.raises(StoreError, match="schema version 9 was written by a newer bridge"):
        TelemetryStats(path)
