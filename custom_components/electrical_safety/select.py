"""Selects: setpoints whose register is an enumeration (a trip or operating mode), with the
options their profile lists from the device's manual."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.models import Device, Setpoint

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import async_add_entities_as_devices_appear
from .kinds import setpoint_naming
from .setpoint_entity import SetpointEntity, setpoint_entities

#: Writes to one bus go one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SetpointSelectEntityDescription(SelectEntityDescription):
    """An enumerated setpoint: the values its options stand for."""

    setpoint: Setpoint


def setpoint_description(setpoint: Setpoint) -> SetpointSelectEntityDescription:
    """A writable enumeration, its options named by its translation key's states."""
    translation_key, _ = setpoint_naming(setpoint)
    return SetpointSelectEntityDescription(
        key=setpoint.key,
        translation_key=translation_key,
        entity_category=EntityCategory.CONFIG,
        options=list(setpoint.options),
        setpoint=setpoint,
    )


def _selects(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[SelectEntity]:
    return setpoint_entities(
        coordinator, device, Platform.SELECT, setpoint_description, SetpointSelect
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select for every writable setpoint that lists its options."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _selects)


class SetpointSelect(SetpointEntity, SelectEntity):
    """One enumerated setpoint of one detector."""

    entity_description: SetpointSelectEntityDescription

    @property
    def current_option(self) -> str | None:
        """The option the device last reported; None for a value its profile does not list."""
        return self.entity_description.setpoint.option_of(self.setpoint_value)

    async def async_select_option(self, option: str) -> None:
        """Write the option's value (Home Assistant offers only the listed options); the
        bridge checks it against the profile again and reads it back from the device."""
        await self.async_write_setpoint(float(self.entity_description.setpoint.options[option]))
