"""The workflow's calls to the bridge, shared by the to-do list and the service actions.

Their refusals are translated as every other bridge call's are (helpers.translate_error):
a hazard whose condition a fresh read still shows (``condition_persists``) and a device
locked out for maintenance (``locked_out``) are the person's to resolve, and so
validation errors that name the detector and the hazard's channel.
"""

from __future__ import annotations

from collections.abc import Awaitable

from electrical_safety_bridge.common.errors import BridgeError
from electrical_safety_bridge.common.workflow import Hazard

from .coordinator import ElectricalSafetyCoordinator
from .helpers import async_load_messages, translate_error


async def async_workflow_call[T](
    coordinator: ElectricalSafetyCoordinator,
    target: str,
    call: Awaitable[T],
    *,
    device_id: str | None = None,
    channels: list[str] | None = None,
) -> T:
    """Await a client call of the workflow; its errors translated, naming the detector
    (``device_id``, the bridge's) and the ``channels`` the call is about."""
    try:
        return await call
    except BridgeError as err:
        await async_load_messages(coordinator.hass)
        raise translate_error(
            err, coordinator, target, device_id=device_id, channels=channels
        ) from err


async def async_eliminate_hazard(
    coordinator: ElectricalSafetyCoordinator, target: str, hazard: Hazard, who: str, note: str
) -> Hazard:
    """Eliminate a hazard with the cause and the fix."""
    return await async_workflow_call(
        coordinator,
        target,
        coordinator.client.eliminate_hazard(hazard.id, who=who, note=note),
        device_id=hazard.device_id,
        channels=[hazard.channel],
    )
