"""The installation checklist of 第13節 漏電火災警報器 sections 4, 5 and 7: every clause an
item, ids stable and unique, every item in three languages."""

from __future__ import annotations

import re

from electrical_safety_bridge.common.enums import ComplianceRule
from electrical_safety_bridge.compliance.checklists import JP_INSTALLATION_CHECKLIST
from electrical_safety_bridge.compliance.explanations import LANGUAGES

#: The clauses of sections 4, 5 and 7 of the seed, each of which must be an item.
CLAUSES = {
    *(f"4(1){kana}" for kana in "アイウエオカキ"),
    "4(2)",
    "4(3)",
    "4(4)",
    *(f"5({n})" for n in range(1, 12)),
    "5(12)ア",
    "5(12)イ",
    "7(1)",
    "7(2)",
    "7(3), table 13-1",
    "7(4)",
}


def test_every_clause_of_sections_4_5_and_7_is_an_item() -> None:
    covered = {
        item.source.removeprefix("第13節 漏電火災警報器 ") for item in JP_INSTALLATION_CHECKLIST
    }
    assert covered == CLAUSES


def test_ids_are_unique_and_stable() -> None:
    ids = [item.id for item in JP_INSTALLATION_CHECKLIST]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"jp-[0-9]-[0-9a-z-]+", i) for i in ids), ids
    # The ids inspection records keep: never renamed.
    assert ids[:3] == ["jp-4-1-a", "jp-4-1-b", "jp-4-1-c"]
    assert {"jp-4-4", "jp-5-10", "jp-7-1", "jp-7-2", "jp-7-3-power"} <= set(ids)


def test_every_item_is_in_every_language() -> None:
    for item in JP_INSTALLATION_CHECKLIST:
        assert set(item.text) == set(LANGUAGES), item.id
        assert all(text.strip() for text in item.text.values()), item.id


def test_items_the_rules_compute_name_their_rule() -> None:
    computed = {item.id: item.rule_id for item in JP_INSTALLATION_CHECKLIST if item.rule_id}
    assert computed == {
        "jp-5-2": ComplianceRule.JP_CT_RATED,
        "jp-5-3": ComplianceRule.JP_CT_125,
        "jp-5-4": ComplianceRule.JP_CT_GROUND,
    }


def test_the_operating_power_item_states_the_seeds_figures() -> None:
    """7(1): a 15 A fused switch or a breaker of at most 20 A; 7(2): marked red."""
    by_id = {item.id: item for item in JP_INSTALLATION_CHECKLIST}
    assert "15A" in by_id["jp-7-1"].text["ja"] and "20A 以下" in by_id["jp-7-1"].text["ja"]
    assert "15 A" in by_id["jp-7-1"].text["en"] and "20 A" in by_id["jp-7-1"].text["en"]
    assert "赤色" in by_id["jp-7-2"].text["ja"] and "red" in by_id["jp-7-2"].text["en"]
