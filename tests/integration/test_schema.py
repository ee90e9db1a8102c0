"""The bridge and the integration check each other's schema on every connect, against a
real bridge: the integration's side is made older or newer by its own constants, as a
release of either would be (the bridge is the rig's, unchanged)."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN
from electrical_safety_bridge.common.schema import MIN_SUPPORTED_SCHEMA_VERSION, SCHEMA_VERSION

from .conftest import wait_until
from .rig import Rig

CLIENT = "electrical_safety_bridge.client.bridge_client"


def _issue(issue_registry: ir.IssueRegistry, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return issue_registry.async_get_issue(DOMAIN, f"schema_mismatch_{entry.entry_id}")


@pytest.mark.minimum_ha
async def test_a_bridge_too_old_asks_to_update_the_add_on(
    hass: HomeAssistant, config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    # An integration that reads schema N+1 and up: the rig's bridge (schema N) is too old.
    config_entry.add_to_hass(hass)
    with (
        patch(f"{CLIENT}.SCHEMA_VERSION", SCHEMA_VERSION + 1),
        patch(f"{CLIENT}.MIN_SUPPORTED_SCHEMA_VERSION", SCHEMA_VERSION + 1),
    ):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    issue = _issue(issue_registry, config_entry)
    assert issue is not None
    assert issue.translation_key == "bridge_too_old"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["bridge_schema"] == str(SCHEMA_VERSION)
    assert issue.translation_placeholders["min"] == str(MIN_SUPPORTED_SCHEMA_VERSION)
    # No detector of a bridge it cannot read is shown.
    assert not hass.states.async_entity_ids("sensor")

    # The add-on is updated (here: the integration's range meets the bridge again): the
    # next attempt connects and the issue goes away by itself.
    await hass.config_entries.async_reload(config_entry.entry_id)
    await wait_until(hass, lambda: config_entry.state is ConfigEntryState.LOADED, "loaded")
    assert _issue(issue_registry, config_entry) is None


async def test_a_bridge_too_new_asks_to_update_the_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    # An integration that speaks schema 0: the real bridge refuses it (client_too_old).
    config_entry.add_to_hass(hass)
    with patch(f"{CLIENT}.SCHEMA_VERSION", 0), patch(f"{CLIENT}.MIN_SUPPORTED_SCHEMA_VERSION", 0):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    issue = _issue(issue_registry, config_entry)
    assert issue is not None
    assert issue.translation_key == "bridge_too_new"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["bridge_schema"] == str(SCHEMA_VERSION)
    assert issue.translation_placeholders["bridge_min"] == str(MIN_SUPPORTED_SCHEMA_VERSION)


async def test_the_check_is_made_again_on_every_reconnect(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Not only in the config flow: a bridge that comes back speaking a contract the
    integration cannot read raises the issue, and it goes once one it can read is back."""
    coordinator = loaded_entry.runtime_data
    with (
        patch(f"{CLIENT}.SCHEMA_VERSION", SCHEMA_VERSION + 1),
        patch(f"{CLIENT}.MIN_SUPPORTED_SCHEMA_VERSION", SCHEMA_VERSION + 1),
    ):
        rig.stop_bridge()
        rig.start_bridge()
        await wait_until(
            hass, lambda: _issue(issue_registry, loaded_entry) is not None, "schema issue"
        )
        issue = _issue(issue_registry, loaded_entry)
        assert issue is not None and issue.translation_key == "bridge_too_old"
        assert not coordinator.connected
    # The matching bridge is back: the next reconnect reads its snapshot.
    await wait_until(hass, lambda: coordinator.connected, "reconnected")
    await wait_until(hass, lambda: _issue(issue_registry, loaded_entry) is None, "issue gone")
