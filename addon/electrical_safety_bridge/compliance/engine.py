"""The compliance engine: the site and its detectors in, every finding out.

Pure: values in, values out. The region picks the rules (Japan, China; a generic site has
none). A rule that lacks a fact says so (MISSING-FACT, information) instead of keeping
silent; those of one device are gathered into one finding, so that a detector nobody has
described yet is one line to fix, not one per rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..common.enums import ComplianceRule, CtLocation, FindingSeverity, Region
from ..common.site import Finding, Site
from . import china, japan
from .facts import DeviceFacts
from .sources import finding, missing_fact

_SEVERITY_ORDER = {FindingSeverity.ERROR: 0, FindingSeverity.WARNING: 1, FindingSeverity.INFO: 2}


def evaluate(
    site: Site,
    devices: Sequence[DeviceFacts],
    self_tests: Iterable[china.SelfTestTiming] = (),
) -> tuple[Finding, ...]:
    """Every finding for ``site``: the site's own first, then each device's, most severe
    first within each. ``self_tests`` are the timings of the self-test log (China's alarm
    time rule); the self-test scheduler feeds them."""
    if site.region == Region.JP:
        findings = list(_japan(site, devices))
    elif site.region == Region.CN:
        findings = list(_china(devices, self_tests))
    else:
        findings = []
    return _ordered(_gather_missing_facts(findings), devices)


def _japan(site: Site, devices: Sequence[DeviceFacts]) -> Iterable[Finding]:
    contract = japan.contract_current(site.supply_system, site.contracts)
    known = contract if isinstance(contract, japan.ContractCurrent) else None
    contract_needed = False
    for device in devices:
        if not device.watches_residual_current:
            continue
        installation = device.installation
        location = None if installation is None else installation.ct_location
        yield from japan.setpoint_findings(device.device_id, device.setpoints, location)
        if installation is None or location is None or installation.ct_rating_a is None:
            fact = (
                "installation"
                if installation is None
                else "installation.ct_location"
                if location is None
                else "installation.ct_rating_a"
            )
            yield missing_fact(ComplianceRule.JP_CT_125, device.device_id, fact)
        elif location == CtLocation.GROUNDING_WIRE:
            yield from japan.grounding_ct_findings(
                device.device_id, installation.ct_rating_a, site.supply_system
            )
        else:
            device_findings = japan.ct_rating_findings(
                device.device_id,
                installation.ct_rating_a,
                installation.circuit_rated_current_a,
                known,
            )
            # Had the contract current been known, it might have settled the rule.
            contract_needed = contract_needed or (known is None and bool(device_findings))
            yield from device_findings
    if contract_needed and isinstance(contract, Finding):
        yield contract


def _china(
    devices: Sequence[DeviceFacts], self_tests: Iterable[china.SelfTestTiming]
) -> Iterable[Finding]:
    for device in devices:
        if device.watches_residual_current:
            yield from china.residual_current_setpoint_findings(device.device_id, device.setpoints)
        if device.watches_temperature:
            yield from china.temperature_setpoint_findings(device.device_id, device.setpoints)
    yield from china.alarm_time_findings(self_tests)


def _gather_missing_facts(findings: Iterable[Finding]) -> list[Finding]:
    """One MISSING-FACT per device (and one for the site), naming every rule and fact,
    each once, in the order they were found."""
    gathered: list[Finding] = []
    missing: dict[str | None, list[Finding]] = {}
    for item in findings:
        if item.rule_id == ComplianceRule.MISSING_FACT:
            if item.device_id not in missing:
                gathered.append(item)  # holds the place of the device's gathered finding
            missing.setdefault(item.device_id, []).append(item)
        else:
            gathered.append(item)
    return [
        _merged(missing[item.device_id]) if item.rule_id == ComplianceRule.MISSING_FACT else item
        for item in gathered
    ]


def _merged(items: list[Finding]) -> Finding:
    if len(items) == 1:
        return items[0]
    rules = _unique(str(i.params.get("rule")) for i in items)
    facts = _unique(str(i.params.get("fact")) for i in items)
    sources = _unique(i.source for i in items)
    first = items[0]
    return finding(
        ComplianceRule.MISSING_FACT,
        FindingSeverity.INFO,
        first.device_id,
        source="; ".join(sources),
        params={"rule": ", ".join(rules), "fact": ", ".join(facts)},
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _ordered(findings: list[Finding], devices: Sequence[DeviceFacts]) -> tuple[Finding, ...]:
    """The site's findings first, then the devices' in the order given; the most severe
    first within each (a stable sort keeps the rules' order among equals)."""
    position = {device.device_id: index for index, device in enumerate(devices)}

    def key(item: Finding) -> tuple[int, int]:
        where = -1 if item.device_id is None else position.get(item.device_id, len(position))
        return (where, _SEVERITY_ORDER.get(FindingSeverity(item.severity), 3))

    return tuple(sorted(findings, key=key))
