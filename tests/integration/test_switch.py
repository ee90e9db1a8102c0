"""The breaker switch and the close interlock: the bridge refuses, the person learns why."""

from __future__ import annotations

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
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.electrical_safety.const import DOMAIN

from .conftest import wait_for_state
from .rig import Rig

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

    with pytest.raises(HomeAssistantError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert refused.value.translation_key == "close_refused_alarm_active"
    assert "alarm is still active" in str(refused.value)
    assert hass.states.get(BREAKER).state == STATE_OFF

    # The leak is gone and the detector reset: the alarm is inactive but nobody has
    # acknowledged it yet.
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 20, "seconds": 0.2})
    await wait_for_state(hass, "sensor.kitchen_residual_current", lambda s: s.state == "20")
    await _press(hass, "button.kitchen_reset")
    await wait_for_state(hass, ALARM, lambda s: s.state == STATE_OFF)
    with pytest.raises(HomeAssistantError) as refused:
        await _switch(hass, SERVICE_TURN_ON)
    assert refused.value.translation_key == "close_refused_alarm_unacknowledged"
    assert "until the alarm is acknowledged" in str(refused.value)

    await hass.services.async_call(
        DOMAIN, "acknowledge_alarm", {"alarm_id": alarm_id}, blocking=True
    )
    await wait_for_state(hass, ALARM, lambda s: s.attributes.get("latched") is False)
    await _switch(hass, SERVICE_TURN_ON)
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_ON)
