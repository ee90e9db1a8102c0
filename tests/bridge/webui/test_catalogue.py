"""The web UI's texts: every language has every key, and every wire value has its words."""

from __future__ import annotations

import re

import pytest

from electrical_safety_bridge.common.enums import (
    ChannelKind,
    CommandName,
    CommandOutcome,
    EventType,
    HazardState,
    HealthStatus,
    RefusalReason,
    SetpointKind,
    StorageState,
)
from electrical_safety_bridge.webui import views
from electrical_safety_bridge.webui.health import BusRates
from electrical_safety_bridge.webui.i18n import (
    LANGUAGES,
    Translator,
    catalogue,
    from_accept_language,
)


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = catalogue("en")
    for language in LANGUAGES[1:]:
        texts = catalogue(language)
        assert set(texts) == set(english), language
        for key, text in english.items():
            assert set(re.findall(r"{(\w+)}", texts[key])) == set(re.findall(r"{(\w+)}", text)), (
                language,
                key,
            )


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("event.", EventType),
        ("refusal.", RefusalReason),
        ("reason.", RefusalReason),
        ("outcome.", CommandOutcome),
        ("outcome_short.", CommandOutcome),
        ("command.", CommandName),
        ("kind.", ChannelKind),
        ("setpoint.", SetpointKind),
        ("hazard.", HazardState),
        ("health.", HealthStatus),
        ("storage.", StorageState),
    ],
)
def test_every_wire_value_a_page_shows_has_its_words(prefix: str, values: object) -> None:
    english = catalogue("en")
    missing = [str(v) for v in values if prefix + str(v) not in english]  # type: ignore[attr-defined]
    assert missing == []


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh-TW", "zh-Hans"),
        ("ja-JP", "ja"),
        ("de-DE,ja;q=0.5,en;q=0.7", "en"),
        ("fr", None),
        ("", None),
        ("en;q=0, ja", "ja"),
        ("ja;q=bogus, zh", "zh-Hans"),
    ],
)
def test_accept_language_picks_the_best_supported_language(
    header: str, language: str | None
) -> None:
    assert from_accept_language(header) == language


def test_channels_and_setpoints_are_named_by_kind_and_number() -> None:
    t = Translator("zh-Hans")
    assert views.channel_label(t, "temperature_3", "temperature", "Temperature 3") == "温度 3"
    assert views.channel_label(t, "residual_current", "residual_current", "x") == "剩余电流"
    assert views.channel_label(t, "odd", "no_such_kind", "Odd one") == "Odd one"
    assert (
        views.setpoint_label(t, "temperature_2_alarm_setpoint", "temperature_alarm", "x")
        == "温度报警设定值 (2)"
    )
    assert views.shown_value(t, "closed") == "合闸"
    assert views.refusal_text(Translator("ja"), "no_such_reason", "A1").startswith("A1：")


def test_bus_rates_are_measured_across_looks_and_survive_a_counter_reset() -> None:
    rates = BusRates()
    assert rates.look("line", 0.0, {"transactions": 0, "wire_seconds": 0.0}) is None
    measured = rates.look("line", 2.0, {"transactions": 100, "wire_seconds": 0.5})
    assert measured is not None
    assert measured.transactions_per_s == 50.0 and measured.line_utilisation == 0.25
    # The counters start again (a new bus object): the old looks no longer count.
    assert rates.look("line", 3.0, {"transactions": 5, "wire_seconds": 0.0}) is None
    later = rates.look("line", 10.0, {"transactions": 905, "wire_seconds": 1.0})
    assert later is not None and later.transactions_per_s == 900 / 7
    # Looks older than the window drop out.
    assert rates.look("line", 25.0, {"transactions": 1000, "wire_seconds": 1.0}) is None
