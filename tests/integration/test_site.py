"""The site in Home Assistant: its device (through the bridge's, the detectors through it),
its region, supply system and contract, and each detector's installation, from the rig's
real bridge (tests/integration/rig.py's SITE and INSTALLATIONS)."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.electrical_safety.const import DOMAIN
from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.enums import Region
from electrical_safety_bridge.common.errors import BridgeConnectionError, BridgeResponseError
from electrical_safety_bridge.common.site import Site

from .conftest import find_device
from .rig import BRIDGE_ID, SITE

SITE_DEVICE = f"{BRIDGE_ID}/site"


def state_of(hass: HomeAssistant, entity_id: str) -> tuple[str, dict[str, object]]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state, dict(state.attributes)


async def test_the_site_device_shows_region_supply_and_contract(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    site = find_device(hass, SITE_DEVICE)
    assert site is not None and site.name == "Test flat" and site.model == "Site"
    region, attributes = state_of(hass, "sensor.test_flat_region")
    assert region == "jp"
    assert attributes["options"] == ["cn", "jp", "generic"]
    assert attributes["site_id"] == "test-flat"
    assert attributes["location"] == {"latitude": 35.6812, "longitude": 139.7671}
    assert "latitude" not in attributes, "a site sensor is no tracker on the local map"
    supply, _ = state_of(hass, "sensor.test_flat_supply_system")
    assert supply == "single_phase_3wire"
    # Two kVA contracts add up (seed 004), each listed.
    contract, attributes = state_of(hass, "sensor.test_flat_supply_contract")
    assert float(contract) == 10.0
    assert attributes["unit_of_measurement"] == "kVA"
    assert attributes["contracts"] == [
        {"unit": "kVA", "value": 6.0},
        {"unit": "kVA", "value": 4.0},
    ]
    for entity_id in (
        "sensor.test_flat_region",
        "sensor.test_flat_supply_system",
        "sensor.test_flat_supply_contract",
    ):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None and entry.device_id == site.id, entity_id
        assert entry.entity_category is er.EntityCategory.DIAGNOSTIC, entity_id
        assert "state_class" not in state_of(hass, entity_id)[1], "a contract is no measurement"


async def test_a_detectors_installation_is_shown_as_diagnostic_sensors(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    expected = {
        "sensor.kitchen_ct_rating": "30.0",
        "sensor.kitchen_ct_location": "service_entrance",
        "sensor.kitchen_circuit": "Kitchen sockets",
        "sensor.kitchen_circuit_rated_current": "20.0",
        "sensor.aim_3_ct_location": "grounding_wire",
    }
    for entity_id, value in expected.items():
        state, _ = state_of(hass, entity_id)
        assert state == value, entity_id
        entry = entity_registry.async_get(entity_id)
        assert entry is not None and entry.entity_category is er.EntityCategory.DIAGNOSTIC
    _, rating = state_of(hass, "sensor.kitchen_ct_rating")
    assert (rating["unit_of_measurement"], rating["device_class"]) == ("A", "current")
    _, circuit = state_of(hass, "sensor.kitchen_circuit")
    assert circuit["room"] == "Kitchen"
    # A detector configured without an installation has none of these.
    assert not [
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if e.entity_id.startswith("sensor.asj_4_c")
    ]


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("en", ("Region", "Japan", "CT location", "Transformer grounding wire")),
        ("zh-Hans", ("地区", "日本", "互感器位置", "变压器接地线")),
        ("ja", ("地域", "日本", "変流器の設置場所", "変圧器のB種接地線")),
    ],
)
async def test_site_and_installation_names_are_translated(
    hass: HomeAssistant, language: str, names: tuple[str, str, str, str]
) -> None:
    translations = await async_get_translations(hass, language, "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity.sensor"
    assert (
        translations[f"{prefix}.site_region.name"],
        translations[f"{prefix}.site_region.state.jp"],
        translations[f"{prefix}.ct_location.name"],
        translations[f"{prefix}.ct_location.state.grounding_wire"],
    ) == names


async def test_the_diagnostics_carry_the_site_without_its_location(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, loaded_entry: MockConfigEntry
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    site = diagnostics["site"]
    assert (site["name"], site["region"]) == (SITE["name"], SITE["region"])
    assert site["latitude"] == site["longitude"] == "**REDACTED**"


@pytest.mark.parametrize(
    "answer",
    [
        BridgeResponseError("HTTP 404: Not Found"),
        Site(BRIDGE_ID, BRIDGE_ID, Region.GENERIC, None, None, None, ()),
    ],
    ids=["bridge-before-sites", "site-not-configured"],
)
async def test_without_a_configured_site_the_detectors_are_the_bridges(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    answer: Exception | Site,
) -> None:
    """A bridge from before sites answers 404 for GET /site and sends snapshots without
    one; a bridge whose configuration has no site names it by its own id. Either way: no
    site device, no site sensors, the detectors linked to the bridge's device. Patched: the
    rig's bridge has a site, so its answer is stood in for, and its socket kept closed (no
    snapshot brings the site)."""
    config_entry.add_to_hass(hass)
    not_found = (
        AsyncMock(side_effect=answer)
        if isinstance(answer, Exception)
        else AsyncMock(return_value=answer)
    )
    no_socket = MagicMock(side_effect=BridgeConnectionError("no socket in this test"))
    with (
        patch.object(BridgeClient, "site", not_found),
        patch.object(BridgeClient, "websocket", no_socket),
    ):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    expected = None if isinstance(answer, Exception) else answer
    assert config_entry.runtime_data.data.site == expected
    assert find_device(hass, SITE_DEVICE) is None
    assert hass.states.get("sensor.test_flat_region") is None
    bridge = find_device(hass, BRIDGE_ID)
    assert bridge is not None
    devices = dr.async_entries_for_config_entry(device_registry, config_entry.entry_id)
    assert {d.via_device_id for d in devices if d.id != bridge.id} == {bridge.id}
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_a_bridge_that_cannot_answer_its_site_fails_the_set_up(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Only a 404 means a bridge before sites; any other failure is retried."""
    config_entry.add_to_hass(hass)
    failure = AsyncMock(side_effect=BridgeConnectionError("reset by peer"))
    with patch.object(BridgeClient, "site", failure):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.config_entries.async_unload(config_entry.entry_id)
