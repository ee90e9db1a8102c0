"""The add-on's relay options become the bridge's ``relay:`` section, checked by the bridge."""

from __future__ import annotations

import itertools
import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from electrical_safety_bridge.config.addon_options import (
    OPTIONS_SCHEMA,
    check_options,
    main,
)
from electrical_safety_bridge.config.bridge_config import (
    BridgeConfig,
    ConfigError,
    load_config,
    parse_config,
)
from electrical_safety_bridge.relay.relay_settings import REMOTE_ACTIONS, RelayConfig

ADAPTER = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10KXYZ1-if00-port0"
KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # RFC 8032 test 1's public key
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BROKER_PASSWORD = "broker-pa55-Zq7"
OWN_PASSWORD = "landlord-pa55-Xw3"
SUPERVISOR_BROKER = {
    "addon": "core_mosquitto",
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "username": "addons",
    "password": BROKER_PASSWORD,
    "protocol": "3.1.1",
}


def options(**extra: Any) -> dict[str, Any]:
    """Options as Supervisor writes them: every default, one adapter and one detector."""
    return {
        "log_level": "info",
        "retention_days": 3650,
        "buses": [{"id": "panel-1", "device": ADAPTER}],
        "devices": [{"id": "main-rcm", "unit": 1, "profile": "AIM-R100"}],
        "gateway_modbus_tcp": False,
        "gateway_rtu_over_tcp": False,
        "gateway_allow_writes": False,
        "relay_mqtt": False,
        "relay_broker": {},
        "relay_ha_discovery": False,
        "relay_webhooks": [],
        "remote_commands": False,
        "remote_command_keys": [],
        "remote_trip": False,
        **extra,
    }


def webhook(**extra: Any) -> dict[str, Any]:
    return {"id": "landlord", "url": "https://hooks.example.com/es", "secret": SECRET, **extra}


def bridge(opts: dict[str, Any], warnings: list[str] | None = None, **kwargs: Any) -> BridgeConfig:
    return parse_config(check_options(opts, warnings=warnings, **kwargs), "test")


def relay_of(opts: dict[str, Any], **kwargs: Any) -> RelayConfig:
    relay = bridge(opts, **kwargs).relay
    assert relay is not None
    return relay


def problems_of(opts: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        check_options(opts, **kwargs)
    assert caught.value.source == "add-on options"
    return caught.value.problems


# off by default ------------------------------------------------------------------------------


def test_the_relay_is_off_by_default_even_with_a_broker_announced() -> None:
    warnings: list[str] = []
    config = check_options(options(), mqtt=SUPERVISOR_BROKER, warnings=warnings)
    assert "relay" not in config and "mqtt" not in config
    assert parse_config(config, "test").relay is None
    assert warnings == []


def test_options_from_before_the_relay_still_work() -> None:
    old = {key: value for key, value in options().items() if not key.startswith("re")}
    old["retention_days"] = 3650
    assert parse_config(check_options(old), "test").relay is None


# MQTT ----------------------------------------------------------------------------------------


def test_relay_mqtt_uses_home_assistants_broker() -> None:
    warnings: list[str] = []
    relay = relay_of(options(relay_mqtt=True), mqtt=SUPERVISOR_BROKER, warnings=warnings)
    assert warnings == []
    mqtt = relay.mqtt
    assert mqtt is not None
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.password, mqtt.tls) == (
        "core-mosquitto",
        1883,
        "addons",
        BROKER_PASSWORD,
        False,
    )
    assert mqtt.source == "mqtt (Supervisor's broker)"
    assert not mqtt.discovery
    assert relay.webhooks == ()
    assert relay.site is None  # the bridge id
    assert not relay.remote_commands.enabled


def test_home_assistants_broker_with_ssl_is_used_with_tls() -> None:
    broker = {**SUPERVISOR_BROKER, "ssl": True, "port": 8883}
    mqtt = relay_of(options(relay_mqtt=True), mqtt=broker).mqtt
    assert mqtt is not None and mqtt.tls and mqtt.port == 8883


def test_an_own_broker_is_used_as_given(tmp_path: Path) -> None:
    (tmp_path / "landlord-ca.crt").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    own = {
        "host": "broker.example.com",
        "port": 8884,
        "username": "flat-3",
        "password": OWN_PASSWORD,
        "tls": True,
        "ca_file": "landlord-ca.crt",
    }
    config = check_options(
        options(relay_mqtt=True, relay_site="flat-3", relay_broker=own),
        mqtt=SUPERVISOR_BROKER,
        config_dir=str(tmp_path),
    )
    assert "mqtt" not in config  # Supervisor's broker is not needed, so not written
    relay = parse_config(config, "test").relay
    assert relay is not None and relay.mqtt is not None
    mqtt = relay.mqtt
    assert relay.site == "flat-3"
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.password, mqtt.tls) == (
        "broker.example.com",
        8884,
        "flat-3",
        OWN_PASSWORD,
        True,
    )
    assert mqtt.ca_file == tmp_path / "landlord-ca.crt"
    assert mqtt.source == "relay.mqtt"


def test_an_own_broker_without_port_gets_the_default_for_tls() -> None:
    for tls, port in ((True, 8883), (False, 1883)):
        own = {"host": "broker.example.com", "tls": tls}
        mqtt = relay_of(options(relay_mqtt=True, relay_broker=own)).mqtt
        assert mqtt is not None and mqtt.port == port


def test_an_absolute_ca_file_is_kept(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x", encoding="utf-8")
    own = {"host": "b.example.com", "tls": True, "ca_file": str(ca)}
    mqtt = relay_of(options(relay_mqtt=True, relay_broker=own), config_dir="/nowhere").mqtt
    assert mqtt is not None and mqtt.ca_file == ca


def test_cleared_text_fields_count_as_not_given() -> None:
    own = {"host": "", "port": 1883, "username": "", "password": "", "tls": False}
    opts = options(relay_mqtt=True, relay_site="", relay_broker={**own, "port": ""})
    mqtt = relay_of(opts, mqtt=SUPERVISOR_BROKER).mqtt
    assert mqtt is not None and mqtt.host == "core-mosquitto"


def test_ha_discovery_on_an_own_broker() -> None:
    warnings: list[str] = []
    opts = options(relay_mqtt=True, relay_broker={"host": "b.example.com"}, relay_ha_discovery=True)
    mqtt = relay_of(opts, warnings=warnings).mqtt
    assert mqtt is not None and mqtt.discovery
    assert warnings == []


def test_ha_discovery_on_home_assistants_own_broker_is_warned_about() -> None:
    warnings: list[str] = []
    opts = options(relay_mqtt=True, relay_ha_discovery=True)
    mqtt = relay_of(opts, mqtt=SUPERVISOR_BROKER, warnings=warnings).mqtt
    assert mqtt is not None and mqtt.discovery
    (warning,) = warnings
    assert warning.startswith("relay_ha_discovery:") and "second time" in warning


# no broker: start without the MQTT sink ------------------------------------------------------


def test_without_a_broker_the_addon_starts_without_mqtt() -> None:
    warnings: list[str] = []
    config = check_options(
        options(
            relay_mqtt=True,
            remote_commands=True,
            remote_command_keys=[{"id": "k", "public_key": KEY}],
        ),
        warnings=warnings,
    )
    assert "relay" not in config and "mqtt" not in config
    (warning,) = warnings
    assert warning.startswith("relay_mqtt: no MQTT broker")
    assert "Mosquitto" in warning and "relay_broker" in warning
    assert "without the MQTT sink and remote commands" in warning
    assert "Alarms still reach Home Assistant" in warning


def test_without_a_broker_the_webhooks_still_run() -> None:
    warnings: list[str] = []
    relay = relay_of(
        options(relay_mqtt=True, remote_commands=True, relay_webhooks=[webhook()]),
        warnings=warnings,
    )
    assert relay.mqtt is None
    assert [hook.id for hook in relay.webhooks] == ["landlord"]
    assert not relay.remote_commands.enabled
    assert len(warnings) == 1 and "no MQTT broker" in warnings[0]


def test_an_unusable_announced_broker_is_like_none_and_its_password_is_not_shown() -> None:
    warnings: list[str] = []
    broker = {**SUPERVISOR_BROKER, "port": 99999}
    config = check_options(options(relay_mqtt=True), mqtt=broker, warnings=warnings)
    assert "relay" not in config and "mqtt" not in config
    assert any("unusable" in w and "port" in w for w in warnings), warnings
    assert not any(BROKER_PASSWORD in w for w in warnings)


# webhooks ------------------------------------------------------------------------------------


def test_webhooks_alone_switch_the_relay_on() -> None:
    hooks = [
        webhook(events="alarm_raised, alarm_cleared,wiring_fault_raised  heartbeat"),
        webhook(id="monitoring", url="https://monitor.example.net/in", secret=SECRET),
    ]
    relay = relay_of(options(relay_webhooks=hooks))
    assert relay.mqtt is None
    first, second = relay.webhooks
    assert (first.id, first.url, first.secret) == ("landlord", hooks[0]["url"], SECRET)
    assert first.events == frozenset(
        {"alarm_raised", "alarm_cleared", "wiring_fault_raised", "heartbeat"}
    )
    assert second.events is None  # every event
    assert not relay.remote_commands.enabled


def test_an_empty_events_field_means_every_event() -> None:
    (hook,) = relay_of(options(relay_webhooks=[webhook(events=" ")])).webhooks
    assert hook.events is None


def test_mqtt_and_webhooks_together() -> None:
    relay = relay_of(options(relay_mqtt=True, relay_webhooks=[webhook()]), mqtt=SUPERVISOR_BROKER)
    assert relay.mqtt is not None and len(relay.webhooks) == 1


# remote commands -----------------------------------------------------------------------------


def remote(**extra: Any) -> dict[str, Any]:
    return options(
        relay_mqtt=True,
        remote_commands=True,
        remote_command_keys=[{"id": "landlord-2026", "public_key": KEY}],
        **extra,
    )


def test_remote_commands_with_keys() -> None:
    commands = relay_of(remote(), mqtt=SUPERVISOR_BROKER).remote_commands
    assert commands.enabled
    assert [(key.id, key.public_key) for key in commands.keys] == [("landlord-2026", KEY)]
    assert commands.actions == {"acknowledge", "self_test", "mute"}
    assert not commands.allow_trip  # trip is off by default


def test_remote_trip_must_be_allowed_on_its_own() -> None:
    commands = relay_of(remote(remote_trip=True), mqtt=SUPERVISOR_BROKER).remote_commands
    assert commands.allow_trip
    assert commands.actions == {"acknowledge", "self_test", "mute", "trip"}


def test_no_combination_of_options_enables_remote_close() -> None:
    switches = ("relay_mqtt", "relay_ha_discovery", "remote_commands", "remote_trip")
    for values in itertools.product((False, True), repeat=len(switches)):
        opts = options(
            remote_command_keys=[{"id": "k", "public_key": KEY}],
            relay_webhooks=[webhook()],
            **dict(zip(switches, values, strict=True)),
        )
        relay = relay_of(opts, mqtt=SUPERVISOR_BROKER, warnings=[])
        assert "close" not in relay.remote_commands.actions
        assert relay.remote_commands.actions <= set(REMOTE_ACTIONS)
        if not (values[0] and values[2]):
            assert not relay.remote_commands.enabled
    # Nothing in the options names the actions, let alone close.
    assert not any("action" in str(key) or "close" in str(key) for key in OPTIONS_SCHEMA.schema)
    problems = problems_of(remote(remote_close=True), mqtt=SUPERVISOR_BROKER)
    assert problems == ["remote_close: extra keys not allowed"]


@pytest.mark.parametrize(
    ("change", "ignored"),
    [
        pytest.param({"remote_commands": True}, "remote_commands", id="commands-without-mqtt"),
        pytest.param({"relay_ha_discovery": True}, "relay_ha_discovery", id="discovery"),
        pytest.param({"remote_trip": True}, "remote_trip", id="trip-without-commands"),
        pytest.param({"relay_site": "flat-3"}, "relay_site", id="site-without-relay"),
    ],
)
def test_a_switch_that_is_off_never_stops_the_start(change: dict[str, Any], ignored: str) -> None:
    warnings: list[str] = []
    config = check_options(options(**change), mqtt=SUPERVISOR_BROKER, warnings=warnings)
    assert "relay" not in config and "mqtt" not in config
    assert len(warnings) == 1 and warnings[0].startswith(f"{ignored}: ignored"), warnings


def test_trip_without_remote_commands_is_ignored_with_mqtt_on() -> None:
    warnings: list[str] = []
    relay = relay_of(
        options(relay_mqtt=True, remote_trip=True), mqtt=SUPERVISOR_BROKER, warnings=warnings
    )
    assert not relay.remote_commands.enabled and not relay.remote_commands.allow_trip
    assert "trip" not in relay.remote_commands.actions
    assert warnings == ["remote_trip: ignored while remote_commands is off"]


# bad options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"relay_site": "flat 3"},
            "relay_site: use letters, digits, - _ . (at most 64)",
            id="bad-site",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(url="http://hooks.example.com/es")]},
            "relay_webhooks[0].url: must be https:// (plain http is accepted for localhost only)",
            id="plain-http",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(url="hooks.example.com")]},
            "relay_webhooks[0].url: must be an https:// URL",
            id="not-a-url",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(secret="hunter2-secret")]},
            "relay_webhooks[0].secret: must be a Standard Webhooks secret, whsec_<base64>",
            id="secret-not-whsec",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(secret="whsec_c2hvcnQ=")]},
            "relay_webhooks[0].secret: must hold 24 to 64 random bytes, not 5",
            id="secret-too-short",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(events="alarm_raised, alarm_raise")]},
            "relay_webhooks[0].events: unknown event 'alarm_raise'",
            id="misspelt-event",
        ),
        pytest.param(
            {"relay_webhooks": [webhook(), webhook(url="https://other.example.com/")]},
            "relay_webhooks[1].id: 'landlord' is used twice",
            id="webhook-id-twice",
        ),
        pytest.param(
            {"relay_webhooks": [{"id": "landlord", "url": "https://hooks.example.com/es"}]},
            "relay_webhooks[0].secret: required key not provided",
            id="webhook-without-secret",
        ),
        pytest.param(
            {"relay_mqtt": True, "relay_broker": {"username": "flat-3", "password": OWN_PASSWORD}},
            "relay_broker.host: give the broker's host for password, username, or clear "
            "relay_broker to use Home Assistant's MQTT broker",
            id="broker-without-host",
        ),
        pytest.param(
            {"relay_mqtt": True, "relay_broker": {"host": "b.example.com", "port": 0}},
            "relay_broker.port: value must be at least 1",
            id="broker-port",
        ),
        pytest.param(
            {"relay_mqtt": True, "relay_broker": {"host": "b.example.com", "ca_file": "no.crt"}},
            "relay_broker.ca_file: there is no file /nowhere/no.crt; put the broker's CA "
            "certificate in the add-on's configuration folder",
            id="missing-ca-file",
        ),
        pytest.param(
            {"relay_mqtt": True, "relay_broker": {"host": "b.example.com", "ca_file": "/"}},
            "relay_broker.ca_file: there is no file /",
            id="ca-file-a-folder",
        ),
        pytest.param(
            {"relay_mqtt": True, "remote_commands": True},
            "remote_command_keys: list at least one Ed25519 public key to accept signed commands",
            id="commands-without-keys",
        ),
        pytest.param(
            {
                "relay_mqtt": True,
                "remote_commands": True,
                "remote_command_keys": [{"id": "k", "public_key": "bm90IGEga2V5"}],
            },
            "remote_command_keys[0].public_key: an Ed25519 public key is 32 bytes, not 9",
            id="short-key",
        ),
        pytest.param(
            {
                "relay_mqtt": True,
                "remote_commands": True,
                "remote_command_keys": [{"id": "k", "public_key": "not base64!"}],
            },
            "remote_command_keys[0].public_key: an Ed25519 public key must be base64",
            id="key-not-base64",
        ),
        pytest.param(
            {
                "relay_mqtt": True,
                "remote_commands": True,
                "remote_command_keys": [
                    {"id": "k", "public_key": KEY},
                    {"id": "k", "public_key": KEY},
                ],
            },
            "remote_command_keys: every key needs its own id",
            id="key-id-twice",
        ),
        pytest.param(
            {"remote_command_keys": [{"id": "bad id", "public_key": KEY}]},
            "remote_command_keys[0].id: use letters, digits, - _ . (at most 64)",
            id="bad-key-id",
        ),
        pytest.param({"relay_mqtt": "yes"}, "relay_mqtt: expected bool", id="relay-mqtt-not-bool"),
    ],
)
def test_bad_relay_options_name_the_option_and_the_fix(
    change: dict[str, Any], expected: str
) -> None:
    problems = problems_of(options(**change), mqtt=SUPERVISOR_BROKER, config_dir="/nowhere")
    assert any(problem.startswith(expected) for problem in problems), problems


def test_ca_file_needs_tls(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("x", encoding="utf-8")
    own = {"host": "b.example.com", "ca_file": "ca.crt"}
    problems = problems_of(options(relay_mqtt=True, relay_broker=own), config_dir=str(tmp_path))
    assert problems == ["relay_broker.ca_file: only used with tls: true"]


def test_every_webhook_problem_is_reported_at_once() -> None:
    hooks = [webhook(url="http://example.com/"), webhook(id="b", secret="whsec_!!")]
    problems = problems_of(options(relay_webhooks=hooks))
    assert [p.split(":")[0] for p in problems] == [
        "relay_webhooks[0].url",
        "relay_webhooks[1].secret",
    ]


# secrets stay out of the log -----------------------------------------------------------------


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_main_takes_the_broker_from_a_file_and_logs_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opts = write_json(
        tmp_path / "options.json",
        options(relay_mqtt=True, relay_webhooks=[webhook()], relay_site="flat-3"),
    )
    broker = write_json(tmp_path / "broker.json", SUPERVISOR_BROKER)
    output = tmp_path / "bridge.yaml"
    assert (
        main([str(opts), str(output), "--data-dir", str(tmp_path), "--mqtt-json", str(broker)]) == 0
    )
    out, err = capsys.readouterr()
    assert "1 bus(es), 1 device(s)" in out
    assert "relay: MQTT to Home Assistant's MQTT broker (core-mosquitto:1883)" in out
    assert "1 webhook(s)" in out and "remote commands off" in out
    for secret in (BROKER_PASSWORD, SECRET, "hooks.example.com"):
        assert secret not in out + err
    assert err == ""
    # The configuration holds the secrets the bridge needs, readable by the add-on only.
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    written = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert written["mqtt"]["password"] == BROKER_PASSWORD
    relay = load_config(output).relay
    assert relay is not None and relay.mqtt is not None
    assert relay.mqtt.password == BROKER_PASSWORD
    assert relay.mqtt.host == "core-mosquitto"
    # Their reprs (what a log line of the settings would show) leave the secrets out.
    assert BROKER_PASSWORD not in repr(relay) and SECRET not in repr(relay)


def test_main_with_an_own_broker_logs_its_address_not_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = {"host": "broker.example.com", "password": OWN_PASSWORD, "username": "u", "tls": True}
    opts = write_json(
        tmp_path / "options.json",
        options(
            relay_mqtt=True,
            relay_broker=own,
            remote_commands=True,
            remote_trip=True,
            remote_command_keys=[{"id": "k", "public_key": KEY}],
        ),
    )
    assert main([str(opts), str(tmp_path / "bridge.yaml")]) == 0
    out, err = capsys.readouterr()
    assert "relay: MQTT to broker.example.com:8883" in out
    assert "remote commands on (1 key(s), trip allowed)" in out
    assert OWN_PASSWORD not in out + err


def test_bad_options_never_echo_a_password_or_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_secret = "whsec_" + "!" * 40
    opts = write_json(
        tmp_path / "options.json",
        options(
            relay_mqtt=True,
            relay_broker={"username": "flat-3", "password": OWN_PASSWORD, "port": 70000},
            relay_webhooks=[webhook(secret=bad_secret), webhook(id="x", secret=OWN_PASSWORD)],
            devices=[{"id": "d", "unit": 1}],
        ),
    )
    broker = write_json(tmp_path / "broker.json", SUPERVISOR_BROKER)
    output = tmp_path / "bridge.yaml"
    assert main([str(opts), str(output), "--mqtt-json", str(broker)]) == 1
    out, err = capsys.readouterr()
    assert "relay_broker.port" in err
    for secret in (OWN_PASSWORD, BROKER_PASSWORD, bad_secret, "!!!!"):
        assert secret not in out + err
    assert not output.exists()
    # The same, past the option checks: the bridge's own schema finds the bad secrets.
    write_json(
        opts,
        options(relay_webhooks=[webhook(secret=bad_secret), webhook(id="x", secret=OWN_PASSWORD)]),
    )
    assert main([str(opts), str(output)]) == 1
    out, err = capsys.readouterr()
    assert "relay_webhooks[0].secret: the part after whsec_ is not base64" in err
    assert "relay_webhooks[1].secret: must be a Standard Webhooks secret" in err
    for secret in (OWN_PASSWORD, bad_secret, "!!!!"):
        assert secret not in out + err


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        pytest.param(None, "cannot read Home Assistant's MQTT broker", id="missing"),
        pytest.param(b"", None, id="empty"),
        pytest.param(
            b'{"host": "h", "password": "' + BROKER_PASSWORD.encode(), "not JSON", id="cut"
        ),
        pytest.param(b"[1]", "not a JSON object", id="list"),
        pytest.param(b"\xff\xfe", "cannot read", id="not-utf8"),
    ],
)
def test_main_starts_without_mqtt_when_the_broker_file_is_unusable(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    warning: str | None,
) -> None:
    opts = write_json(tmp_path / "options.json", options(relay_mqtt=True))
    broker = tmp_path / "broker.json"
    if content is not None:
        broker.write_bytes(content)
    output = tmp_path / "bridge.yaml"
    assert main([str(opts), str(output), "--mqtt-json", str(broker)]) == 0
    out, err = capsys.readouterr()
    if warning is not None:
        assert f"Warning: relay_mqtt: {warning}" in err or warning in err
    assert "Warning: relay_mqtt: no MQTT broker" in err
    assert BROKER_PASSWORD not in out + err
    assert "relay off" in out
    assert load_config(output).relay is None
