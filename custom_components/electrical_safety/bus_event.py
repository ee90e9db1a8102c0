"""Every event of the bridge's log, fired on Home Assistant's bus as ``electrical_safety_event``.

The logbook describes them (logbook.py): what was raised, on which channel, at which value,
who acknowledged, eliminated or locked out, which close was refused. Automations can
trigger on them too. Each carries names as Home Assistant shows them (the detector's, the
channel's translated entity name) so that an entry reads the same long after a rename, and
the Home Assistant device and the detector's alarm event entity, so that it is listed under
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.models import BridgeEvent

from .const import DOMAIN, EVENT_ELECTRICAL_SAFETY
from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import timestamp, unique_id
from .helpers import channel_name, device_name, ha_device

#: What an event's data may say, copied as it is (lock-out and hazard events nest the
#: person under an actor; ``_who`` finds them).
_COPIED = ("kind", "detail", "command", "outcome", "reason", "result", "seconds", "note", "why")
#: An early warning's projection (early_warning.py), copied as it is.
_TREND = ("setpoint", "level", "slope_per_day", "days_to_setpoint")


def _who(data: Mapping[str, Any]) -> str | None:
    """The person an event names: ``who``, ``acknowledged_by``, or a nested actor's."""
    for key in ("who", "acknowledged_by"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("eliminated", "acknowledged", "lifted", "lockout", "hazard"):
        nested = data.get(key)
        if isinstance(nested, Mapping) and (found := _who(nested)) is not None:
            return found
    return None


def _text(data: Mapping[str, Any], key: str) -> Any:
    value = data.get(key)
    if value is None:
        for nested in data.values():
            if isinstance(nested, Mapping) and nested.get(key) is not None:
                return nested[key]
    return value


@callback
def bus_event_data(coordinator: ElectricalSafetyCoordinator, event: BridgeEvent) -> dict[str, Any]:
    """The bus event of one bridge event."""
    data = event.data
    channel_key = event.channel or _text(data, "channel")
    device = coordinator.data.devices.get(event.device_id) if event.device_id else None
    channel = device.channel(channel_key) if device is not None and channel_key else None
    ha_device_id: str | None = None
    alarms_entity: str | None = None
    if event.device_id is not None:
        alarms_entity = er.async_get(coordinator.hass).async_get_entity_id(
            Platform.EVENT,
            DOMAIN,
            unique_id(coordinator.bridge_id, event.device_id, "device", "alarms"),
        )
        found_device = ha_device(coordinator, event.device_id)
        ha_device_id = found_device.id if found_device is not None else None
    found: dict[str, Any] = {
        "config_entry_id": coordinator.config_entry.entry_id,
        "bridge_id": coordinator.bridge_id,
        "event_id": event.id,
        "seq": event.seq,
        "type": str(event.type),
        "at": timestamp(event.at),
        "device_id": ha_device_id,
        "entity_id": alarms_entity,
        "bridge_device_id": event.device_id,
        "device_name": device_name(coordinator, event.device_id) if event.device_id else None,
        "channel": channel_key,
        "channel_name": channel_name(coordinator, device, channel_key)
        if device is not None and channel_key
        else channel_key,
        "alarm_id": data.get("id") if "raised_at" in data else _text(data, "alarm_id"),
        "value": _text(data, "value_at_alarm"),
        "unit": channel.unit if channel is not None else None,
        "who": _who(data),
    }
    found.update({key: _text(data, key) for key in _COPIED})
    if event.type in (EventType.EARLY_WARNING, EventType.EARLY_WARNING_CLEARED):
        found.update({key: data.get(key) for key in _TREND})
    return found


@callback
def async_fire_bus_events(entry: ElectricalSafetyConfigEntry) -> None:
    """Fire every event of the entry's bridge on the bus, for as long as it is loaded."""
    coordinator = entry.runtime_data
    hass = coordinator.hass

    @callback
    def fire(event: BridgeEvent) -> None:
        hass.bus.async_fire(EVENT_ELECTRICAL_SAFETY, bus_event_data(coordinator, event))

    entry.async_on_unload(coordinator.async_add_event_listener(fire))
