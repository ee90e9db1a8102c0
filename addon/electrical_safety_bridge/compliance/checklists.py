"""The installation checklist of 第13節 漏電火災警報器 (seed 004) sections 4, 5 and 7, as
items a person ticks in an inspection: where the alarm may be, how it is installed, its
operating power and its wiring.

These are not guessed from readings: the bridge cannot see a red label or a wire's
diameter. Each item has a stable id (an inspection record keeps it), the clause it restates,
and its text in English, Simplified Chinese and Japanese (the Japanese follows the seed's
wording, shortened). Items the rules also compute name that rule (``rule_id``), so that an
inspection can show the computed result beside the tick.
"""

from __future__ import annotations

from ..common.enums import ComplianceRule, InspectionKind
from ..common.proof import Checklist, ChecklistItem
from .sources import JP_SOURCE


def _item(
    item_id: str,
    clause: str,
    en: str,
    zh: str,
    ja: str,
    rule_id: ComplianceRule | None = None,
) -> ChecklistItem:
    return ChecklistItem(
        id=item_id,
        text={"en": en, "zh-Hans": zh, "ja": ja},
        source=f"{JP_SOURCE} {clause}",
        rule_id=None if rule_id is None else str(rule_id),
    )


#: 4(1) ア–キ: the places an earth-leakage fire alarm is not installed, unless protected
#: for the place (explosion-proof, corrosion-proof, against heat or vibration, or shielded).
_UNLESS_PROTECTED = (
    " (unless protected for the place: explosion-proof, corrosion-proof, against heat or "
    "vibration, or electrostatically shielded)",
    "（已针对场所采取防爆、防腐、防温、防振或静电屏蔽等防护措施的除外）",
    "（防爆、防食、防温、防振又は静電的遮へい等の防護措置を施したものを除く）",
)


#: The seed's clause letters, ア to キ, by the ids' a to g.
_KANA = dict(zip("abcdefg", "アイウエオカキ", strict=True))


def _place(letter: str, en: str, zh: str, ja: str) -> ChecklistItem:
    return _item(
        f"jp-4-1-{letter}",
        f"4(1){_KANA[letter]}",
        f"Not installed where {en}{_UNLESS_PROTECTED[0]}.",
        f"未安装在{zh}{_UNLESS_PROTECTED[1]}。",
        f"{ja}に設けていない{_UNLESS_PROTECTED[2]}。",
    )


JP_INSTALLATION_CHECKLIST: tuple[ChecklistItem, ...] = (
    # ---- 4 設置場所: where it is installed
    _place(
        "a",
        "flammable vapour, flammable gas or flammable dust may accumulate",
        "可燃性蒸气、可燃性气体或可燃性粉尘可能积聚的场所",
        "可燃性蒸気、可燃性ガス又は可燃性粉じんが滞留するおそれのある場所",
    ),
    _place(
        "b",
        "explosives are made, stored or handled",
        "制造、储存或处理火药类物品的场所",
        "火薬類を製造し、貯蔵し、又は取扱う場所",
    ),
    _place(
        "c",
        "corrosive vapour or gas may arise",
        "可能产生腐蚀性蒸气或气体的场所",
        "腐食性の蒸気、ガス等が発生するおそれのある場所",
    ),
    _place("d", "it is very humid", "湿度高的场所", "湿度の高い場所"),
    _place(
        "e",
        "the temperature changes sharply",
        "温度变化剧烈的场所",
        "温度変化の激しい場所",
    ),
    _place(
        "f",
        "strong vibration may damage it mechanically",
        "振动剧烈、可能受到机械损伤的场所",
        "振動が激しく機械的損傷を受けるおそれのある場所",
    ),
    _place(
        "g",
        "high-current or high-frequency circuits may disturb it",
        "可能受到大电流回路、高频回路等影响的场所",
        "大電流回路、高周波発生回路等により影響を受けるおそれのある場所",
    ),
    _item(
        "jp-4-2",
        "4(2)",
        "The receiver is indoors where it is easy to inspect (outdoors, also easy to inspect, "
        "only if protected from rain).",
        "受信器安装在室内便于检查的位置（如采取防雨措施，可安装在室外便于检查的位置）。",
        "受信機は屋内の点検が容易な位置に設置されている（雨水等に対する防護措置を施した"
        "場合は屋外の点検が容易な位置でもよい）。",
    ),
    _item(
        "jp-4-3",
        "4(3)",
        "The CT is on the circuit near the outer wall where power enters the building, or on "
        "the grounding wire of the transformer's low-voltage secondary, where it is easy to "
        "inspect.",
        "电流互感器安装在建筑物电源引入处外墙附近的线路上，或变压器二次侧低压线路的"
        "接地线上，且便于检查。",
        "変流器は、引込み部の外壁等に近接した電路又は変圧器の二次側低圧電路に接続された"
        "接地線で、点検が容易な位置に設置されている。",
    ),
    _item(
        "jp-4-4",
        "4(4)",
        "The sounder is where someone is always present (a guard room, or the disaster "
        "prevention centre or central control room where there is one), and its sound can "
        "be told apart from the noise there.",
        "音响装置设在经常有人的场所（如门卫室；设有防灾中心或中央控制室时设在该室），"
        "其声压和音色能与噪声区分。",
        "音響装置は守衛室等常時人がいる場所（防災センター又は中央管理室等がある場合は"
        "当該室）に、音圧及び音色が騒音等と区別して聞き取れるように設けられている。",
    ),
    # ---- 5 設置方法: how it is installed
    _item(
        "jp-5-1",
        "5(1)",
        "The alarm is on the building's service drop or on the grounding wire of the "
        "transformer's secondary (one alarm may serve several buildings of one owner on one "
        "site that share a service drop).",
        "报警器设在建筑物的电源引入线上或变压器二次侧的接地线上（同一场地内由同一管理者"
        "管理、共用引入线的多栋建筑可在共用引入线上设一台）。",
        "漏電火災警報器は電路の引込線又は変圧器の二次側低圧電路に接続された接地線に"
        "設けられている（同一敷地内で管理権原者が同一の建築物の引込線が共通の場合は、"
        "共通の引込線に1個でよい）。",
    ),
    _item(
        "jp-5-2",
        "5(2)",
        "The CT's rated current is at least the guarded circuit's maximum load current (the "
        "sum of the loads, peak and inrush currents left out).",
        "电流互感器的额定电流不低于被监视回路的最大负荷电流（负荷电流之和，不计尖峰电流）。",
        "変流器の定格電流は、警戒電路の負荷電流（せん頭負荷電流を除く）の総和としての"
        "最大負荷電流値以上である。",
        ComplianceRule.JP_CT_RATED,
    ),
    _item(
        "jp-5-3",
        "5(3)",
        "The CT is rated at least the guarded circuit's rated current, or at least 125 % of "
        "the contract current.",
        "电流互感器的额定电流不低于被监视回路的额定电流，或不低于合同电流的 125%。",
        "変流器は警戒電路の定格電流以上、又は契約電流容量の 125% 以上のものである。",
        ComplianceRule.JP_CT_125,
    ),
    _item(
        "jp-5-4",
        "5(4)",
        "A CT on the transformer's grounding wire is rated at least 20 % of the number of "
        "the circuit's rated voltage (5 Ω earth resistance where the current is unknown).",
        "设在变压器接地线上的电流互感器，额定电流不低于回路额定电压数值的 20%"
        "（电流不明时按接地电阻 5 Ω 计算）。",
        "変圧器の接地線に設ける変流器の定格電流は、警戒電路の定格電圧の数値の 20% 以上で"
        "ある（電流値が不明な場合は接地抵抗を 5Ω として算出）。",
        ComplianceRule.JP_CT_GROUND,
    ),
    _item(
        "jp-5-5",
        "5(5)",
        "The CT is on the load side of the service drop's first support point, or on the "
        "grounding wire, where it is easy to inspect (indoors near the entrance only where "
        "the building allows nothing else).",
        "电流互感器设在引入线第一支持点的负荷侧或接地线上便于检查的位置（受建筑结构限制"
        "时，可设在靠近引入口的室内）。",
        "変流器は屋側の引込線の第一支持点の負荷側又は接地線の点検が容易な位置に設けられて"
        "いる（構造上困難な場合は引込口に近接した屋内）。",
    ),
    _item(
        "jp-5-6",
        "5(6)",
        "A CT on an outdoor circuit is an outdoor type (an indoor type only with effective "
        "waterproofing).",
        "室外线路上的电流互感器为室外型（采取有效防水措施时可用室内型）。",
        "屋外の電路に設ける変流器は屋外型である（防水上有効な措置を講じた場合は屋内型でもよい）。",
    ),
    _item(
        "jp-5-7",
        "5(7)",
        "Interchangeable type: the CT is a model named on the receiver's nameplate.",
        "互换型：电流互感器为受信器铭牌上标明的型号。",
        "互換性型の場合、受信機の銘板に表示された型式の変流器と組み合わせている。",
    ),
    _item(
        "jp-5-8",
        "5(8)",
        "Non-interchangeable type: the CT and the receiver have the same manufacturing number.",
        "非互换型：电流互感器与受信器的制造编号相同。",
        "非互換性型の場合、同一製造番号の受信機と変流器を組み合わせている。",
    ),
    _item(
        "jp-5-9",
        "5(9)",
        "A separate sounder is an approved component of the type-tested set, or equivalent "
        "or better.",
        "单独设置的音响装置为型式检定认可的组成部件或同等以上产品。",
        "音響装置を別置とする場合は、個別検定における構成部品と認められたもの又は同等以上"
        "のものである。",
    ),
    _item(
        "jp-5-10",
        "5(10)",
        "The metal case of a CT or receiver rated above 60 V is earthed (unless in a dry place).",
        "额定电压超过 60 V 的电流互感器或受信器的金属外壳已接地（干燥场所除外）。",
        "定格電圧が 60V を超える変流器又は受信機の金属ケースには接地が施されている（乾燥"
        "している場所等を除く）。",
    ),
    _item(
        "jp-5-11",
        "5(11)",
        "Where flammable vapour or dust may accumulate, the receiver has a cut-off mechanism "
        "for that circuit, and the cut-off part is in a safe place elsewhere.",
        "可燃性蒸气、可燃性粉尘等可能积聚场所的电路，设有带切断机构的受信器，切断机构部分"
        "设在该场所以外的安全位置。",
        "可燃性蒸気、可燃性粉じん等が滞留するおそれのある場所の電気回路には遮断機構を有する"
        "受信機が設けられ、遮断機構の部分は当該場所以外の安全な場所にある。",
    ),
    _item(
        "jp-5-12-a",
        "5(12)ア",
        "Against high-frequency interference: suppression capacitors at the receiver's CT "
        "terminals and operating-power terminals.",
        "防高频干扰：受信器的电流互感器接线端子和操作电源端子接有防感应电容器。",
        "高周波による誘導障害の防止のため、受信機の変流器接続用端子及び操作電源端子に"
        "誘導防止用コンデンサが入っている。",
    ),
    _item(
        "jp-5-12-b",
        "5(12)イ",
        "The CT's secondary wiring is shielded cable or laid close together, as short as "
        "possible, kept away from high-current circuits, with other induction measures as "
        "needed.",
        "电流互感器二次侧配线使用屏蔽电缆或相互紧贴敷设，尽量短，远离大电流回路，并按需"
        "采取其他防静电感应、电磁感应措施。",
        "変流器の二次側配線は、シールドケーブルを使用するか配線相互間を密着させ、こう長を"
        "できる限り短くし、大電流回路からできるだけ離隔し、必要に応じて静電誘導・電磁誘導"
        "防止の措置が講じられている。",
    ),
    # ---- 7 操作電源及び配線: operating power and wiring
    _item(
        "jp-7-1",
        "7(1)",
        "The operating power is a dedicated circuit branched from the supply side of the "
        "current limiter (or of the main switch where there is none), with its own switch: "
        "a switch with a 15 A fuse, or a circuit breaker of at most 20 A.",
        "操作电源从限流器（无限流器时为总开关）的一次侧作为专用回路分出，专用回路设有开关"
        "（额定 15 A 的带熔断器开关，或额定 20 A 以下的配线用断路器）。",
        "操作電源は電流制限器（ない場合は主開閉器）の一次側から専用回路として分岐し、開閉器"
        "（定格 15A のヒューズ付き開閉器又は定格 20A 以下の配線用遮断器）が設けられている。",
    ),
    _item(
        "jp-7-2",
        "7(2)",
        "The dedicated circuit's switch is marked in red as the earth-leakage fire alarm's "
        "power supply.",
        "专用回路的开关以红色标明为漏电火灾报警器的电源。",
        "専用回路の開閉器に、漏電火災警報器の電源である旨の赤色の表示がある。",
    ),
    _item(
        "jp-7-3-power",
        "7(3), table 13-1",
        "Operating-power wiring: IV, VV, EM-IE, EM-IC or JCS 418A wire of at least 1.6 mm "
        "conductor diameter.",
        "操作电源配线：IV、VV、EM-IE、EM-IC 或 JCS 418A 电线，导体直径不小于 1.6 mm。",
        "操作電源の配線：IV、VV、EM-IE、EM-IC 又は JCS 418A の電線で、導体直径 1.6mm 以上。",
    ),
    _item(
        "jp-7-3-ct-indoor",
        "7(3), table 13-1",
        "CT secondary wiring indoors: vinyl cord of at least 0.75 mm², IV, VV, EM-IE, EM-IC "
        "or JCS 418A of at least 1.0 mm, or JCS 396A of at least 0.5 mm (indoor-type CT "
        "only).",
        "电流互感器二次侧室内配线：截面积不小于 0.75 mm² 的乙烯软线；IV、VV、EM-IE、EM-IC "
        "或 JCS 418A 导体直径不小于 1.0 mm；或 JCS 396A 不小于 0.5 mm（仅限室内型互感器）。",
        "変流器の二次側屋内配線：ビニルコード断面積 0.75mm² 以上、IV・VV・EM-IE・EM-IC・"
        "JCS 418A 導体直径 1.0mm 以上、又は JCS 396A 導体直径 0.5mm 以上（屋内型変流器に"
        "限る）。",
    ),
    _item(
        "jp-7-3-ct-outdoor",
        "7(3), table 13-1",
        "CT secondary wiring on the outside wall or outdoors: OW of at least 2.0 mm; VV, "
        "EM-IE, EM-IC or JCS 418A of at least 1.0 mm; JCS 396A of at least 0.5 mm (indoor-type "
        "CT only).",
        "电流互感器二次侧屋侧或室外配线：OW 导体直径不小于 2.0 mm；VV、EM-IE、EM-IC 或 "
        "JCS 418A 不小于 1.0 mm；JCS 396A 不小于 0.5 mm（仅限室内型互感器）。",
        "変流器の二次側屋側又は屋外配線：OW 導体直径 2.0mm 以上、VV・EM-IE・EM-IC・"
        "JCS 418A 導体直径 1.0mm 以上、JCS 396A 導体直径 0.5mm 以上（屋内型変流器に限る）。",
    ),
    _item(
        "jp-7-3-ct-overhead",
        "7(3), table 13-1",
        "CT secondary wiring overhead: IV or OW of at least 2.0 mm hard-drawn copper "
        "(soft-drawn allowed where the span is at most 10 m), or cable as table 13-1 lists.",
        "电流互感器二次侧架空配线：IV 或 OW 导体直径不小于 2.0 mm 的硬铜线（跨距不超过 "
        "10 m 时可用软铜线），或表 13-1 所列电缆。",
        "変流器の二次側架空配線：IV 又は OW の導体直径 2.0mm 以上の硬銅線（径間 10m 以下は"
        "軟銅線でもよい）、又は第13-1表に掲げるケーブル。",
    ),
    _item(
        "jp-7-3-ct-underground",
        "7(3), table 13-1",
        "CT secondary wiring underground: VV or JCS 418A cable of at least 1.0 mm.",
        "电流互感器二次侧地下配线：VV 或 JCS 418A 电缆，导体直径不小于 1.0 mm。",
        "変流器の二次側地中配線：VV 又は JCS 418A ケーブルで導体直径 1.0mm 以上。",
    ),
    _item(
        "jp-7-3-sounder",
        "7(3), table 13-1",
        "Sounder wiring above 60 V: IV, VV, EM-IE, EM-IC or JCS 418A of at least 1.6 mm "
        "(OW of at least 2.0 mm overhead); at 60 V or below, JCS 396A of at least 0.5 mm.",
        "音响装置配线：使用电压超过 60 V 时，IV、VV、EM-IE、EM-IC 或 JCS 418A 导体直径"
        "不小于 1.6 mm（架空时 OW 不小于 2.0 mm）；60 V 以下时，JCS 396A 不小于 0.5 mm。",
        "音響装置の配線：使用電圧 60V を超えるものは IV・VV・EM-IE・EM-IC・JCS 418A 導体"
        "直径 1.6mm 以上（架空は OW 2.0mm 以上）、60V 以下のものは JCS 396A 導体直径 "
        "0.5mm 以上。",
    ),
    _item(
        "jp-7-4",
        "7(4)",
        "Where wiring passes through a wall or the like, it is protected by an insulating "
        "tube (がい管) or similar.",
        "配线穿过墙体等处时，采取绝缘套管等防护措施。",
        "配線が壁体等を貫通する場合は、がい管等の防護措置が施されている。",
    ),
)

#: Ticked once, as an inspection record of its own kind (the bridge registers it with the
#: periodic inspections' checklists, safety/inspections.py).
JP_INSTALLATION = Checklist(
    InspectionKind.JP_INSTALLATION, None, JP_INSTALLATION_CHECKLIST, JP_SOURCE
)
