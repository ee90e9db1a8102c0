"""Early warning in Home Assistant, on the rig's real bridge with a compressed clock (a
day of the baselines' clock is half a second): a detector's leakage ageing over eight
weeks turns "Rising leakage" on with its projection, and the logbook says it in words; a
repair turns it off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety import logbook
from custom_components.electrical_safety.const import DOMAIN, EVENT_ELECTRICAL_SAFETY
from electrical_safety_bridge.common.models import BridgeEvent

from .conftest import wait_for_state, wait_until
from .rig import Rig

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
DAY_REAL_S = 0.5
UNITS = (("arcm-1", 1, "SIM-ARCM"), ("aim-3", 3, "AIM-R100"))
RISING = "binary_sensor.kitchen_rising_leakage"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.BINARY_SENSOR]


@pytest.fixture
def rig(socket_enabled: None, tmp_path: Path) -> Iterator[Rig]:
    """The rig's bridge and simulator, the bridge's baselines on a compressed clock."""
    rig = Rig(
        tmp_path,
        UNITS,
        config_extra={"early_warning": {"time_scale": 86400 / DAY_REAL_S}},
    )
    try:
        rig.start()
        yield rig
    finally:
        rig.close()


def _strings(language: str) -> dict[str, Any]:
    path = PACKAGE / ("strings.json" if language == "en" else f"translations/{language}.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.minimum_ha
async def test_a_sensor_for_each_channel_with_a_baseline(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    entity_registry: er.EntityRegistry,
) -> None:
    rising = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if e.unique_id.split(":")[2] == "rising"
    }
    assert rising == {
        RISING,
        *(f"binary_sensor.kitchen_rising_temperature_{n}" for n in range(1, 5)),
        *(f"binary_sensor.aim_3_rising_leakage_{n}" for n in range(1, 13)),
    }
    state = hass.states.get(RISING)
    assert state is not None and state.state == STATE_OFF
    assert state.attributes["device_class"] == "problem"
    assert state.attributes["setpoint"] == 300 and state.attributes["unit"] == "mA"
    assert state.attributes["days_needed"] == 10


@pytest.fixture
def japanese(hass: HomeAssistant) -> str:
    """Home Assistant in Japanese from before the entry is set up (the logbook's words are
    the translations loaded with it)."""
    hass.config.language = "ja"
    return "ja"


async def test_leakage_ageing_turns_rising_leakage_on_and_a_repair_off(
    hass: HomeAssistant, japanese: str, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    language = japanese
    fired: list[Event] = []

    @callback
    def record(event: Event) -> None:
        fired.append(event)

    hass.bus.async_listen(EVENT_ELECTRICAL_SAFETY, record)
    # Insulation ageing: 30 → 200 mA over eight weeks of the compressed clock.
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 30, "seconds": 0})
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 200, "seconds": 56 * DAY_REAL_S})
    state = await wait_for_state(
        hass, RISING, lambda s: s.state == STATE_ON, timeout=60 * DAY_REAL_S * 2
    )
    days = state.attributes["days_to_setpoint"]
    assert 10 < days < 120, "weeks ahead of the setpoint, not days"
    assert 1 < state.attributes["slope_per_day"] < 6, "about 3 mA a day"
    assert state.attributes["level"] < 300 and state.attributes["since"] is not None

    found: dict[str, Any] = {}

    def register(domain: str, event_type: str, describe: Any) -> None:
        found[event_type] = describe

    logbook.async_describe_events(hass, register)
    describe = found[EVENT_ELECTRICAL_SAFETY]
    strings = _strings(language)
    messages = {k: v["message"] for k, v in strings["exceptions"].items()}
    channel = strings["entity"]["sensor"]["residual_current"]["name"]

    def said(event_type: str) -> list[dict[str, str]]:
        return [describe(e) for e in fired if e.data["type"] == event_type]

    await wait_until(hass, lambda: bool(said("early_warning")), "the early warning fired")
    (warned,) = said("early_warning")
    event = next(e for e in fired if e.data["type"] == "early_warning")
    assert warned["name"] == "Kitchen"
    assert warned["message"] == messages["logbook_early_warning"].format(
        channel=channel,
        slope=f"{round(event.data['slope_per_day'], 2):g} mA",
        setpoint="300 mA",
        days=f"{round(event.data['days_to_setpoint']):g}",
    )

    # Repaired once the ageing has run its course: the leakage falls back to where it began.
    rig.wait(
        lambda: rig.get("/devices/arcm-1")["values"]["residual_current"] == 200,
        "the ageing ramp at its end",
        timeout=60 * DAY_REAL_S,
    )
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 30, "seconds": 0})
    await wait_for_state(hass, RISING, lambda s: s.state == STATE_OFF, timeout=20 * DAY_REAL_S)
    await wait_until(hass, lambda: bool(said("early_warning_cleared")), "the warning cleared")
    (cleared,) = said("early_warning_cleared")
    assert cleared["message"] == messages["logbook_early_warning_cleared"].format(
        channel=channel, reason=messages["logbook_reason_fell"]
    )


def test_the_logbook_says_an_early_warning_in_words() -> None:
    strings = {
        f"component.{DOMAIN}.exceptions.{key}.message": value["message"]
        for key, value in _strings("en")["exceptions"].items()
    }
    data = {
        "type": "early_warning",
        "channel_name": "Residual current",
        "unit": "mA",
        "setpoint": 300,
        "slope_per_day": 3.0416,
        "days_to_setpoint": 67.58,
    }
    assert logbook.describe_message(strings, data) == (
        "Early warning: Residual current is rising by 3.04 mA a day; at this pace it reaches"
        " the alarm setpoint (300 mA) in about 68 days"
    )
    cleared = {"type": "early_warning_cleared", "channel_name": "Temperature 2", "reason": "fell"}
    assert logbook.describe_message(strings, cleared) == (
        "Early warning over: Temperature 2 (the level fell back)"
    )


async def test_the_baselines_shown_last_stay_while_the_bridge_is_away(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    warnings = loaded_entry.runtime_data.early_warnings
    assert warnings is not None
    shown = dict(warnings.trends)
    assert shown, "read at set-up"
    rig.stop_bridge()
    await warnings.async_refresh()  # what the ten-minute timer does
    assert warnings.trends == shown
    # An early-warning event whose data names no channel is skipped, with a word in the log.
    unreadable = BridgeEvent.from_dict({"seq": 1, "type": "early_warning", "data": {}})
    warnings._on_event(unreadable)
    assert warnings.trends == shown
    assert "early-warning event that could not be read" in caplog.text
