"""mDNS: a standalone bridge is found by a real zeroconf browser on the loopback interface."""

from __future__ import annotations

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from electrical_safety_bridge.announce.mdns import SERVICE_TYPE, Advertiser, advertised_addresses

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_bridge_is_found_with_its_id_and_port() -> None:
    advertiser = Advertiser("0123456789abcdef", 18765, ["127.0.0.1"], interfaces=["127.0.0.1"])
    await advertiser.start()
    browser = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        info = await browser.async_get_service_info(SERVICE_TYPE, advertiser.info.name, 3000)
        assert info is not None
        assert info.port == 18765
        assert info.properties[b"bridge_id"] == b"0123456789abcdef"
        assert info.properties[b"api_version"] == b"1"
        assert info.parsed_addresses() == ["127.0.0.1"]
    finally:
        await browser.async_close()
        await advertiser.stop()
    await advertiser.stop()  # twice is harmless


def test_service_type_fits_dns_sd_limits() -> None:
    name = SERVICE_TYPE.split(".")[0].lstrip("_")
    assert len(name) <= 15


def test_a_specific_host_is_advertised_as_is() -> None:
    assert advertised_addresses("192.168.1.20") == ["192.168.1.20"]
    assert all(not a.startswith("127.") for a in advertised_addresses("0.0.0.0"))
