"""Bridge actions with their errors written once, as translated Home Assistant errors.

Every switch, button and number action, and every service action, goes through
:func:`async_bridge_call` and :func:`check_outcome`: a refused close says *why* (an alarm
still active, or not acknowledged yet), a command or acknowledgement refused because the
bridge could not record it (a full disk) says what to free, a write the device does not
confirm says so, and a lost token starts re-authentication.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from electrical_safety_bridge.common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeError,
    CommandRefused,
)

from .const import DOMAIN, WHO
from .coordinator import ElectricalSafetyCoordinator

#: The bridge's refusal reasons that have their own message; others use "command_refused".
REFUSALS: Mapping[str, str] = {
    "alarm_active": "close_refused_alarm_active",
    "alarm_unacknowledged": "close_refused_alarm_unacknowledged",
    "device_offline": "command_refused_device_offline",
    "profile_unverified": "command_refused_profile_unverified",
    "value_out_of_range": "setpoint_out_of_range",
    "unknown_alarm": "alarm_not_open",
    "storage_failing": "refused_storage_failing",
    "locked_out": "close_refused_locked_out",
    "condition_persists": "hazard_condition_persists",
}


async def async_who(hass: HomeAssistant, context: Context | None) -> str:
    """Who the bridge records: Home Assistant, and the person when there is one."""
    if context is not None and context.user_id is not None:
        user = await hass.auth.async_get_user(context.user_id)
        if user is not None and user.name:
            return f"{WHO} ({user.name})"
    return WHO


def translate_error(
    err: BridgeError, coordinator: ElectricalSafetyCoordinator, target: str
) -> HomeAssistantError:
    """The translated error a person sees for a failed bridge call about ``target``."""
    if isinstance(err, CommandRefused):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=REFUSALS.get(err.reason, "command_refused"),
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
    coordinator: ElectricalSafetyCoordinator, target: str, call: Awaitable[T]
) -> T:
    """Await a client call; a bridge error becomes a translated HomeAssistantError."""
    try:
        return await call
    except BridgeError as err:
        raise translate_error(err, coordinator, target) from err


def check_outcome(result: Mapping[str, Any], target: str, action: str) -> None:
    """Raise unless the device confirmed the command (the bridge reads every write back)."""
    outcome = result.get("outcome")
    if outcome == "confirmed":
        return
    key = "command_unconfirmed" if outcome == "unconfirmed" else "command_failed"
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={
            "target": target,
            "action": action,
            "message": str(result.get("message") or result.get("reason") or outcome),
        },
    )


async def async_run_command(
    coordinator: ElectricalSafetyCoordinator,
    device_id: str,
    command: str,
    context: Context | None,
) -> dict[str, Any]:
    """Run one command on one device and insist that the device confirmed it."""
    device = coordinator.data.devices.get(device_id)
    target = device.name if device is not None else device_id
    who = await async_who(coordinator.hass, context)
    result = await async_bridge_call(
        coordinator, target, coordinator.client.command(device_id, command, who)
    )
    check_outcome(result, target, command)
    return result
