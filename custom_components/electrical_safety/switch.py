"""The breaker switch: off trips the circuit, on closes it again.

The bridge refuses a close while an alarm of the device is active or not yet acknowledged,
and says which; that reason reaches the person as a translated error, so nobody
re-energises a circuit that is still leaking without being told why it stays off.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.switch import (
    SwitchDeviceClass,
    SwitchEntity,
    SwitchEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.enums import CommandName
from electrical_safety_bridge.common.models import Device, Setpoint, Value

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, async_add_entities_as_devices_appear
from .helpers import async_run_command
from .kinds import channel_naming, platform_of, setpoint_naming
from .setpoint_entity import SetpointEntity, setpoint_entities

#: Writes to a breaker go one at a time.
PARALLEL_UPDATES = 1

#: The breaker's named state that means "closed" (power on).
CLOSED = "closed"


def _breakers(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[SwitchEntity]:
    for channel in device.channels:
        if platform_of(device, channel) is Platform.SWITCH:
            translation_key, placeholders = channel_naming(channel)
            description = SwitchEntityDescription(
                key=channel.key,
                translation_key=translation_key,
                device_class=SwitchDeviceClass.SWITCH,
            )
            yield BreakerSwitch(
                coordinator, device, description, "channel", placeholders=placeholders
            )


def flag_description(setpoint: Setpoint) -> SwitchEntityDescription:
    """A writable flag setpoint: a configuration switch."""
    return SwitchEntityDescription(
        key=setpoint.key,
        translation_key=setpoint_naming(setpoint)[0],
        entity_category=EntityCategory.CONFIG,
    )


def _flags(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[SwitchEntity]:
    return setpoint_entities(coordinator, device, Platform.SWITCH, flag_description, FlagSwitch)


def _switches(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[SwitchEntity]:
    yield from _breakers(coordinator, device)
    yield from _flags(coordinator, device)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch for every breaker the bridge can trip and close, and for every flag
    setpoint it may write."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _switches)


def breaker_closed(value: Value) -> bool | None:
    """Whether a breaker reads closed: a named state, or a flag (1 = closed)."""
    if isinstance(value, str):
        return value == CLOSED
    if isinstance(value, (bool, int)):
        return bool(value)
    return None


class BreakerSwitch(ElectricalSafetyEntity, SwitchEntity):
    """A breaker: on is closed (the circuit has power)."""

    @property
    def is_on(self) -> bool | None:
        """Closed, as the device's auxiliary contact last read."""
        device = self.device
        return breaker_closed(
            None if device is None else device.state.values.get(self.entity_description.key)
        )

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Close the breaker; refused, with the reason, while an alarm is open."""
        await self._async_command(CommandName.CLOSE)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Trip the breaker."""
        await self._async_command(CommandName.TRIP)

    async def _async_command(self, command: CommandName) -> None:
        """Send the command, then show the breaker as the bridge last read it, whatever
        came of it: a refused or failed command never leaves a state that is not the
        breaker's (the frontend's optimistic toggle included)."""
        try:
            await async_run_command(self.coordinator, self.device_id, command, self._context)
        finally:
            self.async_write_ha_state()


class FlagSwitch(SetpointEntity, SwitchEntity):
    """A flag setpoint (an "… enable" register): on writes 1, off writes 0."""

    @property
    def is_on(self) -> bool | None:
        """Set, as the device last reported it."""
        value = self.setpoint_value
        return None if value is None else value != 0

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the flag."""
        await self.async_write_setpoint(1.0)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Clear the flag."""
        await self.async_write_setpoint(0.0)
