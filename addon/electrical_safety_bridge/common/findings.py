"""A compliance finding's values as the texts its explanation shows.

The bridge's catalogue (``compliance/explanations.py``) and Home Assistant's repair issues
fill the same placeholders from a ``Finding`` with this one function, so a number reads the
same in the report, the web UI and the repairs dashboard.
"""

from __future__ import annotations

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
