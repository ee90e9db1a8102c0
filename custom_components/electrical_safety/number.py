"""Numbers: setpoints, bounded by the profile's minimum and maximum."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.models import Device, Setpoint, numeric

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, async_add_entities_as_devices_appear
from .helpers import async_write_setpoint
from .kinds import number_device_class, setpoint_naming, setpoint_spec

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
    for setpoint in device.setpoints:
        # A flag ("… enable") is a switch (switch.py), not a number box holding 1.0.
        if setpoint.writable and not setpoint_spec(setpoint).flag:
            _, placeholders = setpoint_naming(setpoint)
            yield SetpointNumber(
                coordinator,
                device,
                setpoint_description(setpoint),
                "setpoint",
                placeholders=placeholders,
            )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a number for every writable setpoint."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _numbers)


class SetpointNumber(ElectricalSafetyEntity, NumberEntity):
    """One setpoint of one detector."""

    @property
    def available(self) -> bool:
        """Unavailable also while the device reports this setpoint unsupported."""
        device = self.device
        return (
            super().available
            and device is not None
            and self.entity_description.key not in device.state.unsupported
        )

    @property
    def native_value(self) -> float | None:
        """The setpoint as the device last reported it."""
        device = self.device
        key = self.entity_description.key
        value = numeric(None if device is None else device.state.setpoint_values.get(key))
        return None if value is None else float(value)

    async def async_set_native_value(self, value: float) -> None:
        """Write the setpoint; the bridge reads it back from the device."""
        try:
            await async_write_setpoint(
                self.coordinator, self.device_id, self.entity_description.key, value, self._context
            )
        finally:
            # The setpoint as the device last reported it, written or not.
            self.async_write_ha_state()
