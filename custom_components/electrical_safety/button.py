"""Buttons: the commands a detector offers (reset, mute, self-test), and Acknowledge.

Acknowledge is the dashboard's way to say "seen" for every open alarm and wiring fault of a
detector, for anyone who can press a button (a tenant without the admin's Developer tools).
It is available only while there is something to acknowledge.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.errors import BridgeError, UnknownAlarm
from electrical_safety_bridge.common.models import Alarm, Device

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, async_add_entities_as_devices_appear
from .helpers import async_run_command, async_who, device_name, translate_error
from .kinds import BUTTON_COMMANDS

#: Commands to one bus go one at a time.
PARALLEL_UPDATES = 1

ACKNOWLEDGE = ButtonEntityDescription(key="acknowledge", translation_key="acknowledge")


def _buttons(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[ButtonEntity]:
    for command, spec in BUTTON_COMMANDS.items():
        if command in device.commands:
            description = ButtonEntityDescription(
                key=command,
                translation_key=spec.translation_key,
                entity_category=spec.entity_category,
            )
            yield CommandButton(coordinator, device, description, "command")
    yield AcknowledgeButton(coordinator, device, ACKNOWLEDGE, "device")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a button for every command a detector offers, and its Acknowledge button."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _buttons)


class CommandButton(ElectricalSafetyEntity, ButtonEntity):
    """One command of one detector."""

    async def async_press(self) -> None:
        """Send the command; the device must confirm it."""
        await async_run_command(
            self.coordinator, self.device_id, self.entity_description.key, self._context
        )


class AcknowledgeButton(ElectricalSafetyEntity, ButtonEntity):
    """Acknowledge every open alarm and wiring fault of one detector."""

    @property
    def _unacknowledged(self) -> list[Alarm]:
        device = self.device
        if device is None:
            return []
        return [alarm for alarm in device.state.open_alarms if not alarm.acknowledged]

    @property
    def available(self) -> bool:
        """Available while the detector has an open alarm or wiring fault nobody has
        acknowledged. The bridge keeps the alarms, so a silent detector's can be too."""
        return self.coordinator.last_update_success and bool(self._unacknowledged)

    async def async_press(self) -> None:
        """Acknowledge each of them, in the pressing person's name."""
        who = await async_who(self.hass, self._context)
        target = device_name(self.coordinator, self.device_id)
        for alarm in self._unacknowledged:
            try:
                await self.coordinator.client.acknowledge(alarm.id, who)
            except UnknownAlarm:
                continue  # cleared and closed meanwhile: nothing left to acknowledge
            except BridgeError as err:
                raise translate_error(
                    err, self.coordinator, target, device_id=self.device_id
                ) from err
