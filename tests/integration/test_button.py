"""Buttons: reset, mute and self-test, each confirmed by the device through the bridge."""

from __future__ import annotations

from datetime import datetime
from unittest.mock import patch

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from electrical_safety_bridge.common.errors import BridgeConnectionError, UnknownAlarm

from .conftest import wait_for_state, wait_until
from .rig import Rig


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.BUTTON, Platform.BINARY_SENSOR]


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True)


@pytest.mark.parametrize("platforms", [[Platform.BUTTON]])
async def test_buttons(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Only detectors whose verified profile offers a command get its button."""
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_self_test_raises_the_detectors_alarm(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    await _press(hass, "button.bedroom_self_test")
    await wait_for_state(
        hass, "binary_sensor.bedroom_arc_fault_alarm", lambda s: s.state == STATE_ON
    )
    rig.wait(lambda: rig.get("/events?type=command&device_id=aafd-2")["events"], "logged")
    (command,) = rig.get("/events?type=command&device_id=aafd-2")["events"]
    assert command["data"]["command"] == "self_test"
    assert command["data"]["who"].startswith("Home Assistant")


async def test_mute_and_reset_are_confirmed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    await _press(hass, "button.kitchen_mute")
    await _press(hass, "button.kitchen_reset")

    def logged() -> list[tuple[str, str]]:
        commands = rig.get("/events?type=command&device_id=arcm-1")["events"]
        return [(c["data"]["command"], c["data"]["outcome"]) for c in commands]

    rig.wait(lambda: len(logged()) == 2, "both commands in the event log")
    assert logged() == [("mute", "confirmed"), ("reset", "confirmed")]


@pytest.mark.parametrize("offline_after", [30.0])
async def test_a_command_the_device_never_answers_is_reported_unconfirmed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The unit stops answering; before the bridge calls it offline, a reset is sent and
    the bridge can only say that it does not know whether the device got it."""
    before = rig.get("/info")["buses"][0]["stats"]["timeouts"]
    rig.inject({"do": "dropout", "unit": 1})
    rig.wait(lambda: rig.get("/info")["buses"][0]["stats"]["timeouts"] > before, "a timeout")
    with pytest.raises(HomeAssistantError) as unconfirmed:
        await _press(hass, "button.kitchen_reset")
    assert unconfirmed.value.translation_key == "command_unconfirmed"


async def test_a_command_to_a_vanished_bridge_says_so(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    coordinator = loaded_entry.runtime_data
    rig.stop_bridge()
    await wait_until(hass, lambda: not coordinator.connected, "the bridge gone")
    # The entity is unavailable; the command still goes through the one error path.
    from custom_components.electrical_safety.helpers import async_run_command

    with pytest.raises(HomeAssistantError) as failed:
        await async_run_command(coordinator, "arcm-1", "reset", None)
    assert failed.value.translation_key == "communication_error"


ACKNOWLEDGE = "button.kitchen_acknowledge"
KITCHEN_ALARM = "binary_sensor.kitchen_residual_current_alarm"


async def test_acknowledge_acknowledges_every_open_alarm_in_the_pressers_name(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """A tenant without Developer tools acknowledges from the dashboard; the button is
    there only while something waits for it."""
    assert hass.states.get(ACKNOWLEDGE).state == STATE_UNAVAILABLE
    assert hass.states.get(ACKNOWLEDGE).name == "Kitchen Acknowledge"
    tenant = await hass.auth.async_create_user("Tenant")

    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    rig.inject({"do": "wiring_fault", "unit": 1, "channel": "temperature_3"})
    fault = "binary_sensor.kitchen_temperature_3_sensor_fault"
    alarm = await wait_for_state(hass, KITCHEN_ALARM, lambda s: s.state == STATE_ON)
    assert isinstance(alarm.attributes["raised_at"], datetime)
    assert alarm.attributes["raised_at"].tzinfo is not None
    await wait_for_state(hass, fault, lambda s: s.attributes.get("latched") is True)
    await wait_for_state(hass, ACKNOWLEDGE, lambda s: s.state != STATE_UNAVAILABLE)

    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: ACKNOWLEDGE},
        blocking=True,
        context=Context(user_id=tenant.id),
    )
    await wait_for_state(hass, KITCHEN_ALARM, lambda s: s.attributes.get("acknowledged") is True)
    await wait_for_state(hass, fault, lambda s: s.attributes.get("acknowledged") is True)
    await wait_for_state(hass, ACKNOWLEDGE, lambda s: s.state == STATE_UNAVAILABLE)
    types = ("alarm_acknowledged", "wiring_fault_acknowledged")
    for kind in types:
        (event,) = rig.get(f"/events?type={kind}&device_id=arcm-1")["events"]
        assert event["data"]["acknowledged_by"].startswith("Home Assistant (Tenant)")


async def test_acknowledge_skips_what_closed_meanwhile_and_says_what_failed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_for_state(hass, ACKNOWLEDGE, lambda s: s.state != STATE_UNAVAILABLE)
    coordinator = loaded_entry.runtime_data
    entity = hass.data["entity_components"]["button"].get_entity(ACKNOWLEDGE)
    with patch.object(coordinator.client, "acknowledge", side_effect=UnknownAlarm("gone")):
        await entity.async_press()
    failure = BridgeConnectionError("down")
    with (
        patch.object(coordinator.client, "acknowledge", side_effect=failure),
        pytest.raises(HomeAssistantError) as failed,
    ):
        await entity.async_press()
    assert failed.value.translation_key == "communication_error"
