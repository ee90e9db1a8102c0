"""Sensors: measurements, named states, read-only setpoints, open alarms and open wiring
faults; each of the bridge's buses' alarm round (how much line time one alarm poll of every
unit takes, with the measured alarm cycle beside it); the last alarm's end-to-end delay; and
the bridge's hazard statistics.

Counts of what is open now (alarms, wiring faults, hazards) have no state class: a
measurement's long-term statistics would average them into "2.5 open alarms", which never
happened; their history shows each value as it was. Each count and the list beside it hold
the same records. This month's counts are totals that start again from 0 each month:
``total_increasing``, the class Home Assistant's rules give a counter that periodically
restarts, so that its statistics sum them across months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from electrical_safety_bridge.common.models import (
    Alarm,
    BridgeData,
    BusSchedule,
    Channel,
    Device,
    Setpoint,
    Value,
    numeric,
)
from electrical_safety_bridge.common.workflow import HazardStatistics

from .alarm_delivery import AlarmDeliveries
from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import (
    BridgeEntity,
    ElectricalSafetyEntity,
    async_add_entities_as_devices_appear,
    timestamp,
)
from .kinds import (
    Shape,
    channel_naming,
    channel_spec,
    number_device_class,
    platform_of,
    sensor_device_class,
    setpoint_naming,
    setpoint_spec,
)
from .proof_sensor import bridge_proof_sensors, device_proof_sensors
from .setpoint_entity import setpoint_entities
from .site_sensors import installation_sensors, site_sensors

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ElectricalSafetySensorEntityDescription(SensorEntityDescription):
    """A detector's sensor: where its value comes from."""

    value_fn: Callable[[Device], StateType]
    attributes_fn: Callable[[Device], dict[str, Any] | None] = lambda _: None
    #: The channel or setpoint it shows; unavailable while the device reports it unsupported.
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class BridgeSensorEntityDescription(SensorEntityDescription):
    """A sensor of the bridge itself."""

    value_fn: Callable[[BridgeData], StateType]
    attributes_fn: Callable[[BridgeData], dict[str, Any] | None] = lambda _: None


def _state(value: Value, states: tuple[str, ...]) -> str | None:
    return value if isinstance(value, str) and value in states else None


def _info(value: Value, unit: str | None) -> StateType:
    if unit is not None:
        return numeric(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _alarm_record(alarm: Alarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "kind": alarm.kind,
        "device_id": alarm.device_id,
        "channel": alarm.channel,
        "active": alarm.active,
        "acknowledged": alarm.acknowledged,
        "raised_at": timestamp(alarm.raised_at),
        "value_at_alarm": alarm.value_at_alarm,
    }


def channel_description(channel: Channel) -> ElectricalSafetySensorEntityDescription:
    """The sensor of one channel, from its kind's row."""
    spec = channel_spec(channel)
    translation_key, _ = channel_naming(channel)
    key = channel.key
    common: dict[str, Any] = {
        "key": key,
        "translation_key": translation_key,
        "entity_category": spec.entity_category,
        "entity_registry_enabled_default": spec.enabled_by_default,
        "source": key,
    }
    if channel.states:
        states = channel.states
        return ElectricalSafetySensorEntityDescription(
            **common,
            device_class=SensorDeviceClass.ENUM,
            options=list(states),
            value_fn=lambda d: _state(d.state.values.get(key), states),
        )
    if spec.shape is Shape.MEASUREMENT:
        return ElectricalSafetySensorEntityDescription(
            **common,
            device_class=sensor_device_class(spec, channel.unit),
            state_class=spec.state_class,
            native_unit_of_measurement=channel.unit,
            suggested_display_precision=spec.precision,
            value_fn=lambda d: numeric(d.state.values.get(key)),
        )
    unit = channel.unit
    return ElectricalSafetySensorEntityDescription(
        **common,
        native_unit_of_measurement=unit,
        value_fn=lambda d: _info(d.state.values.get(key), unit),
    )


def setpoint_description(setpoint: Setpoint) -> ElectricalSafetySensorEntityDescription:
    """A setpoint Home Assistant may not write (an unverified profile): shown read-only,
    an enumeration by its options' names."""
    translation_key, _ = setpoint_naming(setpoint)
    key = setpoint.key
    common: dict[str, Any] = {
        "key": key,
        "translation_key": translation_key,
        "entity_category": EntityCategory.DIAGNOSTIC,
        "source": key,
    }
    if setpoint.options:
        return ElectricalSafetySensorEntityDescription(
            **common,
            device_class=SensorDeviceClass.ENUM,
            options=list(setpoint.options),
            value_fn=lambda d: setpoint.option_of(d.state.setpoint_values.get(key)),
        )
    device_class = number_device_class(setpoint_spec(setpoint), setpoint.unit)
    return ElectricalSafetySensorEntityDescription(
        **common,
        device_class=SensorDeviceClass(device_class.value) if device_class else None,
        native_unit_of_measurement=setpoint.unit,
        value_fn=lambda d: numeric(d.state.setpoint_values.get(key)),
    )


def _alarms(records: Iterable[Alarm]) -> list[Alarm]:
    return [a for a in records if a.is_alarm]


def _wiring_faults(records: Iterable[Alarm]) -> list[Alarm]:
    """Every open record that is not an alarm: wiring faults (and a newer bridge's kinds)."""
    return [a for a in records if not a.is_alarm]


# Counts of what is open now: no state class (see the module's docstring).
OPEN_ALARMS = ElectricalSafetySensorEntityDescription(
    key="open_alarms",
    translation_key="open_alarms",
    value_fn=lambda d: len(_alarms(d.state.open_alarms)),
    attributes_fn=lambda d: {"alarms": [_alarm_record(a) for a in _alarms(d.state.open_alarms)]},
)

OPEN_WIRING_FAULTS = ElectricalSafetySensorEntityDescription(
    key="open_wiring_faults",
    translation_key="open_wiring_faults",
    value_fn=lambda d: len(_wiring_faults(d.state.open_alarms)),
    attributes_fn=lambda d: {
        "wiring_faults": [_alarm_record(a) for a in _wiring_faults(d.state.open_alarms)]
    },
)

BRIDGE_OPEN_ALARMS = BridgeSensorEntityDescription(
    key="open_alarms",
    translation_key="bridge_open_alarms",
    value_fn=lambda data: len(_alarms(data.open_alarms)),
    attributes_fn=lambda data: {"alarms": [_alarm_record(a) for a in _alarms(data.open_alarms)]},
)

BRIDGE_OPEN_WIRING_FAULTS = BridgeSensorEntityDescription(
    key="open_wiring_faults",
    translation_key="bridge_open_wiring_faults",
    value_fn=lambda data: len(_wiring_faults(data.open_alarms)),
    attributes_fn=lambda data: {
        "wiring_faults": [_alarm_record(a) for a in _wiring_faults(data.open_alarms)]
    },
)


def _statistic(read: Callable[[HazardStatistics], StateType]) -> Callable[[BridgeData], StateType]:
    """A value of the bridge's hazard statistics; unknown until the bridge has said."""
    return lambda data: None if data.statistics is None else read(data.statistics)


def _month(data: BridgeData) -> dict[str, Any] | None:
    return None if data.statistics is None else {"month": data.statistics.month}


#: The bridge's hazard statistics. Open hazards and unacknowledged alarms are counts of now
#: (no state class); this month's counts restart from 0 each month (total_increasing); the
#: mean times are this month's means, which no further averaging makes truer (no state class).
HAZARD_STATISTICS: tuple[BridgeSensorEntityDescription, ...] = (
    BridgeSensorEntityDescription(
        key="open_hazards",
        translation_key="open_hazards",
        value_fn=_statistic(lambda s: s.open_hazards),
    ),
    BridgeSensorEntityDescription(
        key="unacknowledged_alarms",
        translation_key="unacknowledged_alarms",
        value_fn=_statistic(lambda s: s.unacknowledged_alarms),
    ),
    BridgeSensorEntityDescription(
        key="alarms_this_month",
        translation_key="alarms_this_month",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=_statistic(lambda s: s.alarms_this_month),
        attributes_fn=_month,
    ),
    BridgeSensorEntityDescription(
        key="eliminated_this_month",
        translation_key="eliminated_this_month",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=_statistic(lambda s: s.eliminated_this_month),
        attributes_fn=_month,
    ),
    BridgeSensorEntityDescription(
        key="mean_time_to_acknowledge",
        translation_key="mean_time_to_acknowledge",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=_statistic(lambda s: s.mean_time_to_acknowledge_s),
        attributes_fn=_month,
    ),
    BridgeSensorEntityDescription(
        key="mean_time_to_eliminate",
        translation_key="mean_time_to_eliminate",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=_statistic(lambda s: s.mean_time_to_eliminate_s),
        attributes_fn=_month,
    ),
)


def _schedule(data: BridgeData, bus_id: str) -> BusSchedule | None:
    return next((b.schedule for b in data.info.buses if b.id == bus_id), None)


def _schedule_attributes(schedule: BusSchedule) -> dict[str, Any]:
    return {
        "alarm_interval": schedule.alarm_interval_s,
        "effective_alarm_interval": schedule.effective_alarm_interval_s,
        "longest_alarm_gap": schedule.alarm_gap_max_s,
        # The measured time between two alarm reads of a unit: what an alarm waits for at
        # most to be seen as the line runs now (None from bridges before it).
        "alarm_cycle": schedule.alarm_cycle_s,
    }


def alarm_round_description(bus_id: str) -> BridgeSensorEntityDescription:
    """The line time one round of alarm polls of a bus takes, as last reported.

    The bridge reports it with every change of the bus's load or state (and in each
    snapshot), not continuously.
    """

    def value(data: BridgeData) -> StateType:
        schedule = _schedule(data, bus_id)
        return None if schedule is None else schedule.alarm_round_s

    def attributes(data: BridgeData) -> dict[str, Any] | None:
        schedule = _schedule(data, bus_id)
        return None if schedule is None else _schedule_attributes(schedule)

    return BridgeSensorEntityDescription(
        key=f"bus_{bus_id}_alarm_round",
        translation_key="bus_alarm_round",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=value,
        attributes_fn=attributes,
    )


LAST_ALARM_DELAY = SensorEntityDescription(
    key="last_alarm_delay",
    translation_key="last_alarm_delay",
    device_class=SensorDeviceClass.DURATION,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    suggested_display_precision=2,
    entity_category=EntityCategory.DIAGNOSTIC,
)


class LastAlarmDelaySensor(BridgeEntity, SensorEntity):
    """The last alarm's end-to-end delay: its detection window plus its delivery into Home
    Assistant (alarm_delivery.py), each part an attribute."""

    def __init__(
        self, coordinator: ElectricalSafetyCoordinator, deliveries: AlarmDeliveries
    ) -> None:
        """Follows the deliveries measured by the coordinator."""
        super().__init__(coordinator, LAST_ALARM_DELAY)
        self._deliveries = deliveries

    async def async_added_to_hass(self) -> None:
        """Written again after each alarm delivered."""
        await super().async_added_to_hass()
        self.async_on_remove(self._deliveries.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float | None:
        """Seconds; unknown until an alarm arrives while Home Assistant listens."""
        last = self._deliveries.last
        return None if last is None else round(last.end_to_end_s, 3)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Which alarm, its detection window and its delivery time."""
        last = self._deliveries.last
        if last is None:
            return None
        return {
            "alarm_id": last.alarm_id,
            "device_id": last.device_id,
            "channel": last.channel,
            "raised_at": timestamp(last.raised_at),
            "detection_window": last.detection_window_s,
            "delivery": last.delivery_s,
        }


def _bridge_sensors(coordinator: ElectricalSafetyCoordinator) -> Iterable[SensorEntity]:
    yield BridgeSensor(coordinator, BRIDGE_OPEN_ALARMS)
    yield BridgeSensor(coordinator, BRIDGE_OPEN_WIRING_FAULTS)
    for description in HAZARD_STATISTICS:
        yield BridgeSensor(coordinator, description)
    yield from bridge_proof_sensors(coordinator)
    for bus in coordinator.data.info.buses:
        if bus.schedule is not None:
            yield BridgeSensor(
                coordinator, alarm_round_description(bus.id), placeholders={"bus": bus.id}
            )
    # getattr: a stand-in coordinator (the contract tests) may have no deliveries.
    deliveries: AlarmDeliveries | None = getattr(coordinator, "alarm_deliveries", None)
    if deliveries is not None:
        yield LastAlarmDelaySensor(coordinator, deliveries)
    yield from site_sensors(coordinator)


def _device_sensors(coordinator: ElectricalSafetyCoordinator, device: Device) -> Iterable[Any]:
    for channel in device.channels:
        if platform_of(device, channel) is Platform.SENSOR:
            _, placeholders = channel_naming(channel)
            yield ChannelSensor(
                coordinator,
                device,
                channel_description(channel),
                "channel",
                placeholders=placeholders,
            )
    yield from setpoint_entities(
        coordinator, device, Platform.SENSOR, setpoint_description, ChannelSensor
    )
    yield ChannelSensor(coordinator, device, OPEN_ALARMS, "device")
    yield from device_proof_sensors(coordinator, device)
    yield ChannelSensor(coordinator, device, OPEN_WIRING_FAULTS, "device")
    yield from installation_sensors(coordinator, device)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every detector and bus, now and as they appear."""
    async_add_entities_as_devices_appear(
        entry, async_add_entities, _device_sensors, _bridge_sensors
    )


class ChannelSensor(ElectricalSafetyEntity, SensorEntity):
    """A detector's sensor."""

    entity_description: ElectricalSafetySensorEntityDescription

    @property
    def available(self) -> bool:
        """Unavailable also while the device reports this value unsupported."""
        device = self.device
        source = self.entity_description.source
        return (
            super().available
            and device is not None
            and (source is None or source not in device.state.unsupported)
        )

    @property
    def native_value(self) -> StateType:
        """The value as last pushed."""
        device = self.device
        return None if device is None else self.entity_description.value_fn(device)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the description has them."""
        device = self.device
        return None if device is None else self.entity_description.attributes_fn(device)


class BridgeSensor(BridgeEntity, SensorEntity):
    """A sensor of the bridge."""

    entity_description: BridgeSensorEntityDescription

    @property
    def native_value(self) -> StateType:
        """The value as last pushed."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the description has them."""
        return self.entity_description.attributes_fn(self.coordinator.data)
