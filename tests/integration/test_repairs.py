"""Repair issues: a detector read with a profile nobody has checked against its manual."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN

from .conftest import wait_until
from .rig import DEFAULT_UNITS, UNVERIFIED_MODEL, Rig

UNITS = (DEFAULT_UNITS[0], ("unv-5", 5, UNVERIFIED_MODEL))


@pytest.fixture
def units() -> tuple[tuple[str, int, str], ...]:
    return UNITS


async def test_an_unverified_profile_is_a_repair_issue_and_never_written(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    issue_id = f"unverified_profile_{loaded_entry.entry_id}_unv-5"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"device": "unv-5", "model": UNVERIFIED_MODEL}

    # Read-only: no command buttons, no breaker switch, no numbers; setpoints are shown as
    # sensors. Acknowledge stays: it is recorded by the bridge, never written to the device.
    entries = [
        entry
        for entry in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if entry.unique_id.startswith("test-bridge:unv-5:")
    ]
    buttons = {entry.unique_id for entry in entries if entry.domain == "button"}
    assert buttons == {"test-bridge:unv-5:device:acknowledge"}
    assert {entry.domain for entry in entries} == {"binary_sensor", "button", "event", "sensor"}
    threshold = hass.states.get("sensor.unv_5_residual_current_limit")
    assert threshold is not None and threshold.state == "300"
    assert hass.states.get("sensor.unv_5_breaker").state == "closed"

    # The device leaves the bridge: its issue goes with it.
    rig.stop_bridge()
    rig.start_bridge(units=UNITS[:1])
    await wait_until(
        hass, lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is None, "issue gone"
    )


async def test_removing_the_entry_removes_its_issues(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    issue_registry: ir.IssueRegistry,
) -> None:
    assert issue_registry.async_get_issue(
        DOMAIN, f"unverified_profile_{loaded_entry.entry_id}_unv-5"
    )
    ir.async_create_issue(
        hass,
        "another_domain",
        "kept",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="kept",
    )
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert [(i.domain, i.issue_id) for i in issue_registry.issues.values()] == [
        ("another_domain", "kept")
    ]
