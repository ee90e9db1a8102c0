"""Base entities: a detector's and the bridge's. They hold device info and unique ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.site import Site

from .const import DOMAIN
from .coordinator import (
    ElectricalSafetyConfigEntry,
    ElectricalSafetyCoordinator,
    device_identifier,
    shown_site,
    site_identifier,
)


def timestamp(value: float | None) -> datetime | None:
    """A time of the bridge (seconds since the epoch) as an attribute: an aware datetime."""
    return None if value is None else dt_util.utc_from_timestamp(value)


def unique_id(bridge_id: str, device_id: str | None, role: str, key: str) -> str:
    """A stable unique id. ``:`` never appears in bridge, device or channel ids."""
    return ":".join(part for part in (bridge_id, device_id, role, key) if part is not None)


class ElectricalSafetyEntity(CoordinatorEntity[ElectricalSafetyCoordinator]):
    """An entity of one detector."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: ElectricalSafetyCoordinator,
        device: Device,
        description: EntityDescription,
        role: str,
        *,
        placeholders: dict[str, str] | None = None,
    ) -> None:
        """Describe the entity and the detector it belongs to."""
        super().__init__(coordinator)
        bridge_id = coordinator.bridge_id
        self.entity_description = description
        self.device_id = device.id
        self._attr_unique_id = unique_id(bridge_id, device.id, role, description.key)
        self._attr_translation_placeholders = placeholders or {}
        self._attr_device_info = DeviceInfo(
            identifiers={device_identifier(bridge_id, device.id)},
            name=device.name,
            manufacturer=device.manufacturer,
            model=device.model,
            # The room from the bridge's configuration (its area, else the room its
            # installation names): a suggestion the person can change.
            suggested_area=device.area
            or (device.installation.room if device.installation is not None else None),
        )

    async def async_added_to_hass(self) -> None:
        """Link the detector's device to the bridge's, now that the registry has it."""
        await super().async_added_to_hass()
        if self.registry_entry is not None:
            self.coordinator.async_link_to_bridge(self.registry_entry.device_id)

    @property
    def device(self) -> Device | None:
        """The detector as last reported (None once the bridge no longer has it)."""
        return self.coordinator.data.devices.get(self.device_id)

    @property
    def available(self) -> bool:
        """Available while the bridge is connected and the detector answers."""
        device = self.device
        return super().available and device is not None and device.state.online


class BridgeEntity(CoordinatorEntity[ElectricalSafetyCoordinator]):
    """An entity of the bridge itself."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: ElectricalSafetyCoordinator,
        description: EntityDescription,
        *,
        placeholders: dict[str, str] | None = None,
    ) -> None:
        """Describe the entity of the bridge device."""
        super().__init__(coordinator)
        bridge_id = coordinator.bridge_id
        self.entity_description = description
        self._attr_unique_id = unique_id(bridge_id, None, "bridge", description.key)
        self._attr_translation_placeholders = placeholders or {}
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, bridge_id)})


class SiteEntity(CoordinatorEntity[ElectricalSafetyCoordinator]):
    """An entity of the site the bridge serves."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: ElectricalSafetyCoordinator, description: EntityDescription
    ) -> None:
        """Describe the entity of the site's device."""
        super().__init__(coordinator)
        bridge_id = coordinator.bridge_id
        self.entity_description = description
        self._attr_unique_id = unique_id(bridge_id, None, "site", description.key)
        self._attr_device_info = DeviceInfo(identifiers={site_identifier(bridge_id)})

    @property
    def site(self) -> Site | None:
        """The site as last reported."""
        return shown_site(self.coordinator.data)


def site_layout(site: Site | None) -> tuple[object, ...]:
    """What the site's entities are built from: whether there is a site, and the units of
    its contracts (a contract's sensor has the unit of its contracts)."""
    return () if site is None else (True, tuple(sorted({str(c.unit) for c in site.contracts})))


type DeviceEntities = Callable[[ElectricalSafetyCoordinator, Device], Iterable[Entity]]
type BridgeEntities = Callable[[ElectricalSafetyCoordinator], Iterable[Entity]]


@callback
def async_add_entities_as_devices_appear(
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    for_device: DeviceEntities,
    for_bridge: BridgeEntities | None = None,
) -> None:
    """Add a platform's entities now, and again whenever the bridge reports new devices.

    Entities are built only when a device is new or its layout (profile) changed, and each
    unique id is added once. Devices that disappear are removed from the device registry
    by the coordinator, which removes their entities with them.
    """
    coordinator = entry.runtime_data
    layouts: dict[str | None, tuple[object, ...]] = {}
    added: set[str] = set()

    @callback
    def check() -> None:
        devices = coordinator.data.devices
        for gone in set(layouts) - set(devices) - {None}:
            del layouts[gone]
            prefix = f"{coordinator.bridge_id}:{gone}:"
            added.difference_update({u for u in added if u.startswith(prefix)})
        candidates: list[Entity] = []
        # The site's entities are the bridge's too: they follow its contract's units.
        bridge_layout = (coordinator.data.info.layout, site_layout(shown_site(coordinator.data)))
        if for_bridge is not None and layouts.get(None) != bridge_layout:
            layouts[None] = bridge_layout
            candidates.extend(for_bridge(coordinator))
        for device in devices.values():
            if layouts.get(device.id) != device.layout:
                layouts[device.id] = device.layout
                candidates.extend(for_device(coordinator, device))
        new = [e for e in candidates if e.unique_id not in added]
        added.update(e.unique_id for e in new if e.unique_id is not None)
        if new:
            async_add_entities(new)

    check()
    entry.async_on_unload(coordinator.async_add_listener(check))
