"""Config flow: the add-on's discovery, zeroconf, manual entry, reauth and reconfigure.

Every path reads ``GET /api/v1/info`` with the token before it creates or changes an
entry: the bridge's id there is the entry's unique id, so one bridge is one entry however
it was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeError,
    SchemaMismatch,
)
from electrical_safety_bridge.common.models import BridgeInfo

from .const import (
    ADDON_SLUG_SUFFIX,
    API_VERSION,
    CONF_HAZARD_REPAIR_AFTER,
    CONF_REPAIR_AFTER,
    CONF_TOKEN,
    DEFAULT_HAZARD_REPAIR_AFTER,
    DEFAULT_PORT,
    DEFAULT_REPAIR_AFTER,
    DOMAIN,
    LOGGER,
)
from .coordinator import ElectricalSafetyConfigEntry

_TOKEN = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PORT = vol.All(
    NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)),
    vol.Coerce(int),
)
_HASSIO_CONFIG = vol.Schema(
    {
        vol.Required(CONF_HOST): vol.All(str, vol.Length(min=1)),
        vol.Required(CONF_PORT): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Required(CONF_TOKEN): vol.All(str, vol.Length(min=1)),
    },
    extra=vol.ALLOW_EXTRA,
)


class UnsupportedApiVersion(BridgeError):
    """The bridge speaks an API version this integration does not."""


def _title(host: str) -> str:
    return f"Electrical Safety bridge ({host})"


class ElectricalSafetyConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connect Home Assistant to a bridge."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._port: int = DEFAULT_PORT
        self._token: str | None = None
        self._addon_name: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ElectricalSafetyConfigEntry) -> OptionsFlowHandler:
        """The options of an entry."""
        return OptionsFlowHandler()

    async def _async_info(self, host: str, port: int, token: str) -> BridgeInfo:
        """The bridge's info, read with the token (the connection test of every path)."""
        client = BridgeClient(async_get_clientsession(self.hass), host, port, token)
        try:
            info = BridgeInfo.from_dict(await client.info())
        except ValueError as err:
            raise BridgeError(str(err)) from err
        if info.api_version != API_VERSION:
            raise UnsupportedApiVersion(f"API version {info.api_version}")
        return info

    async def _async_try(
        self, host: str, port: int, token: str, errors: dict[str, str]
    ) -> BridgeInfo | None:
        """The bridge's info, or None with the reason in ``errors``."""
        try:
            return await self._async_info(host, port, token)
        except BridgeAuthenticationError:
            errors["base"] = "invalid_auth"
        except BridgeConnectionError:
            errors["base"] = "cannot_connect"
        except UnsupportedApiVersion:
            errors["base"] = "unsupported_api_version"
        except SchemaMismatch as err:
            errors["base"] = err.problem
        except BridgeError:
            LOGGER.exception("Unexpected answer from the bridge at %s:%s", host, port)
            errors["base"] = "unknown"
        return None

    # ------------------------------------------------------------------ manual

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, port and token, typed in (a standalone bridge)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port, token = user_input[CONF_HOST], user_input[CONF_PORT], user_input[CONF_TOKEN]
            if info := await self._async_try(host, port, token, errors):
                await self.async_set_unique_id(info.bridge_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=_title(host), data={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token}
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST): str,
                vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
                vol.Required(CONF_TOKEN): _TOKEN,
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    # ------------------------------------------------------------------ the add-on

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through Supervisor, with its token."""
        if discovery_info.slug != ADDON_SLUG_SUFFIX and not discovery_info.slug.endswith(
            f"_{ADDON_SLUG_SUFFIX}"
        ):
            return self.async_abort(reason="not_electrical_safety_addon")
        try:
            config = _HASSIO_CONFIG(discovery_info.config)
        except vol.Invalid:
            return self.async_abort(reason="invalid_discovery_info")
        host, port, token = config[CONF_HOST], config[CONF_PORT], config[CONF_TOKEN]
        try:
            info = await self._async_info(host, port, token)
        except UnsupportedApiVersion:
            return self.async_abort(reason="unsupported_api_version")
        except SchemaMismatch as err:
            return self.async_abort(reason=err.problem)
        except BridgeAuthenticationError:
            return self.async_abort(reason="invalid_auth")
        except BridgeError:
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(info.bridge_id)
        # The add-on may come back on another host name, port or token: follow it.
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token}
        )
        self._host, self._port, self._token = host, port, token
        self._addon_name = discovery_info.name
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the person before connecting to the add-on."""
        assert self._host is not None and self._token is not None
        if user_input is not None:
            return self.async_create_entry(
                title=self._addon_name or _title(self._host),
                data={CONF_HOST: self._host, CONF_PORT: self._port, CONF_TOKEN: self._token},
            )
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"addon": self._addon_name or ""}
        )

    # ------------------------------------------------------------------ zeroconf

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A standalone bridge advertised itself; the token is asked for next."""
        properties = discovery_info.properties
        bridge_id = properties.get("bridge_id")
        if not bridge_id or discovery_info.port is None:
            return self.async_abort(reason="invalid_discovery_info")
        if properties.get("api_version") != str(API_VERSION):
            return self.async_abort(reason="unsupported_api_version")
        host = str(discovery_info.ip_address)
        await self.async_set_unique_id(bridge_id)
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: host, CONF_PORT: discovery_info.port}
        )
        self._host, self._port = host, discovery_info.port
        self.context["title_placeholders"] = {"name": host}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The token of the discovered bridge (``token`` on the bridge's host prints it)."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            token = user_input[CONF_TOKEN]
            if info := await self._async_try(self._host, self._port, token, errors):
                if info.bridge_id != self.unique_id:
                    return self.async_abort(reason="unique_id_mismatch")
                return self.async_create_entry(
                    title=_title(self._host),
                    data={CONF_HOST: self._host, CONF_PORT: self._port, CONF_TOKEN: token},
                )
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _TOKEN}),
            description_placeholders={"host": self._host, "port": str(self._port)},
            errors=errors,
        )

    # ------------------------------------------------------------------ reauth

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The bridge stopped accepting the token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the bridge's current token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = entry.data[CONF_HOST], entry.data[CONF_PORT]
            token = user_input[CONF_TOKEN]
            if info := await self._async_try(host, port, token, errors):
                await self.async_set_unique_id(info.bridge_id)
                self._abort_if_unique_id_mismatch(reason="unique_id_mismatch")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_TOKEN: token})
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _TOKEN}),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    # ------------------------------------------------------------------ reconfigure

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move an entry to the bridge's new address (or token); it must be the same bridge."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST], user_input[CONF_PORT]
            token = user_input.get(CONF_TOKEN) or entry.data[CONF_TOKEN]
            if info := await self._async_try(host, port, token, errors):
                await self.async_set_unique_id(info.bridge_id)
                self._abort_if_unique_id_mismatch(reason="unique_id_mismatch")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token}
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST): str,
                vol.Required(CONF_PORT): _PORT,
                vol.Optional(CONF_TOKEN): _TOKEN,
            }
        )
        suggested = user_input or {
            CONF_HOST: entry.data[CONF_HOST],
            CONF_PORT: entry.data[CONF_PORT],
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


class OptionsFlowHandler(OptionsFlow):
    """Tunables that need no reconnection: the coordinator reads them when it needs them."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """When an unreachable bridge, and a hazard left open, become repair issues."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_REPAIR_AFTER, default=DEFAULT_REPAIR_AFTER): vol.All(
                    NumberSelector(
                        NumberSelectorConfig(
                            min=1, max=1440, mode=NumberSelectorMode.BOX, unit_of_measurement="min"
                        )
                    ),
                    vol.Coerce(int),
                ),
                vol.Required(
                    CONF_HAZARD_REPAIR_AFTER, default=DEFAULT_HAZARD_REPAIR_AFTER
                ): vol.All(
                    NumberSelector(
                        NumberSelectorConfig(
                            min=1, max=720, mode=NumberSelectorMode.BOX, unit_of_measurement="h"
                        )
                    ),
                    vol.Coerce(int),
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )
