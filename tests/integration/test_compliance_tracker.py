"""The bridge's compliance findings in Home Assistant (compliance_tracker.py): each one a
repair issue, their count the site's sensor, both following a setpoint a person changes.
Against the rig's real bridge: a Japanese site whose AIM-R100 has its CT on the grounding
wire, where a leakage setpoint must be 400-800 mA (tests/integration/rig.py)."""

from __future__ import annotations

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.compliance import compliance_issue_id
from custom_components.electrical_safety.const import DOMAIN
from electrical_safety_bridge.common.enums import ComplianceRule, FindingSeverity
from electrical_safety_bridge.common.site import Finding

from .conftest import wait_until
from .rig import Rig

SENSOR = "sensor.test_flat_compliance_findings"
LOOP_1 = "number.aim_3_loop_1_limit"


def setpoint_findings(findings: tuple[Finding, ...] | None, value: float) -> list[Finding]:
    """The AIM-R100's leakage-setpoint findings at ``value`` mA."""
    return [
        f
        for f in findings or ()
        if f.rule_id == ComplianceRule.JP_RC_SETPOINT
        and f.device_id == "aim-3"
        and f.value == value
    ]


async def test_findings_are_repairs_and_a_count_that_follow_a_setpoint(
    hass: HomeAssistant, rig: Rig, loaded_entry: MockConfigEntry
) -> None:
    tracker = loaded_entry.runtime_data.compliance
    assert tracker is not None and tracker.findings is not None
    issues = ir.async_get(hass)

    def shown() -> bool:
        """The sensor and the repairs say what the tracker last read."""
        findings = tracker.findings or ()
        state = hass.states.get(SENSOR)
        actionable = sum(f.severity != FindingSeverity.INFO for f in findings)
        return (
            state is not None
            and state.state == str(actionable)
            and len(state.attributes["findings"]) == len(findings)
            and all(
                issues.async_get_issue(DOMAIN, compliance_issue_id(loaded_entry.entry_id, f))
                for f in findings
            )
        )

    await wait_until(hass, shown, "the findings shown as a count and as repairs")

    # 350 mA on a grounding-wire CT is under the 400 mA the Japanese standard asks for.
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: LOOP_1, ATTR_VALUE: 350}, blocking=True
    )
    await wait_until(
        hass, lambda: bool(setpoint_findings(tracker.findings, 350)), "a finding at 350 mA"
    )
    (low,) = setpoint_findings(tracker.findings, 350)
    assert (low.limit, low.unit) == ("400–800", "mA")
    issue_id = compliance_issue_id(loaded_entry.entry_id, low)
    await wait_until(hass, shown, "its repair and the count")
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.severity == ir.IssueSeverity.WARNING

    # Within range again: the finding, and its repair, are gone.
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: LOOP_1, ATTR_VALUE: 500}, blocking=True
    )
    await wait_until(
        hass,
        lambda: issues.async_get_issue(DOMAIN, issue_id) is None,
        "the 350 mA finding's repair removed",
    )
    assert not setpoint_findings(tracker.findings, 500)
    await wait_until(hass, shown, "the count without it")
