"""Binary sensors: per-channel alarm, warning and wiring fault, flags, communication, the
maintenance lock-out; and the bridge's own: each bus up and not overloaded, and its
storage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from electrical_safety_bridge.common.models import (
    BridgeData,
    Bus,
    Channel,
    Device,
    DeviceState,
    Setpoint,
    StorageStatus,
    numeric,
)

from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .early_warning import rising_sensors
from .entity import (
    BridgeEntity,
    ElectricalSafetyEntity,
    async_add_entities_as_devices_appear,
    timestamp,
)
from .kinds import (
    CONDITION_ROLES,
    channel_naming,
    channel_spec,
    platform_of,
    setpoint_naming,
)
from .setpoint_entity import setpoint_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ElectricalSafetyBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A detector's binary sensor: where its state comes from."""

    is_on_fn: Callable[[Device], bool | None]
    attributes_fn: Callable[[Device], dict[str, Any] | None] = lambda _: None
    #: Available while the detector is silent (the communication sensor says it is).
    needs_online: bool = True
    #: The setpoint it shows; unavailable while the device reports it unsupported.
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class BridgeBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of the bridge."""

    is_on_fn: Callable[[BridgeData], bool | None]
    attributes_fn: Callable[[BridgeData], dict[str, Any] | None] = lambda _: None


def _flag(state: DeviceState, key: str) -> bool | None:
    value = state.values.get(key)
    if isinstance(value, (bool, int, float)):
        return bool(value)
    return None


def _alarm_attributes(device: Device, channel: Channel, kind: str) -> dict[str, Any]:
    alarm = device.state.open_alarm(channel.key, kind)
    if alarm is None:
        return {"latched": False}
    return {
        "latched": True,
        "alarm_id": alarm.id,
        "acknowledged": alarm.acknowledged,
        "raised_at": timestamp(alarm.raised_at),
        "value_at_alarm": alarm.value_at_alarm,
        "unit": channel.unit,
    }


@dataclass(frozen=True, slots=True)
class _Role:
    """How one latched condition of a channel reads."""

    is_on: Callable[[DeviceState, str], bool | None]
    attributes: Callable[[Device, Channel], dict[str, Any] | None]


_ROLES: dict[str, _Role] = {
    "alarm": _Role(
        # None (unknown) while the bridge cannot decide it: never a reassuring "off".
        is_on=lambda state, key: state.alarms.get(key, False),
        attributes=lambda device, channel: _alarm_attributes(device, channel, "alarm"),
    ),
    "warning": _Role(
        is_on=lambda state, key: state.warnings.get(key, False),
        attributes=lambda device, channel: None,
    ),
    "wiring_fault": _Role(
        is_on=lambda state, key: key in state.wiring_faults,
        attributes=lambda device, channel: {
            "fault": device.state.wiring_faults.get(channel.key),
            **_alarm_attributes(device, channel, "wiring_fault"),
        },
    ),
}


def condition_description(
    channel: Channel, role: str
) -> ElectricalSafetyBinarySensorEntityDescription:
    """The alarm, warning or wiring-fault binary sensor of a channel."""
    translation_key, _ = channel_naming(channel, role)
    device_class, category = CONDITION_ROLES[role]
    reads = _ROLES[role]
    key = channel.key
    return ElectricalSafetyBinarySensorEntityDescription(
        key=channel.key,
        translation_key=translation_key,
        device_class=device_class,
        entity_category=category,
        is_on_fn=lambda d: reads.is_on(d.state, key),
        attributes_fn=lambda d: reads.attributes(d, channel),
    )


def flag_description(channel: Channel) -> ElectricalSafetyBinarySensorEntityDescription:
    """A status flag's binary sensor, from its kind's row."""
    spec = channel_spec(channel)
    translation_key, _ = channel_naming(channel)
    key = channel.key
    return ElectricalSafetyBinarySensorEntityDescription(
        key=key,
        translation_key=translation_key,
        device_class=spec.binary_device_class,
        entity_category=spec.entity_category,
        entity_registry_enabled_default=spec.enabled_by_default,
        is_on_fn=lambda d: _flag(d.state, key),
    )


def setpoint_flag_description(setpoint: Setpoint) -> ElectricalSafetyBinarySensorEntityDescription:
    """A flag setpoint Home Assistant may not write (an unverified profile): on or off,
    shown read-only, never a sensor holding 0 or 1."""
    translation_key, _ = setpoint_naming(setpoint)
    key = setpoint.key
    return ElectricalSafetyBinarySensorEntityDescription(
        key=key,
        translation_key=translation_key,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda d: _setpoint_flag(d.state, key),
        source=key,
    )


def _setpoint_flag(state: DeviceState, key: str) -> bool | None:
    value = numeric(state.setpoint_values.get(key))
    return None if value is None else value != 0


def _datetime(value: float | None) -> datetime | None:
    return None if value is None else dt_util.utc_from_timestamp(value)


def _lockout_attributes(device: Device) -> dict[str, Any]:
    lockout = device.state.lockout
    if lockout is None:
        return {"who": None, "why": None, "since": None, "until": None}
    return {
        "who": lockout.who,
        "why": lockout.why,
        "since": _datetime(lockout.since),
        "until": _datetime(lockout.until),
    }


#: On while the detector is locked out for maintenance (its breaker cannot be closed). The
#: bridge holds it, so it stays shown while the detector itself is silent.
LOCKOUT = ElectricalSafetyBinarySensorEntityDescription(
    key="lockout",
    translation_key="lockout",
    is_on_fn=lambda d: d.state.lockout is not None,
    attributes_fn=_lockout_attributes,
    needs_online=False,
)

COMMUNICATION = ElectricalSafetyBinarySensorEntityDescription(
    key="communication",
    translation_key="communication",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    is_on_fn=lambda d: d.state.online,
    needs_online=False,
)


def _conditions(channel: Channel) -> Iterable[str]:
    flags = {
        "alarm": channel.has_alarm,
        "warning": channel.has_warning,
        "wiring_fault": channel.has_wiring_fault and channel_spec(channel).fault_entity,
    }
    return (role for role in CONDITION_ROLES if flags[role])


def _device_binary_sensors(
    coordinator: ElectricalSafetyCoordinator, device: Device
) -> Iterable[BinarySensorEntity]:
    for channel in device.channels:
        for role in _conditions(channel):
            _, placeholders = channel_naming(channel, role)
            yield ChannelBinarySensor(
                coordinator,
                device,
                condition_description(channel, role),
                role,
                placeholders=placeholders,
            )
        if platform_of(device, channel) is Platform.BINARY_SENSOR:
            _, placeholders = channel_naming(channel)
            yield ChannelBinarySensor(
                coordinator, device, flag_description(channel), "channel", placeholders=placeholders
            )
    yield from setpoint_entities(
        coordinator,
        device,
        Platform.BINARY_SENSOR,
        setpoint_flag_description,
        ChannelBinarySensor,
    )
    yield ChannelBinarySensor(coordinator, device, COMMUNICATION, "device")
    yield ChannelBinarySensor(coordinator, device, LOCKOUT, "device")
    yield from rising_sensors(coordinator, device)


def _bus(data: BridgeData, bus_id: str) -> Bus | None:
    return next((b for b in data.info.buses if b.id == bus_id), None)


def bus_description(bus_id: str) -> BridgeBinarySensorEntityDescription:
    """Whether one of the bridge's buses is up."""
    return BridgeBinarySensorEntityDescription(
        key=f"bus_{bus_id}",
        translation_key="bus",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda data: bus.up if (bus := _bus(data, bus_id)) is not None else None,
    )


def overloaded_description(bus_id: str) -> BridgeBinarySensorEntityDescription:
    """Whether a bus's alarm polls need more of the line than their interval leaves."""

    def is_on(data: BridgeData) -> bool | None:
        bus = _bus(data, bus_id)
        return None if bus is None or bus.schedule is None else bus.schedule.overloaded

    return BridgeBinarySensorEntityDescription(
        key=f"bus_{bus_id}_overloaded",
        translation_key="bus_overloaded",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=is_on,
    )


def _storage_attributes(storage: StorageStatus) -> dict[str, Any]:
    return {
        "state": str(storage.state),
        "error": storage.error,
        "held_events": storage.held_events,
        "free_bytes": storage.free_bytes,
        "since": timestamp(storage.since),
    }


STORAGE = BridgeBinarySensorEntityDescription(
    key="storage",
    translation_key="storage",
    device_class=BinarySensorDeviceClass.PROBLEM,
    is_on_fn=lambda data: None if data.info.storage is None else data.info.storage.problem,
    attributes_fn=lambda data: (
        None if data.info.storage is None else _storage_attributes(data.info.storage)
    ),
)


def _bridge_binary_sensors(
    coordinator: ElectricalSafetyCoordinator,
) -> Iterable[BinarySensorEntity]:
    info = coordinator.data.info
    if info.storage is not None:
        yield BridgeBinarySensor(coordinator, STORAGE)
    for bus in info.buses:
        placeholders = {"bus": bus.id}
        yield BridgeBinarySensor(coordinator, bus_description(bus.id), placeholders=placeholders)
        if bus.schedule is not None:
            yield BridgeBinarySensor(
                coordinator, overloaded_description(bus.id), placeholders=placeholders
            )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every detector and bus, now and as they appear."""
    async_add_entities_as_devices_appear(
        entry, async_add_entities, _device_binary_sensors, _bridge_binary_sensors
    )


class ChannelBinarySensor(ElectricalSafetyEntity, BinarySensorEntity):
    """A detector's binary sensor."""

    entity_description: ElectricalSafetyBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """The communication sensor stays available while the detector is silent; a
        setpoint's flag is unavailable while the device reports it unsupported."""
        description = self.entity_description
        device = self.device
        if not description.needs_online:
            return self.coordinator.last_update_success and device is not None
        return (
            super().available
            and device is not None
            and (description.source is None or description.source not in device.state.unsupported)
        )

    @property
    def is_on(self) -> bool | None:
        """The state as last pushed."""
        device = self.device
        return None if device is None else self.entity_description.is_on_fn(device)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The latched alarm behind the state, where there is one."""
        device = self.device
        return None if device is None else self.entity_description.attributes_fn(device)


class BridgeBinarySensor(BridgeEntity, BinarySensorEntity):
    """A binary sensor of the bridge."""

    entity_description: BridgeBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The state as last pushed."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the description has them."""
        return self.entity_description.attributes_fn(self.coordinator.data)
