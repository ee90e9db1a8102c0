"""Service actions: acknowledge alarms, run self-tests, read the bridge's event log;
acknowledge and eliminate hazards, lock a device out for maintenance and lift it.

They are registered once, in ``async_setup``, and act on whichever bridges are loaded: an
alarm id names its own bridge, a device names its bridge through the device registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType

from electrical_safety_bridge.common.enums import CommandName, EventType, HazardState
from electrical_safety_bridge.common.models import BridgeEvent
from electrical_safety_bridge.common.workflow import Hazard

from .const import (
    ATTR_ALARM_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DEVICE_ID,
    ATTR_DURATION,
    ATTR_EVENT_TYPES,
    ATTR_HAZARD_ID,
    ATTR_LIMIT,
    ATTR_NOTE,
    ATTR_SINCE,
    ATTR_UNTIL,
    ATTR_WHY,
    DOMAIN,
    SERVICE_ACKNOWLEDGE_ALARM,
    SERVICE_ACKNOWLEDGE_HAZARD,
    SERVICE_ELIMINATE_HAZARD,
    SERVICE_GENERATE_REPORT,
    SERVICE_GET_EVENTS,
    SERVICE_LIFT_LOCK_OUT,
    SERVICE_LOCK_OUT,
    SERVICE_RUN_SELF_TEST,
)
from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .hazard_actions import async_eliminate_hazard, async_workflow_call
from .hazards import summary
from .helpers import async_bridge_call, async_run_command, async_who
from .report import GENERATE_REPORT_SCHEMA, async_generate_report

#: A detector has 30 s to raise its alarm (GB 50166); the bridge's verdict follows.
SELF_TEST_WAIT_S = 35.0

_DEVICE_IDS = vol.All(cv.ensure_list, [cv.string])

ACKNOWLEDGE_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_ALARM_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): _DEVICE_IDS,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
SELF_TEST_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID): _DEVICE_IDS,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
GET_EVENTS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_EVENT_TYPES): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_SINCE): cv.datetime,
        vol.Optional(ATTR_LIMIT, default=100): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
    }
)
ACKNOWLEDGE_HAZARD_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_HAZARD_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): _DEVICE_IDS,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
ELIMINATE_HAZARD_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_HAZARD_ID): cv.string,
        vol.Required(ATTR_NOTE): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
LOCK_OUT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_WHY): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
        vol.Exclusive(ATTR_DURATION, "end"): cv.positive_time_period,
        vol.Exclusive(ATTR_UNTIL, "end"): cv.datetime,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
LIFT_LOCK_OUT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _coordinators(hass: HomeAssistant, entry_id: str | None) -> list[ElectricalSafetyCoordinator]:
    """The loaded bridges a call may act on: the one named, or every one."""
    if entry_id is not None:
        entry: ElectricalSafetyConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise _invalid("entry_not_found", entry_id=entry_id)
        if entry.state is not ConfigEntryState.LOADED:
            raise _invalid("entry_not_loaded", title=entry.title)
        return [entry.runtime_data]
    entries: list[ElectricalSafetyConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise _invalid("no_bridge_loaded")
    return [entry.runtime_data for entry in entries]


def _device(
    hass: HomeAssistant, ha_device_id: str, entry_id: str | None
) -> tuple[ElectricalSafetyCoordinator, str]:
    """The bridge and the bridge's own id of a Home Assistant device."""
    device = dr.async_get(hass).async_get(ha_device_id)
    if device is not None:
        for coordinator in _coordinators(hass, entry_id):
            prefix = f"{coordinator.bridge_id}:"
            for domain, identifier in device.identifiers:
                if domain != DOMAIN or not identifier.startswith(prefix):
                    continue
                bridge_device_id = identifier.removeprefix(prefix)
                if bridge_device_id in coordinator.data.devices:
                    return coordinator, bridge_device_id
    raise _invalid("device_not_found", device_id=ha_device_id)


async def _async_acknowledge(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    targets: list[tuple[ElectricalSafetyCoordinator, str]] = []
    if (alarm_id := call.data.get(ATTR_ALARM_ID)) is not None:
        coordinator = next(
            (c for c in _coordinators(hass, entry_id) if c.data.find_alarm(alarm_id)), None
        )
        if coordinator is None:
            raise _invalid("unknown_alarm", alarm_id=alarm_id)
        targets.append((coordinator, alarm_id))
    elif ATTR_DEVICE_ID in call.data:
        for ha_device_id in call.data[ATTR_DEVICE_ID]:
            coordinator, device_id = _device(hass, ha_device_id, entry_id)
            targets.extend(
                (coordinator, alarm.id)
                for alarm in coordinator.data.devices[device_id].state.open_alarms
                if not alarm.acknowledged
            )
    else:
        raise _invalid("no_alarm_target")
    who = await async_who(hass, call.context)
    acknowledged: list[JsonValueType] = []
    for coordinator, alarm_id in targets:
        await async_bridge_call(
            coordinator, alarm_id, coordinator.client.acknowledge(alarm_id, who)
        )
        acknowledged.append(alarm_id)
    return {"acknowledged": acknowledged}


async def _async_self_test(call: ServiceCall) -> ServiceResponse:
    """Start each detector's self-test, then wait for the bridge's verdict on each.

    The bridge calls a test passed when the detector raises its alarm within the window
    of GB 50166 (30 s), and failed otherwise.
    """
    hass = call.hass
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    targets: list[tuple[ElectricalSafetyCoordinator, str]] = []
    if ATTR_DEVICE_ID in call.data:
        for ha_device_id in call.data[ATTR_DEVICE_ID]:
            coordinator, device_id = _device(hass, ha_device_id, entry_id)
            device = coordinator.data.devices[device_id]
            if CommandName.SELF_TEST not in device.commands:
                raise _invalid("self_test_unsupported", device=device.name)
            targets.append((coordinator, device_id))
    else:
        targets = [
            (coordinator, device.id)
            for coordinator in _coordinators(hass, entry_id)
            for device in coordinator.data.devices.values()
            if CommandName.SELF_TEST in device.commands
        ]
    loop = asyncio.get_running_loop()
    verdicts: dict[tuple[str, str], asyncio.Future[BridgeEvent]] = {
        (c.config_entry.entry_id, d): loop.create_future() for c, d in targets
    }

    def listener(entry_id: str) -> Callable[[BridgeEvent], None]:
        @callback
        def on_event(event: BridgeEvent) -> None:
            future = verdicts.get((entry_id, event.device_id or ""))
            if event.type == EventType.SELF_TEST and future is not None and not future.done():
                future.set_result(event)

        return on_event

    removers = [
        c.async_add_event_listener(listener(c.config_entry.entry_id))
        for c in {c for c, _ in targets}
    ]
    results: list[JsonValueType] = []
    failures: list[str] = []
    try:
        for coordinator, device_id in targets:
            name = coordinator.data.devices[device_id].name
            try:
                await async_run_command(coordinator, device_id, CommandName.SELF_TEST, call.context)
            except HomeAssistantError as err:
                verdicts.pop((coordinator.config_entry.entry_id, device_id)).cancel()
                failures.append(f"{name}: {err}")
                results.append({"device_id": device_id, "name": name, "result": "not_started"})
        if verdicts:
            await asyncio.wait(verdicts.values(), timeout=SELF_TEST_WAIT_S)
    finally:
        for remove in removers:
            remove()
    for (entry_id, device_id), future in verdicts.items():
        coordinator = next(c for c, d in targets if c.config_entry.entry_id == entry_id)
        name = coordinator.data.devices[device_id].name
        event = future.result() if future.done() else None
        result = str(event.data.get("result")) if event is not None else "no_result"
        seconds = event.data.get("seconds") if event is not None else None
        results.append(
            {
                "device_id": device_id,
                "name": name,
                "result": result,
                "seconds": seconds if isinstance(seconds, (int, float)) else None,
            }
        )
        if result != "pass":
            future.cancel()
            failures.append(f"{name}: {result}")
    if failures:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="self_test_failed",
            translation_placeholders={"failures": "; ".join(failures)},
        )
    return {"results": results}


async def _async_get_events(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    device_id: str | None = None
    if ATTR_DEVICE_ID in call.data:
        coordinator, device_id = _device(hass, call.data[ATTR_DEVICE_ID], entry_id)
    else:
        coordinators = _coordinators(hass, entry_id)
        if len(coordinators) > 1:
            raise _invalid("bridge_ambiguous")
        coordinator = coordinators[0]
    since: datetime | None = call.data.get(ATTR_SINCE)
    events = await async_bridge_call(
        coordinator,
        coordinator.config_entry.title,
        coordinator.client.events(
            device_id=device_id,
            types=call.data.get(ATTR_EVENT_TYPES),
            since=since.timestamp() if since is not None else None,
            limit=call.data[ATTR_LIMIT],
        ),
    )
    return {"events": [event.as_dict() for event in events]}


def _hazard(
    hass: HomeAssistant, hazard_id: str, entry_id: str | None
) -> tuple[ElectricalSafetyCoordinator, str]:
    """The bridge holding an open hazard, and the hazard's summary."""
    for coordinator in _coordinators(hass, entry_id):
        hazard = coordinator.data.hazards.get(hazard_id)
        if hazard is not None:
            device = coordinator.data.devices.get(hazard.device_id)
            return coordinator, summary(device, hazard)
    raise _invalid("unknown_hazard", hazard_id=hazard_id)


async def _async_acknowledge_hazard(call: ServiceCall) -> ServiceResponse:
    """Acknowledge one hazard, or every hazard of some detectors nobody acknowledged yet."""
    hass = call.hass
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    targets: list[tuple[ElectricalSafetyCoordinator, Hazard, str]] = []
    if (hazard_id := call.data.get(ATTR_HAZARD_ID)) is not None:
        coordinator, target = _hazard(hass, hazard_id, entry_id)
        targets.append((coordinator, coordinator.data.hazards[hazard_id], target))
    elif ATTR_DEVICE_ID in call.data:
        for ha_device_id in call.data[ATTR_DEVICE_ID]:
            coordinator, device_id = _device(hass, ha_device_id, entry_id)
            device = coordinator.data.devices[device_id]
            targets.extend(
                (coordinator, hazard, summary(device, hazard))
                for hazard in coordinator.data.hazards.values()
                if hazard.device_id == device_id and hazard.state == HazardState.OPEN
            )
    else:
        raise _invalid("no_hazard_target")
    who = await async_who(hass, call.context)
    acknowledged: list[JsonValueType] = []
    for coordinator, hazard, target in targets:
        await async_workflow_call(
            coordinator,
            target,
            coordinator.client.acknowledge_hazard(hazard.id, who),
            device_id=hazard.device_id,
            channels=[hazard.channel],
        )
        acknowledged.append(hazard.id)
    return {"acknowledged": acknowledged}


async def _async_eliminate_hazard(call: ServiceCall) -> ServiceResponse:
    """Eliminate a hazard, with the cause and the fix."""
    hass = call.hass
    hazard_id: str = call.data[ATTR_HAZARD_ID]
    coordinator, target = _hazard(hass, hazard_id, call.data.get(ATTR_CONFIG_ENTRY_ID))
    who = await async_who(hass, call.context)
    hazard = coordinator.data.hazards[hazard_id]
    eliminated = await async_eliminate_hazard(
        coordinator, target, hazard, who, call.data[ATTR_NOTE]
    )
    return {"hazard": eliminated.to_dict()}


async def _async_lock_out(call: ServiceCall) -> ServiceResponse:
    """Lock a detector out for maintenance: its breaker cannot be closed until it is lifted
    (or its time runs out)."""
    hass = call.hass
    coordinator, device_id = _device(
        hass, call.data[ATTR_DEVICE_ID], call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    name = coordinator.data.devices[device_id].name
    until: float | None = None
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    end: datetime | None = call.data.get(ATTR_UNTIL)
    if duration is not None:
        until = (dt_util.utcnow() + duration).timestamp()
    elif end is not None:
        until = dt_util.as_utc(end).timestamp()
        if until <= dt_util.utcnow().timestamp():
            raise _invalid("lock_out_until_past", until=end.isoformat())
    who = await async_who(hass, call.context)
    lockout = await async_workflow_call(
        coordinator,
        name,
        coordinator.client.lock_out(device_id, who, call.data[ATTR_WHY], until),
        device_id=device_id,
    )
    return {"lockout": lockout.to_dict()}


async def _async_lift_lock_out(call: ServiceCall) -> None:
    """Lift a detector's lock-out."""
    hass = call.hass
    coordinator, device_id = _device(
        hass, call.data[ATTR_DEVICE_ID], call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    name = coordinator.data.devices[device_id].name
    who = await async_who(hass, call.context)
    await async_workflow_call(
        coordinator, name, coordinator.client.lift_lock_out(device_id, who), device_id=device_id
    )


async def _async_generate_report(call: ServiceCall) -> ServiceResponse:
    """The safety report of a month: JSON in the answer, HTML and PDF in the media folder."""
    return await async_generate_report(
        call, _coordinators(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ACKNOWLEDGE_HAZARD,
        _async_acknowledge_hazard,
        schema=ACKNOWLEDGE_HAZARD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ELIMINATE_HAZARD,
        _async_eliminate_hazard,
        schema=ELIMINATE_HAZARD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LOCK_OUT,
        _async_lock_out,
        schema=LOCK_OUT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_LIFT_LOCK_OUT, _async_lift_lock_out, schema=LIFT_LOCK_OUT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ACKNOWLEDGE_ALARM,
        _async_acknowledge,
        schema=ACKNOWLEDGE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_RUN_SELF_TEST,
        _async_self_test,
        schema=SELF_TEST_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_EVENTS,
        _async_get_events,
        schema=GET_EVENTS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GENERATE_REPORT,
        _async_generate_report,
        schema=GENERATE_REPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
