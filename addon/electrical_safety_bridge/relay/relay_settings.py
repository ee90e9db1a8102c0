"""The relay's configuration: the ``relay:`` section of the bridge YAML, validated at the edge.

``config/bridge_config.py`` embeds :data:`RELAY_SCHEMA` and :data:`BROKER_SCHEMA` in its own
schema and calls :func:`relay_config` to turn the validated dictionaries into a
:class:`RelayConfig`. This module imports nothing heavier than voluptuous, so loading a
configuration never pulls in the MQTT client or the cryptography package.

Broker selection: ``relay.mqtt`` names the landlord's broker. When it has no ``host``, the
broker comes from the top-level ``mqtt`` key, the shape the add-on gets from Supervisor's
``services: mqtt`` API (``{host, port, username, password, ssl}``). A ``relay.mqtt`` section is
still needed to switch the MQTT sink on (``mqtt: {}`` means "Supervisor's broker, defaults").
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from ..validation import each, finite, integer

DEFAULT_TOPIC_PREFIX = "electrical_safety"
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
DEFAULT_HEARTBEAT_S = 60.0
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
DEFAULT_OUTBOX_MAX_MB = 64.0
DEFAULT_TELEMETRY_INTERVAL_S = 60.0
DEFAULT_COMMAND_WINDOW_S = 300.0
#: What remote commands may ever do. ``close`` is not here and can never be added.
REMOTE_ACTIONS = ("acknowledge", "self_test", "mute", "trip")
DEFAULT_REMOTE_ACTIONS = ("acknowledge", "self_test", "mute")

_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID = vol.All(str, vol.Match(_ID_RE, msg="letters, digits, - _ . (at most 64)"))
_TOPIC_PART = vol.All(
    str,
    vol.Match(
        r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", msg="topic levels of letters, digits, - _ ."
    ),
)
_PORT = vol.All(integer, vol.Range(min=1, max=65535))
_POSITIVE = vol.All(finite, vol.Range(min=0.01))


def _webhook_secret(value: Any) -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 24 to 64 random bytes."""
    if not isinstance(value, str) or not value.startswith("whsec_"):
        raise vol.Invalid("must be a Standard Webhooks secret, whsec_<base64>")
    try:
        raw = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise vol.Invalid("the part after whsec_ is not base64") from None
    if not 24 <= len(raw) <= 64:
        raise vol.Invalid(f"must hold 24 to 64 random bytes, not {len(raw)}")
    return value


def decode_public_key(value: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as base64 (standard or URL-safe)."""
    text = value.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an Ed25519 public key must be base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    return raw


def _public_key(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("must be the base64 of a 32-byte Ed25519 public key")
    try:
        decode_public_key(value)
    except ValueError as exc:
        raise vol.Invalid(str(exc)) from None
    return value.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook_url(value: Any) -> str:
    """HTTPS, or plain HTTP to this machine only (a local receiver or a test)."""
    if not isinstance(value, str):
        raise vol.Invalid("must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise vol.Invalid("must be an https:// URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise vol.Invalid("must be https:// (plain http is accepted for localhost only)")
    return value


BROKER_SCHEMA = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port"): _PORT,
        vol.Optional("username"): vol.Any(None, str),
        vol.Optional("password"): vol.Any(None, str),
        vol.Optional("ssl", default=False): bool,
    },
    extra=vol.REMOVE_EXTRA,
)
"""The top-level ``mqtt`` key: the broker Supervisor announces (``GET /services/mqtt``)."""

_MQTT = vol.Schema(
    {
        vol.Optional("host"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port"): _PORT,
        vol.Optional("username"): str,
        vol.Optional("password"): str,
        vol.Optional("tls"): bool,
        vol.Optional("ca_file"): vol.All(str, vol.Length(min=1)),
        vol.Optional("cert_file"): vol.All(str, vol.Length(min=1)),
        vol.Optional("key_file"): vol.All(str, vol.Length(min=1)),
        vol.Optional("client_id"): vol.All(str, vol.Length(min=1, max=128)),
        vol.Optional("topic_prefix", default=DEFAULT_TOPIC_PREFIX): _TOPIC_PART,
        vol.Optional("keepalive", default=60): vol.All(integer, vol.Range(min=5, max=3600)),
        vol.Optional("session_expiry", default=DEFAULT_SESSION_EXPIRY_S): vol.All(
            integer, vol.Range(min=0, max=0xFFFFFFFF)
        ),
        vol.Optional("discovery", default=False): bool,
        vol.Optional("discovery_prefix", default=DEFAULT_DISCOVERY_PREFIX): _TOPIC_PART,
        vol.Optional("max_inflight", default=100): vol.All(integer, vol.Range(min=1, max=1000)),
        vol.Optional("reconnect_min", default=1.0): _POSITIVE,
        vol.Optional("reconnect_max", default=60.0): _POSITIVE,
    }
)

_WEBHOOK = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("url"): _webhook_url,
        vol.Required("secret"): _webhook_secret,
        vol.Optional("events"): vol.All([vol.All(str, vol.Length(min=1))], vol.Length(min=1)),
        vol.Optional("timeout", default=10.0): _POSITIVE,
        vol.Optional("ca_file"): vol.All(str, vol.Length(min=1)),
    }
)

_KEY = vol.Schema({vol.Required("id"): _ID, vol.Required("public_key"): _public_key})

_REMOTE = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("keys", default=list): each(_KEY),
        vol.Optional("actions", default=list(DEFAULT_REMOTE_ACTIONS)): [
            vol.In(REMOTE_ACTIONS, msg=f"one of {', '.join(REMOTE_ACTIONS)} (never close)")
        ],
        vol.Optional("allow_trip", default=False): bool,
        vol.Optional("window", default=DEFAULT_COMMAND_WINDOW_S): vol.All(
            finite, vol.Range(min=1, max=DEFAULT_COMMAND_WINDOW_S)
        ),
    }
)

RELAY_SCHEMA = vol.Schema(
    {
        vol.Optional("site"): _ID,
        vol.Optional("mqtt"): vol.Any(None, _MQTT),
        vol.Optional("webhooks", default=list): each(_WEBHOOK),
        vol.Optional("remote_commands", default=dict): _REMOTE,
        vol.Optional("outbox_max_mb", default=DEFAULT_OUTBOX_MAX_MB): vol.All(
            finite, vol.Range(min=0.01)
        ),
        vol.Optional("telemetry_interval", default=DEFAULT_TELEMETRY_INTERVAL_S): vol.All(
            finite, vol.Range(min=0)
        ),
        vol.Optional("heartbeat", default=DEFAULT_HEARTBEAT_S): vol.All(
            finite, vol.Range(min=0.05)
        ),
        vol.Optional("retry_min", default=1.0): _POSITIVE,
        vol.Optional("retry_max", default=900.0): _POSITIVE,
    }
)
"""The ``relay:`` section. Its presence switches the relay on."""


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The MQTT sink: one broker, TLS and credentials, topics, session and heartbeat."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    client_id: str | None = None
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    keepalive: int = 60
    session_expiry: int = DEFAULT_SESSION_EXPIRY_S
    discovery: bool = False
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    max_inflight: int = 100
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    source: str = "relay.mqtt"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """One HTTPS endpoint, its Standard Webhooks secret and the event types it wants."""

    id: str
    url: str
    secret: str = field(repr=False)
    events: frozenset[str] | None = None  # None: every event, telemetry, gap and heartbeat
    timeout: float = 10.0
    ca_file: Path | None = None

    def wants(self, kind: str, type_: str) -> bool:
        """Whether a message of this kind (event, telemetry, gap, heartbeat) and type is sent."""
        return self.events is None or type_ in self.events or kind in self.events


@dataclass(frozen=True, slots=True)
class CommandKey:
    """A landlord's Ed25519 public key, named so commands can say which key signed them."""

    id: str
    public_key: str


@dataclass(frozen=True, slots=True)
class RemoteCommandSettings:
    """Signed commands over the MQTT subscription. Off by default; close is never accepted."""

    enabled: bool = False
    keys: tuple[CommandKey, ...] = ()
    actions: frozenset[str] = frozenset(DEFAULT_REMOTE_ACTIONS)
    allow_trip: bool = False
    window: float = DEFAULT_COMMAND_WINDOW_S


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Off-site delivery: the outbox and its sinks."""

    site: str | None = None
    mqtt: MqttSettings | None = None
    webhooks: tuple[WebhookSettings, ...] = ()
    remote_commands: RemoteCommandSettings = RemoteCommandSettings()
    outbox_max_mb: float = DEFAULT_OUTBOX_MAX_MB
    telemetry_interval: float = DEFAULT_TELEMETRY_INTERVAL_S
    heartbeat: float = DEFAULT_HEARTBEAT_S
    retry_min: float = 1.0
    retry_max: float = 900.0


def _mqtt_settings(
    section: Mapping[str, Any], broker: Mapping[str, Any] | None, problems: list[str]
) -> MqttSettings | None:
    if "host" in section:
        tls = bool(section.get("tls", False))
        host = str(section["host"])
        source = "relay.mqtt"
        username = section.get("username")
        password = section.get("password")
        port = section.get("port")
    elif broker is not None:
        tls = bool(section.get("tls", broker.get("ssl", False)))
        host = str(broker["host"])
        source = "mqtt (Supervisor's broker)"
        username = section.get("username", broker.get("username"))
        password = section.get("password", broker.get("password"))
        port = section.get("port", broker.get("port"))
    else:
        problems.append(
            "relay.mqtt.host: give the broker's host (no broker was announced by Supervisor)"
        )
        return None
    for key in ("ca_file", "cert_file", "key_file"):
        if key in section and not tls:
            problems.append(f"relay.mqtt.{key}: only used with tls: true")
    if "key_file" in section and "cert_file" not in section:
        problems.append("relay.mqtt.key_file: give cert_file too (the client certificate)")
    if section["reconnect_min"] > section["reconnect_max"]:
        problems.append("relay.mqtt.reconnect_min: must not exceed reconnect_max")
    return MqttSettings(
        host=host,
        port=int(port) if port is not None else (8883 if tls else 1883),
        username=username or None,
        password=password or None,
        tls=tls,
        ca_file=Path(section["ca_file"]) if "ca_file" in section else None,
        cert_file=Path(section["cert_file"]) if "cert_file" in section else None,
        key_file=Path(section["key_file"]) if "key_file" in section else None,
        client_id=section.get("client_id"),
        topic_prefix=section["topic_prefix"],
        keepalive=section["keepalive"],
        session_expiry=section["session_expiry"],
        discovery=section["discovery"],
        discovery_prefix=section["discovery_prefix"],
        max_inflight=section["max_inflight"],
        reconnect_min=section["reconnect_min"],
        reconnect_max=section["reconnect_max"],
        source=source,
    )


def relay_config(
    relay: Mapping[str, Any] | None, broker: Mapping[str, Any] | None, problems: list[str]
) -> RelayConfig | None:
    """The relay settings from the validated ``relay`` and ``mqtt`` sections; None when off.

    Problems that need more than one key to see are appended to ``problems`` with their path.
    """
    if relay is None:
        return None
    mqtt = None
    if relay.get("mqtt") is not None:
        mqtt = _mqtt_settings(relay["mqtt"], broker, problems)
    webhooks: list[WebhookSettings] = []
    seen: set[str] = set()
    for index, hook in enumerate(relay["webhooks"]):
        if hook["id"] in seen:
            problems.append(f"relay.webhooks[{index}].id: '{hook['id']}' is used twice")
        seen.add(hook["id"])
        webhooks.append(
            WebhookSettings(
                id=hook["id"],
                url=hook["url"],
                secret=hook["secret"],
                events=frozenset(hook["events"]) if "events" in hook else None,
                timeout=hook["timeout"],
                ca_file=Path(hook["ca_file"]) if "ca_file" in hook else None,
            )
        )
    if relay.get("mqtt") is None and not webhooks:
        problems.append("relay: give mqtt, webhooks or both (where should events go?)")
    remote = relay["remote_commands"]
    key_ids = [key["id"] for key in remote["keys"]]
    if len(set(key_ids)) != len(key_ids):
        problems.append("relay.remote_commands.keys: every key needs its own id")
    if remote["enabled"]:
        if relay.get("mqtt") is None:
            problems.append(
                "relay.remote_commands.enabled: remote commands arrive over MQTT only;"
                " configure relay.mqtt"
            )
        if not remote["keys"]:
            problems.append(
                "relay.remote_commands.keys: list at least one Ed25519 public key to accept"
                " signed commands"
            )
    if "trip" in remote["actions"] and not remote["allow_trip"]:
        problems.append("relay.remote_commands.actions: trip also needs allow_trip: true")
    if relay["retry_min"] > relay["retry_max"]:
        problems.append("relay.retry_min: must not exceed retry_max")
    actions = set(remote["actions"])
    if remote["allow_trip"]:
        actions.add("trip")
    return RelayConfig(
        site=relay.get("site"),
        mqtt=mqtt,
        webhooks=tuple(webhooks),
        remote_commands=RemoteCommandSettings(
            enabled=remote["enabled"],
            keys=tuple(CommandKey(key["id"], key["public_key"]) for key in remote["keys"]),
            actions=frozenset(actions),
            allow_trip=remote["allow_trip"],
            window=remote["window"],
        ),
        outbox_max_mb=relay["outbox_max_mb"],
        telemetry_interval=relay["telemetry_interval"],
        heartbeat=relay["heartbeat"],
        retry_min=relay["retry_min"],
        retry_max=relay["retry_max"],
    )
