"""Diagnostics: the bridge and its devices as last heard, in the wire form of the contract,
secrets and names redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.site import Site

from .const import CONF_TOKEN, DOMAIN
from .coordinator import (
    ElectricalSafetyConfigEntry,
    ElectricalSafetyCoordinator,
    site_identifier,
)

#: The API token, who acknowledged or commanded what (people's names and addresses), and
#: where the site is.
TO_REDACT = {CONF_TOKEN, "acknowledged_by", "who", "latitude", "longitude"}


def _connection(coordinator: ElectricalSafetyCoordinator) -> dict[str, Any]:
    return {
        "connected": coordinator.connected,
        "last_update_success": coordinator.last_update_success,
        "down_since": coordinator.down_since.isoformat() if coordinator.down_since else None,
        "reconnects": coordinator.reconnects,
    }


def _device(device: Device) -> dict[str, Any]:
    return async_redact_data(device.to_dict(), TO_REDACT)


def _site(site: Site | None) -> dict[str, Any] | None:
    return None if site is None else async_redact_data(site.to_dict(), TO_REDACT)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ElectricalSafetyConfigEntry
) -> dict[str, Any]:
    """The entry, the connection, the bridge and every device."""
    coordinator = entry.runtime_data
    data = coordinator.data
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "connection": _connection(coordinator),
        "bridge": data.info.to_dict(),
        "last_seq": data.last_seq,
        "site": _site(data.site),
        "devices": [_device(device) for device in data.devices.values()],
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: ElectricalSafetyConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """One detector (or the bridge, or the site, for their own devices)."""
    coordinator = entry.runtime_data
    bridge_id = coordinator.bridge_id
    if site_identifier(bridge_id) in device.identifiers:
        return {"connection": _connection(coordinator), "site": _site(coordinator.data.site)}
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if identifier == bridge_id:
            return {
                "connection": _connection(coordinator),
                "bridge": coordinator.data.info.to_dict(),
            }
        found = coordinator.data.devices.get(identifier.removeprefix(f"{bridge_id}:"))
        if found is not None:
            return {"connection": _connection(coordinator), "device": _device(found)}
    return {"connection": _connection(coordinator), "device": None}
