"""The blueprints: they load, their inputs are what the docs say, and they work end to end
against a real bridge (a leak notifies the tenant, whose Acknowledge acknowledges it; an
alarm nobody acknowledges reaches the landlord)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.const import STATE_ON, Platform
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from .conftest import wait_for_state, wait_until
from .rig import ROOT, Rig

FOLDER = ROOT / "blueprints" / "automation" / "electrical_safety"
TENANT = "tenant_alarm_notification.yaml"
LANDLORD = "landlord_escalation.yaml"
ALARM = "binary_sensor.kitchen_residual_current_alarm"


def _blueprint(name: str) -> Blueprint:
    return Blueprint(
        load_yaml_dict(FOLDER / name),
        path=name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        (
            TENANT,
            {
                "alarm_events",
                "notify_action",
                "language",
                "include_self_tests",
                "acknowledge_within",
            },
        ),
        (
            LANDLORD,
            {"alarm_events", "notify_action", "escalate_after", "property_name", "language"},
        ),
    ],
)
def test_a_blueprint_loads_with_its_inputs(name: str, inputs: set[str]) -> None:
    blueprint = _blueprint(name)
    assert set(blueprint.inputs) == inputs
    assert blueprint.metadata["source_url"].endswith(f"electrical_safety/{name}")
    languages = blueprint.inputs["language"]["selector"]["select"]["options"]
    assert [option["value"] for option in languages] == ["en", "zh-Hans", "ja"]
    BlueprintInputs(
        blueprint,
        {
            "use_blueprint": {
                "path": name,
                "input": {"alarm_events": ["event.kitchen_alarms"], "notify_action": "notify.x"},
            }
        },
    ).validate()


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.EVENT, Platform.BINARY_SENSOR]


async def _automate(hass: HomeAssistant, tmp_path: Path, name: str, inputs: dict[str, Any]) -> None:
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "electrical_safety"
    target.mkdir(parents=True)
    shutil.copy(FOLDER / name, target / name)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": name,
                "alias": name.removesuffix(".yaml"),
                "use_blueprint": {"path": f"electrical_safety/{name}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()


async def test_the_tenant_is_told_what_to_do_and_can_acknowledge(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, tmp_path: Path
) -> None:
    phone: list[ServiceCall] = async_mock_service(hass, "notify", "tenant_phone")
    await _automate(
        hass,
        tmp_path,
        TENANT,
        {
            "alarm_events": ["event.kitchen_alarms"],
            "notify_action": "notify.tenant_phone",
            "language": "ja",
        },
    )
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_until(hass, lambda: bool(phone), "the tenant notified")
    (call,) = phone
    assert call.data["title"] == "電気の警報：Kitchen"
    assert call.data["message"].startswith("漏電を検出しました。")
    assert "警報時の値：" in call.data["message"] and "mA" in call.data["message"]
    assert call.data["data"]["push"]["sound"]["critical"] == 1
    (button,) = call.data["data"]["actions"]
    assert button["title"] == "確認"

    hass.bus.async_fire("mobile_app_notification_action", {"action": button["action"]})
    await wait_for_state(hass, ALARM, lambda s: s.attributes.get("acknowledged") is True)


async def test_a_self_test_is_not_a_fire(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, tmp_path: Path
) -> None:
    phone: list[ServiceCall] = async_mock_service(hass, "notify", "tenant_phone")
    await _automate(
        hass,
        tmp_path,
        TENANT,
        {
            "alarm_events": ["event.bedroom_alarms"],
            "notify_action": "notify.tenant_phone",
            "include_self_tests": True,
        },
    )
    await hass.services.async_call(
        "electrical_safety", "run_self_test", {}, blocking=True, return_response=True
    )
    await wait_until(hass, lambda: bool(phone), "the test notified")
    assert phone[0].data["message"] == (
        "Self-test of Bedroom: the alarm works. Reset the detector and acknowledge."
    )


async def test_an_unacknowledged_alarm_reaches_the_landlord(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, tmp_path: Path
) -> None:
    landlord: list[ServiceCall] = async_mock_service(hass, "notify", "landlord")
    await _automate(
        hass,
        tmp_path,
        LANDLORD,
        {
            "alarm_events": ["event.kitchen_alarms", "event.asj_4_alarms"],
            "notify_action": "notify.landlord",
            "escalate_after": {"seconds": 1},
            "property_name": "Flat 3",
            "language": "zh-Hans",
        },
    )
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_until(hass, lambda: bool(landlord), "the landlord told")
    (call,) = landlord
    assert call.data["title"] == "电气报警无人确认"
    assert call.data["message"].startswith("Flat 3: Kitchen 于 ")


async def test_an_acknowledged_alarm_does_not_escalate(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, tmp_path: Path
) -> None:
    landlord: list[ServiceCall] = async_mock_service(hass, "notify", "landlord")
    await _automate(
        hass,
        tmp_path,
        LANDLORD,
        {
            "alarm_events": ["event.kitchen_alarms"],
            "notify_action": "notify.landlord",
            "escalate_after": {"minutes": 5},
        },
    )
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    alarm = await wait_for_state(hass, ALARM, lambda s: s.state == STATE_ON)
    automation = "automation.landlord_escalation"
    await wait_for_state(hass, automation, lambda s: s.attributes.get("current") == 1)
    await hass.services.async_call(
        "electrical_safety",
        "acknowledge_alarm",
        {"alarm_id": alarm.attributes["alarm_id"]},
        blocking=True,
    )
    await wait_for_state(hass, automation, lambda s: s.attributes.get("current") == 0)
    assert landlord == []
