"""Self-tests and inspections in Home Assistant, against the rig's real bridge.

The bridge gets a 2 s self-test limit (stricter than the standard's 30 s, which stays the
default: GB 50166-2019 §4.8.6 and the acceptance rule of reference/devices.md §5), so that
a "no response" does not take 30 real seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN
from custom_components.electrical_safety.proof import inspection_issue_id, self_test_issue_id

from .conftest import find_device, wait_until
from .rig import BRIDGE_ID, Rig

LIMIT_S = 2


async def _load(hass: HomeAssistant, rig: Rig, config_entry: MockConfigEntry) -> None:
    """Restart the rig's bridge with the proof configured, then set the entry up."""
    rig.config_extra = {
        "self_test": {"time_limit_s": LIMIT_S},
        "inspections": {"track": ["cn_routine_patrol"], "every_days": {"cn_routine_patrol": 7}},
    }
    rig.stop_bridge()
    rig.start_bridge()
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = config_entry.runtime_data
    await wait_until(hass, lambda: coordinator.connected, "the WebSocket's snapshot")


def _entity(entity_registry: er.EntityRegistry, unique_id: str) -> str:
    entity_id = entity_registry.async_get_entity_id("sensor", DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def _device_id(hass: HomeAssistant, device_id: str) -> str:
    device = find_device(hass, f"{BRIDGE_ID}:{device_id}")
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def test_self_test_sensors_and_the_repair_of_a_test_without_response(
    hass: HomeAssistant,
    rig: Rig,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await _load(hass, rig, config_entry)
    last = _entity(entity_registry, f"{BRIDGE_ID}:arcm-1:proof:last_self_test")
    following = _entity(entity_registry, f"{BRIDGE_ID}:arcm-1:proof:next_self_test")
    # The ASJ has no self-test command: no self-test sensors.
    assert (
        entity_registry.async_get_entity_id(
            "sensor", DOMAIN, f"{BRIDGE_ID}:asj-4:proof:next_self_test"
        )
        is None
    )
    assert hass.states.get(last).state == "unknown"
    due = dt_util.parse_datetime(hass.states.get(following).state)
    assert due is not None and due > dt_util.utcnow()
    assert hass.states.get(following).attributes["every_days"] == 30.0

    # A person's test passes: the sensor shows it, with the seconds the detector took.
    answer = await _call(hass, "run_self_test", {"device_id": [_device_id(hass, "arcm-1")]})
    assert [r["result"] for r in answer["results"]] == ["pass"]
    await wait_until(
        hass, lambda: hass.states.get(last).attributes.get("result") == "pass", "last = pass"
    )
    attributes = hass.states.get(last).attributes
    assert 0 <= attributes["seconds_to_alarm"] <= LIMIT_S
    assert attributes["time_limit_s"] == LIMIT_S and attributes["trigger"] == "manual"
    issue_id = self_test_issue_id(config_entry.entry_id, "arcm-1")
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    # The detector goes silent: its next test gets no response, and a repair says so.
    # The test's alarm latches on this detector: reset it, as a person does after a test.
    rig.post("/devices/arcm-1/commands", {"command": "reset", "who": "test"})
    rig.wait(
        lambda: (
            rig.get("/devices/arcm-1")["alarms"]
            and not any(rig.get("/devices/arcm-1")["alarms"].values())
        ),
        "the test alarm reset",
    )
    rig.inject({"do": "dropout", "unit": 1})
    await wait_until(
        hass,
        lambda: not config_entry.runtime_data.data.devices["arcm-1"].state.online,
        "arcm-1 offline",
    )
    with pytest.raises(HomeAssistantError):
        await _call(hass, "run_self_test", {"device_id": [_device_id(hass, "arcm-1")]})
    await wait_until(
        hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is not None, "issue"
    )
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.translation_key == "self_test_no_response"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["device"] == "Kitchen"
    assert issue.translation_placeholders["limit"] == str(LIMIT_S)
    # The last self-test stays readable while the detector is offline.
    assert hass.states.get(last).attributes["result"] == "no_response"

    # Back, and a test passes: the issue goes.
    rig.inject({"do": "dropout", "unit": 1, "clear": True})
    await wait_until(
        hass,
        lambda: config_entry.runtime_data.data.devices["arcm-1"].state.online,
        "arcm-1 online",
    )
    answer = await _call(hass, "run_self_test", {"device_id": [_device_id(hass, "arcm-1")]})
    await wait_until(
        hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is None, "issue gone"
    )


async def test_an_overdue_inspection_is_a_repair_until_it_is_recorded(
    hass: HomeAssistant,
    rig: Rig,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await _load(hass, rig, config_entry)
    issue_id = inspection_issue_id(config_entry.entry_id, "cn_routine_patrol")
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.translation_key == "inspection_overdue_cn_routine_patrol"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["last"] == "-"
    next_inspection = _entity(entity_registry, f"{BRIDGE_ID}:bridge:next_inspection")
    state = hass.states.get(next_inspection)
    assert state.attributes["kind"] == "cn_routine_patrol"
    assert state.attributes["inspections"][0]["overdue"] is True

    # Incomplete: refused, naming the item.
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "record_inspection",
            {"kind": "cn_routine_patrol", "items": {"cn_pt_monitor_running": "ok"}},
        )
    assert err.value.translation_key == "inspection_invalid"
    assert err.value.translation_placeholders == {
        "parameter": "items",
        "message": "'items' must give every item of the checklist; missing: "
        "cn_pt_detectors_online, cn_pt_setpoints, cn_pt_open_hazards, cn_pt_no_auto_cutoff,"
        " cn_pt_site_condition",
    }

    checklists = rig.get("/inspections")["checklists"]
    patrol = next(c for c in checklists if c["kind"] == "cn_routine_patrol")
    items: dict[str, Any] = {item["id"]: "ok" for item in patrol["items"]}
    items["cn_pt_site_condition"] = {"outcome": "not_ok", "note": "CT cover cracked"}
    answer = await _call(
        hass,
        "record_inspection",
        {"kind": "cn_routine_patrol", "items": items, "note": "monthly patrol"},
    )
    record = answer["inspection"]
    assert record["kind"] == "cn_routine_patrol" and record["note"] == "monthly patrol"
    assert record["who"].startswith("Home Assistant")
    assert record["items"][-1] == {
        "id": "cn_pt_site_condition",
        "outcome": "not_ok",
        "note": "CT cover cracked",
    }
    await wait_until(
        hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is None, "issue gone"
    )
    await wait_until(
        hass,
        lambda: not hass.states.get(next_inspection).attributes["inspections"][0]["overdue"],
        "not overdue",
    )
    due = dt_util.parse_datetime(hass.states.get(next_inspection).state)
    assert due is not None
    assert abs((due - dt_util.utc_from_timestamp(record["at"])).total_seconds() - 7 * 86400) < 1
    # Stored on the bridge, with who and when.
    (stored,) = rig.get("/inspections?kind=cn_routine_patrol")["inspections"]
    assert stored == record
