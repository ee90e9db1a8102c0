"""What each compliance finding means, for a person: a title and a description per rule, in
English, Simplified Chinese and Japanese, with placeholders filled from the finding.

The bridge's report and web UI read this catalogue; Home Assistant shows the same texts as
repair issues (``strings.json`` ``issues.compliance_*`` and ``translations/*.json``, which a
test holds equal to this catalogue). Placeholders are ``{name}``, as in Home Assistant:
``device``, ``channel``, ``value``, ``limit``, ``unit``, ``source`` and the finding's
``params`` (``common.findings.finding_placeholders``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common.enums import ComplianceRule
from ..common.findings import UNKNOWN, finding_placeholders
from ..common.site import Finding

LANGUAGES = ("en", "zh-Hans", "ja")


@dataclass(frozen=True, slots=True)
class Explanation:
    """A finding's title (one line) and description (a paragraph), ready to show."""

    title: str
    description: str


_R = ComplianceRule

#: rule → language → (title, description), with placeholders.
CATALOGUE: dict[ComplianceRule, dict[str, tuple[str, str]]] = {
    _R.JP_CT_RATED: {
        "en": (
            "{device}: CT rated below the circuit's rated current",
            "The current transformer of {device} is rated {value} A, below the {limit} A "
            "rated current of the circuit it guards. The Japanese standard for earth-leakage "
            "fire alarms asks for a CT of at least the guarded circuit's rated current (or of "
            "at least 125 % of the contract current). Check the CT's nameplate and the "
            "installation settings; if they are right, have a qualified electrician replace "
            "the CT. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：电流互感器额定电流低于回路额定电流",
            "{device} 的电流互感器额定电流为 {value} A，低于所监视回路的额定电流 {limit} A。"
            "日本漏电火灾报警器标准要求电流互感器的额定电流不低于被监视回路的额定电流"
            "（或不低于合同电流的 125%）。请核对互感器铭牌和安装设置；如设置无误，"
            "请由合格电工更换互感器。依据：{source}。",
        ),
        "ja": (
            "{device}：変流器の定格電流が警戒電路の定格電流未満です",
            "{device} の変流器の定格電流は {value} A で、警戒電路の定格電流 {limit} A に"
            "達していません。変流器は警戒電路の定格電流以上のもの（または契約電流容量の "
            "125% 以上のもの）とされています。変流器の銘板と設置情報の設定を確認し、"
            "設定が正しければ電気工事士に変流器の交換を依頼してください。根拠：{source}",
        ),
    },
    _R.JP_CT_125: {
        "en": (
            "{device}: CT rated below 125 % of the contract current",
            "The current transformer of {device} is rated {value} A. The site's contract "
            "current is {contract_current} A, and 125 % of it is {limit} A; a CT of at least "
            "that rating is deemed to reach the guarded circuit's rated current. If you know "
            "the circuit's rated current, add it to the installation settings "
            "(circuit_rated_current_a): a CT that reaches it meets the rule. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：电流互感器额定电流低于合同电流的 125%",
            "{device} 的电流互感器额定电流为 {value} A。本场所的合同电流为 "
            "{contract_current} A，其 125% 为 {limit} A；额定电流达到该值的互感器视为满足"
            "被监视回路额定电流的要求。如已知回路额定电流，请在安装设置中填写"
            "（circuit_rated_current_a）：互感器达到该值即符合。依据：{source}。",
        ),
        "ja": (
            "{device}：変流器の定格電流が契約電流容量の 125% 未満です",
            "{device} の変流器の定格電流は {value} A です。契約電流容量は "
            "{contract_current} A で、その 125% は {limit} A です。この値以上の変流器は"
            "警戒電路の定格電流以上のものとみなすことができます。警戒電路の定格電流が"
            "わかる場合は設置情報（circuit_rated_current_a）に入力してください。"
            "その値以上であれば適合します。根拠：{source}",
        ),
    },
    _R.JP_CT_GROUND: {
        "en": (
            "{device}: grounding-wire CT rated below 20 % of the rated voltage",
            "The current transformer of {device} is on the grounding wire of the "
            "transformer's secondary and is rated {value} A. It should be rated at least "
            "20 % of the number of the circuit's rated voltage: {limit} A for {voltage} V "
            "(the current through an earth resistance of {earth_resistance} Ω, taken where "
            "the expected current is unknown). Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：接地线电流互感器额定电流低于额定电压数值的 20%",
            "{device} 的电流互感器安装在变压器二次侧的接地线上，额定电流为 {value} A。"
            "其额定电流应不低于回路额定电压数值的 20%：{voltage} V 时为 {limit} A"
            "（预期电流不明时，按接地电阻 {earth_resistance} Ω 计算）。依据：{source}。",
        ),
        "ja": (
            "{device}：接地線の変流器の定格電流が定格電圧の数値の 20% 未満です",
            "{device} の変流器は変圧器二次側の接地線に設けられ、定格電流は {value} A です。"
            "警戒電路の定格電圧の数値の 20% 以上（{voltage} V では {limit} A）とされて"
            "います。接地線に流れる電流が不明な場合は、接地抵抗を {earth_resistance} Ω "
            "として算出します。根拠：{source}",
        ),
    },
    _R.JP_RC_SETPOINT: {
        "en": (
            "{device}: leakage setpoint outside {low}–{high} mA",
            "The residual-current alarm setpoint of {device} ({channel}) is {value} mA. The "
            "standard for where its CT sits is {low}–{high} mA (100–400 mA on the supply, "
            "400–800 mA on the transformer's grounding wire), chosen for the circuit's load "
            "and wire length so that there are no false alarms. This is a recommendation: "
            "the bridge keeps the setting. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：漏电报警设定值不在 {low}–{high} mA 范围内",
            "{device} 的剩余电流报警设定值（{channel}）为 {value} mA。按互感器的安装位置，"
            "标准值为 {low}–{high} mA（进线处 100–400 mA，变压器二次侧接地线上 "
            "400–800 mA），应结合回路负载和线路长度设定，以免误报。这是建议值，"
            "桥接程序不会更改该设定。依据：{source}。",
        ),
        "ja": (
            "{device}：検出漏洩電流設定値が {low}～{high} mA の範囲外です",
            "{device} の検出漏洩電流設定値（{channel}）は {value} mA です。変流器の設置"
            "場所に応じて {low}～{high} mA を標準とし（引込線側では 100～400 mA、変圧器"
            "二次側の接地線では 400～800 mA）、警戒電路の負荷や電線こう長を考慮して誤報が"
            "生じない範囲で設定するとされています。これは推奨であり、ブリッジは設定を"
            "変更しません。根拠：{source}",
        ),
    },
    _R.JP_CONTRACT_UNITS: {
        "en": (
            "{device}: contract current not computed, contracts in different units",
            "The site's contracts are in different units ({units}). Only contracts of the "
            "same kind add up, so the contract current is not computed and no CT is checked "
            "against 125 % of it. Give each detector's guarded-circuit rated current "
            "(circuit_rated_current_a) instead. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：合同单位不一致，未计算合同电流",
            "本场所的合同使用了不同单位（{units}）。只有同一种类的合同才相加，因此未计算"
            "合同电流，也未按其 125% 检查电流互感器。请改为为每个探测器填写被监视回路的"
            "额定电流（circuit_rated_current_a）。依据：{source}。",
        ),
        "ja": (
            "{device}：契約の単位が異なるため契約電流容量を算出していません",
            "契約の単位が異なります（{units}）。合計するのは同一契約種別の契約のみのため、"
            "契約電流容量を算出せず、変流器の 125% の判定も行っていません。代わりに各"
            "検出器の警戒電路の定格電流（circuit_rated_current_a）を設定してください。"
            "根拠：{source}",
        ),
    },
    _R.CN_RC_SETPOINT: {
        "en": (
            "{device}: residual-current setpoint outside {low}–{high} mA",
            "The residual-current alarm setpoint of {device} ({channel}) is {value} mA. "
            "GB 50116-2013 §9.2.3 recommends {low}–{high} mA: natural leakage is typically "
            "100–200 mA, and 300 mA of leakage can start a fire. This is a recommendation: "
            "the bridge keeps the setting. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：剩余电流报警设定值不在 {low}–{high} mA 范围内",
            "{device} 的剩余电流报警设定值（{channel}）为 {value} mA。GB 50116-2013 第 "
            "9.2.3 条建议报警值为 {low}–{high} mA：线路的自然漏流通常为 100–200 mA，"
            "而 300 mA 的漏电即可能引起火灾。这是建议值，桥接程序不会更改该设定。"
            "依据：{source}。",
        ),
        "ja": (
            "{device}：残留電流の警報設定値が {low}～{high} mA の範囲外です",
            "{device} の残留電流の警報設定値（{channel}）は {value} mA です。中国の "
            "GB 50116-2013 第 9.2.3 条は {low}～{high} mA を推奨しています。自然漏洩電流は"
            "通常 100～200 mA で、300 mA の漏電で火災が起こりうるためです。これは推奨であり、"
            "ブリッジは設定を変更しません。根拠：{source}",
        ),
    },
    _R.CN_RC_RANGE: {
        "en": (
            "{device}: residual-current setpoint outside {low}–{high} mA (unverified range)",
            "The residual-current alarm setpoint of {device} ({channel}) is {value} mA, "
            "outside {low}–{high} mA, the setpoint range GB 14287.2-2014 §5 is widely cited "
            "for. That range has not been checked against the standard's text (and "
            "GB 14287.2-2026 may change it), so this is information only. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：剩余电流报警设定值超出 {low}–{high} mA（范围未经核实）",
            "{device} 的剩余电流报警设定值（{channel}）为 {value} mA，超出常被引用的 "
            "GB 14287.2-2014 第 5 章设定范围 {low}–{high} mA。该范围尚未与标准原文核对"
            "（GB 14287.2-2026 也可能有所变化），因此仅供参考。依据：{source}。",
        ),
        "ja": (
            "{device}：残留電流の警報設定値が {low}～{high} mA の範囲外です（未確認の範囲）",
            "{device} の残留電流の警報設定値（{channel}）は {value} mA で、中国の "
            "GB 14287.2-2014 第 5 章の設定範囲としてよく引用される {low}～{high} mA の"
            "範囲外です。この範囲は規格の原文で確認されておらず（GB 14287.2-2026 で変わる"
            "可能性もあります）、参考情報です。根拠：{source}",
        ),
    },
    _R.CN_T_RANGE: {
        "en": (
            "{device}: temperature setpoint outside {low}–{high} °C (unverified range)",
            "The temperature alarm setpoint of {device} ({channel}) is {value} °C, outside "
            "{low}–{high} °C, the setpoint range GB 14287.3-2014 §5 is cited for. That range "
            "has not been checked against the standard's text, so this is information only. "
            "Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：温度报警设定值超出 {low}–{high} °C（范围未经核实）",
            "{device} 的温度报警设定值（{channel}）为 {value} °C，超出常被引用的 "
            "GB 14287.3-2014 第 5 章设定范围 {low}–{high} °C。该范围尚未与标准原文核对，"
            "因此仅供参考。依据：{source}。",
        ),
        "ja": (
            "{device}：温度の警報設定値が {low}～{high} °C の範囲外です（未確認の範囲）",
            "{device} の温度の警報設定値（{channel}）は {value} °C で、中国の "
            "GB 14287.3-2014 第 5 章の設定範囲として引用される {low}～{high} °C の範囲外です。"
            "この範囲は規格の原文で確認されておらず、参考情報です。根拠：{source}",
        ),
    },
    _R.CN_ALARM_TIME: {
        "en": (
            "{device}: self-test alarm after {value} s, more than {limit} s",
            "In its self-test, {device} ({channel}) raised its alarm after {value} s. "
            "GB 50166-2019 expects the alarm within {limit} s (30 s for residual current and "
            "arc faults, 40 s for temperature). Check the detector and its wiring, and test "
            "it again. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：自检报警用时 {value} 秒，超过 {limit} 秒",
            "{device}（{channel}）在自检中于 {value} 秒后才报警。GB 50166-2019 要求在 "
            "{limit} 秒内报警（剩余电流和故障电弧为 30 秒，温度为 40 秒）。请检查探测器"
            "及其接线，并重新测试。依据：{source}。",
        ),
        "ja": (
            "{device}：自己試験の警報まで {value} 秒かかりました（{limit} 秒超過）",
            "{device}（{channel}）は自己試験で {value} 秒後に警報を出しました。中国の "
            "GB 50166-2019 は {limit} 秒以内の警報を求めています（残留電流とアーク故障は "
            "30 秒、温度は 40 秒）。検出器と配線を点検し、再度試験してください。"
            "根拠：{source}",
        ),
    },
    _R.CN_NO_ALARM: {
        "en": (
            "{device}: no alarm in its self-test",
            "In its self-test, {device} ({channel}) raised no alarm at all; GB 50166-2019 "
            "expects one within {limit} s. The detector may not warn of a real fault: check "
            "it, its wiring and its power, and test it again. Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：自检未报警",
            "{device}（{channel}）在自检中完全没有报警；GB 50166-2019 要求在 {limit} 秒内"
            "报警。该探测器可能无法对真实故障报警：请检查探测器、接线和电源，并重新测试。"
            "依据：{source}。",
        ),
        "ja": (
            "{device}：自己試験で警報が出ませんでした",
            "{device}（{channel}）は自己試験で警報を出しませんでした。中国の GB 50166-2019 "
            "は {limit} 秒以内の警報を求めています。実際の異常を知らせない恐れがあります。"
            "検出器、配線、電源を点検し、再度試験してください。根拠：{source}",
        ),
    },
    _R.CN_AUTO_TRIP: {
        "en": (
            "Automation {automation} trips a breaker without a person",
            "The automation {automation} turns off {entity} (the breaker of {device}) with "
            "no step in which a person confirms it. An electrical fire monitoring system must "
            "not disturb the normal supply and should not cut the power by itself "
            "(GB 50116-2013 §9.1.6): let a person decide, for example with an actionable "
            "notification and a wait for the answer before the trip. Change the automation, "
            "or ignore this issue if the automatic trip is what you want. Source: {source}.",
        ),
        "zh-Hans": (
            "自动化 {automation} 在无人确认的情况下分闸",
            "自动化 {automation} 会关闭 {entity}（{device} 的断路器），且没有任何由人确认的"
            "步骤。电气火灾监控系统不应影响正常供电，不宜自动切断电源"
            "（GB 50116-2013 第 9.1.6 条）：应由人来决定，例如在分闸前发送可操作通知并"
            "等待答复。请修改该自动化；如确需自动分闸，可忽略此问题。依据：{source}。",
        ),
        "ja": (
            "オートメーション {automation} が人の確認なしに遮断します",
            "オートメーション {automation} は、人が確認する手順なしに {entity}（{device} の"
            "遮断器）をオフにします。中国の GB 50116-2013 第 9.1.6 条では、電気火災監視"
            "システムは通常の給電に影響を与えてはならず、自動で電源を遮断すべきではない"
            "とされています。遮断の前に操作可能な通知を送り、応答を待つなど、人が判断する"
            "ようにしてください。自動遮断が意図どおりであれば、この問題は無視できます。"
            "根拠：{source}",
        ),
    },
    _R.MISSING_FACT: {
        "en": (
            "{device}: not enough information to check {rule}",
            "The bridge could not check {rule} for {device}: it needs {fact}. Add it to the "
            "bridge's configuration (the site: region, supply system and contracts; each "
            "detector's installation: CT rating, CT location and the guarded circuit's rated "
            "current). A setpoint not read yet is checked once the detector answers. "
            "Source: {source}.",
        ),
        "zh-Hans": (
            "{device}：信息不足，无法检查 {rule}",
            "桥接程序无法为 {device} 检查 {rule}：需要 {fact}。请在桥接程序配置中补充"
            "（场所：地区、供电方式和合同；每个探测器的安装：电流互感器额定电流、"
            "安装位置和被监视回路的额定电流）。尚未读取的设定值会在探测器应答后检查。"
            "依据：{source}。",
        ),
        "ja": (
            "{device}：{rule} を確認するための情報が不足しています",
            "ブリッジは {device} について {rule} を確認できませんでした。{fact} が必要です。"
            "ブリッジの設定に追加してください（サイト：地域、配電方式、契約。各検出器の"
            "設置情報：変流器の定格電流、変流器の設置場所、警戒電路の定格電流）。未読の"
            "設定値は検出器が応答した時点で確認します。根拠：{source}",
        ),
    },
}


class _Placeholders(dict[str, str]):
    """A placeholder the finding does not carry (one from an older bridge) shows as "?"
    rather than breaking the whole text."""

    def __missing__(self, key: str) -> str:
        return UNKNOWN


def explain(finding: Finding, language: str, name: str | None = None) -> Explanation:
    """The finding's title and description in ``language`` (English for a language the
    catalogue does not have), placeholders filled. ``name`` is the device's name (the
    site's for a finding about the site). A rule this version does not know (from a newer
    bridge) is explained by its id and source rather than not at all."""
    try:
        texts = CATALOGUE[ComplianceRule(finding.rule_id)]
    except (ValueError, KeyError):
        return Explanation(finding.rule_id, finding.source)
    placeholders = _Placeholders(finding_placeholders(finding, name))
    title, description = texts.get(language, texts["en"])
    return Explanation(title.format_map(placeholders), description.format_map(placeholders))
