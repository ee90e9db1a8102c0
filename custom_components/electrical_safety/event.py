"""Event entities: each detector's alarms and wiring faults being raised, acknowledged and
cleared, and its self-tests passing or failing.

Automations (and the blueprints) trigger on these. The attributes carry what a
notification needs: the alarm's id (to acknowledge it), its channel, the value at the
moment of the alarm (latched by the bridge when it was raised), and ``detail``, which is
``self_test`` for the alarm a self-test raised, so that a test never reads as a fire.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.models import Alarm, BridgeEvent, Device

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, async_add_entities_as_devices_appear, timestamp

PARALLEL_UPDATES = 0

#: The bridge's alarm lifecycle events, fired under their own names, in lifecycle order.
ALARM_EVENT_TYPES: tuple[str, ...] = tuple(
    t.value
    for t in (
        EventType.ALARM_RAISED,
        EventType.ALARM_ACKNOWLEDGED,
        EventType.ALARM_CLEARED,
        EventType.WIRING_FAULT_RAISED,
        EventType.WIRING_FAULT_ACKNOWLEDGED,
        EventType.WIRING_FAULT_CLEARED,
    )
)
#: A self-test's outcome (the bridge's ``self_test`` event, ``result`` pass or fail).
SELF_TEST_PASSED = "self_test_passed"
SELF_TEST_FAILED = "self_test_failed"

ALARMS = EventEntityDescription(
    key="alarms",
    translation_key="alarms",
    event_types=[*ALARM_EVENT_TYPES, SELF_TEST_PASSED, SELF_TEST_FAILED],
)


def event_type(event: BridgeEvent) -> str | None:
    """The event entity's name for a bridge event, or None for one it does not fire."""
    if event.type in ALARM_EVENT_TYPES:
        return event.type
    if event.type == EventType.SELF_TEST:
        return SELF_TEST_PASSED if event.data.get("result") == "pass" else SELF_TEST_FAILED
    return None


def event_attributes(event: BridgeEvent, device: Device | None) -> dict[str, Any]:
    """What an automation needs to know about one alarm event."""
    attributes: dict[str, Any] = {
        # The bridge's id of the event, the same in its store and at the landlord's relay:
        # what ties a notification to the record (and dedupes a replayed event).
        "event_id": event.id,
        "channel": event.channel,
        "seq": event.seq,
        "at": timestamp(event.at),
    }
    if event.type == EventType.SELF_TEST:
        return attributes | {"seconds": event.data.get("seconds")}
    try:
        alarm = Alarm.from_dict(event.data)
    except ValueError:
        return attributes
    channel = device.channel(alarm.channel) if device is not None else None
    attributes.update(
        {
            "alarm_id": alarm.id,
            "channel_kind": channel.kind if channel is not None else None,
            "value_at_alarm": alarm.value_at_alarm,
            "unit": channel.unit if channel is not None else None,
            "raised_at": timestamp(alarm.raised_at),
            "active": alarm.active,
            "acknowledged_by": alarm.acknowledged_by,
            "detail": alarm.detail,
        }
    )
    return attributes


def _events(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[EventEntity]:
    yield AlarmEvent(coordinator, device, ALARMS, "device")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an alarm event entity for every detector."""
    async_add_entities_as_devices_appear(entry, async_add_entities, _events)


class AlarmEvent(ElectricalSafetyEntity, EventEntity):
    """A detector's alarm lifecycle, as events."""

    async def async_added_to_hass(self) -> None:
        """Listen to the bridge's events while in Home Assistant."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._async_on_event))

    @property
    def available(self) -> bool:
        """Available while the bridge is connected, even if the detector is silent."""
        return self.coordinator.last_update_success and self.device is not None

    @callback
    def _async_on_event(self, event: BridgeEvent) -> None:
        name = event_type(event)
        if event.device_id != self.device_id or name is None:
            return
        self._trigger_event(name, event_attributes(event, self.device))
        self.async_write_ha_state()
