"""What each kind of channel, setpoint and command becomes in Home Assistant: the tables.

The bridge describes every device with semantic kinds (``residual_current``, ``temperature``,
``alarm_status``…). One row per kind says how it is shown: its shape (a measurement, a
status flag, the breaker), device class, state class, translation key, entity category and
whether it is enabled by default. A new kind is one new row; the platform files only
filter these rows and never look at a kind themselves.

Names come from translations. A channel whose key carries a number (``temperature_2``,
``loop_7_residual_current``) uses the ``_n`` variant of its translation key, with the number
as a placeholder. Kinds whose meaning is profile-specific (configuration registers, values
at the alarm) are named after the profile, through a ``{name}`` placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.number.const import (
    DEVICE_CLASS_UNITS as NUMBER_DEVICE_CLASS_UNITS,
)
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.components.sensor.const import DEVICE_CLASS_UNITS
from homeassistant.const import EntityCategory, Platform

from electrical_safety_bridge.common.enums import ChannelKind, CommandName, SetpointKind
from electrical_safety_bridge.common.models import Channel, Device, Setpoint


class Shape(StrEnum):
    """How a channel's value is shown."""

    #: A number with a unit: a sensor (statistics where it has a state class).
    MEASUREMENT = "measurement"
    #: A flag: a binary sensor; with named states (``normal``, ``open_circuit``…), an enum sensor.
    STATUS = "status"
    #: Profile-specific information: a plain sensor (an enum sensor with named states).
    INFO = "info"
    #: The breaker: a switch where the device can trip and close it, else a status.
    BREAKER = "breaker"


@dataclass(frozen=True, kw_only=True, slots=True)
class KindSpec:
    """What one kind of channel becomes."""

    shape: Shape
    translation_key: str
    #: The entity is named after the profile's channel name (``{name}``).
    named: bool = False
    sensor_device_class: SensorDeviceClass | None = None
    binary_device_class: BinarySensorDeviceClass | None = None
    state_class: SensorStateClass | None = None
    precision: int | None = None
    entity_category: EntityCategory | None = None
    enabled_by_default: bool = True
    #: A sensor fault of the channel is a binary sensor of its own: not for a record of
    #: the last alarm's value, whose sentinel says nothing a person can act on.
    fault_entity: bool = True


_DIAGNOSTIC = EntityCategory.DIAGNOSTIC

#: THE table: channel kind → what it becomes.
CHANNEL_KINDS: dict[str, KindSpec] = {
    ChannelKind.RESIDUAL_CURRENT: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="residual_current",
        sensor_device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        precision=0,
    ),
    ChannelKind.TEMPERATURE: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="temperature",
        sensor_device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        precision=1,
    ),
    ChannelKind.VOLTAGE: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="voltage",
        sensor_device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        precision=1,
    ),
    ChannelKind.CURRENT: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="current",
        sensor_device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        precision=2,
    ),
    ChannelKind.POWER: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="power",
        sensor_device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        precision=0,
    ),
    ChannelKind.ENERGY: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="energy",
        sensor_device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        precision=2,
    ),
    ChannelKind.FREQUENCY: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="frequency",
        sensor_device_class=SensorDeviceClass.FREQUENCY,
        state_class=SensorStateClass.MEASUREMENT,
        precision=2,
        entity_category=_DIAGNOSTIC,
    ),
    # A counter that only grows until the device is reset: total_increasing, so long-term
    # statistics sum the arcs counted in each period and take a reset as a new start.
    ChannelKind.ARC_COUNT: KindSpec(
        shape=Shape.MEASUREMENT,
        translation_key="arc_count",
        state_class=SensorStateClass.TOTAL_INCREASING,
        precision=0,
    ),
    # Raw status registers: the alarm and wiring-fault binary sensors already say what
    # they mean, so these are for troubleshooting a profile.
    ChannelKind.ALARM_STATUS: KindSpec(
        shape=Shape.STATUS,
        translation_key="alarm_status",
        named=True,
        binary_device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
    ChannelKind.FAULT_STATUS: KindSpec(
        shape=Shape.STATUS,
        translation_key="fault_status",
        named=True,
        binary_device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
    ChannelKind.BREAKER: KindSpec(
        shape=Shape.BREAKER,
        translation_key="breaker",
        binary_device_class=BinarySensorDeviceClass.POWER,
    ),
    ChannelKind.DIGITAL_INPUT: KindSpec(
        shape=Shape.STATUS,
        translation_key="digital_input",
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
    ChannelKind.DIGITAL_OUTPUT: KindSpec(
        shape=Shape.STATUS,
        translation_key="digital_output",
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
    # The latched value is also on the alarm binary sensor and the alarm event; the
    # device's own register of it is for troubleshooting.
    ChannelKind.VALUE_AT_ALARM: KindSpec(
        shape=Shape.INFO,
        translation_key="value_at_alarm",
        named=True,
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
        fault_entity=False,
    ),
    ChannelKind.CONFIGURATION: KindSpec(
        shape=Shape.INFO,
        translation_key="configuration",
        named=True,
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
    ChannelKind.IDENTITY: KindSpec(
        shape=Shape.INFO,
        translation_key="identity",
        named=True,
        entity_category=_DIAGNOSTIC,
        enabled_by_default=False,
    ),
}

#: A kind this version does not know yet (a newer bridge): shown, but out of the way.
UNKNOWN_KIND = KindSpec(
    shape=Shape.INFO,
    translation_key="channel",
    named=True,
    entity_category=_DIAGNOSTIC,
    enabled_by_default=False,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SetpointSpec:
    """What one kind of setpoint becomes: a number entity, or a switch for a flag (a
    sensor or a binary sensor when read-only); a select wherever the profile lists the
    register's options."""

    translation_key: str
    named: bool = False
    device_class: NumberDeviceClass | None = None
    #: An on/off register ("… enable"): a configuration switch writing 1 or 0.
    flag: bool = False


SETPOINT_KINDS: dict[str, SetpointSpec] = {
    SetpointKind.RESIDUAL_CURRENT_ALARM: SetpointSpec(
        translation_key="residual_current_alarm_threshold",
        device_class=NumberDeviceClass.CURRENT,
    ),
    SetpointKind.RESIDUAL_CURRENT_PREWARNING: SetpointSpec(
        translation_key="residual_current_prewarning_threshold",
        device_class=NumberDeviceClass.CURRENT,
    ),
    SetpointKind.TEMPERATURE_ALARM: SetpointSpec(
        translation_key="temperature_alarm_threshold",
        device_class=NumberDeviceClass.TEMPERATURE,
    ),
    SetpointKind.VOLTAGE_LIMIT: SetpointSpec(
        translation_key="voltage_limit", device_class=NumberDeviceClass.VOLTAGE
    ),
    SetpointKind.CURRENT_LIMIT: SetpointSpec(
        translation_key="current_limit", device_class=NumberDeviceClass.CURRENT
    ),
    # Delays, modes and enables mean different things on each model: the profile names them.
    SetpointKind.DELAY: SetpointSpec(
        translation_key="delay", named=True, device_class=NumberDeviceClass.DURATION
    ),
    SetpointKind.MODE: SetpointSpec(translation_key="mode", named=True),
    SetpointKind.ENABLE: SetpointSpec(translation_key="enable", named=True, flag=True),
}
UNKNOWN_SETPOINT = SetpointSpec(translation_key="setpoint", named=True)


class SetpointShape(StrEnum):
    """What a setpoint's value is, which decides its platform."""

    #: A number within bounds: a number entity (a sensor when read-only).
    VALUE = "value"
    #: On or off: a switch (a binary sensor when read-only).
    FLAG = "flag"
    #: One of the options its profile lists: a select (an enum sensor when read-only).
    CHOICE = "choice"


#: The platform of each shape: where Home Assistant may write it, and where it may not.
SETPOINT_PLATFORMS: dict[SetpointShape, tuple[Platform, Platform]] = {
    SetpointShape.VALUE: (Platform.NUMBER, Platform.SENSOR),
    SetpointShape.FLAG: (Platform.SWITCH, Platform.BINARY_SENSOR),
    SetpointShape.CHOICE: (Platform.SELECT, Platform.SENSOR),
}

#: The translation keys profiles give their setpoints (``translation_key:``), each with the
#: shape it is translated for: short names, distinct on one device, in every language.
#: A key not here (a user profile's own, a newer bridge's) falls back to the kind's row.
SETPOINT_NAMES: dict[str, SetpointShape] = {
    "residual_current_limit": SetpointShape.VALUE,
    "temperature_limit": SetpointShape.VALUE,
    "loop_alarm_limit": SetpointShape.VALUE,
    "rated_residual_operating_current": SetpointShape.VALUE,
    "prewarning_current": SetpointShape.VALUE,
    "trip_delay": SetpointShape.VALUE,
    "alarm_delay": SetpointShape.VALUE,
    "action_delay": SetpointShape.VALUE,
    "ct_break_alarm": SetpointShape.FLAG,
    "protection_mode": SetpointShape.CHOICE,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandSpec:
    """A command offered as a button."""

    translation_key: str
    entity_category: EntityCategory | None = None


#: Commands that are buttons. Trip and close are the breaker switch's off and on.
BUTTON_COMMANDS: dict[str, CommandSpec] = {
    CommandName.RESET: CommandSpec(translation_key="reset"),
    CommandName.MUTE: CommandSpec(translation_key="mute"),
    CommandName.SELF_TEST: CommandSpec(translation_key="self_test", entity_category=_DIAGNOSTIC),
}
BREAKER_COMMANDS = frozenset({CommandName.TRIP, CommandName.CLOSE})

#: The latched conditions a channel may have, each a binary sensor: role → device class,
#: entity category.
CONDITION_ROLES: dict[str, tuple[BinarySensorDeviceClass, EntityCategory | None]] = {
    "alarm": (BinarySensorDeviceClass.SAFETY, None),
    "warning": (BinarySensorDeviceClass.PROBLEM, None),
    "wiring_fault": (BinarySensorDeviceClass.PROBLEM, _DIAGNOSTIC),
}

_NUMBER = re.compile(r"(?:^|_)(\d+)(?:_|$)")


def channel_spec(channel: Channel) -> KindSpec:
    """The row of a channel's kind."""
    return CHANNEL_KINDS.get(channel.kind, UNKNOWN_KIND)


def setpoint_spec(setpoint: Setpoint) -> SetpointSpec:
    """The row of a setpoint's kind."""
    return SETPOINT_KINDS.get(setpoint.kind, UNKNOWN_SETPOINT)


def _naming(key: str, translation_key: str, named: bool, name: str) -> tuple[str, dict[str, str]]:
    if named:
        return translation_key, {"name": name}
    match = _NUMBER.search(key)
    if match is None:
        return translation_key, {}
    return f"{translation_key}_n", {"number": match[1]}


def channel_naming(channel: Channel, role: str | None = None) -> tuple[str, dict[str, str]]:
    """Translation key and placeholders of a channel's entity, or of one of its conditions.

    ``role`` is None for the value itself, else a key of :data:`CONDITION_ROLES`. The
    conditions of a measurement are named after its kind ("Temperature 2 alarm"); those of
    any other channel after the profile's name for it.
    """
    spec = channel_spec(channel)
    if role is None:
        return _naming(channel.key, spec.translation_key, spec.named, channel.name)
    if spec.shape is Shape.MEASUREMENT and not spec.named:
        key, placeholders = _naming(channel.key, spec.translation_key, False, channel.name)
        return f"{key}_{role}", placeholders
    return f"channel_{role}", {"name": channel.name}


def setpoint_shape(setpoint: Setpoint) -> SetpointShape:
    """A choice where the profile lists options, a flag where the kind's row says so."""
    if setpoint.options:
        return SetpointShape.CHOICE
    return SetpointShape.FLAG if setpoint_spec(setpoint).flag else SetpointShape.VALUE


def setpoint_platform(setpoint: Setpoint) -> Platform:
    """The platform that shows a setpoint: writable, or read-only (a diagnostic)."""
    writable, read_only = SETPOINT_PLATFORMS[setpoint_shape(setpoint)]
    return writable if setpoint.writable else read_only


def setpoint_naming(setpoint: Setpoint) -> tuple[str, dict[str, str]]:
    """Translation key and placeholders of a setpoint's entity: the profile's translation
    key where it has one translated for this shape, else the kind's row (which names the
    kinds that mean something different on each model after the profile's name)."""
    key = setpoint.translation_key
    if key is not None and SETPOINT_NAMES.get(key) is setpoint_shape(setpoint):
        return _naming(setpoint.key, key, False, setpoint.name)
    spec = setpoint_spec(setpoint)
    return _naming(setpoint.key, spec.translation_key, spec.named, setpoint.name)


def sensor_device_class(spec: KindSpec, unit: str | None) -> SensorDeviceClass | None:
    """The row's device class, unless the profile's unit is not one Home Assistant accepts
    for it (a user profile writing ``degC``): then none, rather than a broken sensor."""
    device_class = spec.sensor_device_class
    if device_class is None:
        return None
    units = DEVICE_CLASS_UNITS.get(device_class)
    if units is not None and unit not in units:
        return None
    return device_class


def platform_of(device: Device, channel: Channel) -> Platform:
    """The platform that shows a channel's value."""
    spec = channel_spec(channel)
    if spec.shape is Shape.BREAKER and device.commands >= BREAKER_COMMANDS:
        return Platform.SWITCH
    if spec.shape in (Shape.MEASUREMENT, Shape.INFO) or channel.states:
        return Platform.SENSOR
    return Platform.BINARY_SENSOR


def number_device_class(spec: SetpointSpec, unit: str | None) -> NumberDeviceClass | None:
    """The row's device class, unless the profile's unit does not fit it."""
    device_class = spec.device_class
    if device_class is None:
        return None
    units = NUMBER_DEVICE_CLASS_UNITS.get(device_class)
    if units is not None and unit not in units:
        return None
    return device_class
