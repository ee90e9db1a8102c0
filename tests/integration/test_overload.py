"""A line whose alarm polls cannot keep their interval: shown, and a repair issue.

The overload is real: the simulator answers every request late (its ``slow_turnaround``
scenario, as a slow line or a low baud rate would), so one round of alarm polls takes the
bridge more line time than the rig's alarm interval leaves; the bridge stretches the
interval, says so in a ``status`` message, and says so again when the line keeps up.
"""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN

from .conftest import wait_for_state, wait_until
from .rig import ALARM_POLL_S, Rig

BRIDGE = "electrical_safety_bridge_127_0_0_1"
OVERLOADED = f"binary_sensor.{BRIDGE}_bus_line_1_overloaded"
ROUND = f"sensor.{BRIDGE}_bus_line_1_alarm_round"
#: Each answer this much later: several times what the rig's alarm interval can hold.
TURNAROUND_S = 0.05


async def test_an_overloaded_line_is_shown_and_becomes_a_repair_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, issue_registry: ir.IssueRegistry
) -> None:
    issue_id = f"bus_overloaded_{loaded_entry.entry_id}_line-1"
    assert hass.states.get(OVERLOADED).state == STATE_OFF
    line = hass.states.get(ROUND)
    assert float(line.state) < 0.75 * ALARM_POLL_S
    assert line.attributes["alarm_interval"] == ALARM_POLL_S
    assert line.attributes["effective_alarm_interval"] == ALARM_POLL_S
    assert line.attributes["unit_of_measurement"] == "s"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    rig.inject({"do": "slow_turnaround", "delay": TURNAROUND_S})
    await wait_for_state(hass, OVERLOADED, lambda s: s.state == STATE_ON)
    line = hass.states.get(ROUND)
    measured = float(line.state)
    assert measured >= 0.75 * ALARM_POLL_S
    stretched = line.attributes["effective_alarm_interval"]
    assert stretched > ALARM_POLL_S
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "bus_overloaded"
    placeholders = issue.translation_placeholders
    assert placeholders["bus"] == "line-1"
    assert placeholders["interval"] == f"{ALARM_POLL_S:g}"
    assert placeholders["share"] == "75"
    assert abs(float(placeholders["round"]) - measured) < 0.01
    assert float(placeholders["effective"]) == stretched

    # Home Assistant restarts meanwhile (its issues are not kept): reading the bridge at
    # set-up raises the issue again.
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    ir.async_delete_issue(hass, DOMAIN, issue_id)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    coordinator = loaded_entry.runtime_data
    await wait_until(hass, lambda: coordinator.connected, "the WebSocket's snapshot")
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert hass.states.get(OVERLOADED).state == STATE_ON

    # The line keeps up again: the bridge says so, and the issue goes.
    rig.inject({"do": "slow_turnaround", "clear": True})
    await wait_for_state(hass, OVERLOADED, lambda s: s.state == STATE_OFF)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    line = hass.states.get(ROUND)
    assert line.attributes["effective_alarm_interval"] == ALARM_POLL_S
    assert line.attributes["longest_alarm_gap"] >= stretched, "the stretched gaps are kept"
