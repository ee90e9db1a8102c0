"""A compliance finding's values as the texts its explanation shows.

The bridge's catalogue (``compliance/explanations.py``) and Home Assistant's repair issues
fill the same placeholders from a ``Finding`` with this one function, so a number reads the
same in the report, the web UI and the repairs dashboard.
"""

from __future__ import annotations

from .enums import ComplianceRule, FindingSeverity
from .site import Finding, FindingValue

#: What a placeholder shows for a value the finding does not have.
UNKNOWN = "?"


def format_value(value: FindingValue) -> str:
    """A number as a person reads it: at most two decimals, no trailing zeros."""
    if value is None:
        return UNKNOWN
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def finding_placeholders(finding: Finding, device_name: str | None = None) -> dict[str, str]:
    """Every placeholder an explanation may name: ``device`` (its name when known, else its
    id), ``channel``, ``value``, ``limit``, ``unit``, ``source``, and each of ``params``."""
    placeholders = {
        "device": device_name or finding.device_id or UNKNOWN,
        "channel": finding.channel or UNKNOWN,
        "value": format_value(finding.value),
        "limit": format_value(finding.limit),
        "unit": finding.unit or "",
        "source": finding.source,
    }
    placeholders.update({key: format_value(value) for key, value in finding.params.items()})
    return placeholders


def issue_translation_key(rule_id: str) -> str:
    """The Home Assistant repair issue's translation key of a rule: ``JP-CT-125`` →
    ``compliance_jp_ct_125`` (translation keys are lower case, digits and underscores)."""
    return "compliance_" + "".join(c if c.isalnum() else "_" for c in rule_id.lower())


#: GB 50116-2013 §9.1.6, which the automatic-trip finding cites.
AUTO_TRIP_SOURCE = "GB 50116-2013 §9.1.6"


def auto_trip_finding(
    device_id: str, automation: str, automation_id: str, entity_id: str
) -> Finding:
    """CN-AUTO-TRIP: the automation ``automation`` (its name; ``automation_id`` its entity
    id) trips the breaker ``entity_id`` of ``device_id`` without a person. Home Assistant
    finds these (the bridge cannot see automations); built here so that its finding has the
    shape of every other."""
    return Finding(
        rule_id=ComplianceRule.CN_AUTO_TRIP,
        severity=FindingSeverity.WARNING,
        source=AUTO_TRIP_SOURCE,
        device_id=device_id,
        channel=None,
        value=None,
        limit=None,
        unit=None,
        params={"automation": automation, "automation_id": automation_id, "entity": entity_id},
    )
