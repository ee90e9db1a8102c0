"""Diagnostics: everything support needs, nothing secret."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.electrical_safety.const import DOMAIN

from .conftest import find_device
from .rig import BRIDGE_ID, Rig

#: What changes from run to run: ports, bus counters, the event sequence, and what the
#: bridge measures (its alarm polls' line time, gaps and cycle, its data folder's free space).
VOLATILE = props(
    "port",
    "stats",
    "last_seq",
    "line",
    "reconnects",
    "alarm_round_s",
    "alarm_gap_max_s",
    "alarm_cycle_s",
    "free_bytes",
)


async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    bridge_rig: Rig,
    snapshot: SnapshotAssertion,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    assert bridge_rig.token not in repr(diagnostics)
    assert diagnostics == snapshot(exclude=VOLATILE)


async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    results: dict[str, Any] = {}
    for identifier in (BRIDGE_ID, f"{BRIDGE_ID}:aafd-2"):
        device = find_device(hass, identifier)
        assert device is not None
        results[identifier] = await get_diagnostics_for_device(
            hass, hass_client, loaded_entry, device
        )
    stray = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id,
        identifiers={("another_domain", "x"), (DOMAIN, f"{BRIDGE_ID}:gone")},
    )
    results["gone"] = await get_diagnostics_for_device(hass, hass_client, loaded_entry, stray)
    assert results == snapshot(exclude=VOLATILE)


async def test_who_acknowledged_is_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
) -> None:
    """People's names (and the address they acknowledged from) stay out of diagnostics."""
    from custom_components.electrical_safety.diagnostics import _device
    from electrical_safety_bridge.common.models import Device

    device = Device.from_dict(
        {
            "id": "d",
            "open_alarms": [
                {
                    "id": "a1",
                    "device_id": "d",
                    "channel": "c",
                    "acknowledged": True,
                    "acknowledged_by": "Alice (192.0.2.1)",
                }
            ],
        }
    )
    (alarm,) = _device(device)["open_alarms"]
    assert alarm["acknowledged_by"] == "**REDACTED**"
