"""The ``site:`` block and each device's ``installation:``: what parses into what, and
errors that name the key path and the bad value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from electrical_safety_bridge.common.enums import ContractUnit, CtLocation, Region, SupplySystem
from electrical_safety_bridge.common.site import Contract, Installation, Site
from electrical_safety_bridge.config.bridge_config import ConfigError, load_config, parse_config
from electrical_safety_bridge.config.site_config import SiteConfig, id_from_name

from .test_config import config, device, only_problem, problems_of, tcp_bus, write

SITE_YAML = """\
data_dir: /var/lib/bridge
site:
  name: Sakura Heights 201
  region: jp
  latitude: 35.6812
  longitude: 139.7671
  supply_system: single_phase_3wire
  contracts:
    - {unit: kVA, value: 6}
    - {unit: kVA, value: 4}
buses:
  - id: board
    tcp: 127.0.0.1:502
    devices:
      - id: main-rcm
        unit: 1
        profile: ASJ
        installation:
          ct_rating_a: 100
          ct_location: service_entrance
          circuit: Main incomer
          circuit_rated_current_a: 60
          room: Hallway
      - {id: kitchen, unit: 2, profile: ASJ}
"""

#: The least relay there is: the relay's ``site`` is read only with one.
MQTT = {"mqtt": {"host": "127.0.0.1"}}


def with_site(**site: Any) -> dict[str, Any]:
    return config(tcp_bus(), site={"name": "Flat 3", **site})


def with_installation(**installation: Any) -> dict[str, Any]:
    return config(tcp_bus("b", {**device("d"), "installation": installation}))


def test_a_site_and_installations_are_read(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, SITE_YAML))
    assert loaded.site == SiteConfig(
        name="Sakura Heights 201",
        region=Region.JP,
        latitude=35.6812,
        longitude=139.7671,
        supply_system=SupplySystem.SINGLE_PHASE_3WIRE,
        contracts=(Contract(ContractUnit.KVA, 6.0), Contract(ContractUnit.KVA, 4.0)),
    )
    assert loaded.site.site("bridge-1") == Site(
        id="sakura-heights-201",
        name="Sakura Heights 201",
        region=Region.JP,
        latitude=35.6812,
        longitude=139.7671,
        supply_system=SupplySystem.SINGLE_PHASE_3WIRE,
        contracts=(Contract(ContractUnit.KVA, 6.0), Contract(ContractUnit.KVA, 4.0)),
    )
    main, kitchen = loaded.buses[0].devices
    assert main.installation == Installation(
        ct_rating_a=100.0,
        ct_location=CtLocation.SERVICE_ENTRANCE,
        circuit="Main incomer",
        circuit_rated_current_a=60.0,
        room="Hallway",
    )
    assert kitchen.installation is None


def test_without_a_site_block_the_site_is_the_bridge_named_by_its_id() -> None:
    site = parse_config(config(tcp_bus()), "bridge.yaml").site.site("0123abcd")
    assert site == Site("0123abcd", "0123abcd", Region.GENERIC, None, None, None, ())


def test_without_a_site_block_the_relays_site_names_it() -> None:
    loaded = parse_config(config(tcp_bus(), relay={"site": "flat-3", **MQTT}), "bridge.yaml")
    assert loaded.site.site("0123abcd").id == "flat-3"


def test_a_site_id_given_is_kept_and_the_relay_uses_it() -> None:
    loaded = parse_config(with_site(id="flat-3-hill-st"), "bridge.yaml")
    assert loaded.site.site("0123abcd").id == "flat-3-hill-st"


def test_the_relays_site_and_the_site_id_must_agree() -> None:
    data = config(
        tcp_bus(), site={"name": "Flat 3", "id": "flat-3"}, relay={"site": "flat-4", **MQTT}
    )
    assert only_problem(data) == (
        "relay.site: 'flat-4' differs from site.id 'flat-3'; a bridge serves one site:"
        " give the id once, as site.id"
    )


def test_the_relays_site_names_a_site_without_an_id() -> None:
    data = config(tcp_bus(), site={"name": "Flat 3"}, relay={"site": "flat-3-hill", **MQTT})
    assert parse_config(data, "bridge.yaml").site.site("x").id == "flat-3-hill"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Flat 3, Hill St.", "flat-3-hill-st"),
        ("  Sakura Heights 201  ", "sakura-heights-201"),
        ("山田ハイツ 2F", "2f"),
        ("山田ハイツ", None),
        ("x" * 80, "x" * 64),
    ],
)
def test_an_id_is_made_from_the_names_letters_and_digits(name: str, expected: str | None) -> None:
    assert id_from_name(name) == expected


def test_a_name_without_latin_letters_or_digits_takes_the_bridges_id() -> None:
    site = parse_config(config(tcp_bus(), site={"name": "山田ハイツ"}), "bridge.yaml").site
    assert (site.site("0123abcd").id, site.site("0123abcd").name) == ("0123abcd", "山田ハイツ")


# --------------------------------------------------------------------------- errors


def test_a_site_needs_a_name() -> None:
    problem = only_problem(config(tcp_bus(), site={"region": "jp"}))
    assert problem == "site.name: required key not provided"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("region", "kr", "must be one of cn, jp, generic (got 'kr')"),
        ("latitude", 91, "must be from -90 to 90 (got 91)"),
        ("latitude", "north", "must be a number (got 'north')"),
        ("longitude", -180.5, "must be from -180 to 180 (got -180.5)"),
        (
            "supply_system",
            "three_phase_4wire",
            "must be one of single_phase_2wire_100v, single_phase_2wire_200v,"
            " single_phase_3wire, three_phase_3wire (got 'three_phase_4wire')",
        ),
        ("id", "flat 3", "letters, digits, - _ . (at most 64) (got 'flat 3')"),
        ("name", "", "must be 1-100 characters (got '')"),
    ],
)
def test_a_bad_site_value_is_named_with_its_path_and_value(
    key: str, value: object, reason: str
) -> None:
    location = {"latitude": 35.0, "longitude": 139.0} if key in ("latitude", "longitude") else {}
    assert only_problem(with_site(**{**location, key: value})) == f"site.{key}: {reason}"


@pytest.mark.parametrize(
    ("given", "missing"), [("latitude", "longitude"), ("longitude", "latitude")]
)
def test_half_a_location_is_refused(given: str, missing: str) -> None:
    assert only_problem(with_site(**{given: 35.0})) == (
        f"site.{missing}: give {missing} with {given}, or neither"
    )


@pytest.mark.parametrize(
    ("contract", "problem"),
    [
        (
            {"unit": "kWh", "value": 6},
            "site.contracts[0].unit: must be one of A, kVA, kW (got 'kWh')",
        ),
        ({"unit": "kVA", "value": 0}, "site.contracts[0].value: must be more than 0 (got 0)"),
        ({"unit": "A", "value": -30}, "site.contracts[0].value: must be more than 0 (got -30)"),
        ({"unit": "A"}, "site.contracts[0].value: required key not provided"),
    ],
)
def test_a_bad_contract_is_named_with_its_index_and_value(
    contract: dict[str, Any], problem: str
) -> None:
    assert only_problem(with_site(contracts=[contract])) == problem


def test_every_bad_contract_is_named_at_once() -> None:
    contracts = [{"unit": "kVA", "value": 6}, {"unit": "W", "value": 1}, {"unit": "A", "value": 0}]
    assert sorted(problems_of(with_site(contracts=contracts))) == [
        "site.contracts[1].unit: must be one of A, kVA, kW (got 'W')",
        "site.contracts[2].value: must be more than 0 (got 0)",
    ]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("ct_rating_a", 0, "must be more than 0 (got 0)"),
        ("ct_rating_a", "100 A", "must be a number (got '100 A')"),
        (
            "ct_location",
            "neutral",
            "must be one of service_entrance, grounding_wire (got 'neutral')",
        ),
        ("circuit_rated_current_a", -20, "must be more than 0 (got -20)"),
        ("room", "", "must be 1-64 characters (got '')"),
        ("colour", "red", "extra keys not allowed (got 'red')"),
    ],
)
def test_a_bad_installation_value_is_named_with_its_device_path_and_value(
    key: str, value: object, reason: str
) -> None:
    problem = only_problem(with_installation(**{key: value}))
    assert problem == f"buses[0].devices[0].installation.{key}: {reason}"


def test_values_elsewhere_stay_unquoted_as_they_may_be_secrets() -> None:
    data = config(tcp_bus(), relay={"mqtt": {"host": "h", "password": 12345}})
    problem = only_problem(data)
    assert problem.startswith("relay.mqtt.password:")
    assert "12345" not in problem


def test_site_problems_come_with_the_files_name(tmp_path: Path) -> None:
    text = SITE_YAML.replace("region: jp", "region: japan")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert caught.value.problems == ["site.region: must be one of cn, jp, generic (got 'japan')"]
