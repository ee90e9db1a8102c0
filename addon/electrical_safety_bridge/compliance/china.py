"""China: the electrical fire monitoring rules of GB 50116, GB 50166 and GB 14287
(reference/devices.md §5).

Each function takes values and returns findings; a rule that holds returns none. The
product ranges of GB 14287.2 and .3 have not been read in the standard's text (devices.md
marks them UNVERIFIED), so their findings are information, and say so in ``params``.

GB 50116-2013 §9.1.6 (automatic power cut-off not advised) is checked in Home Assistant,
where automations live: the bridge cannot see them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..common.enums import ChannelKind, ComplianceRule, FindingSeverity, SetpointKind
from ..common.site import Finding
from .facts import SetpointFact
from .sources import UNVERIFIED, finding, missing_fact, range_findings

#: GB 50116-2013 §9.2.3: the residual-current detector's alarm value should (宜) be
#: 300–500 mA. A recommendation: outside it warns. Both ends inside.
RECOMMENDED_SETPOINT_MA = (300.0, 500.0)
#: GB 14287.2-2014 §5 (UNVERIFIED): a detector's setpoint range, 20–1000 mA.
PRODUCT_SETPOINT_RANGE_MA = (20.0, 1000.0)
#: GB 14287.3-2014 §5 (UNVERIFIED): a temperature detector's setpoint range, 45–140 °C.
PRODUCT_TEMPERATURE_RANGE_C = (45.0, 140.0)

#: GB 50166-2019: seconds from the test condition to the alarm. Residual current: the
#: acceptance test (the setpoint current applied, the alarm within 30 s); arc: §4.8.6(3)
#: (≥ 14 half-cycles in 1 s, alarm within 30 s); temperature: §4.8.5 (heated to the setpoint,
#: alarm within 40 s). A detector's own alarm channel is held to the 30 s of its class.
ALARM_TIME_LIMIT_S: dict[str, float] = {
    ChannelKind.RESIDUAL_CURRENT: 30.0,
    ChannelKind.ARC_COUNT: 30.0,
    ChannelKind.ALARM_STATUS: 30.0,
    ChannelKind.TEMPERATURE: 40.0,
}
_ALARM_TIME_SOURCE: dict[str, str] = {
    ChannelKind.RESIDUAL_CURRENT: "GB 50166-2019 (acceptance of residual-current detectors)",
    ChannelKind.ARC_COUNT: "GB 50166-2019 §4.8.6(3)",
    ChannelKind.ALARM_STATUS: "GB 50166-2019 §4.8.6(3)",
    ChannelKind.TEMPERATURE: "GB 50166-2019 §4.8.5",
}

#: One self-test as the self-test log keeps it: the device, the ``ChannelKind`` tested, and
#: the seconds until the device raised its alarm (None: it never did).
type SelfTestTiming = tuple[str, str, float | None]


def residual_current_setpoint_findings(
    device_id: str, setpoints: Iterable[SetpointFact]
) -> tuple[Finding, ...]:
    """GB 50116-2013 §9.2.3 (CN-RC-SETPOINT): 300–500 mA recommended, since natural leakage
    is typically 100–200 mA and 300 mA of leakage can start a fire. GB 14287.2-2014 §5
    (CN-RC-RANGE, unverified): the product range 20–1000 mA."""
    alarm_setpoints = [s for s in setpoints if s.kind == SetpointKind.RESIDUAL_CURRENT_ALARM]
    if not alarm_setpoints:
        return (
            missing_fact(
                ComplianceRule.CN_RC_SETPOINT, device_id, "setpoint:residual_current_alarm"
            ),
        )
    recommended = range_findings(
        ComplianceRule.CN_RC_SETPOINT,
        FindingSeverity.WARNING,
        device_id,
        alarm_setpoints,
        SetpointFact.in_milliamperes,
        RECOMMENDED_SETPOINT_MA,
        "mA",
    )
    product = range_findings(
        ComplianceRule.CN_RC_RANGE,
        FindingSeverity.INFO,
        device_id,
        alarm_setpoints,
        SetpointFact.in_milliamperes,
        PRODUCT_SETPOINT_RANGE_MA,
        "mA",
        params={"confidence": UNVERIFIED},
        say_missing=False,
    )
    return (*recommended, *product)


def temperature_setpoint_findings(
    device_id: str, setpoints: Iterable[SetpointFact]
) -> tuple[Finding, ...]:
    """GB 14287.3-2014 §5 (CN-T-RANGE, unverified): a temperature setpoint of 45–140 °C."""
    alarm_setpoints = [s for s in setpoints if s.kind == SetpointKind.TEMPERATURE_ALARM]
    if not alarm_setpoints:
        return (missing_fact(ComplianceRule.CN_T_RANGE, device_id, "setpoint:temperature_alarm"),)
    return tuple(
        range_findings(
            ComplianceRule.CN_T_RANGE,
            FindingSeverity.INFO,
            device_id,
            alarm_setpoints,
            SetpointFact.in_celsius,
            PRODUCT_TEMPERATURE_RANGE_C,
            "°C",
            params={"confidence": UNVERIFIED},
        )
    )


def alarm_time_findings(self_tests: Iterable[SelfTestTiming]) -> tuple[Finding, ...]:
    """GB 50166-2019: a detector alarms within 30 s of the test condition (residual current,
    arc), 40 s for temperature; exactly the limit passes. Too late is CN-ALARM-TIME, no alarm
    at all CN-NO-ALARM, both errors: the detector would not have warned anyone in time.
    A kind with no time in the standard is said (MISSING-FACT), not guessed."""
    findings: list[Finding] = []
    for device_id, kind, seconds in self_tests:
        limit = ALARM_TIME_LIMIT_S.get(kind)
        if limit is None:
            findings.append(
                missing_fact(ComplianceRule.CN_ALARM_TIME, device_id, f"alarm time of {kind}")
            )
            continue
        source = _ALARM_TIME_SOURCE[kind]
        if seconds is None:
            findings.append(
                finding(
                    ComplianceRule.CN_NO_ALARM,
                    FindingSeverity.ERROR,
                    device_id,
                    channel=kind,
                    limit=limit,
                    unit="s",
                    source=source,
                )
            )
        elif seconds > limit:
            findings.append(
                finding(
                    ComplianceRule.CN_ALARM_TIME,
                    FindingSeverity.ERROR,
                    device_id,
                    channel=kind,
                    value=seconds,
                    limit=limit,
                    unit="s",
                    source=source,
                )
            )
    return tuple(findings)
