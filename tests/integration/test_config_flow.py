"""The config flow, every path, against a real bridge: manual, add-on, zeroconf, reauth,
reconfigure and options."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, SOURCE_ZEROCONF
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import (
    CONF_HAZARD_REPAIR_AFTER,
    CONF_REPAIR_AFTER,
    CONF_TOKEN,
    DOMAIN,
)
from electrical_safety_bridge.common.errors import BridgeResponseError, SchemaMismatch
from electrical_safety_bridge.common.schema import SCHEMA_VERSION

from .rig import BRIDGE_ID, Rig, free_port

INFO = "electrical_safety_bridge.client.bridge_client.BridgeClient.info"

#: Every path of the flow runs on the minimum Home Assistant too (make test-minimum).
pytestmark = pytest.mark.minimum_ha


@pytest.fixture(autouse=True)
def no_setup() -> Any:
    """Flows only: creating an entry does not set it up here (test_init does)."""
    with patch("custom_components.electrical_safety.async_setup_entry", return_value=True):
        yield


def _user_input(rig: Rig, **changes: Any) -> dict[str, Any]:
    return {CONF_HOST: "127.0.0.1", CONF_PORT: rig.api_port, CONF_TOKEN: rig.token, **changes}


def _hassio(rig: Rig, slug: str = "5c53de3b_electrical_safety", **config: Any) -> HassioServiceInfo:
    return HassioServiceInfo(
        config={"host": "127.0.0.1", "port": rig.api_port, "token": rig.token, **config},
        name="Electrical Safety",
        slug=slug,
        uuid="1234",
    )


def _zeroconf(rig: Rig, **properties: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        hostname="bridge.local.",
        name="bridge._elecsafety._tcp.local.",
        port=rig.api_port,
        type="_elecsafety._tcp.local.",
        properties={"bridge_id": BRIDGE_ID, "api_version": "1", **properties},
    )


def _entry(rig: Rig, unique_id: str = BRIDGE_ID, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=unique_id,
        title="Electrical Safety bridge (127.0.0.1)",
        data={**rig.entry_data(), **data},
    )


# ---------------------------------------------------------------------------- manual


async def test_manual_entry_creates_the_bridge(hass: HomeAssistant, bridge_rig: Rig) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(bridge_rig)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Electrical Safety bridge (127.0.0.1)"
    assert result["data"] == bridge_rig.entry_data()
    assert result["result"].unique_id == BRIDGE_ID


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({CONF_PORT: "free"}, "cannot_connect"),
        ({CONF_TOKEN: "not-the-token"}, "invalid_auth"),
    ],
)
async def test_manual_entry_errors_then_recovers(
    hass: HomeAssistant, bridge_rig: Rig, changes: dict[str, Any], error: str
) -> None:
    if changes.get(CONF_PORT) == "free":
        changes = {CONF_PORT: free_port()}
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(bridge_rig, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(bridge_rig)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (BridgeResponseError("HTTP 500"), "unknown"),
        ({"bridge_id": BRIDGE_ID, "api_version": 2}, "unsupported_api_version"),
        ({"api_version": 1}, "unknown"),
        # What the client raises for a bridge whose schema does not overlap its own.
        (SchemaMismatch("bridge_too_old", 0, 0), "bridge_too_old"),
        (SchemaMismatch("bridge_too_new", 9, 9), "bridge_too_new"),
    ],
)
async def test_manual_entry_of_a_bridge_it_cannot_use(
    hass: HomeAssistant, bridge_rig: Rig, answer: Any, error: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    kwargs = {"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}
    with patch(INFO, **kwargs):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _user_input(bridge_rig)
        )
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(bridge_rig)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_the_same_bridge_twice_is_refused(hass: HomeAssistant, bridge_rig: Rig) -> None:
    _entry(bridge_rig).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(bridge_rig)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# ---------------------------------------------------------------------------- the add-on


async def test_the_add_on_is_confirmed_by_the_person(hass: HomeAssistant, bridge_rig: Rig) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "Electrical Safety"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Electrical Safety"
    assert result["data"] == bridge_rig.entry_data()
    assert result["result"].unique_id == BRIDGE_ID


@pytest.mark.parametrize("slug", ["electrical_safety", "local_electrical_safety"])
async def test_the_add_on_slug_is_matched_by_its_suffix(
    hass: HomeAssistant, bridge_rig: Rig, slug: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig, slug=slug)
    )
    assert result["step_id"] == "hassio_confirm"


@pytest.mark.parametrize(
    ("slug", "config", "reason"),
    [
        ("core_zwave_js", {}, "not_electrical_safety_addon"),
        ("x_electrical_safety_beta", {}, "not_electrical_safety_addon"),
        ("local_electrical_safety", {"port": "eighty"}, "invalid_discovery_info"),
        ("local_electrical_safety", {"token": ""}, "invalid_discovery_info"),
        ("local_electrical_safety", {"port": "free"}, "cannot_connect"),
        ("local_electrical_safety", {"token": "stale"}, "invalid_auth"),
    ],
)
async def test_a_discovery_it_cannot_use_is_aborted(
    hass: HomeAssistant, bridge_rig: Rig, slug: str, config: dict[str, Any], reason: str
) -> None:
    if config.get("port") == "free":
        config = {"port": free_port()}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig, slug, **config)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_the_add_on_speaking_another_api_is_aborted(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    with patch(INFO, return_value={"bridge_id": BRIDGE_ID, "api_version": 2}):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig)
        )
    assert result["reason"] == "unsupported_api_version"


async def test_an_add_on_too_old_for_the_integration_is_aborted(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    """The real add-on's schema against an integration that reads only newer ones."""
    client = "electrical_safety_bridge.client.bridge_client"
    with (
        patch(f"{client}.SCHEMA_VERSION", SCHEMA_VERSION + 1),
        patch(f"{client}.MIN_SUPPORTED_SCHEMA_VERSION", SCHEMA_VERSION + 1),
    ):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "bridge_too_old"


async def test_a_rediscovered_add_on_updates_its_entry(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    """The add-on came back with a new token (or port): the entry follows it."""
    entry = _entry(bridge_rig, token="old-token", host="old-host")
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_hassio(bridge_rig)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == bridge_rig.entry_data()


# ---------------------------------------------------------------------------- zeroconf


async def test_a_standalone_bridge_is_found_and_asks_for_its_token(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(bridge_rig)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: bridge_rig.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == bridge_rig.entry_data()


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"api_version": "2"}, "unsupported_api_version"),
        ({"bridge_id": ""}, "invalid_discovery_info"),
    ],
)
async def test_an_advertisement_it_cannot_use_is_aborted(
    hass: HomeAssistant, bridge_rig: Rig, properties: dict[str, str], reason: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(bridge_rig, **properties)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_a_known_bridge_on_a_new_address_updates_its_entry(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = _entry(bridge_rig, host="192.0.2.7", port=1)
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(bridge_rig)
    )
    assert result["reason"] == "already_configured"
    assert entry.data == bridge_rig.entry_data()


async def test_an_advertisement_that_lies_about_its_id_is_aborted(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(bridge_rig, bridge_id="b2")
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: bridge_rig.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unique_id_mismatch"


# ---------------------------------------------------------------------------- reauth


async def test_reauth_takes_the_new_token(hass: HomeAssistant, bridge_rig: Rig) -> None:
    entry = _entry(bridge_rig, token="old-token")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: bridge_rig.token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == bridge_rig.token


async def test_reauth_against_another_bridge_is_refused(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = _entry(bridge_rig, unique_id="another-bridge", token="old-token")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: bridge_rig.token}
    )
    assert result["reason"] == "unique_id_mismatch"
    assert entry.data[CONF_TOKEN] == "old-token"


# ---------------------------------------------------------------------------- reconfigure


async def test_reconfigure_moves_the_entry_and_keeps_the_token(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = _entry(bridge_rig, port=1)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: bridge_rig.api_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == bridge_rig.entry_data()


async def test_reconfigure_to_another_bridge_is_refused(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = _entry(bridge_rig, unique_id="another-bridge")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: bridge_rig.api_port, CONF_TOKEN: bridge_rig.token},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unique_id_mismatch"


# ---------------------------------------------------------------------------- options


async def test_options_set_when_an_outage_becomes_a_repair(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = _entry(bridge_rig)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_REPAIR_AFTER: 30, CONF_HAZARD_REPAIR_AFTER: 48}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_REPAIR_AFTER: 30, CONF_HAZARD_REPAIR_AFTER: 48}
