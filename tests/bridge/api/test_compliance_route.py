"""``GET /api/v1/compliance``: the rules over the running bridge's site and detectors."""

from __future__ import annotations

from electrical_safety_bridge.common.enums import ComplianceRule

from .conftest import Running


async def test_the_api_gives_the_sites_findings_and_one_devices(api: Running) -> None:
    status, answer = await api.get("/compliance")
    assert status == 200
    assert answer["site"]["id"] == "flat-3" and answer["site"]["region"] == "cn"
    rules = {str(rule) for rule in ComplianceRule}
    assert answer["findings"], "a Chinese site with detectors has something to say"
    assert {f["rule_id"] for f in answer["findings"]} <= rules
    # The report takes the same findings, worked out by the same call.
    checker = api.bridge.compliance_checker
    assert [f.to_dict() for f in checker.last] == answer["findings"]

    status, asj = await api.get("/compliance", params={"device_id": "asj"})
    assert status == 200
    assert asj["findings"] == [f for f in answer["findings"] if f["device_id"] == "asj"]

    status, unknown = await api.get("/compliance", params={"device_id": "nope"})
    assert status == 404 and unknown["error"] == "unknown_device"
