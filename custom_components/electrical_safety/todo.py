"""The bridge's hazards as a to-do list: one item per alarm or wiring fault not eliminated.

An item reads "Kitchen · Residual current 512 mA"; its description says when it opened,
where it stands and who acknowledged it. Checking an item off eliminates the hazard on the
bridge, with the cause and the fix the person wrote in the item's description as the note.
The bridge refuses while a fresh read still shows the condition, and the item stays open.
Items come only from the bridge: none can be created, deleted or moved by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import translation
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.workflow import Hazard

from .const import DOMAIN
from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import BridgeEntity
from .hazard_actions import async_eliminate_hazard
from .hazards import (
    ITEM_TEXT,
    SEPARATOR,
    description,
    is_wiring_fault,
    note_from,
    summary,
    value_text,
)
from .helpers import async_who, channel_name

PARALLEL_UPDATES = 0

HAZARDS = EntityDescription(key="hazards", translation_key="hazards")
#: The sensor whose translated states name the profiles' states (``broken_line``,
#: ``open_circuit``…), the words a wiring fault's detail is given in.
STATE_NAMES = "alarm_status"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the bridge's list of hazards."""
    async_add_entities([HazardList(entry.runtime_data)])


class HazardList(BridgeEntity, TodoListEntity):
    """The hazards of one bridge, to be eliminated."""

    _attr_supported_features = (
        TodoListEntityFeature.UPDATE_TODO_ITEM | TodoListEntityFeature.SET_DESCRIPTION_ON_ITEM
    )

    def __init__(self, coordinator: ElectricalSafetyCoordinator) -> None:
        """The list of the bridge's hazards."""
        super().__init__(coordinator, HAZARDS)
        #: What a person wrote in an item's description before checking it off.
        self._drafts: dict[str, str] = {}

    def _text(self, key: str, placeholders: Mapping[str, str]) -> str:
        """One line of an item's description, in Home Assistant's language."""
        strings = translation.async_get_cached_translations(
            self.hass, self.hass.config.language, "exceptions", DOMAIN
        )
        template = strings.get(f"component.{DOMAIN}.exceptions.hazard_item_{key}.message")
        if "detail" in placeholders:
            placeholders = {**placeholders, "detail": self._state_name(placeholders["detail"])}
        return (template or ITEM_TEXT[key]).format(**placeholders)

    def _state_name(self, detail: str) -> str:
        """A fault the profile names by a state (``broken_line``), as the sensors show that
        state in Home Assistant's language; other details as the bridge wrote them."""
        strings = translation.async_get_cached_translations(
            self.hass, self.hass.config.language, "entity", DOMAIN
        )
        return strings.get(f"component.{DOMAIN}.entity.sensor.{STATE_NAMES}.state.{detail}", detail)

    def _summary(self, hazard: Hazard) -> str:
        """``Kitchen · Residual current 512 mA``, the channel named as its entity is."""
        device = self.coordinator.data.devices.get(hazard.device_id)
        if device is None or device.channel(hazard.channel) is None:
            return summary(device, hazard)
        channel = channel_name(self.coordinator, device, hazard.channel)
        if is_wiring_fault(hazard):
            # A broken sensor wire has no value to show: say what it is.
            what = self._text("wiring_fault", {"detail": hazard.detail or "?"})
        else:
            what = value_text(device, hazard)
        return f"{device.name}{SEPARATOR}{channel} {what}".rstrip()

    def _description(self, hazard: Hazard) -> str:
        return description(hazard, self._text)

    def _item(self, hazard: Hazard) -> TodoItem:
        return TodoItem(
            uid=hazard.id,
            summary=self._summary(hazard),
            status=TodoItemStatus.NEEDS_ACTION,
            due=None,
            description=self._drafts.get(hazard.id, self._description(hazard)),
        )

    @property
    def todo_items(self) -> list[TodoItem]:
        """Every hazard not eliminated, oldest first."""
        hazards = sorted(self.coordinator.data.hazards.values(), key=lambda h: h.opened_at)
        for gone in set(self._drafts) - {h.id for h in hazards}:
            del self._drafts[gone]
        return [self._item(hazard) for hazard in hazards]

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Keep a person's note; eliminate the hazard when its item is checked off."""
        hazard = self.coordinator.data.hazards.get(item.uid or "")
        if hazard is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_hazard",
                translation_placeholders={"hazard_id": item.uid or "?"},
            )
        note = note_from(item.description, self._description(hazard))
        if note is not None:
            self._drafts[hazard.id] = note
        if item.status != TodoItemStatus.COMPLETED:
            self.async_write_ha_state()
            return
        device = self.coordinator.data.devices.get(hazard.device_id)
        if note is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="hazard_note_required",
                translation_placeholders={"hazard": summary(device, hazard)},
            )
        who = await async_who(self.hass, self._context)
        try:
            await async_eliminate_hazard(
                self.coordinator, summary(device, hazard), hazard, who, note
            )
        finally:
            # Eliminated, the bridge's hazard message drops the item; refused, it stays.
            self.async_write_ha_state()
