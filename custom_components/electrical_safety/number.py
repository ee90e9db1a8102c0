"""Numbers: setpoints, bounded by the profile's minimum and maximum."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.models import Device, Setpoint

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import async_add_entities_as_devices_appear
from .kinds import number_device_class, setpoint_naming, setpoint_spec
from .setpoint_entity import SetpointEntity, setpoint_entities

#: Writes to one bus go one at a time.
PARALLEL_UPDATES = 1


def setpoint_description(setpoint: Setpoint) -> NumberEntityDescription:
    """A writable setpoint, from its kind's row and the profile's bounds."""
    spec = setpoint_spec(setpoint)
    translation_key, _ = setpoint_naming(setpoint)
    return NumberEntityDescription(
        key=setpoint.key,
        translation_key=translation_key,
        entity_category=EntityCategory.CONFIG,
        device_class=number_device_class(spec, setpoint.unit),
        native_unit_of_measurement=setpoint.unit,
        native_min_value=setpoint.minimum,
        native_max_value=setpoint.maximum,
        native_step=setpoint.step,
        mode=NumberMode.BOX,
    )


def _numbers(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[NumberEntity]:
    # A flag ("… enable") is a switch and a mode a select, not a number box holding 1.0.
    return setpoint_entities(
        coordinator, device, Platform.NUMBER, setpoint_description, SetpointNumber
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a number for every writable setpoint."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _numbers)


class SetpointNumber(SetpointEntity, NumberEntity):
    """One setpoint of one detector."""

    @property
    def native_value(self) -> float | None:
        """The setpoint as the device last reported it."""
        value = self.setpoint_value
        return None if value is None else float(value)

    async def async_set_native_value(self, value: float) -> None:
        """Write the setpoint; the bridge reads it back from the device."""
        await self.async_write_setpoint(value)
