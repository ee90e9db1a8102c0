"""Which channels get a baseline, and the events and state of the book of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from electrical_safety_bridge.common.enums import ChannelKind, EventType
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.safety.early_warning import DAY_S, EarlyWarningSettings
from electrical_safety_bridge.safety.trend_book import TrendBook, watched_channels
from electrical_safety_bridge.storage.trend_state import (
    TREND_FILE,
    load_trend_state,
    save_trend_state,
)

START = 1_767_225_600.0


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # The alarm condition names its setpoint (above: loop_n_alarm_setpoint).
        (
            "AIM-R100",
            {f"loop_{n}_residual_current": f"loop_{n}_alarm_setpoint" for n in range(1, 13)},
        ),
        # The only setpoint of the kind.
        ("ASJ", {"residual_current": "rated_residual_operating_current"}),
        # By name: temperature_2 → temperature_2_alarm_setpoint.
        (
            "SIM-ARCM",
            {"residual_current": "residual_current_alarm_setpoint"}
            | {f"temperature_{n}": f"temperature_{n}_alarm_setpoint" for n in range(1, 5)},
        ),
        # No setpoint to project to: nothing watched.
        ("SIM-AAFD", {}),
    ],
)
def test_a_channel_is_watched_against_its_own_alarm_setpoint(
    model: str, expected: dict[str, str]
) -> None:
    watched = watched_channels("d", find_profile(model))
    assert {w.channel: w.setpoint for w in watched} == expected
    assert {w.kind for w in watched} <= {ChannelKind.RESIDUAL_CURRENT, ChannelKind.TEMPERATURE}


def ageing_book() -> tuple[TrendBook, list[EventType]]:
    book = TrendBook(EarlyWarningSettings(), watched_channels("asj", find_profile("ASJ")))
    types = []
    for step in range(40 * 96):
        at = START + step * DAY_S / 96
        value = 30 + 170 * step / (56 * 96)
        setpoints = {"rated_residual_operating_current": 300}
        for event in book.observe(at, "asj", {"residual_current": value}, setpoints, event_at=at):
            types.append(event.type)
            assert event.device_id == "asj" and event.channel == "residual_current"
            assert event.data["setpoint"] == 300 and event.data["warning"] is True
    return book, types


def test_a_rising_channel_warns_once_and_shows_it() -> None:
    book, types = ageing_book()
    assert types == [EventType.EARLY_WARNING]
    (trend,) = book.trends(warning_only=True)
    assert trend.warning and trend.since is not None and trend.days_to_setpoint is not None


def test_values_that_are_not_readings_are_skipped() -> None:
    book = TrendBook(EarlyWarningSettings(), watched_channels("asj", find_profile("ASJ")))
    for value in (None, "open", True):
        assert book.observe(START, "asj", {"residual_current": value}, {}, event_at=START) == []
    assert book.trends()[0].days_observed == 0 and book.latest_at() is None


def test_the_book_survives_its_file(tmp_path: Path) -> None:
    book, _ = ageing_book()
    save_trend_state(tmp_path, book.to_state())
    restored = TrendBook(EarlyWarningSettings(), watched_channels("asj", find_profile("ASJ")))
    assert restored.load(load_trend_state(tmp_path)) == []
    assert restored.trends() == book.trends()


def test_an_unreadable_file_is_moved_aside_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / TREND_FILE).write_text('{"version": 7, "channels": {}}', encoding="utf-8")
    assert load_trend_state(tmp_path) == {}
    assert not (tmp_path / TREND_FILE).exists()
    assert (tmp_path / f"{TREND_FILE}.unreadable").is_file()
    assert TREND_FILE in caplog.text and "version 7" in caplog.text


def test_a_broken_entry_starts_anew_and_is_named() -> None:
    book = TrendBook(EarlyWarningSettings(), watched_channels("asj", find_profile("ASJ")))
    problems = book.load({"asj/residual_current": {"version": 1}, "gone/x": {}})
    assert len(problems) == 1 and problems[0].startswith("asj/residual_current: malformed")
    assert json.dumps(book.to_state())
