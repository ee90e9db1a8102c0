"""The ``relay:`` section of the bridge configuration, and the add-on's ``mqtt`` key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from electrical_safety_bridge.config.bridge_config import ConfigError, parse_config
from electrical_safety_bridge.relay.signing import new_webhook_secret

KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # RFC 8032 test 1's public key


def base(**extra: Any) -> dict[str, Any]:
    return {
        "data_dir": "/tmp/data",
        "buses": [
            {
                "id": "line",
                "tcp": "127.0.0.1:502",
                "devices": [{"id": "d", "unit": 1, "profile": "ASJ"}],
            }
        ],
        **extra,
    }


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "bridge.yaml")
    return caught.value.problems


def test_no_relay_section_means_no_relay() -> None:
    assert parse_config(base(), "t").relay is None
    # The add-on's Supervisor broker alone does not switch the relay on.
    config = parse_config(base(mqtt={"host": "core-mosquitto", "port": 1883}), "t")
    assert config.relay is None


def test_a_full_relay_section() -> None:
    secret = new_webhook_secret()
    config = parse_config(
        base(
            relay={
                "site": "flat-3",
                "mqtt": {
                    "host": "broker.example.com",
                    "username": "u",
                    "password": "broker-secret-9",
                    "tls": True,
                    "ca_file": "/ssl/ca.crt",
                    "cert_file": "/ssl/client.crt",
                    "key_file": "/ssl/client.key",
                    "discovery": True,
                },
                "webhooks": [
                    {"id": "a", "url": "https://hooks.example.com/x", "secret": secret},
                    {
                        "id": "b",
                        "url": "http://localhost:8080/y",
                        "secret": secret,
                        "events": ["alarm_raised", "heartbeat"],
                    },
                ],
                "remote_commands": {
                    "enabled": True,
                    "keys": [{"id": "landlord", "public_key": KEY}],
                    "allow_trip": True,
                },
                "heartbeat": 30,
            }
        ),
        "t",
    )
    relay = config.relay
    assert relay is not None and relay.mqtt is not None
    assert relay.site == "flat-3"
    assert (relay.mqtt.port, relay.mqtt.tls, relay.mqtt.ca_file) == (
        8883,
        True,
        Path("/ssl/ca.crt"),
    )
    assert relay.mqtt.session_expiry == 7 * 24 * 3600
    assert relay.heartbeat == 30
    assert relay.webhooks[1].events == frozenset({"alarm_raised", "heartbeat"})
    assert relay.webhooks[1].wants("event", "alarm_raised")
    assert not relay.webhooks[1].wants("event", "device_offline")
    assert relay.webhooks[0].wants("telemetry", "telemetry")
    assert relay.remote_commands.actions == frozenset({"acknowledge", "self_test", "mute", "trip"})
    assert "broker-secret-9" not in repr(relay.mqtt)
    assert secret not in repr(relay.webhooks[0])


def test_the_add_on_broker_fills_in_when_the_user_set_none() -> None:
    supervisor = {
        "host": "core-mosquitto",
        "port": 1883,
        "username": "addons",
        "password": "x" * 64,
        "ssl": False,
        "protocol": "3.1.1",  # extra keys from Supervisor are ignored
    }
    config = parse_config(base(mqtt=supervisor, relay={"mqtt": {}}), "t")
    assert config.relay is not None and config.relay.mqtt is not None
    mqtt = config.relay.mqtt
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.tls) == (
        "core-mosquitto",
        1883,
        "addons",
        False,
    )
    assert mqtt.password == "x" * 64
    assert "Supervisor" in mqtt.source
    # A broker the user names wins over Supervisor's.
    own = parse_config(base(mqtt=supervisor, relay={"mqtt": {"host": "landlord.example"}}), "t")
    assert own.relay is not None and own.relay.mqtt is not None
    assert own.relay.mqtt.host == "landlord.example"
    assert own.relay.mqtt.username is None


def test_every_problem_is_named_at_once() -> None:
    found = problems(
        base(
            relay={
                "mqtt": {"cert_file": "/c.crt"},
                "webhooks": [
                    {"id": "a", "url": "http://hooks.example.com/x", "secret": "plain"},
                    {"id": "b", "url": "https://ok.example.com", "secret": "whsec_AAAA"},
                ],
                "remote_commands": {
                    "enabled": True,
                    "actions": ["close"],
                    "keys": [{"id": "k", "public_key": "too short"}],
                },
            }
        )
    )
    text = "\n".join(found)
    assert "relay.webhooks[0].url: must be https://" in text
    assert "relay.webhooks[0].secret: must be a Standard Webhooks secret" in text
    assert "relay.webhooks[1].secret: must hold 24 to 64 random bytes" in text
    assert (
        "relay.remote_commands.actions[0]: one of acknowledge, self_test, mute, trip (never close)"
        in text
    )
    assert "relay.remote_commands.keys[0].public_key" in text


def test_cross_key_problems() -> None:
    text = "\n".join(
        problems(
            base(
                relay={
                    "mqtt": {"cert_file": "/c.crt", "key_file": "/c.key"},
                    "remote_commands": {"enabled": True, "actions": ["trip"]},
                    "retry_min": 10,
                    "retry_max": 5,
                }
            )
        )
    )
    assert "relay.mqtt.host: give the broker's host" in text
    assert "relay.remote_commands.keys: list at least one Ed25519 public key" in text
    assert "relay.remote_commands.actions: trip also needs allow_trip: true" in text
    assert "relay.retry_min: must not exceed retry_max" in text
    text = "\n".join(problems(base(relay={"webhooks": []})))
    assert "relay: give mqtt, webhooks or both" in text
    text = "\n".join(
        problems(
            base(
                relay={
                    "mqtt": {"host": "h", "cert_file": "/c.crt"},
                    "remote_commands": {
                        "enabled": True,
                        "keys": [{"id": "k", "public_key": KEY}, {"id": "k", "public_key": KEY}],
                    },
                }
            )
        )
    )
    assert "relay.mqtt.cert_file: only used with tls: true" in text
    assert "relay.remote_commands.keys: every key needs its own id" in text


def test_the_documented_example_is_valid() -> None:
    docs = (Path(__file__).resolve().parents[2] / "addon" / "DOCS.md").read_text()
    # Fenced as "yaml relay": the add-on's packaging test takes plain yaml blocks as options.
    start = docs.index("```yaml relay\nrelay:") + len("```yaml relay\n")
    example = yaml.safe_load(docs[start : docs.index("```", start)])
    config = parse_config(base(**example), "DOCS.md")
    assert config.relay is not None and config.relay.mqtt is not None
    assert config.relay.mqtt.discovery
    assert not config.relay.remote_commands.enabled
