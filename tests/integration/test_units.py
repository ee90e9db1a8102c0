"""The pure parts, value by value: parsing the bridge's data, the kind tables, the client's
answer to a bridge that answers nonsense, and the error translation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety import kinds
from custom_components.electrical_safety.binary_sensor import _flag
from custom_components.electrical_safety.event import event_attributes, event_type
from custom_components.electrical_safety.helpers import (
    async_who,
    check_outcome,
    translate_error,
)
from custom_components.electrical_safety.sensor import _info
from custom_components.electrical_safety.switch import breaker_closed
from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeResponseError,
)
from electrical_safety_bridge.common.models import (
    BridgeEvent,
    Channel,
    Device,
    DeviceState,
    Setpoint,
    numeric,
)


def _channel(kind: str, key: str = "x_2", **extra: Any) -> Channel:
    return Channel.from_dict({"key": key, "name": "Ch", "kind": kind, **extra})


# ---------------------------------------------------------------------------- models


def test_a_device_without_an_id_is_a_broken_bridge() -> None:
    with pytest.raises(ValueError, match="'id'"):
        Device.from_dict({"name": "nameless"})


def test_a_setpoint_without_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="no bounds"):
        Setpoint.from_dict({"key": "s", "kind": "delay", "min": None, "max": 3})


def test_an_older_bridge_without_step_steps_by_one() -> None:
    setpoint = Setpoint.from_dict({"key": "s", "kind": "delay", "min": 0, "max": 3})
    assert setpoint.step == 1.0


def test_an_event_needs_an_integer_sequence() -> None:
    with pytest.raises(ValueError, match="seq"):
        BridgeEvent.from_dict({"seq": True, "type": "alarm_raised"})


def test_state_parsing_keeps_only_what_is_true() -> None:
    state = DeviceState.from_dict(
        {"warnings": {"a": True, "b": False}, "wiring_faults": {"c": "open_circuit", "d": 1}}
    )
    assert state.warnings == {"a": True}
    assert state.wiring_faults == {"c": "open_circuit", "d": "fault"}


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), (2.5, 2.5), (True, None), ("open_circuit", None), (None, None)]
)
def test_numeric(value: Any, expected: Any) -> None:
    assert numeric(value) == expected


# ---------------------------------------------------------------------------- the tables


def test_a_unit_home_assistant_does_not_know_drops_the_device_class() -> None:
    spec = kinds.CHANNEL_KINDS["temperature"]
    assert kinds.sensor_device_class(spec, "°C") is SensorDeviceClass.TEMPERATURE
    assert kinds.sensor_device_class(spec, "degC") is None
    delay = kinds.SETPOINT_KINDS["delay"]
    assert kinds.number_device_class(delay, "s") is NumberDeviceClass.DURATION
    assert kinds.number_device_class(delay, "ticks") is None
    assert kinds.number_device_class(kinds.SETPOINT_KINDS["mode"], None) is None


def test_a_kind_from_a_newer_bridge_is_shown_out_of_the_way() -> None:
    channel = _channel("insulation_resistance", name="Insulation")
    spec = kinds.channel_spec(channel)
    assert spec is kinds.UNKNOWN_KIND
    assert spec.enabled_by_default is False
    assert kinds.channel_naming(channel) == ("channel", {"name": "Insulation"})
    setpoint = Setpoint.from_dict({"key": "q", "name": "Q", "kind": "new", "min": 0, "max": 1})
    assert kinds.setpoint_naming(setpoint) == ("setpoint", {"name": "Q"})


@pytest.mark.parametrize(
    ("channel", "role", "expected"),
    [
        (_channel("temperature", "temperature_2"), None, ("temperature_n", {"number": "2"})),
        (_channel("temperature", "temperature"), "alarm", ("temperature_alarm", {})),
        (
            _channel("residual_current", "loop_12_residual_current"),
            "wiring_fault",
            ("residual_current_n_wiring_fault", {"number": "12"}),
        ),
        (_channel("breaker", "breaker"), "alarm", ("channel_alarm", {"name": "Ch"})),
        (_channel("value_at_alarm", "last_event_value"), None, ("value_at_alarm", {"name": "Ch"})),
    ],
)
def test_naming(channel: Channel, role: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert kinds.channel_naming(channel, role) == expected


def test_a_breaker_without_trip_and_close_is_a_status() -> None:
    breaker = _channel("breaker", "breaker")
    flag = Device.from_dict({"id": "d", "commands": ["trip"]})
    switchable = Device.from_dict({"id": "d", "commands": ["trip", "close"]})
    assert kinds.platform_of(flag, breaker) == "binary_sensor"
    assert kinds.platform_of(switchable, breaker) == "switch"
    named = _channel("breaker", "breaker", states=["open", "closed"])
    assert kinds.platform_of(flag, named) == "sensor"
    assert kinds.CHANNEL_KINDS["breaker"].binary_device_class is BinarySensorDeviceClass.POWER


@pytest.mark.parametrize(
    ("value", "closed"), [("closed", True), ("open", False), (1, True), (0, False), (None, None)]
)
def test_breaker_closed(value: Any, closed: bool | None) -> None:
    assert breaker_closed(value) is closed


def test_flags_and_info_values() -> None:
    state = DeviceState.from_dict({"values": {"a": 1, "b": "x", "c": 0}})
    assert (_flag(state, "a"), _flag(state, "b"), _flag(state, "c")) == (True, None, False)
    assert _info(True, None) == 1
    assert _info("text", None) == "text"
    assert _info("open_circuit", "mA") is None


# ---------------------------------------------------------------------------- events


def test_event_names_and_attributes() -> None:
    self_test = BridgeEvent.from_dict(
        {"seq": 3, "type": "self_test", "device_id": "d", "data": {"result": "fail"}}
    )
    assert event_type(self_test) == "self_test_failed"
    assert event_attributes(self_test, None) == {
        "event_id": "3",
        "channel": None,
        "seq": 3,
        "at": None,
        "seconds": None,
    }
    command = BridgeEvent.from_dict({"seq": 4, "type": "command", "data": {}})
    assert event_type(command) is None
    odd = BridgeEvent.from_dict({"seq": 5, "type": "alarm_raised", "data": {"id": 7}})
    assert event_attributes(odd, None) == {
        "event_id": "5",
        "channel": None,
        "seq": 5,
        "at": None,
    }


# ---------------------------------------------------------------------------- client


@pytest.fixture
async def nonsense(socket_enabled: None) -> AsyncIterator[int]:
    """A server on 127.0.0.1 that answers every API call wrongly."""

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>", status=200)

    async def wrong_shape(request: web.Request) -> web.Response:
        return web.json_response(["a list"])

    async def teapot(request: web.Request) -> web.Response:
        return web.json_response({"message": "short and stout"}, status=418)

    async def server_error(request: web.Request) -> web.Response:
        return web.Response(text="boom", status=500)

    app = web.Application()
    app.router.add_get("/api/v1/info", not_json)
    app.router.add_get("/api/v1/devices", wrong_shape)
    app.router.add_post("/api/v1/devices/{device}/commands", wrong_shape)
    app.router.add_post("/api/v1/alarms/{alarm}/acknowledge", wrong_shape)
    app.router.add_get("/api/v1/events", teapot)
    app.router.add_get("/api/v1/ws", server_error)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_a_bridge_answering_nonsense_is_an_error_not_a_crash(
    hass: HomeAssistant, nonsense: int
) -> None:
    client = BridgeClient(async_get_clientsession(hass), "127.0.0.1", nonsense, "t")
    with pytest.raises(BridgeResponseError, match="not JSON"):
        await client.info()
    with pytest.raises(BridgeResponseError, match="not a list"):
        await client.devices()
    with pytest.raises(BridgeResponseError, match="not an object"):
        await client.command("d", "reset", "me")
    with pytest.raises(BridgeResponseError, match="not an object"):
        await client.acknowledge("a", "me")
    with pytest.raises(BridgeResponseError, match="HTTP 418: short and stout"):
        await client.events()
    with pytest.raises(BridgeConnectionError):
        async with client.websocket():
            pass


async def test_malformed_data_from_a_bridge_is_an_error(hass: HomeAssistant, nonsense: int) -> None:
    client = BridgeClient(async_get_clientsession(hass), "127.0.0.1", nonsense, "t")

    async def info() -> dict[str, Any]:
        return {"bridge_id": "b"}

    async def devices() -> list[Any]:
        return [{"name": "no id"}]

    client.info = info  # type: ignore[method-assign]
    client.devices = devices  # type: ignore[method-assign]
    with pytest.raises(BridgeResponseError, match="'id'"):
        await client.data()


async def test_events_in_a_shape_it_cannot_read(hass: HomeAssistant) -> None:
    client = BridgeClient(async_get_clientsession(hass), "127.0.0.1", 1, "t")

    async def answer(*args: Any, **kwargs: Any) -> Any:
        return answers.pop(0)

    answers: list[Any] = [{"events": "many"}, {"events": [{"seq": "one"}]}, []]
    client._request = answer  # type: ignore[method-assign]
    with pytest.raises(BridgeResponseError, match="not a list"):
        await client.events()
    with pytest.raises(BridgeResponseError, match="seq"):
        await client.events()
    with pytest.raises(BridgeResponseError, match="not an object"):
        await client.info()


def test_an_ipv6_bridge_is_bracketed() -> None:
    client = BridgeClient(None, "fe80::1", 8765, "t")  # type: ignore[arg-type]
    assert client.base_url == "http://[fe80::1]:8765/api/v1"
    assert BridgeClient(None, "bridge.local", 1, "t").base_url == "http://bridge.local:1/api/v1"  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- helpers


def test_a_command_the_device_did_not_do_is_an_error() -> None:
    check_outcome({"outcome": "confirmed"}, "Kitchen", "reset")
    with pytest.raises(HomeAssistantError) as failed:
        check_outcome({"outcome": "failed", "message": "exception 0x04"}, "Kitchen", "reset")
    assert failed.value.translation_key == "command_failed"
    assert failed.value.translation_placeholders == {
        "target": "Kitchen",
        "action": "reset",
        "message": "exception 0x04",
    }


async def test_errors_are_translated(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    coordinator = loaded_entry.runtime_data
    error = translate_error(BridgeResponseError("HTTP 500"), coordinator, "Kitchen")
    assert error.translation_key == "unexpected_error"
    error = translate_error(BridgeAuthenticationError("401"), coordinator, "Kitchen")
    assert error.translation_key == "authentication_error"
    await hass.async_block_till_done()
    assert [f["context"]["source"] for f in hass.config_entries.flow.async_progress()] == ["reauth"]
    assert await async_who(hass, None) == "Home Assistant"
    assert await async_who(hass, Context(user_id="nobody")) == "Home Assistant"
