"""Findings warn and never block (design.md, "Safety and compliance rules"): a setpoint the
rules flag is still written; only a value outside the range the device itself accepts is
refused, and that refusal is the bridge's command policy, not a rule."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import (
    ComplianceRule,
    CtLocation,
    RefusalReason,
    SetpointKind,
)
from electrical_safety_bridge.compliance import china, japan
from electrical_safety_bridge.compliance.facts import SetpointFact
from electrical_safety_bridge.errors import CommandRefused
from electrical_safety_bridge.safety.commands import authorise_setpoint
from tests.bridge.safety.test_commands import breaker_profile

KEY = "residual_current_alarm_setpoint"


def _flagged(value: float) -> set[str]:
    setpoint = [SetpointFact(KEY, SetpointKind.RESIDUAL_CURRENT_ALARM, value, "mA")]
    found = japan.setpoint_findings("d", setpoint, CtLocation.SERVICE_ENTRANCE)
    found += china.residual_current_setpoint_findings("d", setpoint)
    return {f.rule_id for f in found}


@pytest.mark.parametrize("value", [20.0, 600.0, 1000.0])
def test_a_setpoint_the_rules_flag_is_still_written(value: float) -> None:
    assert ComplianceRule.CN_RC_SETPOINT in _flagged(value)
    assert authorise_setpoint(breaker_profile(), KEY, value).key == KEY


def test_only_the_devices_own_range_refuses() -> None:
    """1500 mA: outside the device's 20–1000 mA, refused by the bridge (and flagged)."""
    assert {ComplianceRule.CN_RC_SETPOINT, ComplianceRule.CN_RC_RANGE} <= _flagged(1500.0)
    with pytest.raises(CommandRefused) as refused:
        authorise_setpoint(breaker_profile(), KEY, 1500.0)
    assert refused.value.reason is RefusalReason.VALUE_OUT_OF_RANGE
