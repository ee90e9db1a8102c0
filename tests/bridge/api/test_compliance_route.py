"""``GET /api/v1/compliance``: the rules over the running bridge's site and detectors."""

from __future__ import annotations

from electrical_safety_bridge.common.enums import ComplianceRule

from ..conftest import wait_for
from .conftest import Running

SETPOINT = "residual_current_alarm_setpoint"


async def test_a_setpoint_outside_the_recommended_range_is_a_finding(api: Running) -> None:
    # The API tests' site is Chinese: GB 50116 §9.2.3 recommends 300-500 mA. 600 mA is
    # within what the simulated ARCM itself takes (20-1000 mA), so it is written.
    status, written = await api.post(
        "/devices/arcm/commands", {"setpoint": SETPOINT, "value": 600, "who": "test"}
    )
    assert status == 200, written

    async def arcm_findings() -> list[dict[str, object]]:
        status, answer = await api.get("/compliance", params={"device_id": "arcm"})
        assert status == 200
        return list(answer["findings"])

    found: list[dict[str, object]] = []

    async def the_finding() -> bool:
        found[:] = [
            f
            for f in await arcm_findings()
            if f["rule_id"] == ComplianceRule.CN_RC_SETPOINT and f["value"] == 600
        ]
        return bool(found)

    await wait_for(the_finding, interval=0.1, what="the 600 mA setpoint found outside 300-500 mA")
    (finding,) = found
    assert (finding["severity"], finding["channel"], finding["limit"], finding["unit"]) == (
        "warning",
        SETPOINT,
        "300–500",
        "mA",
    )
    assert "GB 50116" in str(finding["source"])

    # The whole site's answer carries it too, with the site; the report takes the same.
    status, answer = await api.get("/compliance")
    assert status == 200 and answer["site"]["id"] == "flat-3"
    assert finding in answer["findings"]
    assert [f.to_dict() for f in api.bridge.compliance_checker.last] == answer["findings"]

    # Back within the range: the finding is gone (a finding warns; it never blocked).
    status, written = await api.post(
        "/devices/arcm/commands", {"setpoint": SETPOINT, "value": 400, "who": "test"}
    )
    assert status == 200, written

    async def gone() -> bool:
        return not any(f["rule_id"] == ComplianceRule.CN_RC_SETPOINT for f in await arcm_findings())

    await wait_for(gone, interval=0.1, what="the finding gone at 400 mA")


async def test_an_unknown_device_is_named(api: Running) -> None:
    status, unknown = await api.get("/compliance", params={"device_id": "nope"})
    assert status == 404 and unknown["error"] == "unknown_device"
