"""The site over the API: ``GET /site``, the snapshot's ``site``, each device's installation,
as the client reads them from a running bridge."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from electrical_safety_bridge.client import BridgeClient, parse_snapshot
from electrical_safety_bridge.common.enums import Region
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.site import Site
from electrical_safety_bridge.config.bridge_config import BridgeConfig
from electrical_safety_bridge.service import Bridge

from .conftest import ARCM_INSTALLATION, SITE, Running

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _client(api: Running) -> BridgeClient:
    assert api.bridge.api_port is not None
    return BridgeClient(api.session, "127.0.0.1", api.bridge.api_port, api.bridge.token)


async def test_the_client_reads_the_configured_site(api: Running) -> None:
    site = await _client(api).site()
    assert site == SITE.site(api.bridge.bridge_id)
    assert (site.id, site.name, site.region) == ("flat-3", "Flat 3", Region.CN)


async def test_the_snapshot_carries_the_site_and_each_devices_installation(api: Running) -> None:
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        snapshot = parse_snapshot(await socket.receive_json(timeout=10))
    assert snapshot.site == await _client(api).site()
    installations = {d.id: d.installation for d in snapshot.devices}
    assert installations == {"arcm": ARCM_INSTALLATION, "asj": None, "unverified": None}
    status, raw = await api.get("/devices/arcm")
    assert status == 200
    assert Device.from_dict(raw).installation == ARCM_INSTALLATION


async def test_without_a_site_block_the_site_is_named_by_the_bridges_id(tmp_path: Path) -> None:
    bridge = Bridge(BridgeConfig(data_dir=tmp_path / "data", buses=(), api_port=0))
    await bridge.start()
    try:
        assert bridge.api_port is not None
        async with aiohttp.ClientSession() as session:
            client = BridgeClient(session, "127.0.0.1", bridge.api_port, bridge.token)
            site = await client.site()
    finally:
        await bridge.stop()
    assert site == Site(bridge.bridge_id, bridge.bridge_id, Region.GENERIC, None, None, None, ())


async def test_the_site_needs_the_token(api: Running) -> None:
    async with api.session.get(api.url + "/site") as response:
        assert response.status == 401
