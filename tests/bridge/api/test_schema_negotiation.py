"""The bridge's side of the schema check: it says which contract it speaks, and refuses a
client older than it serves; the real client reads both, against a running bridge."""

from __future__ import annotations

from unittest.mock import patch

import aiohttp
import pytest

from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.errors import SchemaMismatch
from electrical_safety_bridge.common.schema import (
    MIN_SUPPORTED_SCHEMA_VERSION,
    SCHEMA_HEADER,
    SCHEMA_VERSION,
)

from .conftest import Running

pytestmark = pytest.mark.usefixtures("socket_enabled")
CLIENT = "electrical_safety_bridge.client.bridge_client"


def _client(api: Running) -> BridgeClient:
    return BridgeClient(api.session, "127.0.0.1", api.bridge.api_port, api.bridge.token)


async def test_info_and_the_snapshot_carry_the_schema(api: Running) -> None:
    status, info = await api.get("/info")
    assert status == 200
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["min_supported_schema_version"] == MIN_SUPPORTED_SCHEMA_VERSION
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        snapshot = await socket.receive_json(timeout=5)
    assert snapshot["type"] == "snapshot"
    assert snapshot["schema_version"] == SCHEMA_VERSION
    assert snapshot["min_supported_schema_version"] == MIN_SUPPORTED_SCHEMA_VERSION
    assert snapshot["info"]["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("header", ["0", str(MIN_SUPPORTED_SCHEMA_VERSION - 1), "old"])
async def test_a_client_older_than_the_bridge_serves_is_refused(api: Running, header: str) -> None:
    headers = {**api.auth, SCHEMA_HEADER: header}
    async with api.session.get(api.url + "/devices", headers=headers) as response:
        assert response.status == 400
        body = await response.json()
    assert body["error"] == "client_too_old"
    assert body["min_supported_schema_version"] == MIN_SUPPORTED_SCHEMA_VERSION
    assert "update the integration" in body["message"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
        await api.session.ws_connect(api.url + "/ws", headers=headers)
    assert handshake.value.status == 400


@pytest.mark.parametrize("header", [None, str(SCHEMA_VERSION), str(SCHEMA_VERSION + 5)])
async def test_a_client_it_serves_is_answered(api: Running, header: str | None) -> None:
    headers = api.auth if header is None else {**api.auth, SCHEMA_HEADER: header}
    async with api.session.get(api.url + "/devices", headers=headers) as response:
        assert response.status == 200


async def test_the_client_speaking_the_same_schema_reads_the_bridge(api: Running) -> None:
    data = await _client(api).data()
    assert set(data.devices) == {"arcm", "asj", "unverified"}
    assert data.info.schema_version == SCHEMA_VERSION


async def test_the_client_refuses_a_bridge_too_old(api: Running) -> None:
    with (
        patch(f"{CLIENT}.SCHEMA_VERSION", SCHEMA_VERSION + 1),
        patch(f"{CLIENT}.MIN_SUPPORTED_SCHEMA_VERSION", SCHEMA_VERSION + 1),
        pytest.raises(SchemaMismatch) as mismatch,
    ):
        await _client(api).info()
    assert mismatch.value.problem == "bridge_too_old"
    assert mismatch.value.server_schema == SCHEMA_VERSION


async def test_a_client_too_old_for_the_bridge_hears_the_bridge_is_too_new(api: Running) -> None:
    client = _client(api)
    with patch(f"{CLIENT}.SCHEMA_VERSION", MIN_SUPPORTED_SCHEMA_VERSION - 1):
        with pytest.raises(SchemaMismatch) as over_rest:
            await client.info()
        with pytest.raises(SchemaMismatch) as over_socket:
            async with client.websocket():
                pass
    assert over_rest.value.problem == "bridge_too_new"
    assert over_rest.value.server_min_supported == MIN_SUPPORTED_SCHEMA_VERSION
    assert over_socket.value.problem == "bridge_too_new"
