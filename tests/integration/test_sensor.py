"""Sensors: measurements with statistics-ready classes, named states, open alarms."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .conftest import snapshot_entities, wait_for_state
from .rig import Rig


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_sensors(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor of the four simulated detectors, with classes, units and states."""
    await snapshot_entities(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_measurements_keep_long_term_statistics(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Residual current in mA as a current, energy as a growing total, arcs as a counter."""
    residual = hass.states.get("sensor.kitchen_residual_current")
    assert residual is not None
    assert residual.attributes["device_class"] == "current"
    assert residual.attributes["unit_of_measurement"] == "mA"
    assert residual.attributes["state_class"] == "measurement"
    energy = hass.states.get("sensor.kitchen_energy")
    assert energy is not None and energy.attributes["state_class"] == "total_increasing"
    arcs = hass.states.get("sensor.bedroom_arc_count")
    assert arcs is not None and arcs.attributes["state_class"] == "total_increasing"


@pytest.mark.minimum_ha
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_a_leak_is_pushed_and_counted_as_an_open_alarm(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.2})
    await wait_for_state(hass, "sensor.kitchen_residual_current", lambda s: s.state == "450")
    state = await wait_for_state(hass, "sensor.kitchen_open_alarms", lambda s: s.state == "1")
    (alarm,) = state.attributes["alarms"]
    assert alarm["channel"] == "residual_current"
    assert alarm["active"] is True and alarm["acknowledged"] is False
    assert alarm["value_at_alarm"] >= 300
    total = hass.states.get("sensor.electrical_safety_bridge_127_0_0_1_open_alarms")
    assert total is not None and total.state == "1"
    # How fast it came: the window the bridge read it in, and its delivery measured here.
    delay = await wait_for_state(
        hass,
        "sensor.electrical_safety_bridge_127_0_0_1_last_alarm_delay",
        lambda s: s.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE),
    )
    attributes = delay.attributes
    assert attributes["alarm_id"] == alarm["id"]
    assert attributes["device_id"] == "arcm-1"
    assert attributes["detection_window"] > 0
    assert attributes["delivery"] >= 0
    assert float(delay.state) == pytest.approx(
        attributes["detection_window"] + attributes["delivery"], abs=0.002
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_a_sentinel_reading_is_unknown_not_a_number(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """AIM-R100's last event value reads 0xE5E5 for a shorted sensor: no reading, not 58853."""
    rig.inject({"do": "wiring_fault", "unit": 3, "channel": "last_event_value"})
    await wait_for_state(hass, "sensor.aim_3_last_event_value", lambda s: s.state == STATE_UNKNOWN)


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]])
async def test_a_silent_detector_is_unavailable_and_comes_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "dropout", "unit": 4})
    await wait_for_state(
        hass, "sensor.asj_4_residual_current", lambda s: s.state == STATE_UNAVAILABLE
    )
    kitchen = hass.states.get("sensor.kitchen_residual_current")
    assert kitchen is not None and kitchen.state == "20", "one silent unit blanks no other"
    rig.inject({"do": "dropout", "unit": 4, "clear": True})
    await wait_for_state(hass, "sensor.asj_4_residual_current", lambda s: s.state == "20")
