"""Bridge actions with their errors written once, as translated Home Assistant errors.

Every switch, button and number action, and every service action, goes through
:func:`async_bridge_call` and :func:`check_outcome`: a refused close says *why* (an alarm
still active, or not acknowledged yet), a command or acknowledgement refused because the
bridge could not record it (a full disk) says what to free, a write the device does not
confirm says so, and a lost token starts re-authentication.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from typing import Any

import voluptuous as vol
from homeassistant.const import Platform
from homeassistant.core import Context, HomeAssistant, async_get_hass_or_none, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import translation

from electrical_safety_bridge.common.enums import AlarmKind, RefusalReason
from electrical_safety_bridge.common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeError,
    CommandRefused,
)
from electrical_safety_bridge.common.models import Device

from .const import DOMAIN, WHO
from .coordinator import ElectricalSafetyCoordinator, device_identifier
from .entity import unique_id
from .kinds import channel_naming, platform_of

#: The bridge's refusals a person can act on, each with its own message. They are
#: ServiceValidationErrors: Home Assistant logs one line for them (no traceback) and the
#: REST API answers 400. A refusal this version does not know uses "command_refused", a
#: HomeAssistantError like every unexpected failure.
REFUSALS: Mapping[str, str] = {
    RefusalReason.ALARM_ACTIVE: "close_refused_alarm_active",
    RefusalReason.ALARM_UNACKNOWLEDGED: "close_refused_alarm_unacknowledged",
    RefusalReason.LOCKED_OUT: "close_refused_locked_out",
    RefusalReason.PROFILE_UNVERIFIED: "command_refused_profile_unverified",
    RefusalReason.DEVICE_OFFLINE: "command_refused_device_offline",
    RefusalReason.VALUE_OUT_OF_RANGE: "setpoint_out_of_range",
    RefusalReason.CONDITION_PERSISTS: "refused_condition_persists",
    RefusalReason.STORAGE_FAILING: "refused_storage_failing",
    RefusalReason.COMMAND_UNSUPPORTED: "command_refused_unsupported",
    "unknown_alarm": "alarm_not_open",
}


class BridgeRefusal(ServiceValidationError, vol.Invalid):
    """A refusal a person can act on: a ServiceValidationError (one log line, translated),
    and invalid input for the state things are in, so that Home Assistant's REST API,
    which answers 400 only for ``vol.Invalid``, does not answer 500 with a traceback.

    Home Assistant's WebSocket API answers a ``vol.Invalid`` with its text alone, without
    the translation key, so the text is written in Home Assistant's configured language
    (English where a string is missing), the language of the channel names in it.
    """

    def __str__(self) -> str:
        """The message in the configured language."""
        hass = async_get_hass_or_none()
        if hass is not None and self.translation_key is not None:
            strings = translation.async_get_cached_translations(
                hass, hass.config.language, "exceptions", DOMAIN
            )
            template = strings.get(f"component.{DOMAIN}.exceptions.{self.translation_key}.message")
            if template:
                try:
                    return template.format(**(self.translation_placeholders or {}))
                except (KeyError, IndexError, ValueError):
                    pass
        return super().__str__()


#: The platforms a channel's own entity may be on (kinds.platform_of).
_CHANNEL_PLATFORMS = (Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SWITCH)


def person(who: str | None) -> str:
    """The person in a recorded ``who``: "Alice" of "Home Assistant (Alice)", to which the
    bridge may add the address it came from ("Home Assistant (Alice) (127.0.0.1)")."""
    if not who:
        return "?"
    match = re.match(rf"^{re.escape(WHO)} \(([^()]+)\)", who)
    return match[1] if match else who


async def async_who(hass: HomeAssistant, context: Context | None) -> str:
    """Who the bridge records: Home Assistant, and the person when there is one."""
    if context is not None and context.user_id is not None:
        user = await hass.auth.async_get_user(context.user_id)
        if user is not None and user.name:
            return f"{WHO} ({user.name})"
    return WHO


@callback
def ha_device(coordinator: ElectricalSafetyCoordinator, device_id: str) -> dr.DeviceEntry | None:
    """A detector's device in Home Assistant's device registry."""
    identifier = device_identifier(coordinator.bridge_id, device_id)
    registry = dr.async_get(coordinator.hass)
    for entry in dr.async_entries_for_config_entry(registry, coordinator.config_entry.entry_id):
        if identifier in entry.identifiers:
            return entry
    return None


@callback
def device_name(coordinator: ElectricalSafetyCoordinator, device_id: str) -> str:
    """A detector's name as Home Assistant shows it (a name a person gave it first)."""
    entry = ha_device(coordinator, device_id)
    if entry is not None and (name := entry.name_by_user or entry.name):
        return name
    device = coordinator.data.devices.get(device_id)
    return device.name if device is not None else device_id


@callback
def channel_name(coordinator: ElectricalSafetyCoordinator, device: Device, key: str) -> str:
    """A channel's name as Home Assistant shows it: its entity's (translated, or as a person
    renamed it); else its translation in the configured language; else the profile's."""
    hass = coordinator.hass
    registry = er.async_get(hass)
    uid = unique_id(coordinator.bridge_id, device.id, "channel", key)
    for platform in _CHANNEL_PLATFORMS:
        entity_id = registry.async_get_entity_id(platform, DOMAIN, uid)
        entry = registry.async_get(entity_id) if entity_id is not None else None
        if entry is not None and (name := entry.name or entry.original_name):
            return name
    channel = device.channel(key)
    if channel is None:
        return key
    translation_key, placeholders = channel_naming(channel)
    strings = translation.async_get_cached_translations(
        hass, hass.config.language, "entity", DOMAIN
    )
    text = strings.get(
        f"component.{DOMAIN}.entity.{platform_of(device, channel)}.{translation_key}.name"
    )
    if text:
        try:
            return text.format(**placeholders)
        except (KeyError, IndexError, ValueError):
            pass
    return channel.name or key


def _refused_channels(device: Device, reason: str, message: str) -> list[str]:
    """The channels a refusal is about: those of the device's open alarms that block a
    close (active, or not acknowledged), as the bridge decides; else those its message
    names."""
    alarms = [a for a in device.state.open_alarms if a.kind == AlarmKind.ALARM]
    if reason == RefusalReason.ALARM_ACTIVE:
        keys = [a.channel for a in alarms if a.active]
    elif reason == RefusalReason.ALARM_UNACKNOWLEDGED:
        keys = [a.channel for a in alarms if not a.acknowledged]
    else:
        keys = []
    if not keys:
        words = set(message.replace(",", " ").split())
        keys = [c.key for c in device.channels if c.key in words]
    return sorted(set(keys))


def _refusal_placeholders(
    err: CommandRefused,
    coordinator: ElectricalSafetyCoordinator,
    target: str,
    device_id: str | None,
    setpoint: str | None,
    channels: list[str] | None,
) -> dict[str, str]:
    device = coordinator.data.devices.get(device_id) if device_id is not None else None
    placeholders = {
        "target": target,
        "device": device_name(coordinator, device_id) if device_id is not None else target,
        "channels": "?",
        "minimum": "?",
        "maximum": "?",
        "who": "?",
        "why": "?",
    }
    if device is None:
        return placeholders
    keys = channels if channels is not None else _refused_channels(device, err.reason, str(err))
    if keys:
        placeholders["channels"] = ", ".join(channel_name(coordinator, device, k) for k in keys)
    found = next((s for s in device.setpoints if s.key == setpoint), None)
    if found is not None:
        unit = f" {found.unit}" if found.unit else ""
        placeholders["minimum"] = f"{found.minimum:g}{unit}"
        placeholders["maximum"] = f"{found.maximum:g}{unit}"
    lockout = device.state.lockout
    if lockout is not None:
        placeholders["who"] = person(lockout.who)
        placeholders["why"] = lockout.why or "?"
    return placeholders


def translate_error(
    err: BridgeError,
    coordinator: ElectricalSafetyCoordinator,
    target: str,
    *,
    device_id: str | None = None,
    setpoint: str | None = None,
    channels: list[str] | None = None,
) -> HomeAssistantError:
    """The translated error a person sees for a failed bridge call about ``target``.

    ``device_id`` (the bridge's) names the detector and its channels in the message;
    ``setpoint`` gives an out-of-range refusal its bounds; ``channels`` (keys) says which
    channels a refusal is about when the caller knows (a hazard's).
    """
    if isinstance(err, CommandRefused):
        key = REFUSALS.get(err.reason)
        if key is not None:
            return BridgeRefusal(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=_refusal_placeholders(
                    err, coordinator, target, device_id, setpoint, channels
                ),
            )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={"target": target, "reason": err.reason, "message": str(err)},
        )
    if isinstance(err, BridgeAuthenticationError):
        coordinator.config_entry.async_start_reauth(coordinator.hass)
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="authentication_error")
    key = "communication_error" if isinstance(err, BridgeConnectionError) else "unexpected_error"
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


async def async_bridge_call[T](
    coordinator: ElectricalSafetyCoordinator,
    target: str,
    call: Awaitable[T],
    *,
    device_id: str | None = None,
    setpoint: str | None = None,
    channels: list[str] | None = None,
) -> T:
    """Await a client call; a bridge error becomes a translated HomeAssistantError (a
    ServiceValidationError for a refusal a person can act on)."""
    try:
        return await call
    except BridgeError as err:
        await async_load_messages(coordinator.hass)
        raise translate_error(
            err, coordinator, target, device_id=device_id, setpoint=setpoint, channels=channels
        ) from err


async def async_load_messages(hass: HomeAssistant) -> None:
    """Have the integration's messages of Home Assistant's language at hand: a refusal's
    text is written from them (BridgeRefusal), and the language may have changed since
    set-up (only the language of that time was loaded then)."""
    await translation.async_get_translations(hass, hass.config.language, "exceptions", {DOMAIN})


def check_outcome(
    result: Mapping[str, Any],
    target: str,
    action: str,
    *,
    coordinator: ElectricalSafetyCoordinator | None = None,
    device_id: str | None = None,
) -> None:
    """Raise unless the device confirmed the command (the bridge reads every write back).

    A result refused with a reason (which a bridge answers with an error status, but a
    result may carry too) is the refusal's translated error.
    """
    outcome = result.get("outcome")
    if outcome == "confirmed":
        return
    reason = result.get("reason")
    if outcome == "refused" and coordinator is not None and isinstance(reason, str):
        refused = CommandRefused(reason, str(result.get("message") or reason))
        raise translate_error(
            refused,
            coordinator,
            target,
            device_id=device_id,
            setpoint=action,
        )
    key = "command_unconfirmed" if outcome == "unconfirmed" else "command_failed"
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={
            "target": target,
            "action": action,
            "message": str(result.get("message") or reason or outcome),
        },
    )


async def async_run_command(
    coordinator: ElectricalSafetyCoordinator,
    device_id: str,
    command: str,
    context: Context | None,
) -> dict[str, Any]:
    """Run one command on one device and insist that the device confirmed it."""
    target = device_name(coordinator, device_id)
    who = await async_who(coordinator.hass, context)
    result = await async_bridge_call(
        coordinator,
        target,
        coordinator.client.command(device_id, command, who),
        device_id=device_id,
    )
    check_outcome(result, target, command, coordinator=coordinator, device_id=device_id)
    return result


async def async_write_setpoint(
    coordinator: ElectricalSafetyCoordinator,
    device_id: str,
    key: str,
    value: float,
    context: Context | None,
) -> None:
    """Write a setpoint (a number, a flag switch's 1 or 0, a select's option's value); the
    bridge reads it back, and a refusal or an unconfirmed write raises the translated error."""
    target = device_name(coordinator, device_id)
    who = await async_who(coordinator.hass, context)
    result = await async_bridge_call(
        coordinator,
        target,
        coordinator.client.set_setpoint(device_id, key, value, who),
        device_id=device_id,
        setpoint=key,
    )
    check_outcome(result, target, key, coordinator=coordinator, device_id=device_id)
