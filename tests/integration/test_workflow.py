"""The workflow from alarm to resolution against the rig's real bridge: a leak opens a
hazard on the to-do list and in the counts; the bridge refuses to eliminate it while the
leak is there and to close a locked-out breaker; the Acknowledge button and checking the
item off take it to the end."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN

from .conftest import find_device, wait_for_state, wait_until
from .rig import BRIDGE_ID, Rig

TODO = "todo.electrical_safety_bridge_127_0_0_1_hazards"
COUNTS = "sensor.electrical_safety_bridge_127_0_0_1_"


async def _items(hass: HomeAssistant) -> list[dict[str, Any]]:
    answer = await hass.services.async_call(
        "todo", "get_items", {}, target={"entity_id": TODO}, blocking=True, return_response=True
    )
    assert isinstance(answer, dict)
    return list(answer[TODO]["items"])


async def _check_off(hass: HomeAssistant, uid: str, description: str | None = None) -> None:
    data: dict[str, Any] = {"item": uid, "status": "completed"}
    if description is not None:
        data["description"] = description
    await hass.services.async_call(
        "todo", "update_item", data, target={"entity_id": TODO}, blocking=True
    )


async def test_a_leak_from_hazard_to_elimination(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_for_state(hass, f"{COUNTS}open_hazards", lambda s: s.state == "1")
    assert hass.states.get(f"{COUNTS}unacknowledged_alarms").state == "1"
    (item,) = await _items(hass)
    assert item["summary"].startswith("Kitchen · Residual current")
    assert item["status"] == "needs_action"

    # Without the cause and the fix, nothing is sent.
    with pytest.raises(ServiceValidationError):
        await _check_off(hass, item["uid"])
    # The leak is still there: the bridge re-reads the detector and refuses.
    with pytest.raises(ServiceValidationError) as refused:
        await _check_off(hass, item["uid"], "Replaced the socket behind the sink")
    assert refused.value.translation_key == "refused_condition_persists"
    assert "Residual current" in str(refused.value)
    (item,) = await _items(hass)
    assert item["status"] == "needs_action"

    # The Acknowledge button of the detector acknowledges the alarm and its hazard.
    button = "button.kitchen_acknowledge"
    await wait_for_state(hass, button, lambda s: s.state != "unavailable")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await wait_for_state(hass, f"{COUNTS}unacknowledged_alarms", lambda s: s.state == "0")
    await wait_for_state(hass, button, lambda s: s.state == "unavailable")

    # The cause is fixed: the leak falls away, the detector is reset (it latches its alarm),
    # and checking off eliminates the hazard.
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 20, "seconds": 0.1})
    await wait_for_state(hass, "sensor.kitchen_residual_current", lambda s: s.state == "20")
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.kitchen_reset"}, blocking=True
    )
    await wait_for_state(
        hass, "binary_sensor.kitchen_residual_current_alarm", lambda s: s.state == STATE_OFF
    )
    await _check_off(hass, item["uid"], "Water in the socket box; dried and resealed")
    await wait_until(hass, lambda: hass.states.get(f"{COUNTS}open_hazards").state == "0", "0")
    assert await _items(hass) == []
    eliminated = hass.states.get(f"{COUNTS}hazards_eliminated_this_month")
    assert eliminated is not None and eliminated.state == "1"


async def test_a_locked_out_breaker_stays_open(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    device = find_device(hass, f"{BRIDGE_ID}:arcm-1")
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "lock_out", {"device_id": device.id, "why": "new socket circuit"}, blocking=True
    )
    lockout = await wait_for_state(
        hass, "binary_sensor.kitchen_maintenance_lock_out", lambda s: s.state == STATE_ON
    )
    assert lockout.attributes["why"] == "new socket circuit"
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.kitchen_breaker"}, blocking=True
    )
    await wait_for_state(hass, "switch.kitchen_breaker", lambda s: s.state == STATE_OFF)
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.kitchen_breaker"}, blocking=True
        )
    assert refused.value.translation_key == "close_refused_locked_out"
    assert "new socket circuit" in str(refused.value)
    assert hass.states.get("switch.kitchen_breaker").state == STATE_OFF

    await hass.services.async_call(DOMAIN, "lift_lock_out", {"device_id": device.id}, blocking=True)
    await wait_for_state(
        hass, "binary_sensor.kitchen_maintenance_lock_out", lambda s: s.state == STATE_OFF
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.kitchen_breaker"}, blocking=True
    )
    await wait_for_state(hass, "switch.kitchen_breaker", lambda s: s.state == STATE_ON)
