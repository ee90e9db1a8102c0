"""The add-on's docs list every rule with its source, and say that Home Assistant is not
certified fire-monitoring equipment."""

from __future__ import annotations

from pathlib import Path

from electrical_safety_bridge.common.enums import ComplianceRule
from electrical_safety_bridge.compliance.checklists import JP_INSTALLATION_CHECKLIST
from electrical_safety_bridge.compliance.sources import JP_SOURCE, SOURCES

DOCS = Path(__file__).parents[3] / "addon" / "DOCS.md"


def _section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("## Compliance rules")
    return text[start : text.index("\n## ", start + 1)]


def test_every_rule_is_in_the_docs_with_its_source() -> None:
    section = _section()
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in section.splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == set(ComplianceRule)
    for rule, source in SOURCES.items():
        # The document each cites: 第13節 for Japan, the GB standard for China.
        document = "第13節" if source.startswith(JP_SOURCE) else source.split(" §")[0]
        assert document in rows[rule], rule


def test_the_docs_say_home_assistant_is_not_certified() -> None:
    assert "not certified electrical-fire monitoring equipment** (GB 14287.1)" in _section()


def test_the_docs_count_the_checklist() -> None:
    assert f"{len(JP_INSTALLATION_CHECKLIST)} checklist items" in _section()
