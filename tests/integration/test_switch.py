"""The breaker switch and the close interlock: the bridge refuses, the person learns why."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.electrical_safety.const import DOMAIN

from .conftest import wait_for_state
from .rig import Rig

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
BREAKER = "switch.kitchen_breaker"
ALARM = "binary_sensor.kitchen_residual_current_alarm"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SWITCH, Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: BREAKER}, blocking=True)


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True)


@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
async def test_switches(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Only the detector with a breaker and trip/close commands has a switch."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_close_is_refused_while_alarm_active_then_unacknowledged(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    assert hass.states.get(BREAKER).state == STATE_ON

    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.2})
    alarm = await wait_for_state(hass, ALARM, lambda s: s.state == STATE_ON)
    alarm_id = alarm.attributes["alarm_id"]
    assert alarm.attributes["acknowledged"] is False

    await _switch(hass, SERVICE_TURN_OFF)
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_OFF)

    with pytest.raises(ServiceValidationError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert refused.value.translation_key == "close_refused_alarm_active"
    assert refused.value.translation_placeholders["device"] == "Kitchen"
    assert refused.value.translation_placeholders["channels"] == "Residual current"
    assert str(refused.value) == (
        "Kitchen: the breaker stays open because the alarm on Residual current is still"
        " active. Find and remove the cause, reset the detector, acknowledge the alarm, then"
        " close the breaker."
    )
    assert hass.states.get(BREAKER).state == STATE_OFF

    # The leak is gone and the detector reset: the alarm is inactive but nobody has
    # acknowledged it yet.
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 20, "seconds": 0.2})
    await wait_for_state(hass, "sensor.kitchen_residual_current", lambda s: s.state == "20")
    await _press(hass, "button.kitchen_reset")
    await wait_for_state(hass, ALARM, lambda s: s.state == STATE_OFF)
    with pytest.raises(ServiceValidationError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert refused.value.translation_key == "close_refused_alarm_unacknowledged"
    assert "until the alarm on Residual current is acknowledged" in str(refused.value)
    assert hass.states.get(BREAKER).state == STATE_OFF

    await hass.services.async_call(
        DOMAIN, "acknowledge_alarm", {"alarm_id": alarm_id}, blocking=True
    )
    await wait_for_state(hass, ALARM, lambda s: s.attributes.get("latched") is False)
    await _switch(hass, SERVICE_TURN_ON)
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_ON)


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def configured_language(hass: HomeAssistant, language: str) -> str:
    """Home Assistant's language, set before the entry loads (entity names follow it)."""
    hass.config.language = language
    return language


def _translations(language: str) -> dict[str, Any]:
    path = PACKAGE / ("strings.json" if language == "en" else f"translations/{language}.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("language", ["en", "ja", "zh-Hans"])
async def test_a_refused_close_over_rest_is_a_translated_400(
    hass: HomeAssistant,
    configured_language: str,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refusal is the person's to act on: 400, one log line at most, no traceback, the
    breaker shown open at once, and the reason in Home Assistant's language, naming the
    channel as its entity is named."""
    assert await async_setup_component(hass, "api", {})
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.2})
    await wait_for_state(hass, ALARM, lambda s: s.state == STATE_ON)
    await _switch(hass, SERVICE_TURN_OFF)
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_OFF)
    caplog.clear()

    client = await hass_client()
    answer = await client.post(
        f"/api/services/{SWITCH_DOMAIN}/turn_on", json={"entity_id": BREAKER}
    )
    assert answer.status == 400
    assert hass.states.get(BREAKER).state == STATE_OFF
    assert "Traceback" not in caplog.text
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) <= 1
    assert not any(r.exc_info for r in caplog.records)

    with pytest.raises(ServiceValidationError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(BREAKER).state == STATE_OFF
    strings = _translations(configured_language)
    channel = strings["entity"]["sensor"]["residual_current"]["name"]
    template = strings["exceptions"]["close_refused_alarm_active"]["message"]
    assert refused.value.translation_domain == DOMAIN
    assert str(refused.value) == template.format(device="Kitchen", channels=channel)
    if configured_language != "en":
        assert "residual_current" not in str(refused.value)
        assert "refused" not in str(refused.value)


async def test_a_flag_setpoint_is_a_switch_written_and_read_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The ASJ's "CT disconnection alarm enable" register is a switch, not a number box
    holding 1.0, named by its profile's translation key; switching it writes 0 or 1, and the
    switch shows what the device reads."""
    flag = "switch.asj_4_ct_break_alarm"
    assert hass.states.get("number.asj_4_ct_break_alarm") is None
    state = await wait_for_state(hass, flag, lambda s: s.state in (STATE_ON, STATE_OFF))
    before = state.state
    service = SERVICE_TURN_OFF if before == STATE_ON else SERVICE_TURN_ON
    await hass.services.async_call(SWITCH_DOMAIN, service, {"entity_id": flag}, blocking=True)
    after = STATE_OFF if before == STATE_ON else STATE_ON
    await wait_for_state(hass, flag, lambda s: s.state == after)
    entry = er.async_get(hass).async_get(flag)
    assert entry is not None and entry.entity_category == "config"


async def test_a_refusal_is_written_in_the_language_chosen_after_set_up(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The person switched Home Assistant to Japanese after the integration was set up:
    the refusal's text is Japanese too (its messages are loaded when needed)."""
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.2})
    await wait_for_state(hass, ALARM, lambda s: s.state == STATE_ON)
    await _switch(hass, SERVICE_TURN_OFF)
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_OFF)
    hass.config.language = "ja"
    with pytest.raises(ServiceValidationError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert "ブレーカーは開いたままです" in str(refused.value)
    assert hass.states.get(BREAKER).state == STATE_OFF
