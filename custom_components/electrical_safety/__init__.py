"""Electrical Safety: Home Assistant's view of the electrical-safety bridge.

The bridge (an add-on, or a standalone process) owns the RS485 bus, latches alarms and
keeps the event log; this integration shows what it reports and passes commands to it.
"""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from electrical_safety_bridge.client import BridgeClient

from .bus_event import async_fire_bus_events
from .compliance import async_watch_auto_trips
from .compliance_tracker import ComplianceTracker
from .const import CONF_TOKEN, DOMAIN, MANUFACTURER, PLATFORMS
from .coordinator import (
    ElectricalSafetyConfigEntry,
    ElectricalSafetyCoordinator,
    device_identifier,
    seen_events_store,
    shown_site,
    site_identifier,
)
from .early_warning import async_setup_early_warnings
from .proof import ProofTracker
from .proof_services import async_setup_proof_services
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions, once for every bridge."""
    async_setup_services(hass)
    async_setup_proof_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> bool:
    """Connect to one bridge: read it once, add its entities, then listen for pushes."""
    client = BridgeClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
    )
    coordinator = ElectricalSafetyCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator

    info = coordinator.data.info
    bridge_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, info.bridge_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model="Bridge",
        sw_version=info.version,
    )
    # The site's device is linked to it, and the detectors' to the site's as their
    # entities are added (entity.py).
    coordinator.bridge_device_id = bridge_device.id
    coordinator.async_sync_site_device(coordinator.data)
    # The proof: self-test schedule and inspections due, before the sensors that show them.
    proof = ProofTracker(
        hass,
        entry.entry_id,
        client,
        lambda device_id: (
            device.name if (device := coordinator.data.devices.get(device_id)) else device_id
        ),
    )
    coordinator.proof = proof
    await proof.async_refresh()
    entry.async_on_unload(coordinator.async_add_event_listener(proof.async_on_event))
    entry.async_on_unload(proof.async_start())
    coordinator.early_warnings = await async_setup_early_warnings(entry)
    # The compliance findings, as repair issues and the site's sensor.
    compliance = ComplianceTracker(hass, entry, client)
    coordinator.compliance = compliance
    await compliance.async_refresh()
    entry.async_on_unload(coordinator.async_add_event_listener(compliance.async_on_event))
    entry.async_on_unload(compliance.async_start())
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_fire_bus_events(entry)
    # Listen only once every platform is there to hear it.
    coordinator.async_start()
    # GB 50116 §9.1.6: automations that trip a breaker without a person are repair issues.
    async_watch_auto_trips(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> bool:
    """Disconnect from the bridge; the WebSocket task ends with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> None:
    """Drop the entry's repair issues and its position in the bridge's log with it."""
    await seen_events_store(hass, entry.entry_id).async_remove()
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and entry.entry_id in issue_id:
            ir.async_delete_issue(hass, domain, issue_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ElectricalSafetyConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let a person delete a detector the bridge no longer reports, never a live one."""
    coordinator = entry.runtime_data
    bridge_id = coordinator.bridge_id
    if (DOMAIN, bridge_id) in device.identifiers:
        return False
    if site_identifier(bridge_id) in device.identifiers:
        return shown_site(coordinator.data) is None
    return not any(
        device_identifier(bridge_id, device_id) in device.identifiers
        for device_id in coordinator.data.devices
    )
