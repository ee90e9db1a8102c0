"""Binary sensors: alarms, pre-warnings, wiring faults, status flags, communication, buses
(the bridge's storage and the buses' load: test_storage.py and test_overload.py)."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .conftest import snapshot_entities, wait_for_state
from .rig import SENTINEL_MODEL, Rig


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.BINARY_SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_binary_sensors(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_entities(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_an_alarm_carries_its_latched_record(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    alarm = "binary_sensor.kitchen_temperature_2_alarm"
    assert hass.states.get(alarm).attributes == {
        "device_class": "safety",
        "friendly_name": "Kitchen Temperature 2 alarm",
        "latched": False,
    }
    rig.inject({"do": "temperature_rise", "unit": 1, "channel": "temperature_2", "to": 95})
    state = await wait_for_state(hass, alarm, lambda s: s.state == STATE_ON)
    assert state.attributes["latched"] is True
    assert state.attributes["acknowledged"] is False
    assert state.attributes["unit"] == "°C"
    assert state.attributes["value_at_alarm"] >= 80
    assert state.attributes["alarm_id"]


async def test_a_pre_warning_is_its_own_sensor(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """ASJ: 150 mA is the pre-warning, 300 mA the alarm."""
    warning = "binary_sensor.asj_4_residual_current_pre_warning"
    assert hass.states.get(warning).state == STATE_OFF
    rig.inject({"do": "leakage_ramp", "unit": 4, "to": 200, "seconds": 0.1})
    await wait_for_state(hass, warning, lambda s: s.state == STATE_ON)
    assert hass.states.get("binary_sensor.asj_4_residual_current_alarm").state == STATE_OFF


async def test_a_wiring_fault_is_not_an_alarm(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    fault = "binary_sensor.aim_3_residual_current_5_sensor_fault"
    rig.inject(
        {
            "do": "wiring_fault",
            "unit": 3,
            "channel": "loop_5_residual_current",
            "state": "open_circuit",
        }
    )
    state = await wait_for_state(hass, fault, lambda s: s.state == STATE_ON)
    assert state.attributes["fault"] == "open_circuit"
    assert state.attributes["latched"] is True
    assert hass.states.get("binary_sensor.aim_3_residual_current_5_alarm").state == STATE_OFF


@pytest.mark.parametrize("units", [(("aim-6", 6, SENTINEL_MODEL),)])
async def test_an_alarm_that_cannot_be_decided_is_unknown_not_off(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """A loop's alarm is derived from its current; a sensor fault makes the current read a
    sentinel, so the bridge cannot say whether the loop leaks: unknown, never "no alarm"."""
    alarm = "binary_sensor.aim_6_residual_current_5_alarm"
    assert hass.states.get(alarm).state == STATE_OFF
    rig.inject(
        {
            "do": "wiring_fault",
            "unit": 6,
            "channel": "loop_5_residual_current",
            "state": "open_circuit",
        }
    )
    await wait_for_state(hass, alarm, lambda s: s.state == STATE_UNKNOWN)
    fault = hass.states.get("binary_sensor.aim_6_residual_current_5_sensor_fault")
    assert fault.state == STATE_ON and fault.attributes["fault"] == "open_circuit"
    assert hass.states.get("binary_sensor.aim_6_residual_current_4_alarm").state == STATE_OFF

    rig.inject(
        {"do": "wiring_fault", "unit": 6, "channel": "loop_5_residual_current", "clear": True}
    )
    await wait_for_state(hass, alarm, lambda s: s.state == STATE_OFF)


async def test_a_silent_detector_shows_in_its_communication_sensor(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "dropout", "unit": 2})
    await wait_for_state(
        hass, "binary_sensor.bedroom_communication", lambda s: s.state == STATE_OFF
    )
    assert hass.states.get("binary_sensor.bedroom_arc_fault_alarm").state == STATE_UNAVAILABLE
    rig.inject({"do": "dropout", "unit": 2, "clear": True})
    await wait_for_state(hass, "binary_sensor.bedroom_communication", lambda s: s.state == STATE_ON)


async def test_a_dead_gateway_is_a_bus_down(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    bus = "binary_sensor.electrical_safety_bridge_127_0_0_1_bus_line_1"
    assert hass.states.get(bus).state == STATE_ON
    rig.stop_simulator()
    await wait_for_state(hass, bus, lambda s: s.state == STATE_OFF)
