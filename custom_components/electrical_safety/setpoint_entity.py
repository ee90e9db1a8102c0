"""What a number and a flag's switch share: one setpoint of one detector, shown as the
device last reported it and written through the bridge, which reads it back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from homeassistant.const import Platform
from homeassistant.helpers.entity import EntityDescription

from electrical_safety_bridge.common.models import Device, Setpoint, numeric

from .coordinator import ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity
from .helpers import async_write_setpoint
from .kinds import setpoint_naming, setpoint_platform


class _EntityOfDevice[E](Protocol):
    def __call__(
        self,
        coordinator: ElectricalSafetyCoordinator,
        device: Device,
        description: EntityDescription,
        role: str,
        *,
        placeholders: dict[str, str] | None = None,
    ) -> E: ...


def setpoint_entities[E, D: EntityDescription](
    coordinator: ElectricalSafetyCoordinator,
    device: Device,
    platform: Platform,
    describe: Callable[[Setpoint], D],
    entity: _EntityOfDevice[E],
) -> Iterable[E]:
    """The entities of a platform for the setpoints whose shape it shows (kinds.py)."""
    for setpoint in device.setpoints:
        if setpoint_platform(setpoint) is platform:
            _, placeholders = setpoint_naming(setpoint)
            yield entity(
                coordinator, device, describe(setpoint), "setpoint", placeholders=placeholders
            )


class SetpointEntity(ElectricalSafetyEntity):
    """An entity that shows and writes one setpoint: a number, or a flag's switch."""

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
    def setpoint_value(self) -> float | int | None:
        """The setpoint as the device last reported it."""
        device = self.device
        key = self.entity_description.key
        return numeric(None if device is None else device.state.setpoint_values.get(key))

    async def async_write_setpoint(self, value: float) -> None:
        """Write the setpoint; then show it as the device last reported it, written or
        not (a refused or failed write never leaves a state that is not the device's)."""
        try:
            await async_write_setpoint(
                self.coordinator, self.device_id, self.entity_description.key, value, self._context
            )
        finally:
            self.async_write_ha_state()
