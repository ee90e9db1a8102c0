"""The workflow's calls to the bridge, shared by the to-do list and the service actions.

Their refusals are the person's to fix, not faults: a hazard whose condition a fresh read
still shows (``condition_persists``) and a device locked out for maintenance
(``locked_out``) become translated ``ServiceValidationError``s; everything else is
translated as every other bridge call is (helpers.translate_error).
"""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import ServiceValidationError

from electrical_safety_bridge.common.enums import RefusalReason
from electrical_safety_bridge.common.errors import BridgeError, CommandRefused
from electrical_safety_bridge.common.workflow import Hazard

from .const import DOMAIN
from .coordinator import ElectricalSafetyCoordinator
from .helpers import translate_error

#: Refusals a person resolves: their errors are validation errors.
USER_REFUSALS = frozenset({RefusalReason.CONDITION_PERSISTS, RefusalReason.LOCKED_OUT})


async def async_workflow_call[T](
    coordinator: ElectricalSafetyCoordinator, target: str, call: Awaitable[T]
) -> T:
    """Await a client call of the workflow; its errors translated."""
    try:
        return await call
    except BridgeError as err:
        translated = translate_error(err, coordinator, target)
        if isinstance(err, CommandRefused) and err.reason in USER_REFUSALS:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=translated.translation_key,
                translation_placeholders=translated.translation_placeholders,
            ) from err
        raise translated from err


async def async_eliminate_hazard(
    coordinator: ElectricalSafetyCoordinator, target: str, hazard_id: str, who: str, note: str
) -> Hazard:
    """Eliminate a hazard with the cause and the fix."""
    return await async_workflow_call(
        coordinator, target, coordinator.client.eliminate_hazard(hazard_id, who=who, note=note)
    )
