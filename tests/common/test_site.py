"""The site, installation and finding models: what a bridge writes, a client reads back
unchanged, and what a newer bridge adds is kept."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import (
    ContractUnit,
    CtLocation,
    FindingSeverity,
    Region,
    SupplySystem,
)
from electrical_safety_bridge.common.site import Contract, Finding, Installation, Site


def test_a_site_round_trips_with_its_contracts_and_unknown_keys() -> None:
    raw = {
        "id": "flat-3",
        "name": "Flat 3",
        "region": "jp",
        "latitude": 35.68,
        "longitude": 139.76,
        "supply_system": "single_phase_3wire",
        "contracts": [{"unit": "kVA", "value": 6}, {"unit": "kVA", "value": 4}],
        "owner_note": "from a newer bridge",
    }
    site = Site.from_dict(raw)
    assert site.region is Region.JP
    assert site.supply_system is SupplySystem.SINGLE_PHASE_3WIRE
    assert site.contracts == (Contract(ContractUnit.KVA, 6.0), Contract(ContractUnit.KVA, 4.0))
    assert Site.from_dict(site.to_dict()) == site
    assert site.to_dict()["owner_note"] == "from a newer bridge"


def test_a_site_without_a_region_or_location_is_generic_and_off_the_map() -> None:
    site = Site.from_dict({"id": "house"})
    assert (site.name, site.region, site.latitude, site.supply_system) == (
        "house",
        Region.GENERIC,
        None,
        None,
    )


def test_a_newer_bridges_region_is_kept_as_text() -> None:
    assert Site.from_dict({"id": "s", "region": "kr"}).region == "kr"


@pytest.mark.parametrize("raw", [{}, {"id": ""}, {"id": 7}])
def test_a_site_needs_an_id(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="'id'"):
        Site.from_dict(raw)


def test_a_contract_needs_a_number() -> None:
    with pytest.raises(ValueError, match="'value'"):
        Contract.from_dict({"unit": "kW", "value": "six"})


def test_an_installation_round_trips() -> None:
    raw = {
        "ct_rating_a": 100,
        "ct_location": "grounding_wire",
        "circuit": "Main",
        "circuit_rated_current_a": 60,
        "room": "Utility room",
    }
    installation = Installation.from_dict(raw)
    assert installation.ct_location is CtLocation.GROUNDING_WIRE
    assert installation.to_dict() == {**raw, "ct_rating_a": 100.0, "circuit_rated_current_a": 60.0}


def test_a_finding_round_trips_and_reads_a_flag_as_a_number() -> None:
    finding = Finding.from_dict(
        {
            "rule_id": "JP-CT-125",
            "severity": "warning",
            "source": "seed 004 §3",
            "device_id": "board",
            "channel": None,
            "value": 50,
            "limit": 62.5,
            "unit": "A",
            "params": {"contract_current_a": 50.0, "automatic": True},
        }
    )
    assert finding.severity is FindingSeverity.WARNING
    assert finding.params["automatic"] == 1
    assert Finding.from_dict(finding.to_dict()) == finding


def test_a_device_carries_its_installation_and_an_old_bridges_has_none() -> None:
    from electrical_safety_bridge.common.models import Device

    raw = {
        "id": "kitchen",
        "installation": {"ct_rating_a": 100, "ct_location": "service_entrance", "room": "Kitchen"},
    }
    device = Device.from_dict(raw)
    assert device.installation is not None
    assert (device.installation.ct_rating_a, device.installation.room) == (100.0, "Kitchen")
    assert Device.from_dict(device.to_dict()) == device
    assert "installation" not in device.state.extra, "a known key is no extra"
    assert Device.from_dict({"id": "kitchen"}).installation is None
    assert Device.from_dict({"id": "kitchen", "installation": None}).installation is None


def test_a_new_installation_re_derives_the_devices_entities() -> None:
    from electrical_safety_bridge.common.models import Device

    before = Device.from_dict({"id": "kitchen"})
    after = Device.from_dict({"id": "kitchen", "installation": {"ct_rating_a": 100}})
    assert before.layout != after.layout


def test_a_snapshot_carries_the_site_and_an_old_bridges_has_none() -> None:
    from electrical_safety_bridge.common.models import Snapshot

    info = {"bridge_id": "b", "schema_version": 1}
    site = {"id": "flat-3", "name": "Flat 3", "region": "jp", "contracts": []}
    snapshot = Snapshot.from_dict({"info": info, "site": site})
    assert snapshot.site == Site.from_dict(site)
    assert Snapshot.from_dict(snapshot.to_dict()).site == snapshot.site
    assert "site" not in snapshot.extra
    assert Snapshot.from_dict({"info": info}).site is None
