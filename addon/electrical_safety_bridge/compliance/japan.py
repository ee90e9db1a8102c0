"""Japan: the earth-leakage fire alarm (漏電火災警報器) rules of 第13節 (seed 004).

Each function takes values and returns findings; a rule that holds returns none. The
clauses are quoted in each docstring so that a reader can hold the code to the text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..common.enums import (
    ComplianceRule,
    ContractUnit,
    CtLocation,
    FindingSeverity,
    SetpointKind,
    SupplySystem,
)
from ..common.site import Contract, Finding
from .facts import SetpointFact
from .sources import finding, missing_fact, range_findings

#: 3(1): "標準電圧を 100V又は 200V、力率 1.0" and its notes: 注1 three-phase 3-wire multiplies
#: the standard voltage by √3; 注2 single-phase 3-wire takes 200 V. Japan's low-voltage
#: three-phase supply is 200 V, hence 200 × √3.
CONTRACT_VOLTAGE_V: dict[SupplySystem, float] = {
    SupplySystem.SINGLE_PHASE_2WIRE_100V: 100.0,
    SupplySystem.SINGLE_PHASE_2WIRE_200V: 200.0,
    SupplySystem.SINGLE_PHASE_3WIRE: 200.0,
    SupplySystem.THREE_PHASE_3WIRE: 200.0 * math.sqrt(3),
}
#: 3(1): "力率 1.0", so a kW contract counts as the same kVA.
POWER_FACTOR = 1.0

#: 5(3) proviso: a CT of at least 125 % of the contract current is deemed to reach the
#: guarded circuit's rated current.
CT_CONTRACT_FACTOR = 1.25

#: 5(4): the rated voltage of the guarded circuit whose number the grounding-wire CT's
#: rating is held to. Single-phase 3-wire is 100/200 V; the higher, 200 V, is taken (the
#: larger CT, on the safe side); three-phase 3-wire is 200 V between lines.
RATED_VOLTAGE_V: dict[SupplySystem, float] = {
    SupplySystem.SINGLE_PHASE_2WIRE_100V: 100.0,
    SupplySystem.SINGLE_PHASE_2WIRE_200V: 200.0,
    SupplySystem.SINGLE_PHASE_3WIRE: 200.0,
    SupplySystem.THREE_PHASE_3WIRE: 200.0,
}
#: 5(4) ※: where the current expected in the grounding wire is unknown, the earth
#: resistance is taken as 5 Ω.
ASSUMED_EARTH_RESISTANCE_OHM = 5.0

#: 6: "100mA∼400mA (変圧器の二次側低圧電路に接続された接地線に設けるものにあっては
#: 400mA∼800mA)を標準として": both ends included.
SETPOINT_RANGE_MA: dict[CtLocation, tuple[float, float]] = {
    CtLocation.SERVICE_ENTRANCE: (100.0, 400.0),
    CtLocation.GROUNDING_WIRE: (400.0, 800.0),
}


@dataclass(frozen=True, slots=True)
class ContractCurrent:
    """A site's contract current capacity (契約電流容量), and how it was found."""

    amperes: float
    #: The ``ContractUnit`` of the contracts added up.
    unit: str
    #: The voltage divided by, for kVA and kW contracts; None for ampere contracts.
    voltage_v: float | None


def current_from_power(kilo: float, supply_system: SupplySystem) -> float:
    """3(1): I (A) = P (kVA or kW) × 1000 / (V × power factor 1.0), V being 100 V or 200 V,
    × √3 for three-phase 3-wire (注1), 200 V for single-phase 3-wire (注2)."""
    return kilo * 1000.0 / (CONTRACT_VOLTAGE_V[supply_system] * POWER_FACTOR)


def contract_current(
    supply_system: str | None, contracts: Sequence[Contract]
) -> ContractCurrent | Finding:
    """The site's contract current capacity (3(1), 3(4)), or the finding that says why it
    cannot be found.

    3(1): an ampere contract (契約電流) counts as its current; a kVA (契約容量) or kW (契約電力)
    contract is turned into amperes by ``current_from_power``. 3(4): contracts of the same
    kind on one building add up. Contracts in different units are not added: the seed does
    not say to, and they are usually different supplies (lighting and power).

    An ampere contract on single-phase 3-wire is taken as is: 5(3) allows the larger of the
    neutral's and each line's current instead, which needs the load split nobody configures,
    and the contract current is the larger (safe) figure.
    """
    if not contracts:
        return missing_fact(ComplianceRule.JP_CT_125, None, "site.contracts")
    units = sorted({str(c.unit) for c in contracts})
    if len(units) > 1:
        return finding(
            ComplianceRule.JP_CONTRACT_UNITS,
            FindingSeverity.INFO,
            None,
            params={"units": ", ".join(units)},
        )
    unit = units[0]
    total = math.fsum(c.value for c in contracts)
    if unit == ContractUnit.AMPERE:
        return ContractCurrent(total, unit, None)
    if unit not in (ContractUnit.KVA, ContractUnit.KW):
        return missing_fact(ComplianceRule.JP_CT_125, None, f"site.contracts (unit {unit})")
    if supply_system not in CONTRACT_VOLTAGE_V:
        return missing_fact(ComplianceRule.JP_CT_125, None, "site.supply_system")
    system = SupplySystem(supply_system)
    return ContractCurrent(current_from_power(total, system), unit, CONTRACT_VOLTAGE_V[system])


def ct_rating_findings(
    device_id: str,
    ct_rating_a: float,
    circuit_rated_current_a: float | None,
    contract: ContractCurrent | None,
) -> tuple[Finding, ...]:
    """A CT on the guarded circuit (5(2)–(3)).

    5(3): "変流器は、警戒電路の定格電流以上のものを設置すること。ただし、契約電流容量の 125%
    以上の電流値を有するものを設置した場合にあっては、警戒電路の定格電流以上のものを設置した
    ものとみなすことができる。" The CT's rating must reach the guarded circuit's rated current
    (JP-CT-RATED); a CT of at least 125 % of the contract current is deemed to (JP-CT-125).
    Either test passing is enough. What cannot be tested is said (MISSING-FACT).
    """
    meets_rated = circuit_rated_current_a is not None and ct_rating_a >= circuit_rated_current_a
    contract_limit = None if contract is None else contract.amperes * CT_CONTRACT_FACTOR
    meets_contract = contract_limit is not None and ct_rating_a >= contract_limit
    if meets_rated or meets_contract:
        return ()
    findings: list[Finding] = []
    if circuit_rated_current_a is not None:
        findings.append(
            finding(
                ComplianceRule.JP_CT_RATED,
                FindingSeverity.WARNING,
                device_id,
                value=ct_rating_a,
                limit=circuit_rated_current_a,
                unit="A",
            )
        )
    if contract is not None and contract_limit is not None:
        findings.append(
            finding(
                ComplianceRule.JP_CT_125,
                FindingSeverity.WARNING,
                device_id,
                value=ct_rating_a,
                limit=contract_limit,
                unit="A",
                params={"contract_current": contract.amperes, "contract_unit": contract.unit},
            )
        )
    if not findings:
        findings.append(
            missing_fact(
                ComplianceRule.JP_CT_125,
                device_id,
                "installation.circuit_rated_current_a",
            )
        )
    return tuple(findings)


def grounding_ct_minimum_a(rated_voltage_v: float) -> float:
    """5(4): a grounding-wire CT's rated current ≥ 20 % of the number of the guarded
    circuit's rated voltage. The ※ note: where the current expected in the grounding wire
    is unknown, take the earth resistance as 5 Ω; the expected current is then V / 5 Ω,
    which is the same 0.2 × V (100 V → 20 A, 200 V → 40 A). The bridge knows no expected
    current, so the 5 Ω figure is always the one used."""
    return rated_voltage_v / ASSUMED_EARTH_RESISTANCE_OHM


def grounding_ct_findings(
    device_id: str, ct_rating_a: float, supply_system: str | None
) -> tuple[Finding, ...]:
    """A CT on the grounding wire of the transformer's secondary (5(4)), JP-CT-GROUND."""
    if supply_system not in RATED_VOLTAGE_V:
        return (missing_fact(ComplianceRule.JP_CT_GROUND, device_id, "site.supply_system"),)
    voltage = RATED_VOLTAGE_V[SupplySystem(supply_system)]
    minimum = grounding_ct_minimum_a(voltage)
    if ct_rating_a >= minimum:
        return ()
    return (
        finding(
            ComplianceRule.JP_CT_GROUND,
            FindingSeverity.WARNING,
            device_id,
            value=ct_rating_a,
            limit=minimum,
            unit="A",
            params={"voltage": voltage, "earth_resistance": ASSUMED_EARTH_RESISTANCE_OHM},
        ),
    )


def setpoint_findings(
    device_id: str, setpoints: Iterable[SetpointFact], ct_location: str | None
) -> tuple[Finding, ...]:
    """6: "検出漏洩電流設定値は … 100mA∼400mA (変圧器の二次側低圧電路に接続された接地線に
    設けるものにあっては 400mA∼800mA)を標準として誤報が生じない範囲内に設定すること。"
    A standard, so a setpoint outside it warns (JP-RC-SETPOINT); both ends are inside."""
    alarm_setpoints = [s for s in setpoints if s.kind == SetpointKind.RESIDUAL_CURRENT_ALARM]
    if not alarm_setpoints:
        return (
            missing_fact(
                ComplianceRule.JP_RC_SETPOINT, device_id, "setpoint:residual_current_alarm"
            ),
        )
    if ct_location not in SETPOINT_RANGE_MA:
        return (missing_fact(ComplianceRule.JP_RC_SETPOINT, device_id, "installation.ct_location"),)
    return tuple(
        range_findings(
            ComplianceRule.JP_RC_SETPOINT,
            FindingSeverity.WARNING,
            device_id,
            alarm_setpoints,
            SetpointFact.in_milliamperes,
            SETPOINT_RANGE_MA[CtLocation(ct_location)],
            "mA",
            params={"ct_location": str(ct_location)},
        )
    )
