"""The engine: the region picks the rules, what cannot be checked is said once per device,
and the order is the site's first, then each device's, most severe first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from electrical_safety_bridge.common.enums import (
    ChannelKind,
    ComplianceRule,
    ContractUnit,
    CtLocation,
    FindingSeverity,
    Region,
    SetpointKind,
    SupplySystem,
)
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.site import Contract, Installation, Site
from electrical_safety_bridge.compliance import DeviceFacts, SetpointFact, device_facts, evaluate

CONTRACT_FIXTURES = Path(__file__).parents[2] / "fixtures" / "contract"
RC = frozenset({ChannelKind.RESIDUAL_CURRENT})


def _site(
    region: Region,
    supply: SupplySystem | None = SupplySystem.SINGLE_PHASE_3WIRE,
    contracts: tuple[Contract, ...] = (Contract(ContractUnit.KVA, 8.0),),
) -> Site:
    return Site("flat", "Flat", region, None, None, supply, contracts)


def _installation(
    ct: float | None = 60.0,
    location: CtLocation | None = CtLocation.SERVICE_ENTRANCE,
    rated: float | None = None,
) -> Installation:
    return Installation(ct, location, "Mains", rated, "Hall")


def _rc(value: float | None, key: str = "rc_alarm") -> SetpointFact:
    return SetpointFact(key, SetpointKind.RESIDUAL_CURRENT_ALARM, value, "mA")


def _device(
    device_id: str,
    installation: Installation | None,
    setpoints: tuple[SetpointFact, ...] = (),
    kinds: frozenset[str] = RC,
) -> DeviceFacts:
    return DeviceFacts(device_id, installation, setpoints, kinds)


def _summary(findings: tuple[object, ...]) -> list[tuple[str | None, str]]:
    return [(f.device_id, f.rule_id) for f in findings]  # type: ignore[attr-defined]


def test_a_well_installed_japanese_site_has_no_findings() -> None:
    """3(1) 注2: 8 kVA on single-phase 3-wire → 8000 / 200 = 40 A; 5(3): 125 % = 50 A ≤ the
    60 A CT; 6: 200 mA inside 100–400 mA."""
    assert evaluate(_site(Region.JP), [_device("d", _installation(), (_rc(200),))]) == ()


def test_japan_flags_a_small_ct_and_a_high_setpoint() -> None:
    """8 kVA / 200 V = 40 A, × 1.25 = 50 A > the 40 A CT (5(3)); 450 mA > 400 mA (6)."""
    findings = evaluate(_site(Region.JP), [_device("d", _installation(ct=40.0), (_rc(450),))])
    assert _summary(findings) == [("d", "JP-RC-SETPOINT"), ("d", "JP-CT-125")]
    ct = findings[1]
    assert (ct.value, ct.limit, ct.params["contract_current"]) == (40.0, 50.0, 40.0)


def test_three_phase_contract_worked_by_hand() -> None:
    """Three-phase 3-wire, 10 kW + 5 kW = 15 kW (3(4)): 15000 / (200 × √3 = 346.41) =
    43.30 A (3(1) 注1); × 1.25 = 54.13 A: a 50 A CT is short (5(3))."""
    site = _site(
        Region.JP,
        SupplySystem.THREE_PHASE_3WIRE,
        (Contract(ContractUnit.KW, 10.0), Contract(ContractUnit.KW, 5.0)),
    )
    (item,) = evaluate(site, [_device("d", _installation(ct=50.0), (_rc(300),))])
    assert item.rule_id == ComplianceRule.JP_CT_125
    assert item.limit == pytest.approx(54.1266, abs=1e-4)
    assert item.params["contract_current"] == pytest.approx(43.3013, abs=1e-4)


def test_a_grounding_wire_ct_uses_its_own_rules() -> None:
    """5(4): 200 V → 40 A; 6: 400–800 mA there, so 300 mA is low."""
    findings = evaluate(
        _site(Region.JP, SupplySystem.SINGLE_PHASE_2WIRE_200V),
        [_device("g", _installation(ct=30.0, location=CtLocation.GROUNDING_WIRE), (_rc(300),))],
    )
    assert _summary(findings) == [("g", "JP-RC-SETPOINT"), ("g", "JP-CT-GROUND")]
    assert findings[0].limit == "400–800"
    assert findings[1].limit == 40.0


def test_a_device_nobody_described_is_one_line_of_information() -> None:
    (item,) = evaluate(_site(Region.JP), [_device("d", None, (_rc(200),))])
    assert (item.rule_id, item.severity, item.device_id) == (
        ComplianceRule.MISSING_FACT,
        FindingSeverity.INFO,
        "d",
    )
    # The setpoint range depends on where the CT sits, the CT rules on the installation.
    assert item.params == {
        "rule": "JP-RC-SETPOINT, JP-CT-125",
        "fact": "installation.ct_location, installation",
    }
    assert item.source == "第13節 漏電火災警報器 6; 第13節 漏電火災警報器 5(3), 3(1), 3(4)"


@pytest.mark.parametrize(
    ("installation", "fact"),
    [
        (_installation(ct=None), "installation.ct_rating_a"),
        (_installation(location=None), "installation.ct_location"),
    ],
)
def test_each_missing_installation_fact_is_named(installation: Installation, fact: str) -> None:
    findings = evaluate(_site(Region.JP), [_device("d", installation, (_rc(200),))])
    assert [f.params["fact"] for f in findings if f.rule_id == "MISSING-FACT"] == [fact]


@pytest.mark.parametrize(
    ("site", "site_rule", "site_params"),
    [
        (
            _site(
                Region.JP,
                contracts=(Contract(ContractUnit.KVA, 6), Contract(ContractUnit.AMPERE, 30)),
            ),
            "JP-CONTRACT-UNITS",
            {"units": "A, kVA"},
        ),
        (
            _site(Region.JP, supply=None),
            "MISSING-FACT",
            {"rule": "JP-CT-125", "fact": "site.supply_system"},
        ),
        (
            _site(Region.JP, contracts=()),
            "MISSING-FACT",
            {"rule": "JP-CT-125", "fact": "site.contracts"},
        ),
    ],
)
def test_a_contract_current_that_cannot_be_found_is_said_once_for_the_site(
    site: Site, site_rule: str, site_params: dict[str, str]
) -> None:
    devices = [_device(name, _installation(), (_rc(200),)) for name in ("a", "b")]
    findings = evaluate(site, devices)
    assert _summary(findings) == [
        (None, site_rule),
        ("a", "MISSING-FACT"),
        ("b", "MISSING-FACT"),
    ]
    assert findings[0].params == site_params
    assert findings[1].params == {
        "rule": "JP-CT-125",
        "fact": "installation.circuit_rated_current_a",
    }


def test_a_rated_current_settles_the_ct_without_the_contract() -> None:
    """5(3): the CT reaches the circuit's rated current; the contract is not needed."""
    site = _site(Region.JP, supply=None)
    assert evaluate(site, [_device("d", _installation(ct=60.0, rated=50.0), (_rc(200),))]) == ()


def test_a_failing_rated_current_says_the_contract_could_not_be_tried() -> None:
    site = _site(Region.JP, supply=None)
    findings = evaluate(site, [_device("d", _installation(ct=40.0, rated=50.0), (_rc(200),))])
    assert _summary(findings) == [(None, "MISSING-FACT"), ("d", "JP-CT-RATED")]


def test_japan_checks_residual_current_detectors_only() -> None:
    temperature_only = _device("t", None, (), frozenset({ChannelKind.TEMPERATURE}))
    assert evaluate(_site(Region.JP), [temperature_only]) == ()


def test_china_checks_setpoints_and_the_self_test_log() -> None:
    devices = [
        _device(
            "rc",
            None,
            (_rc(600), SetpointFact("t1", SetpointKind.TEMPERATURE_ALARM, 150.0, "°C")),
            frozenset({ChannelKind.RESIDUAL_CURRENT, ChannelKind.TEMPERATURE}),
        ),
        _device("ok", None, (_rc(300),)),
    ]
    findings = evaluate(
        _site(Region.CN),
        devices,
        [("ok", ChannelKind.RESIDUAL_CURRENT, None), ("rc", ChannelKind.RESIDUAL_CURRENT, 5.0)],
    )
    # Per device, most severe first: an error before a warning before information.
    assert _summary(findings) == [
        ("rc", "CN-RC-SETPOINT"),
        ("rc", "CN-T-RANGE"),
        ("ok", "CN-NO-ALARM"),
    ]


def test_china_needs_no_installation() -> None:
    assert (
        evaluate(_site(Region.CN, supply=None, contracts=()), [_device("d", None, (_rc(400),))])
        == ()
    )


@pytest.mark.parametrize("region", [Region.GENERIC, "kr"])
def test_a_site_without_known_rules_has_no_findings(region: str) -> None:
    devices = [_device("d", None, (_rc(5000),))]
    assert evaluate(_site(region), devices, [("d", ChannelKind.RESIDUAL_CURRENT, None)]) == ()  # type: ignore[arg-type]


def test_findings_come_site_first_then_device_order_most_severe_first() -> None:
    site = _site(Region.JP, contracts=(Contract(ContractUnit.KVA, 6), Contract(ContractUnit.KW, 3)))
    devices = [
        _device("z", _installation(ct=10.0), (_rc(50),)),
        _device("a", None, (_rc(200),)),
    ]
    findings = evaluate(site, devices)
    assert _summary(findings) == [
        (None, "JP-CONTRACT-UNITS"),
        ("z", "JP-RC-SETPOINT"),
        ("z", "MISSING-FACT"),
        ("a", "MISSING-FACT"),
    ]
    assert [f.severity for f in findings[1:3]] == [FindingSeverity.WARNING, FindingSeverity.INFO]


def test_device_facts_of_a_recorded_device() -> None:
    """The contract fixture's detector: its alarm setpoints as read, its channel kinds."""
    raw = json.loads((CONTRACT_FIXTURES / "devices.json").read_text())["devices"][0]
    device = Device.from_dict(raw)
    facts = device_facts(device, _installation())
    assert facts.device_id == device.id
    assert facts.installation == _installation()
    kinds = {s.kind for s in facts.setpoints}
    assert kinds <= {SetpointKind.RESIDUAL_CURRENT_ALARM, SetpointKind.TEMPERATURE_ALARM}
    rc = facts.setpoints_of(SetpointKind.RESIDUAL_CURRENT_ALARM)
    assert [(s.value, s.unit) for s in rc] == [
        (float(device.state.setpoint_values[s.key]), "mA")
        for s in rc  # type: ignore[arg-type]
    ]
    assert facts.watches_residual_current and facts.watches_temperature


def test_an_unread_setpoint_is_none_not_zero() -> None:
    raw = json.loads((CONTRACT_FIXTURES / "devices.json").read_text())["devices"][0]
    raw = {**raw, "setpoint_values": {}}
    facts = device_facts(Device.from_dict(raw), None)
    assert facts.setpoints and all(s.value is None for s in facts.setpoints)
