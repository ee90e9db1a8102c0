"""Numbers: setpoints bounded by the profile, written through the bridge and read back."""

from __future__ import annotations

import pytest
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from .conftest import wait_for_state
from .rig import Rig

THRESHOLD = "number.kitchen_residual_current_limit"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.NUMBER]


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value}, blocking=True
    )


async def test_numbers(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_a_setpoint_is_written_and_read_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    await _set(hass, THRESHOLD, 400)
    await wait_for_state(hass, THRESHOLD, lambda s: s.state == "400.0")
    assert rig.get("/devices/arcm-1")["setpoint_values"]["residual_current_alarm_setpoint"] == 400


async def test_a_setpoint_outside_the_profile_bounds_never_reaches_the_bridge(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    state = hass.states.get(THRESHOLD)
    assert (state.attributes["min"], state.attributes["max"]) == (20, 1000)
    with pytest.raises(ServiceValidationError):
        await _set(hass, THRESHOLD, 5000)


async def test_a_scaled_setpoint_steps_by_its_scale(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The alarm delay is stored in tenths of a second."""
    delay = "number.kitchen_alarm_delay"
    assert hass.states.get(delay).attributes["step"] == 0.1
    await _set(hass, delay, 2.5)
    await wait_for_state(hass, delay, lambda s: s.state == "2.5")
