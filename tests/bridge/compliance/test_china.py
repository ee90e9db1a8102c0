"""China's rules (reference/devices.md §5), each test naming the clause it holds the code
to."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import (
    ChannelKind,
    ComplianceRule,
    FindingSeverity,
    SetpointKind,
)
from electrical_safety_bridge.compliance import china
from electrical_safety_bridge.compliance.facts import SetpointFact


def _rc(value: float | None, unit: str | None = "mA", key: str = "alarm") -> SetpointFact:
    return SetpointFact(key, SetpointKind.RESIDUAL_CURRENT_ALARM, value, unit)


def _t(value: float | None, unit: str | None = "°C", key: str = "t_alarm") -> SetpointFact:
    return SetpointFact(key, SetpointKind.TEMPERATURE_ALARM, value, unit)


@pytest.mark.parametrize(
    ("value", "unit", "rules"),
    [
        # GB 50116-2013 §9.2.3: 300–500 mA recommended, both ends inside.
        (300.0, "mA", []),
        (500.0, "mA", []),
        (0.4, "A", []),
        (299.0, "mA", [ComplianceRule.CN_RC_SETPOINT]),
        (501.0, "mA", [ComplianceRule.CN_RC_SETPOINT]),
        # GB 14287.2-2014 §5 (unverified): 20–1000 mA, both ends inside.
        (20.0, "mA", [ComplianceRule.CN_RC_SETPOINT]),
        (1000.0, "mA", [ComplianceRule.CN_RC_SETPOINT]),
        (19.0, "mA", [ComplianceRule.CN_RC_SETPOINT, ComplianceRule.CN_RC_RANGE]),
        (1001.0, "mA", [ComplianceRule.CN_RC_SETPOINT, ComplianceRule.CN_RC_RANGE]),
        (1.5, "A", [ComplianceRule.CN_RC_SETPOINT, ComplianceRule.CN_RC_RANGE]),
    ],
)
def test_residual_current_setpoint_recommended_and_product_range(
    value: float, unit: str, rules: list[str]
) -> None:
    findings = china.residual_current_setpoint_findings("d", [_rc(value, unit)])
    assert [f.rule_id for f in findings] == rules
    for item in findings:
        assert item.unit == "mA"
        assert item.channel == "alarm"
        if item.rule_id == ComplianceRule.CN_RC_SETPOINT:
            assert (item.severity, item.limit, item.source) == (
                FindingSeverity.WARNING,
                "300–500",
                "GB 50116-2013 §9.2.3",
            )
        else:
            # Unverified: information, and it says so in the source and the params.
            assert item.severity == FindingSeverity.INFO
            assert item.limit == "20–1000"
            assert "unverified" in item.source
            assert item.params["confidence"] == "unverified"


@pytest.mark.parametrize(
    ("value", "flagged"),
    [(45.0, False), (140.0, False), (80.0, False), (44.9, True), (140.1, True)],
)
def test_temperature_setpoint_product_range_is_unverified_information(
    value: float, flagged: bool
) -> None:
    """GB 14287.3-2014 §5 (unverified): 45–140 °C."""
    findings = china.temperature_setpoint_findings("d", [_t(value)])
    if not flagged:
        assert findings == ()
        return
    (item,) = findings
    assert (item.rule_id, item.severity, item.value, item.limit, item.unit) == (
        ComplianceRule.CN_T_RANGE,
        FindingSeverity.INFO,
        value,
        "45–140",
        "°C",
    )
    assert item.params["confidence"] == "unverified"
    assert item.source == "GB 14287.3-2014 §5 (unverified)"


@pytest.mark.parametrize(
    ("findings_of", "setpoints", "rule", "fact"),
    [
        (
            china.residual_current_setpoint_findings,
            [],
            "CN-RC-SETPOINT",
            "setpoint:residual_current_alarm",
        ),
        (china.residual_current_setpoint_findings, [_rc(None)], "CN-RC-SETPOINT", "setpoint:alarm"),
        (
            china.residual_current_setpoint_findings,
            [_rc(300, "°C")],
            "CN-RC-SETPOINT",
            "setpoint:alarm",
        ),
        (china.temperature_setpoint_findings, [], "CN-T-RANGE", "setpoint:temperature_alarm"),
        (china.temperature_setpoint_findings, [_t(70, "°F")], "CN-T-RANGE", "setpoint:t_alarm"),
    ],
)
def test_a_setpoint_rule_without_its_facts_says_so(
    findings_of: object, setpoints: list[SetpointFact], rule: str, fact: str
) -> None:
    assert callable(findings_of)
    (item,) = findings_of("d", setpoints)
    assert (item.rule_id, item.severity) == (ComplianceRule.MISSING_FACT, FindingSeverity.INFO)
    assert item.params == {"rule": rule, "fact": fact}


@pytest.mark.parametrize(
    ("kind", "seconds", "rule", "limit", "source"),
    [
        # GB 50166 acceptance: residual current within 30 s; exactly 30 s passes.
        (ChannelKind.RESIDUAL_CURRENT, 30.0, None, 30.0, ""),
        (ChannelKind.RESIDUAL_CURRENT, 30.5, ComplianceRule.CN_ALARM_TIME, 30.0, "acceptance"),
        (ChannelKind.RESIDUAL_CURRENT, None, ComplianceRule.CN_NO_ALARM, 30.0, "acceptance"),
        # §4.8.6(3): arc within 30 s.
        (ChannelKind.ARC_COUNT, 12.0, None, 30.0, ""),
        (ChannelKind.ARC_COUNT, 31.0, ComplianceRule.CN_ALARM_TIME, 30.0, "§4.8.6(3)"),
        # §4.8.5: temperature within 40 s; 35 s passes where residual current would not.
        (ChannelKind.TEMPERATURE, 35.0, None, 40.0, ""),
        (ChannelKind.TEMPERATURE, 40.0, None, 40.0, ""),
        (ChannelKind.TEMPERATURE, 40.1, ComplianceRule.CN_ALARM_TIME, 40.0, "§4.8.5"),
        (ChannelKind.TEMPERATURE, None, ComplianceRule.CN_NO_ALARM, 40.0, "§4.8.5"),
    ],
)
def test_a_self_test_alarms_within_the_standards_time(
    kind: str, seconds: float | None, rule: str | None, limit: float, source: str
) -> None:
    findings = china.alarm_time_findings([("d1", kind, seconds)])
    if rule is None:
        assert findings == ()
        return
    (item,) = findings
    assert (item.rule_id, item.severity, item.device_id, item.channel) == (
        rule,
        FindingSeverity.ERROR,
        "d1",
        kind,
    )
    assert (item.value, item.limit, item.unit) == (seconds, limit, "s")
    assert source in item.source and item.source.startswith("GB 50166-2019")


def test_self_tests_of_a_kind_without_a_time_are_not_guessed() -> None:
    (item,) = china.alarm_time_findings([("d1", ChannelKind.VOLTAGE, 3.0)])
    assert item.rule_id == ComplianceRule.MISSING_FACT
    assert item.params == {"rule": "CN-ALARM-TIME", "fact": "alarm time of voltage"}


def test_every_self_test_of_the_log_is_judged() -> None:
    findings = china.alarm_time_findings(
        [
            ("a", ChannelKind.RESIDUAL_CURRENT, 2.0),
            ("b", ChannelKind.RESIDUAL_CURRENT, None),
            ("c", ChannelKind.TEMPERATURE, 41.0),
        ]
    )
    assert [(f.device_id, f.rule_id) for f in findings] == [
        ("b", ComplianceRule.CN_NO_ALARM),
        ("c", ComplianceRule.CN_ALARM_TIME),
    ]
