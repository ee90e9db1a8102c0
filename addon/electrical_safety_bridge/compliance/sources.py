"""The clause each compliance rule implements, as its findings cite it (``Finding.source``),
and the two ways a rule's finding is built: a value held to a limit, or a fact missing.

Japan's rules come from 第13節 漏電火災警報器 (the earth-leakage fire alarm section of a
Japanese fire department's installation standard; seed 004 of this project), cited by its
section numbers; China's from the national standards, as reference/devices.md §5 lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..common.enums import ComplianceRule, FindingSeverity
from ..common.findings import AUTO_TRIP_SOURCE
from ..common.site import Finding, FindingValue
from .facts import SetpointFact

#: The Japanese source, as a person finds it.
JP_SOURCE = "第13節 漏電火災警報器"

SOURCES: dict[ComplianceRule, str] = {
    ComplianceRule.JP_CT_RATED: f"{JP_SOURCE} 5(2)–(3)",
    ComplianceRule.JP_CT_125: f"{JP_SOURCE} 5(3), 3(1), 3(4)",
    ComplianceRule.JP_CT_GROUND: f"{JP_SOURCE} 5(4) ※",
    ComplianceRule.JP_RC_SETPOINT: f"{JP_SOURCE} 6",
    ComplianceRule.JP_CONTRACT_UNITS: f"{JP_SOURCE} 3(1), 3(4)",
    ComplianceRule.CN_RC_SETPOINT: "GB 50116-2013 §9.2.3",
    ComplianceRule.CN_RC_RANGE: "GB 14287.2-2014 §5 (unverified)",
    ComplianceRule.CN_T_RANGE: "GB 14287.3-2014 §5 (unverified)",
    ComplianceRule.CN_ALARM_TIME: "GB 50166-2019 §4.8.5, §4.8.6",
    ComplianceRule.CN_NO_ALARM: "GB 50166-2019 §4.8.5, §4.8.6",
    ComplianceRule.CN_AUTO_TRIP: AUTO_TRIP_SOURCE,
    ComplianceRule.MISSING_FACT: "",
}

#: What a person sees in a finding's ``params`` of a limit nobody has checked against the
#: standard's text (devices.md §5 marks it UNVERIFIED).
UNVERIFIED = "unverified"


def finding(
    rule: ComplianceRule,
    severity: FindingSeverity,
    device_id: str | None,
    *,
    channel: str | None = None,
    value: FindingValue = None,
    limit: FindingValue = None,
    unit: str | None = None,
    source: str | None = None,
    params: Mapping[str, FindingValue] | None = None,
) -> Finding:
    """A finding of ``rule``, citing its clause unless ``source`` narrows it."""
    return Finding(
        rule_id=rule,
        severity=severity,
        source=SOURCES[rule] if source is None else source,
        device_id=device_id,
        channel=channel,
        value=value,
        limit=limit,
        unit=unit,
        params=dict(params or {}),
    )


def missing_fact(rule: ComplianceRule, device_id: str | None, fact: str) -> Finding:
    """Not enough information to check ``rule``: ``fact`` (a configuration key, or the
    setpoint the bridge has not read) is not known. Information, never silence."""
    return finding(
        ComplianceRule.MISSING_FACT,
        FindingSeverity.INFO,
        device_id,
        source=SOURCES[rule],
        params={"rule": str(rule), "fact": fact},
    )


def range_findings(
    rule: ComplianceRule,
    severity: FindingSeverity,
    device_id: str,
    setpoints: Iterable[SetpointFact],
    reading: Callable[[SetpointFact], float | None],
    bounds: tuple[float, float],
    unit: str,
    *,
    params: Mapping[str, FindingValue] | None = None,
    say_missing: bool = True,
) -> list[Finding]:
    """Each setpoint held to ``bounds`` (both ends inside), read in ``unit`` by ``reading``;
    a setpoint that cannot be read so is a missing fact (unless another check of the same
    setpoints says so already: ``say_missing``)."""
    low, high = bounds
    findings: list[Finding] = []
    for setpoint in setpoints:
        value = reading(setpoint)
        if value is None:
            if say_missing:
                findings.append(missing_fact(rule, device_id, f"setpoint:{setpoint.key}"))
        elif not low <= value <= high:
            findings.append(
                finding(
                    rule,
                    severity,
                    device_id,
                    channel=setpoint.key,
                    value=value,
                    limit=f"{low:g}–{high:g}",
                    unit=unit,
                    params={"low": low, "high": high, **(params or {})},
                )
            )
    return findings
