"""Compliance in Home Assistant: the bridge's findings as repair issues, and GB 50116-2013
§9.1.6 (automatic power cut-off is not advised) checked over real automations."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.compliance import (
    async_sync_compliance_issues,
    compliance_issue_id,
)
from custom_components.electrical_safety.const import DOMAIN
from electrical_safety_bridge.common.enums import ComplianceRule, FindingSeverity
from electrical_safety_bridge.common.site import Finding

from .conftest import find_device, wait_until
from .rig import BRIDGE_ID

BREAKER = "switch.kitchen_breaker"
FLAG = "switch.asj_4_ct_disconnection_alarm_enable"
LEAK = "binary_sensor.kitchen_residual_current_alarm"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SWITCH, Platform.BINARY_SENSOR]


def _automation(automation_id: str, actions: list[Any], trigger: Any = None) -> dict[str, Any]:
    return {
        "id": automation_id,
        "alias": automation_id.replace("_", " ").capitalize(),
        "triggers": [trigger or {"trigger": "state", "entity_id": LEAK, "to": "on"}],
        "actions": actions,
    }


def _turn_off(**target: Any) -> dict[str, Any]:
    return {"action": "switch.turn_off", "target": target}


ASK_FIRST = [
    {
        "action": "notify.notify",
        "data": {"message": "Leak: trip?", "data": {"actions": [{"action": "TRIP"}]}},
    },
    {
        "wait_for_trigger": [
            {
                "trigger": "event",
                "event_type": "mobile_app_notification_action",
                "event_data": {"action": "TRIP"},
            }
        ],
        "timeout": "00:05:00",
        "continue_on_timeout": False,
    },
    _turn_off(entity_id=BREAKER),
]


def _auto_trip_issues(issue_registry: ir.IssueRegistry) -> dict[str, ir.IssueEntry]:
    return {
        issue.translation_placeholders["automation_id"]: issue  # type: ignore[index]
        for (domain, _), issue in issue_registry.issues.items()
        if domain == DOMAIN and issue.translation_key == "compliance_cn_auto_trip"
    }


@pytest.mark.minimum_ha
async def test_automations_that_trip_without_a_person_are_repair_issues(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    kitchen = find_device(hass, f"{BRIDGE_ID}:arcm-1")
    assert kitchen is not None
    breaker = entity_registry.async_get(BREAKER)
    assert breaker is not None
    automations = [
        # Flagged: each trips the kitchen's breaker with nobody asked.
        _automation("trip_on_leak", [_turn_off(entity_id=BREAKER)]),
        _automation("toggle_old_style", [{"service": "switch.toggle", "entity_id": BREAKER}]),
        _automation(
            "trip_the_device",
            [{"action": "homeassistant.turn_off", "target": {"device_id": kitchen.id}}],
        ),
        _automation("trip_the_area", [_turn_off(area_id=kitchen.area_id)]),
        _automation("trip_everything", [_turn_off(entity_id="all")]),
        _automation(
            "device_action",
            [
                {
                    "domain": "switch",
                    "device_id": kitchen.id,
                    "entity_id": breaker.id,
                    "type": "turn_off",
                }
            ],
        ),
        _automation(
            "trip_in_a_branch",
            [{"choose": [{"conditions": [], "sequence": [_turn_off(entity_id=BREAKER)]}]}],
        ),
        _automation(
            "asks_too_late",
            [_turn_off(entity_id=BREAKER), *ASK_FIRST[:2]],
        ),
        # Asks, but trips anyway once the question times out (Home Assistant's default).
        _automation(
            "asks_but_goes_on",
            [ASK_FIRST[0], {**ASK_FIRST[1], "continue_on_timeout": True}, ASK_FIRST[2]],
        ),
        # Not flagged: a person answers first, or starts it, or it is not a breaker.
        _automation("asks_first", ASK_FIRST),
        _automation(
            "asks_then_checks_the_answer",
            [
                ASK_FIRST[0],
                {k: v for k, v in ASK_FIRST[1].items() if k != "continue_on_timeout"},
                {"condition": "template", "value_template": "{{ wait.trigger is not none }}"},
                ASK_FIRST[2],
            ],
        ),
        _automation(
            "waits_as_long_as_it_takes",
            [ASK_FIRST[0], {"wait_for_trigger": ASK_FIRST[1]["wait_for_trigger"]}, ASK_FIRST[2]],
        ),
        _automation(
            "person_starts_it",
            [_turn_off(entity_id=BREAKER)],
            trigger={"trigger": "tag", "tag_id": "breaker-card"},
        ),
        _automation(
            "button_starts_it",
            [_turn_off(entity_id=BREAKER)],
            trigger={"trigger": "state", "entity_id": "input_button.trip_kitchen"},
        ),
        _automation("a_flag_not_a_breaker", [_turn_off(entity_id=FLAG)]),
        _automation(
            "turns_it_on", [{"action": "switch.turn_on", "target": {"entity_id": BREAKER}}]
        ),
        _automation("disabled_step", [{**_turn_off(entity_id=BREAKER), "enabled": False}]),
    ]
    assert kitchen.area_id is not None
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: automations})
    await hass.async_block_till_done()

    flagged = {
        "trip_on_leak",
        "toggle_old_style",
        "trip_the_device",
        "trip_the_area",
        "trip_everything",
        "device_action",
        "trip_in_a_branch",
        "asks_too_late",
        "asks_but_goes_on",
    }
    expected = {f"automation.{name}" for name in flagged}
    await wait_until(
        hass, lambda: set(_auto_trip_issues(issue_registry)) == expected, "the automations checked"
    )
    issue = _auto_trip_issues(issue_registry)["automation.trip_on_leak"]
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.issue_id == (
        f"compliance_{loaded_entry.entry_id}_cn_auto_trip_arcm-1_automation.trip_on_leak"
    )
    assert issue.translation_placeholders is not None
    assert {
        k: issue.translation_placeholders[k] for k in ("automation", "entity", "device", "source")
    } == {
        "automation": "Trip on leak",
        "entity": BREAKER,
        "device": "Kitchen",
        "source": "GB 50116-2013 §9.1.6",
    }

    # A person fixes one automation and reloads: its issue goes, the others stay.
    fixed = [
        _automation("trip_on_leak", ASK_FIRST) if a["id"] == "trip_on_leak" else a
        for a in automations
    ]
    # The reload reads configuration.yaml; the harness has none to write, so its read is
    # replaced by the new configuration. Everything after it is Home Assistant's own reload.
    with patch(
        "homeassistant.config.load_yaml_config_file",
        autospec=True,
        return_value={AUTOMATION_DOMAIN: fixed},
    ):
        await hass.services.async_call(AUTOMATION_DOMAIN, "reload", blocking=True)
        await hass.async_block_till_done()
    await wait_until(
        hass,
        lambda: set(_auto_trip_issues(issue_registry)) == expected - {"automation.trip_on_leak"},
        "the fixed automation's issue gone",
    )


def _finding(
    rule: str,
    device_id: str | None,
    *,
    severity: str = FindingSeverity.WARNING,
    channel: str | None = None,
    value: float | None = None,
    params: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        rule,
        severity,
        "第13節 漏電火災警報器 6",
        device_id,
        channel,
        value,
        "100–400",
        "mA",
        params or {},
    )


@pytest.mark.minimum_ha
async def test_findings_become_repair_issues_and_go_when_they_are_gone(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry_id = loaded_entry.entry_id
    setpoint = _finding(
        ComplianceRule.JP_RC_SETPOINT,
        "arcm-1",
        channel="residual_current_alarm_setpoint",
        value=450.0,
        params={"low": 100.0, "high": 400.0},
    )
    missing = _finding(
        ComplianceRule.MISSING_FACT,
        "aafd-2",
        severity=FindingSeverity.INFO,
        params={"rule": "JP-CT-125", "fact": "installation"},
    )
    site = _finding(
        ComplianceRule.JP_CONTRACT_UNITS,
        None,
        severity=FindingSeverity.INFO,
        params={"units": "A, kVA"},
    )
    no_alarm = _finding(
        ComplianceRule.CN_NO_ALARM,
        "aim-3",
        severity=FindingSeverity.ERROR,
        channel="residual_current",
    )
    async_sync_compliance_issues(hass, loaded_entry, [setpoint, missing, site, no_alarm])

    issue = issue_registry.async_get_issue(DOMAIN, compliance_issue_id(entry_id, setpoint))
    assert issue is not None
    assert issue.issue_id == (
        f"compliance_{entry_id}_jp_rc_setpoint_arcm-1_residual_current_alarm_setpoint"
    )
    assert (issue.translation_key, issue.severity, issue.is_fixable) == (
        "compliance_jp_rc_setpoint",
        ir.IssueSeverity.WARNING,
        False,
    )
    assert issue.translation_placeholders == {
        "device": "Kitchen",
        "channel": "residual_current_alarm_setpoint",
        "value": "450",
        "limit": "100–400",
        "unit": "mA",
        "source": "第13節 漏電火災警報器 6",
        "low": "100",
        "high": "400",
    }
    info = issue_registry.async_get_issue(DOMAIN, compliance_issue_id(entry_id, missing))
    assert info is not None and info.severity is ir.IssueSeverity.WARNING
    assert info.translation_placeholders is not None
    assert info.translation_placeholders["device"] == "Bedroom"
    site_issue = issue_registry.async_get_issue(
        DOMAIN, f"compliance_{entry_id}_jp_contract_units_site"
    )
    assert site_issue is not None and site_issue.translation_placeholders is not None
    assert site_issue.translation_placeholders["device"] == loaded_entry.title
    error = issue_registry.async_get_issue(DOMAIN, compliance_issue_id(entry_id, no_alarm))
    assert error is not None and error.severity is ir.IssueSeverity.ERROR

    # The setpoint is changed but still too high: the issue is updated, not duplicated.
    higher = _finding(
        ComplianceRule.JP_RC_SETPOINT,
        "arcm-1",
        channel="residual_current_alarm_setpoint",
        value=500.0,
        params={"low": 100.0, "high": 400.0},
    )
    async_sync_compliance_issues(hass, loaded_entry, [higher, missing])
    ours = {
        issue_id
        for (domain, issue_id) in issue_registry.issues
        if domain == DOMAIN and issue_id.startswith("compliance_")
    }
    assert ours == {
        compliance_issue_id(entry_id, higher),
        compliance_issue_id(entry_id, missing),
    }
    updated = issue_registry.async_get_issue(DOMAIN, compliance_issue_id(entry_id, higher))
    assert updated is not None and updated.translation_placeholders is not None
    assert updated.translation_placeholders["value"] == "500"

    # Everything fixed: nothing left.
    async_sync_compliance_issues(hass, loaded_entry, [])
    assert not [
        i for (d, i) in issue_registry.issues if d == DOMAIN and i.startswith("compliance_")
    ]


async def test_the_bridges_findings_leave_the_automatic_trip_issues_alone(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    automations = [_automation("trip_on_leak", [_turn_off(entity_id=BREAKER)])]
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: automations})
    await hass.async_block_till_done()
    await wait_until(
        hass, lambda: bool(_auto_trip_issues(issue_registry)), "the automation checked"
    )
    async_sync_compliance_issues(hass, loaded_entry, [])
    assert set(_auto_trip_issues(issue_registry)) == {"automation.trip_on_leak"}


async def test_removing_the_entry_removes_its_compliance_issues(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    async_sync_compliance_issues(
        hass, loaded_entry, [_finding(ComplianceRule.JP_RC_SETPOINT, "arcm-1", value=450.0)]
    )
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert not [i for (d, i) in issue_registry.issues if d == DOMAIN]


async def test_automations_there_before_the_bridge_are_checked_at_set_up(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    automations = [_automation("trip_on_leak", [_turn_off(entity_id=BREAKER)])]
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: automations})
    await hass.async_block_till_done()
    config_entry.add_to_hass(hass)
    with patch("custom_components.electrical_safety.PLATFORMS", [Platform.SWITCH]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await wait_until(
        hass,
        lambda: set(_auto_trip_issues(issue_registry)) == {"automation.trip_on_leak"},
        "the automation checked once the breaker is there",
    )
    # Unloaded, the entry checks nothing more; removed, its issues go with it.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert _auto_trip_issues(issue_registry) == {}
