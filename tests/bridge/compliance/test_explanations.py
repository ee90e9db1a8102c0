"""Every rule is explained in English, Simplified Chinese and Japanese, every placeholder
its texts name is filled from a real finding of that rule, and Home Assistant's repair
issues say the same as the bridge's catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from electrical_safety_bridge.common.enums import (
    ChannelKind,
    ComplianceRule,
    ContractUnit,
    CtLocation,
    SetpointKind,
    SupplySystem,
)
from electrical_safety_bridge.common.findings import (
    auto_trip_finding,
    finding_placeholders,
    format_value,
    issue_translation_key,
)
from electrical_safety_bridge.common.site import Contract, Finding
from electrical_safety_bridge.compliance import china, japan
from electrical_safety_bridge.compliance.explanations import CATALOGUE, LANGUAGES, explain
from electrical_safety_bridge.compliance.facts import SetpointFact
from electrical_safety_bridge.compliance.ha_translations import files, issue_strings, synced

INTEGRATION = Path(__file__).parents[3] / "custom_components" / "electrical_safety"


def _one(findings: tuple[Finding, ...] | Finding | japan.ContractCurrent) -> Finding:
    item = findings[0] if isinstance(findings, tuple) else findings
    assert isinstance(item, Finding)
    return item


def _examples() -> dict[str, Finding]:
    """One finding of each rule, as the rules themselves make it."""
    rc = SetpointFact("rc", SetpointKind.RESIDUAL_CURRENT_ALARM, 1500.0, "mA")
    hot = SetpointFact("t1", SetpointKind.TEMPERATURE_ALARM, 160.0, "°C")
    contract = japan.ContractCurrent(40.0, ContractUnit.AMPERE, None)
    found = [
        _one(japan.ct_rating_findings("d", 30.0, 60.0, None)),
        _one(japan.ct_rating_findings("d", 30.0, None, contract)),
        _one(japan.grounding_ct_findings("d", 10.0, SupplySystem.SINGLE_PHASE_2WIRE_200V)),
        _one(japan.setpoint_findings("d", [rc], CtLocation.SERVICE_ENTRANCE)),
        _one(
            japan.contract_current(
                SupplySystem.SINGLE_PHASE_3WIRE,
                [Contract(ContractUnit.KVA, 6), Contract(ContractUnit.AMPERE, 30)],
            )
        ),
        *china.residual_current_setpoint_findings("d", [rc]),
        _one(china.temperature_setpoint_findings("d", [hot])),
        _one(china.alarm_time_findings([("d", ChannelKind.TEMPERATURE, 45.0)])),
        _one(china.alarm_time_findings([("d", ChannelKind.RESIDUAL_CURRENT, None)])),
        auto_trip_finding("d", "Trip on leakage", "automation.trip", "switch.kitchen_breaker"),
        _one(japan.setpoint_findings("d", [], None)),
    ]
    return {item.rule_id: item for item in found}


EXAMPLES = _examples()


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_there_is_an_example_of_every_rule() -> None:
    assert set(EXAMPLES) == set(ComplianceRule)


@pytest.mark.parametrize("rule", list(ComplianceRule))
def test_every_rule_has_every_language_and_its_placeholders_resolve(rule: ComplianceRule) -> None:
    texts = CATALOGUE[rule]
    assert set(texts) == set(LANGUAGES)
    available = set(finding_placeholders(EXAMPLES[rule]))
    english = _placeholders(" ".join(texts["en"]))
    for language in LANGUAGES:
        title, description = texts[language]
        assert title.strip() and description.strip(), (rule, language)
        named = _placeholders(title + " " + description)
        assert named <= available, (rule, language, named - available)
        assert named == english, (rule, language)
        explained = explain(EXAMPLES[rule], language, "Kitchen")
        assert "{" not in explained.title + explained.description
        assert "?" not in explained.title, (rule, language)


def test_an_explanation_shows_the_findings_numbers() -> None:
    text = explain(EXAMPLES[ComplianceRule.JP_CT_125], "en", "Kitchen")
    assert text.title == "Kitchen: CT rated below 125 % of the contract current"
    assert "rated 30 A" in text.description and "125 % of it is 50 A" in text.description
    ja = explain(EXAMPLES[ComplianceRule.JP_RC_SETPOINT], "ja", "台所")
    assert ja.title == "台所：検出漏洩電流設定値が 100～400 mA の範囲外です"
    assert "第13節 漏電火災警報器 6" in ja.description
    zh = explain(EXAMPLES[ComplianceRule.CN_RC_RANGE], "zh-Hans", "厨房")
    assert "1500 mA" in zh.description and "未经核实" in zh.title


def test_an_unknown_language_is_english_and_an_unknown_rule_its_id() -> None:
    finding = EXAMPLES[ComplianceRule.CN_NO_ALARM]
    assert explain(finding, "de", "K") == explain(finding, "en", "K")
    newer = Finding("KR-X", "warning", "KS C 1234", "d", None, None, None, None)
    assert (explain(newer, "en").title, explain(newer, "en").description) == ("KR-X", "KS C 1234")


def test_a_placeholder_a_finding_lacks_shows_a_question_mark() -> None:
    bare = Finding(ComplianceRule.JP_CT_125, "warning", "src", "d", None, 30.0, 50.0, "A")
    assert "current is ? A" in explain(bare, "en").description


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "?"), (60, "60"), (57.735026, "57.74"), (50.0, "50"), (0.5, "0.5"), ("a", "a")],
)
def test_numbers_read_as_a_person_writes_them(value: float | str | None, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("rule", "key"),
    [("JP-CT-125", "compliance_jp_ct_125"), ("MISSING-FACT", "compliance_missing_fact")],
)
def test_issue_keys_are_home_assistant_translation_keys(rule: str, key: str) -> None:
    assert issue_translation_key(rule) == key


@pytest.mark.parametrize("path", list(files(INTEGRATION)), ids=lambda p: p.name)
def test_home_assistants_repair_issues_say_what_the_catalogue_says(path: Path) -> None:
    """Out of step? Run ``.venv-bridge/bin/python -m
    electrical_safety_bridge.compliance.ha_translations custom_components/electrical_safety``."""
    language = files(INTEGRATION)[path]
    strings = json.loads(path.read_text(encoding="utf-8"))
    assert strings == synced(strings, language)
    assert {k for k in strings["issues"] if k.startswith("compliance_")} == set(
        issue_strings(language)
    )
