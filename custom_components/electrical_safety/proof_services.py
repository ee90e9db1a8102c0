"""The ``record_inspection`` service action: a person records a periodic inspection.

The bridge checks the record (every item of the kind's checklist, each ok / not_ok /
not_applicable, a note for what is not ok) and stores it with who and when; a refusal
names the field at fault. ``items`` is a mapping of item id to outcome (or to
``{outcome, note}``), or a list of ``{id, outcome, note}``. The items of each checklist,
with their texts in en / zh-Hans / ja, are in the bridge's ``GET /api/v1/inspections``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from electrical_safety_bridge.common.enums import InspectionKind
from electrical_safety_bridge.common.errors import BadRequest

from .const import ATTR_CONFIG_ENTRY_ID, ATTR_NOTE, DOMAIN
from .helpers import async_bridge_call, async_who
from .services import _coordinators, _invalid

SERVICE_RECORD_INSPECTION = "record_inspection"
ATTR_KIND = "kind"
ATTR_ITEMS = "items"

RECORD_INSPECTION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_KIND): vol.In([k.value for k in InspectionKind]),
        vol.Required(ATTR_ITEMS): vol.Any(dict, [dict]),
        vol.Optional(ATTR_NOTE, default=""): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


def inspection_items(items: Mapping[str, Any] | list[Any]) -> list[dict[str, Any]]:
    """The items as the bridge takes them: a list of ``{id, outcome, note}``."""
    if isinstance(items, list):
        return [dict(item) for item in items]
    result: list[dict[str, Any]] = []
    for item_id, given in items.items():
        if isinstance(given, Mapping):
            result.append({"id": item_id, **given})
        else:
            result.append({"id": item_id, "outcome": given})
    return result


async def _async_record_inspection(call: ServiceCall) -> ServiceResponse:
    """Record an inspection on the bridge; returns the stored record."""
    hass = call.hass
    coordinators = _coordinators(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    if len(coordinators) > 1:
        raise _invalid("bridge_ambiguous")
    coordinator = coordinators[0]
    who = await async_who(hass, call.context)
    kind: str = call.data[ATTR_KIND]
    try:
        record = await async_bridge_call(
            coordinator,
            kind,
            _record(coordinator.client, kind, call.data[ATTR_ITEMS], call.data[ATTR_NOTE], who),
        )
    except _Refused as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="inspection_invalid",
            translation_placeholders={"parameter": err.parameter, "message": err.message},
        ) from None
    return {"inspection": record.to_dict()}


class _Refused(Exception):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


async def _record(client: Any, kind: str, items: Any, note: str, who: str) -> Any:
    try:
        return await client.record_inspection(kind, inspection_items(items), note, who)
    except BadRequest as err:
        raise _Refused(str(err.where.get("parameter", "-")), str(err)) from None


def async_setup_proof_services(hass: HomeAssistant) -> None:
    """Register ``record_inspection``."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECORD_INSPECTION,
        _async_record_inspection,
        schema=RECORD_INSPECTION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
