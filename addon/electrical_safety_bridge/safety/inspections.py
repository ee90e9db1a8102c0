"""Periodic inspections: the checklists a person fills in, their due dates, and checking a
record before it is stored. Pure.

Each item has a stable id (records keep it for ever: never renumber, only add), its text
in en / zh-Hans / ja, and the source it comes from. The Japanese installation checklist
(seed 004 §4, §5 and §7) comes from the compliance rules (``compliance/checklists.py``):
``jp_installation`` records are validated like the others; it is ticked once, never due.

Sources and what is not verified:

- Japan: fire-protection equipment is inspected periodically, the **equipment check
  (機器点検) every 6 months** and the **overall check (総合点検) every year** (Fire Service
  Act Art. 17-3-3; Enforcement Regulations Art. 31-6; FDMA Notice No. 9 of 2004). These
  periods and the item wording below follow the FDMA's inspection guideline for earth-leakage
  fire alarms (漏電火災警報器の点検要領) as commonly published; they are not in the project's
  reference documents (reference/devices.md §6 restates seed 004, which covers installation
  only), so they are marked unverified here. Items that restate seed 004 cite it.
- China: the "routine patrol" (常规巡检) is what the Acrel platform counts (seed 000 §2,
  reference/products.md). The reference gives no interval: the default of 30 days is ours, and
  configurable (GB 25201-2010 asks for daily patrols of fire facilities in public buildings;
  not retrieved here, unverified). Items restate GB 50116 / GB 14287 duties of
  reference/devices.md §5.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ..common.enums import InspectionKind, InspectionOutcome, Region
from ..common.proof import (
    Checklist,
    ChecklistItem,
    InspectionDue,
    InspectionItemResult,
    InspectionRecord,
)
from ..compliance.checklists import JP_INSTALLATION

#: The languages every item's text is given in.
LANGUAGES = ("en", "zh-Hans", "ja")
MAX_NOTE = 2000
MAX_WHO = 200
_DAY_S = 86400.0

#: The Japanese periods (unverified, see the module's doc), and our default for the patrol.
JP_EQUIPMENT_CHECK_DAYS = 182.0  # six months
JP_OVERALL_CHECK_DAYS = 365.0  # one year
CN_ROUTINE_PATROL_DAYS = 30.0


def _item(item_id: str, en: str, zh: str, ja: str, source: str) -> ChecklistItem:
    return ChecklistItem(item_id, {"en": en, "zh-Hans": zh, "ja": ja}, source)


_JP_GUIDE = "FDMA inspection guideline for earth-leakage fire alarms (unverified)"

JP_EQUIPMENT_CHECK = Checklist(
    InspectionKind.JP_EQUIPMENT_CHECK,
    JP_EQUIPMENT_CHECK_DAYS,
    (
        _item(
            "jp_eq_ct_condition",
            "Current transformer: no damage, corrosion or loose terminals; still on the"
            " guarded circuit",
            "电流互感器：无损坏、腐蚀或端子松动；仍在被监视回路上",
            "変流器：損傷・腐食・端子の緩みがなく、警戒電路に設置されていること",
            f"{_JP_GUIDE}; seed 004 §5(5)",
        ),
        _item(
            "jp_eq_receiver_place",
            "Receiver: easy to inspect, surroundings free of damp, heat, vibration and"
            " flammable vapour",
            "接收器：便于检查，周围无潮湿、高温、振动及可燃蒸气",
            "受信機：点検が容易な位置にあり、周囲に湿気・高温・振動・可燃性蒸気がないこと",
            f"{_JP_GUIDE}; seed 004 §4(1)(2)",
        ),
        _item(
            "jp_eq_receiver_display",
            "Receiver: power lamp lit, labels and switches legible and in their normal position",
            "接收器：电源指示灯亮，标识和开关清晰且处于正常位置",
            "受信機：電源表示灯が点灯し、表示・スイッチ類が正常な位置にあること",
            _JP_GUIDE,
        ),
        _item(
            "jp_eq_setpoint",
            "Leakage setpoint within 100–400 mA (400–800 mA for a CT on the grounding"
            " wire) and giving no false alarms",
            "漏电动作设定值在 100–400 mA 之内（接地线上的互感器为 400–800 mA），且无误报",
            "検出漏洩電流設定値が 100〜400 mA（接地線に設けるものは 400〜800 mA）で、誤報が"
            "ないこと",
            "seed 004 §6",
        ),
        _item(
            "jp_eq_test_switch",
            "Test switch: the leakage lamp and the sounder operate",
            "试验开关：漏电指示灯和声响装置动作",
            "試験装置：漏電表示灯及び音響装置が作動すること",
            _JP_GUIDE,
        ),
        _item(
            "jp_eq_sounder",
            "Sounder: where someone is always present, audible above the noise",
            "声响装置：位于常有人在的场所，能在噪声中听清",
            "音響装置：常時人がいる場所にあり、騒音と区別して聞き取れること",
            "seed 004 §4(4)",
        ),
        _item(
            "jp_eq_power_switch",
            "Operating power: dedicated circuit, 15 A fuse switch or ≤ 20 A breaker, marked red",
            "工作电源：专用回路，15 A 熔断器开关或 ≤ 20 A 断路器，红色标识",
            "操作電源：専用回路で、定格 15 A のヒューズ付き開閉器又は 20 A 以下の配線用遮断器、"
            "赤色表示があること",
            "seed 004 §7(1)(2)",
        ),
    ),
    "Fire Service Act Art. 17-3-3, equipment check every 6 months (unverified)",
)

JP_OVERALL_CHECK = Checklist(
    InspectionKind.JP_OVERALL_CHECK,
    JP_OVERALL_CHECK_DAYS,
    (
        _item(
            "jp_ov_leakage_test",
            "Leakage operation test: a test current at the setpoint makes the receiver alarm",
            "漏电动作试验：在设定值施加试验电流，接收器报警",
            "漏洩電流検出試験：設定値の試験電流で受信機が作動すること",
            _JP_GUIDE,
        ),
        _item(
            "jp_ov_self_test_log",
            "The bridge's self-test log shows a pass for every detector since the last check",
            "本桥接器的自检记录显示自上次检查以来每个探测器均通过",
            "ブリッジの自己試験記録で、前回点検以降すべての検出器が合格していること",
            "issue 12 (the bridge's own proof)",
        ),
        _item(
            "jp_ov_insulation",
            "Insulation resistance of the operating power and CT wiring is acceptable",
            "工作电源及互感器接线的绝缘电阻合格",
            "操作電源及び変流器の配線の絶縁抵抗が適正であること",
            _JP_GUIDE,
        ),
        _item(
            "jp_ov_cutoff",
            "Where the receiver has a cut-off mechanism, it cuts the circuit on a leakage",
            "接收器带切断机构时，漏电时能切断回路",
            "遮断機構を有するものは、漏電により警戒電路を遮断すること",
            f"{_JP_GUIDE}; seed 004 §5(11)",
        ),
    ),
    "Fire Service Act Art. 17-3-3, overall check every year (unverified)",
)

CN_ROUTINE_PATROL = Checklist(
    InspectionKind.CN_ROUTINE_PATROL,
    CN_ROUTINE_PATROL_DAYS,
    (
        _item(
            "cn_pt_monitor_running",
            "Monitor (or the bridge) running, no fault shown, alarms latched until reset",
            "监控设备（或桥接器）运行正常，无故障显示，报警保持至复位",
            "監視装置（又はブリッジ）が稼働し、故障表示がなく、警報が復旧まで保持されること",
            "GB 14287.1 (reference/devices.md §5 GB-MON-1, unverified)",
        ),
        _item(
            "cn_pt_detectors_online",
            "Every detector online; none silent for more than 100 s",
            "所有探测器在线，无超过 100 s 的通信中断",
            "すべての検出器がオンラインで、100 秒を超える通信断がないこと",
            "GB 14287.1 (reference/devices.md §5 GB-MON-2, unverified)",
        ),
        _item(
            "cn_pt_setpoints",
            "Residual-current setpoints within 300–500 mA where the line allows",
            "剩余电流报警设定值在 300–500 mA 范围内（线路允许时）",
            "残留電流警報設定値が（回路が許す範囲で）300〜500 mA であること",
            "GB 50116-2013 §9.2.3 (reference/devices.md §5 GB-RC-2)",
        ),
        _item(
            "cn_pt_open_hazards",
            "Open alarms and hazards followed up; nothing left unacknowledged",
            "未处理的报警和隐患已跟进，无未确认报警",
            "未処理の警報・危険が処置され、未確認のものがないこと",
            "seed 000 §2 (hazards handled vs. not handled)",
        ),
        _item(
            "cn_pt_no_auto_cutoff",
            "No automatic power cut-off set up without a person deciding",
            "未设置无人确认的自动断电",
            "人の判断なしに自動で電源を遮断する設定がないこと",
            "GB 50116-2013 §9.1.6 (reference/devices.md §5 GB-SYS-1)",
        ),
        _item(
            "cn_pt_site_condition",
            "Detectors, CTs and wiring undamaged; enclosures closed",
            "探测器、互感器及接线无损坏，箱体关闭",
            "検出器・変流器・配線に損傷がなく、外箱が閉じていること",
            "seed 000 §2 (routine patrol, 常规巡检)",
        ),
    ),
    "seed 000 §2 (常规巡检); interval configurable, no interval in the reference",
)

_CHECKLISTS: dict[InspectionKind, Checklist] = {
    c.kind: c for c in (JP_EQUIPMENT_CHECK, JP_OVERALL_CHECK, CN_ROUTINE_PATROL, JP_INSTALLATION)
}


def checklist(kind: InspectionKind) -> Checklist | None:
    """The checklist of one kind, or None for a kind this bridge has none of."""
    return _CHECKLISTS.get(kind)


def checklists() -> list[Checklist]:
    """Every checklist known, in the order of ``InspectionKind``."""
    return [_CHECKLISTS[k] for k in InspectionKind if k in _CHECKLISTS]


def kinds_for_region(region: Region | str) -> tuple[InspectionKind, ...]:
    """The periodic inspections whose due dates a site of this region tracks."""
    if region == Region.JP:
        return (InspectionKind.JP_EQUIPMENT_CHECK, InspectionKind.JP_OVERALL_CHECK)
    if region == Region.CN:
        return (InspectionKind.CN_ROUTINE_PATROL,)
    return ()


class InvalidInspection(ValueError):
    """A record that cannot be stored; ``key`` names the field at fault."""

    def __init__(self, key: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.key = key
        self.value = value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_inspection(body: Mapping[str, Any], who: str, at: float) -> InspectionRecord:
    """A record from a request body ``{kind, items: [{id, outcome, note?}], note?}``.

    Every item of the checklist must be given exactly once, and no other: a record is
    proof of what was looked at, so a partial one is refused, naming what is missing.
    """
    raw_kind = body.get("kind")
    try:
        kind = InspectionKind(str(raw_kind))
    except ValueError:
        known = ", ".join(k.value for k in InspectionKind)
        raise InvalidInspection(
            "kind", f"'kind' must be one of {known}, not {_shown(raw_kind)}", raw_kind
        ) from None
    found = checklist(kind)
    if found is None:
        raise InvalidInspection(
            "kind", f"'kind' {kind.value}: no checklist is available for it yet", raw_kind
        )
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise InvalidInspection(
            "items", "'items' must be a list of {id, outcome, note} objects", raw_items
        )
    expected = [item.id for item in found.items]
    outcomes = ", ".join(o.value for o in InspectionOutcome)
    results: dict[str, InspectionItemResult] = {}
    for index, raw in enumerate(raw_items):
        where = f"items[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInspection(where, f"'{where}' must be an object {{id, outcome, note}}")
        item_id = raw.get("id")
        if item_id not in expected:
            raise InvalidInspection(
                f"{where}.id",
                f"'{where}.id' must be an item of the {kind.value} checklist"
                f" ({', '.join(expected)}), not {_shown(item_id)}",
                item_id,
            )
        assert isinstance(item_id, str)
        if item_id in results:
            raise InvalidInspection(f"{where}.id", f"'{where}.id' {item_id} is given twice")
        try:
            outcome = InspectionOutcome(str(raw.get("outcome")))
        except ValueError:
            raise InvalidInspection(
                f"{where}.outcome",
                f"'{where}.outcome' must be one of {outcomes}, not {_shown(raw.get('outcome'))}",
                raw.get("outcome"),
            ) from None
        note = raw.get("note", "")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise InvalidInspection(
                f"{where}.note", f"'{where}.note' must be a string of at most {MAX_NOTE} characters"
            )
        if outcome is InspectionOutcome.NOT_OK and not note.strip():
            raise InvalidInspection(
                f"{where}.note", f"'{where}.note' must say what was wrong with {item_id}"
            )
        results[item_id] = InspectionItemResult(item_id, outcome, note.strip())
    missing = [item_id for item_id in expected if item_id not in results]
    if missing:
        raise InvalidInspection(
            "items", f"'items' must give every item of the checklist; missing: {', '.join(missing)}"
        )
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise InvalidInspection("note", f"'note' must be a string of at most {MAX_NOTE} characters")
    return InspectionRecord(
        id=uuid.uuid4().hex,
        kind=kind,
        at=at,
        who=who,
        items=tuple(results[item_id] for item_id in expected),
        note=note.strip(),
    )


def inspections_due(
    kinds: Iterable[InspectionKind],
    every_days: Mapping[InspectionKind, float],
    last: Mapping[str, float],
    now: float,
) -> list[InspectionDue]:
    """When each tracked inspection is next due. ``last`` gives the time of the last record
    of each kind; a kind never recorded is due at once (there is no proof of it yet)."""
    due: list[InspectionDue] = []
    for kind in kinds:
        found = checklist(kind)
        days = every_days.get(kind) or (found.every_days if found is not None else None)
        if days is None or not math.isfinite(days):
            continue  # ticked once (the installation checklist): nothing falls due
        last_at = last.get(kind.value)
        due_at = now if last_at is None else last_at + days * _DAY_S
        due.append(
            InspectionDue(
                kind=kind, every_days=days, last_at=last_at, due_at=due_at, overdue=due_at <= now
            )
        )
    return due
