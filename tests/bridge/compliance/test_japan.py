"""Japan's rules, each test naming the clause of 第13節 漏電火災警報器 (seed 004) it holds
the code to."""

from __future__ import annotations

import math

import pytest

from electrical_safety_bridge.common.enums import (
    ComplianceRule,
    ContractUnit,
    CtLocation,
    FindingSeverity,
    SetpointKind,
    SupplySystem,
)
from electrical_safety_bridge.common.site import Contract, Finding
from electrical_safety_bridge.compliance import japan
from electrical_safety_bridge.compliance.facts import SetpointFact

KVA, KW, A = ContractUnit.KVA, ContractUnit.KW, ContractUnit.AMPERE
S100 = SupplySystem.SINGLE_PHASE_2WIRE_100V
S200 = SupplySystem.SINGLE_PHASE_2WIRE_200V
S3W = SupplySystem.SINGLE_PHASE_3WIRE
T3W = SupplySystem.THREE_PHASE_3WIRE
SQRT3 = 1.7320508075688772


# --- 3(1), 3(4): the contract current capacity ------------------------------------------


@pytest.mark.parametrize(
    ("supply", "contracts", "amperes", "voltage"),
    [
        # 3(1): I = P × 1000 / (V × 1.0); single-phase 2-wire 100 V: 6 kVA → 6000 / 100 = 60 A.
        (S100, [(KVA, 6)], 60.0, 100.0),
        # single-phase 2-wire 200 V: 6 kW → 6000 / 200 = 30 A (power factor 1.0: kW = kVA).
        (S200, [(KW, 6)], 30.0, 200.0),
        # 3(1) 注2: single-phase 3-wire takes 200 V: 10 kVA → 10000 / 200 = 50 A.
        (S3W, [(KVA, 10)], 50.0, 200.0),
        # 3(1) 注1: three-phase 3-wire multiplies 200 V by √3 = 346.41 V:
        # 20 kW → 20000 / 346.41 = 57.735 A.
        (T3W, [(KW, 20)], 20000 / (200 * SQRT3), 200 * SQRT3),
        # 3(4): two contracts of one kind add up: 6 + 4 = 10 kVA on 3-wire → 10000 / 200 = 50 A.
        (S3W, [(KVA, 6), (KVA, 4)], 50.0, 200.0),
        # three-phase 3-wire, 12 kW + 8 kW = 20 kW → 57.735 A as above.
        (T3W, [(KW, 12), (KW, 8)], 57.735026918962575, 346.41016151377545),
        # 3(1): an ampere contract is its current, whatever the supply; 30 A + 20 A add up.
        (S100, [(A, 60)], 60.0, None),
        (None, [(A, 30), (A, 20)], 50.0, None),
    ],
)
def test_contract_current_from_the_contracts(
    supply: SupplySystem | None,
    contracts: list[tuple[ContractUnit, float]],
    amperes: float,
    voltage: float | None,
) -> None:
    current = japan.contract_current(supply, [Contract(u, v) for u, v in contracts])
    assert isinstance(current, japan.ContractCurrent)
    assert current.amperes == pytest.approx(amperes)
    assert current.voltage_v == (None if voltage is None else pytest.approx(voltage))
    assert current.unit == contracts[0][0]


def test_three_phase_worked_by_hand() -> None:
    """3(1) 注1: 15 kVA three-phase: 15000 / (200 × 1.7320508) = 15000 / 346.41016 = 43.30 A;
    5(3): its 125 % is 54.13 A, so a 50 A CT is short and a 60 A CT is enough."""
    current = japan.current_from_power(15, T3W)
    assert current == pytest.approx(43.30127, abs=1e-5)
    assert current * 1.25 == pytest.approx(54.12659, abs=1e-5)
    contract = japan.ContractCurrent(current, KVA, 200 * SQRT3)
    short = japan.ct_rating_findings("d", 50.0, None, contract)
    assert [(f.rule_id, f.value, round(float(f.limit or 0), 2)) for f in short] == [
        (ComplianceRule.JP_CT_125, 50.0, 54.13)
    ]
    assert japan.ct_rating_findings("d", 60.0, None, contract) == ()


@pytest.mark.parametrize(
    ("supply", "contracts", "rule", "params"),
    [
        # 3(4) adds contracts of one kind; kVA and A are left apart, and the reason said.
        (S3W, [(KVA, 6), (A, 30)], ComplianceRule.JP_CONTRACT_UNITS, {"units": "A, kVA"}),
        (S3W, [], ComplianceRule.MISSING_FACT, {"rule": "JP-CT-125", "fact": "site.contracts"}),
        # A kVA contract needs the supply system to know the voltage (3(1)).
        (
            None,
            [(KVA, 6)],
            ComplianceRule.MISSING_FACT,
            {"rule": "JP-CT-125", "fact": "site.supply_system"},
        ),
        (
            "four_wire",
            [(KW, 6)],
            ComplianceRule.MISSING_FACT,
            {"rule": "JP-CT-125", "fact": "site.supply_system"},
        ),
        (
            S100,
            [("MVA", 6)],
            ComplianceRule.MISSING_FACT,
            {"rule": "JP-CT-125", "fact": "site.contracts (unit MVA)"},
        ),
    ],
)
def test_a_contract_current_that_cannot_be_found_says_why(
    supply: str | None, contracts: list[tuple[str, float]], rule: str, params: dict[str, str]
) -> None:
    result = japan.contract_current(supply, [Contract(u, v) for u, v in contracts])
    assert isinstance(result, Finding)
    assert (result.rule_id, result.severity, result.device_id) == (
        rule,
        FindingSeverity.INFO,
        None,
    )
    assert result.params == params
    assert result.source.startswith("第13節 漏電火災警報器") and "3(1)" in result.source


# --- 5(2)–(3): a CT on the guarded circuit ----------------------------------------------

CONTRACT_40A = japan.ContractCurrent(40.0, A, None)  # 125 % = 50 A


@pytest.mark.parametrize(
    ("ct", "rated", "contract", "rules"),
    [
        # 5(3): the CT reaches the circuit's rated current: met, exactly at it too.
        (60.0, 60.0, None, []),
        (59.9, 60.0, None, [ComplianceRule.JP_CT_RATED]),
        # 5(3) proviso: ≥ 125 % of the contract current is deemed enough; 125 % of 40 A = 50 A.
        (50.0, None, CONTRACT_40A, []),
        (49.9, None, CONTRACT_40A, [ComplianceRule.JP_CT_125]),
        # Either test passing is enough.
        (50.0, 75.0, CONTRACT_40A, []),
        (75.0, 75.0, CONTRACT_40A, []),
        # Both fail: both said.
        (45.0, 75.0, CONTRACT_40A, [ComplianceRule.JP_CT_RATED, ComplianceRule.JP_CT_125]),
        # Neither fact: not enough information.
        (45.0, None, None, [ComplianceRule.MISSING_FACT]),
    ],
)
def test_ct_rating_reaches_the_rated_current_or_125_percent_of_the_contract(
    ct: float, rated: float | None, contract: japan.ContractCurrent | None, rules: list[str]
) -> None:
    findings = japan.ct_rating_findings("kitchen", ct, rated, contract)
    assert [f.rule_id for f in findings] == rules
    for item in findings:
        assert item.device_id == "kitchen"
        if item.rule_id == ComplianceRule.JP_CT_RATED:
            assert (item.value, item.limit, item.unit) == (ct, rated, "A")
            assert item.source == "第13節 漏電火災警報器 5(2)–(3)"
        elif item.rule_id == ComplianceRule.JP_CT_125:
            assert (item.value, item.limit, item.unit) == (ct, 50.0, "A")
            assert item.params == {"contract_current": 40.0, "contract_unit": "A"}
            assert item.severity == FindingSeverity.WARNING
        else:
            assert item.params == {
                "rule": "JP-CT-125",
                "fact": "installation.circuit_rated_current_a",
            }


# --- 5(4): a CT on the grounding wire ---------------------------------------------------


@pytest.mark.parametrize(
    ("supply", "ct", "limit", "met"),
    [
        # 20 % of 100 V's number = 20 A (= 100 V / 5 Ω, the ※ note's assumed earth resistance).
        (S100, 20.0, 20.0, True),
        (S100, 19.9, 20.0, False),
        # 200 V → 40 A (= 200 V / 5 Ω).
        (S200, 40.0, 40.0, True),
        (S200, 30.0, 40.0, False),
        # Single-phase 3-wire is 100/200 V: the higher 200 V is held to, 40 A.
        (S3W, 39.0, 40.0, False),
        # Three-phase 3-wire is 200 V between lines (the rated voltage, no √3 here): 40 A.
        (T3W, 40.0, 40.0, True),
    ],
)
def test_grounding_wire_ct_reaches_20_percent_of_the_rated_voltage(
    supply: SupplySystem, ct: float, limit: float, met: bool
) -> None:
    findings = japan.grounding_ct_findings("main", ct, supply)
    if met:
        assert findings == ()
        return
    (item,) = findings
    assert (item.rule_id, item.value, item.limit, item.unit) == (
        ComplianceRule.JP_CT_GROUND,
        ct,
        pytest.approx(limit),
        "A",
    )
    assert item.params["earth_resistance"] == 5.0
    assert item.source == "第13節 漏電火災警報器 5(4) ※"


def test_the_five_ohm_note_and_the_twenty_percent_agree() -> None:
    """5(4) ※: V / 5 Ω is 0.2 × V for every voltage."""
    for volts in (100.0, 200.0, 173.2, 415.0):
        assert math.isclose(japan.grounding_ct_minimum_a(volts), 0.2 * volts)


def test_a_grounding_wire_ct_without_a_supply_system_is_not_guessed() -> None:
    (item,) = japan.grounding_ct_findings("main", 10.0, None)
    assert item.rule_id == ComplianceRule.MISSING_FACT
    assert item.params == {"rule": "JP-CT-GROUND", "fact": "site.supply_system"}


# --- 6: the detection setpoint ------------------------------------------------------------


def _rc(value: float | None, unit: str | None = "mA", key: str = "alarm") -> SetpointFact:
    return SetpointFact(key, SetpointKind.RESIDUAL_CURRENT_ALARM, value, unit)


@pytest.mark.parametrize(
    ("location", "value", "unit", "flagged"),
    [
        # 6: 100–400 mA on the guarded circuit, both ends inside.
        (CtLocation.SERVICE_ENTRANCE, 100.0, "mA", False),
        (CtLocation.SERVICE_ENTRANCE, 400.0, "mA", False),
        (CtLocation.SERVICE_ENTRANCE, 99.0, "mA", True),
        (CtLocation.SERVICE_ENTRANCE, 401.0, "mA", True),
        (CtLocation.SERVICE_ENTRANCE, 0.3, "A", False),  # 300 mA
        (CtLocation.SERVICE_ENTRANCE, 0.5, "A", True),  # 500 mA
        # 400–800 mA on the transformer's grounding wire.
        (CtLocation.GROUNDING_WIRE, 400.0, "mA", False),
        (CtLocation.GROUNDING_WIRE, 800.0, "mA", False),
        (CtLocation.GROUNDING_WIRE, 399.0, "mA", True),
        (CtLocation.GROUNDING_WIRE, 801.0, "mA", True),
        (CtLocation.GROUNDING_WIRE, 300.0, "mA", True),
    ],
)
def test_setpoint_in_the_standard_range_for_where_the_ct_sits(
    location: CtLocation, value: float, unit: str, flagged: bool
) -> None:
    findings = japan.setpoint_findings("d", [_rc(value, unit)], location)
    if not flagged:
        assert findings == ()
        return
    (item,) = findings
    low, high = japan.SETPOINT_RANGE_MA[location]
    assert (item.rule_id, item.severity, item.channel, item.unit) == (
        ComplianceRule.JP_RC_SETPOINT,
        FindingSeverity.WARNING,
        "alarm",
        "mA",
    )
    assert item.value == pytest.approx(value * (1000 if unit == "A" else 1))
    assert item.limit == f"{low:g}–{high:g}"
    assert item.source == "第13節 漏電火災警報器 6"


@pytest.mark.parametrize(
    ("setpoints", "location", "fact"),
    [
        ([], CtLocation.SERVICE_ENTRANCE, "setpoint:residual_current_alarm"),
        ([_rc(300.0)], None, "installation.ct_location"),
        ([_rc(None)], CtLocation.SERVICE_ENTRANCE, "setpoint:alarm"),
        ([_rc(300.0, "V")], CtLocation.SERVICE_ENTRANCE, "setpoint:alarm"),
    ],
)
def test_a_setpoint_rule_without_its_facts_says_so(
    setpoints: list[SetpointFact], location: CtLocation | None, fact: str
) -> None:
    (item,) = japan.setpoint_findings("d", setpoints, location)
    assert (item.rule_id, item.severity) == (ComplianceRule.MISSING_FACT, FindingSeverity.INFO)
    assert item.params == {"rule": "JP-RC-SETPOINT", "fact": fact}


def test_every_loop_of_a_multi_loop_detector_is_checked() -> None:
    findings = japan.setpoint_findings(
        "aim",
        [_rc(300.0, key="loop_1"), _rc(50.0, key="loop_2"), _rc(900.0, key="loop_3")],
        CtLocation.SERVICE_ENTRANCE,
    )
    assert [(f.channel, f.value) for f in findings] == [("loop_2", 50.0), ("loop_3", 900.0)]
