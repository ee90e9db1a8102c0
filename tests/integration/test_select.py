"""Selects: a setpoint whose register is an enumeration (a trip or operating mode) offers the
options its profile lists, named in the person's language; read-only ones are an enum
sensor, and a read-only flag is a binary sensor.

No built-in profile has a documented enumerated register (the ARCM300's protection-mode
codes are not public, the ASJ's mode values were not retrieved: devices.md §3.2, §4), so
these tests use the rig's test profile (rig.MODES_MODEL), served by the simulator.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from electrical_safety_bridge.common.errors import BridgeConnectionError

from .conftest import wait_for_state
from .rig import MODES_MODEL, Rig

MODE = "select.modes_5_protection_mode"
OUTPUT_MODE = "sensor.modes_5_output_mode"
CT_BREAK = "binary_sensor.modes_5_ct_break_alarm"


@pytest.fixture
def units() -> tuple[tuple[str, int, str], ...]:
    """A bus of its own (every test here asks for ``rig``, not the shared one)."""
    return (("modes-5", 5, MODES_MODEL),)


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SELECT, Platform.SENSOR, Platform.BINARY_SENSOR, Platform.NUMBER]


async def _select(hass: HomeAssistant, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: MODE, ATTR_OPTION: option},
        blocking=True,
    )


@pytest.mark.parametrize("platforms", [[Platform.SELECT]])
async def test_selects(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_a_mode_is_a_select_written_and_read_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    state = await wait_for_state(hass, MODE, lambda s: s.state == "off")
    assert state.attributes["options"] == ["off", "alarm", "trip"], "the profile's order"
    assert state.attributes["friendly_name"] == "modes-5 Protection mode"
    assert hass.states.get("number.modes_5_protection_mode") is None, "no number box"
    entry = er.async_get(hass).async_get(MODE)
    assert entry is not None and entry.entity_category == "config"
    await _select(hass, "trip")
    await wait_for_state(hass, MODE, lambda s: s.state == "trip")
    assert rig.get("/devices/modes-5")["setpoint_values"]["protection_mode"] == 2


async def test_a_failed_write_leaves_the_select_showing_the_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The frontend shows the chosen option at once; a write that fails puts back what the
    device reads. (A mock: a connection lost in the middle of one write cannot be staged.)"""
    await wait_for_state(hass, MODE, lambda s: s.state == "off")
    client = loaded_entry.runtime_data.client
    failing = AsyncMock(side_effect=BridgeConnectionError("gone"))
    with (
        patch.object(client, "set_setpoint", failing),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _select(hass, "alarm")
    assert err.value.translation_key == "communication_error"
    assert failing.await_count == 1
    assert hass.states.get(MODE).state == "off"
    assert rig.get("/devices/modes-5")["setpoint_values"]["protection_mode"] == 0


async def test_read_only_modes_and_flags_are_an_enum_sensor_and_a_binary_sensor(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """Setpoints Home Assistant may not write are diagnostics: a mode by its option's name,
    a flag on or off, never a sensor holding 0 or 1."""
    mode = await wait_for_state(hass, OUTPUT_MODE, lambda s: s.state == "off")
    assert mode.attributes["device_class"] == "enum"
    assert mode.attributes["options"] == ["off", "trip"]
    assert mode.attributes["friendly_name"] == "modes-5 Output mode"
    flag = await wait_for_state(hass, CT_BREAK, lambda s: s.state == STATE_ON)
    assert flag.attributes["friendly_name"] == "modes-5 CT break alarm"
    assert hass.states.get("sensor.modes_5_ct_break_alarm") is None
    registry = er.async_get(hass)
    for entity_id in (OUTPUT_MODE, CT_BREAK):
        entry = registry.async_get(entity_id)
        assert entry is not None and entry.entity_category == "diagnostic", entity_id
    assert hass.states.get("select.modes_5_output_mode") is None


@pytest.mark.parametrize(
    ("language", "name", "trip"),
    [("zh-Hans", "保护模式", "脱扣"), ("ja", "保護モード", "遮断")],
)
async def test_the_mode_and_its_options_are_translated(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    rig: Rig,
    language: str,
    name: str,
    trip: str,
) -> None:
    hass.config.language = language
    config_entry.add_to_hass(hass)
    with patch("custom_components.electrical_safety.PLATFORMS", [Platform.SELECT]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    (entry,) = er.async_entries_for_config_entry(er.async_get(hass), config_entry.entry_id)
    assert entry.original_name == name
    strings = await async_get_translations(hass, language, "entity", ["electrical_safety"])
    key = f"component.electrical_safety.entity.select.{entry.translation_key}.state.trip"
    assert strings[key] == trip
