"""Buttons: the commands a detector offers (reset, mute, self-test)."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.models import Device

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, async_add_entities_as_devices_appear
from .helpers import async_run_command
from .kinds import BUTTON_COMMANDS

#: Commands to one bus go one at a time.
PARALLEL_UPDATES = 1


def _buttons(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[ButtonEntity]:
    for command, spec in BUTTON_COMMANDS.items():
        if command in device.commands:
            description = ButtonEntityDescription(
                key=command,
                translation_key=spec.translation_key,
                entity_category=spec.entity_category,
            )
            yield CommandButton(coordinator, device, description, "command")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a button for every command a detector offers."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _buttons)


class CommandButton(ElectricalSafetyEntity, ButtonEntity):
    """One command of one detector."""

    async def async_press(self) -> None:
        """Send the command; the device must confirm it."""
        await async_run_command(
            self.coordinator, self.device_id, self.entity_description.key, self._context
        )
