"""The add-on's options (``/data/options.json``) translated into the bridge configuration.

Supervisor's option schema allows nesting only two levels deep, so the add-on cannot nest a
list of devices inside each bus the way the bridge's YAML does. Its options are flat instead:
a ``buses`` list and a ``devices`` list whose entries name their bus. This module turns them
into the dictionary :data:`config.CONFIG_SCHEMA` accepts, and reports every problem with the
option names the person sees in the Configuration tab, not the bridge's internal keys.

The site is the ``site`` option (a dict of plain values) and its contracts the
``site_contracts`` list; a device's installation is flat in its entry (``ct_rating_a``,
``ct_location``, ``circuit``, ``circuit_rated_current_a``, ``room``), since an ``installation``
dict inside a device would nest three deep. They become the ``site:`` block and each device's
``installation:`` (config/site_config.py), whose problems are named by these options.

The off-site relay (``relay/``) is configured by flat ``relay_*`` and ``remote_*`` options; they
become the ``relay:`` section that :mod:`..relay.relay_settings` reads. Without an own broker
(``relay_broker.host``) the relay's MQTT sink uses Home Assistant's broker, which the ``run``
script fetches from Supervisor (``services: mqtt``) and hands over in a 0600 file, never on the
command line. When no broker is available the add-on starts without the MQTT sink and says so:
alarms still reach Home Assistant.

``python3 -m electrical_safety_bridge.config.addon_options OPTIONS_JSON BRIDGE_YAML`` is the
step the add-on's ``run`` script takes before it starts the bridge.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from ..common.enums import EventType
from ..relay.messages import (
    GAP_TYPE,
    HEARTBEAT_TYPE,
    KIND_EVENT,
    KIND_GAP,
    KIND_HEARTBEAT,
    KIND_TELEMETRY,
    TELEMETRY_TYPE,
)
from ..relay.relay_settings import BROKER_SCHEMA
from .bridge_config import ConfigError, parse_config

# The ports inside the container; config.yaml maps none of them to the host by default.
API_PORT = 8765
#: The web UI through Home Assistant's ingress (config.yaml's ingress_port).
INGRESS_PORT = 8099
GATEWAY_TCP_PORT = 502
GATEWAY_RTU_OVER_TCP_PORT = 503
# The bridge listens on every interface of the container: Home Assistant Core reaches it
# over Supervisor's internal network by the add-on's hostname.
LISTEN_ALL = "0.0.0.0"
SOURCE = "add-on options"
# The add-on's own config folder (the ``addon_config`` map): relative file names in the options,
# such as a CA certificate, are looked up there.
CONFIG_DIR = "/config"
# What a person sees for the broker Supervisor announces.
HA_BROKER = "Home Assistant's MQTT broker"

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID = vol.All(str, vol.Match(_ID_PATTERN, msg="use letters, digits, - _ . (at most 64)"))
_BAUDRATES = ("1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200")

_BUS_OPTIONS = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Optional("device"): vol.All(str, vol.Length(min=1)),
        vol.Optional("host"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port"): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("protocol"): vol.In(["modbus_tcp", "rtu_over_tcp"]),
        vol.Optional("baudrate"): vol.All(vol.Coerce(str), vol.In(_BAUDRATES)),
        vol.Optional("parity"): vol.In(["N", "E", "O"]),
        vol.Optional("stopbits"): vol.All(int, vol.In([1, 2])),
        vol.Optional("alarm_poll_seconds"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
        vol.Optional("telemetry_poll_seconds"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
        vol.Optional("offline_after_seconds"): vol.All(int, vol.Range(min=1, max=100)),
    }
)

_DEVICE_OPTIONS = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Optional("bus"): vol.All(str, vol.Length(min=1)),
        vol.Required("unit"): vol.All(int, vol.Range(min=1, max=247)),
        vol.Required("profile"): vol.All(str, vol.Length(min=1)),
        vol.Optional("name"): str,
        vol.Optional("area"): str,
        # The installation, flat (see the module's docstring); ranges are the bridge's.
        vol.Optional("ct_rating_a"): vol.Coerce(float),
        vol.Optional("ct_location"): str,
        vol.Optional("circuit"): str,
        vol.Optional("circuit_rated_current_a"): vol.Coerce(float),
        vol.Optional("room"): str,
        # The proof (config/proof_config.py): this detector's own self-test interval, or off.
        vol.Optional("self_test_every_days"): vol.All(int, vol.Range(min=1, max=366)),
        vol.Optional("self_test"): bool,
    }
)
#: A device option and the installation key it becomes.
INSTALLATION_OPTIONS = ("ct_rating_a", "ct_location", "circuit", "circuit_rated_current_a", "room")

# The site's options check types only; the values are checked by the bridge's own schema
# (config/site_config.py), and its problems keep these names.
_SITE_OPTIONS = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("id"): str,
        vol.Optional("region"): str,
        vol.Optional("latitude"): vol.Coerce(float),
        vol.Optional("longitude"): vol.Coerce(float),
        vol.Optional("supply_system"): str,
    }
)

_CONTRACT_OPTIONS = vol.Schema(
    {vol.Required("unit"): str, vol.Required("value"): vol.Coerce(float)}
)

# The relay's options check types only; formats (https URLs, whsec_ secrets, Ed25519 keys) are
# checked by the relay's own schema in parse_config, and its problems renamed to these options.
_BROKER_OPTIONS = vol.Schema(
    {
        vol.Optional("host"): str,
        vol.Optional("port"): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("username"): str,
        vol.Optional("password"): str,
        vol.Optional("tls"): bool,
        vol.Optional("ca_file"): str,
    }
)

_WEBHOOK_OPTIONS = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("url"): vol.All(str, vol.Length(min=1)),
        vol.Required("secret"): vol.All(str, vol.Length(min=1)),
        vol.Optional("events"): str,
    }
)

#: The early-warning tunables (config/early_warning_settings.py, less the demo's clock);
#: how they fit together is checked with the rest of the bridge's configuration.
_EARLY_WARNING_OPTIONS = vol.Schema(
    {
        vol.Optional("enabled"): bool,
        vol.Optional("window_days"): int,
        vol.Optional("min_days"): int,
        vol.Optional("horizon_days"): vol.Coerce(float),
        vol.Optional("clear_horizon_days"): vol.Coerce(float),
        vol.Optional("significance"): vol.Coerce(float),
        vol.Optional("min_rise_share"): vol.Coerce(float),
        vol.Optional("daily_percentile"): vol.Coerce(float),
    }
)

_KEY_OPTIONS = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("public_key"): vol.All(str, vol.Length(min=1)),
    }
)

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("log_level", default="info"): vol.In(["debug", "info", "warning", "error"]),
        vol.Optional("retention_days", default=3650): vol.All(int, vol.Range(min=1)),
        vol.Optional("buses", default=list): [_BUS_OPTIONS],
        vol.Optional("devices", default=list): [_DEVICE_OPTIONS],
        vol.Optional("gateway_modbus_tcp", default=False): bool,
        vol.Optional("gateway_rtu_over_tcp", default=False): bool,
        vol.Optional("gateway_allow_writes", default=False): bool,
        vol.Optional("site", default=dict): _SITE_OPTIONS,
        vol.Optional("site_contracts", default=list): [_CONTRACT_OPTIONS],
        vol.Optional("relay_site"): _ID,
        vol.Optional("relay_mqtt", default=False): bool,
        vol.Optional("relay_broker", default=dict): _BROKER_OPTIONS,
        vol.Optional("relay_ha_discovery", default=False): bool,
        vol.Optional("relay_webhooks", default=list): [_WEBHOOK_OPTIONS],
        vol.Optional("remote_commands", default=False): bool,
        vol.Optional("remote_command_keys", default=list): [_KEY_OPTIONS],
        vol.Optional("remote_trip", default=False): bool,
        # The proof (config/proof_config.py): self-test schedule and inspections tracked.
        vol.Optional("self_test_every_days"): vol.All(int, vol.Range(min=1, max=366)),
        vol.Optional("self_test_at"): str,
        vol.Optional("inspections_track"): str,
        vol.Optional("cn_patrol_every_days"): vol.All(int, vol.Range(min=1, max=366)),
        vol.Optional("early_warning", default=dict): _EARLY_WARNING_OPTIONS,
    }
)

#: The names a webhook's ``events`` may list: event types, and the kinds of other messages.
WEBHOOK_EVENT_NAMES = frozenset(
    {event.value for event in EventType}
    | {KIND_EVENT, KIND_TELEMETRY, KIND_GAP, KIND_HEARTBEAT}
    | {TELEMETRY_TYPE, GAP_TYPE, HEARTBEAT_TYPE}
)


def _path_text(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _line(bus: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """The bus's line keys in the bridge's terms: serial, tcp or rtu_over_tcp."""
    device, host = bus.get("device"), bus.get("host")
    if device and host:
        problems.append(
            f"{where}: give either device (a USB adapter) or host (a gateway), not both"
        )
        return {}
    if device:
        if "port" in bus or "protocol" in bus:
            problems.append(f"{where}: port and protocol are for a gateway (host), not a device")
        return {"serial": device}
    if host:
        if "port" not in bus:
            problems.append(f"{where}.port: give the gateway's TCP port, usually 502")
            return {}
        kind = "rtu_over_tcp" if bus.get("protocol") == "rtu_over_tcp" else "tcp"
        return {kind: _host_port(host, bus["port"])}
    problems.append(
        f"{where}: give device (a /dev/serial/by-id/ path) or host and port (a Modbus gateway)"
    )
    return {}


def _placement(options: Mapping[str, Any], problems: list[str]) -> list[list[int]]:
    """For each bus, the indices in ``options['devices']`` of the devices on it, in order."""
    buses = [bus["id"] for bus in options["buses"]]
    placed: list[list[int]] = [[] for _ in buses]
    for index, device in enumerate(options["devices"]):
        where = f"devices[{index}].bus"
        name = device.get("bus")
        if name is None:
            if len(buses) == 1:
                placed[0].append(index)
            elif buses:
                problems.append(f"{where}: name the bus of this device, one of {', '.join(buses)}")
            continue
        if name not in buses:
            known = ", ".join(buses) or "none configured"
            problems.append(f"{where}: there is no bus '{name}' (buses: {known})")
            continue
        placed[buses.index(name)].append(index)
    return placed


def options_to_config(
    options: Mapping[str, Any],
    *,
    data_dir: str = "/data",
    api_port: int = API_PORT,
    profile_dir: str = "/config/profiles",
    config_dir: str = CONFIG_DIR,
    mqtt: Mapping[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The bridge configuration for these add-on options, or ConfigError naming each problem.

    ``profile_dir`` is the ``profiles`` folder of the add-on's own config folder (the
    ``addon_config`` map, ``config_dir`` inside the container), where users put their profiles.
    ``mqtt`` is the local broker Supervisor announces (``GET /services/mqtt``); it becomes the
    ``mqtt`` section when the relay's MQTT sink uses it, and only then. ``warnings`` receives
    what is ignored or left out without stopping the start, such as the MQTT sink when MQTT
    is on but there is no broker.
    """
    try:
        valid = _validate(options)
    except vol.MultipleInvalid as exc:
        raise ConfigError(SOURCE, [f"{_path_text(e.path)}: {e.msg}" for e in exc.errors]) from None
    problems: list[str] = []
    notes = warnings if warnings is not None else []
    if not valid["buses"]:
        problems.append(
            "buses: add at least one bus: a USB RS485 adapter (device) or a Modbus gateway "
            "(host and port)"
        )
    if not valid["devices"]:
        problems.append("devices: add at least one detector, with its bus, unit and profile")
    placement = _placement(valid, problems)
    buses: list[dict[str, Any]] = []
    for index, (bus, members) in enumerate(zip(valid["buses"], placement, strict=True)):
        where = f"buses[{index}]"
        entry: dict[str, Any] = {"id": bus["id"], **_line(bus, where, problems)}
        if "baudrate" in bus:
            entry["baudrate"] = int(bus["baudrate"])
        for key in ("parity", "stopbits"):
            if key in bus:
                entry[key] = bus[key]
        poll = {
            name: bus[option]
            for name, option in (
                ("alarm", "alarm_poll_seconds"),
                ("telemetry", "telemetry_poll_seconds"),
            )
            if option in bus
        }
        if poll:
            entry["poll"] = poll
        if "offline_after_seconds" in bus:
            entry["offline_after"] = bus["offline_after_seconds"]
        if not members and valid["devices"]:
            problems.append(f"{where}: no device names bus '{bus['id']}'; add one or remove it")
        entry["devices"] = [
            _device(valid["devices"][i]) | _device_self_test(valid["devices"][i]) for i in members
        ]
        buses.append(entry)
    relay, broker = _relay(valid, mqtt, Path(config_dir), problems, notes)
    site = _site(valid, problems)
    if problems:
        raise ConfigError(SOURCE, problems)
    gateway: dict[str, Any] = {"host": LISTEN_ALL, "allow_writes": valid["gateway_allow_writes"]}
    if valid["gateway_modbus_tcp"]:
        gateway["tcp_port"] = GATEWAY_TCP_PORT
    if valid["gateway_rtu_over_tcp"]:
        gateway["rtu_over_tcp_port"] = GATEWAY_RTU_OVER_TCP_PORT
    config: dict[str, Any] = {
        "data_dir": data_dir,
        "profile_dir": profile_dir,
        "api": {"host": LISTEN_ALL, "port": api_port, "ingress_port": INGRESS_PORT},
        "retention_days": valid["retention_days"],
        "gateway": gateway,
        "buses": buses,
    }
    if site is not None:
        config["site"] = site
    config |= _proof_options(valid)
    if broker is not None:
        config["mqtt"] = broker
    if relay is not None:
        config["relay"] = relay
    if valid["early_warning"]:
        config["early_warning"] = dict(valid["early_warning"])
    return config


def _device(option: Mapping[str, Any]) -> dict[str, Any]:
    """A device entry of the bridge configuration, its installation options as a block."""
    device = {k: option[k] for k in ("id", "unit", "profile", "name", "area") if k in option}
    installation = {k: option[k] for k in INSTALLATION_OPTIONS if k in option}
    if installation:
        device["installation"] = installation
    return device


def _site(valid: Mapping[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """The ``site:`` block of the ``site`` and ``site_contracts`` options; None when empty."""
    site = dict(valid["site"])
    contracts = [dict(contract) for contract in valid["site_contracts"]]
    if not site and not contracts:
        return None
    if "name" not in site:
        given = sorted(site) + (["site_contracts"] if contracts else [])
        problems.append(
            f"site.name: give the site's name (for example Flat 3) to use {', '.join(given)}"
        )
        return None
    return {**site, "contracts": contracts}


def _device_self_test(device: Mapping[str, Any]) -> dict[str, Any]:
    """A detector's ``self_test`` block from its options (none when it keeps the default)."""
    own: dict[str, Any] = {}
    if "self_test_every_days" in device:
        own["every_days"] = device["self_test_every_days"]
    if device.get("self_test") is False:
        own["enabled"] = False
    return {"self_test": own} if own else {}


def _proof_options(valid: Mapping[str, Any]) -> dict[str, Any]:
    """The ``self_test`` and ``inspections`` blocks from the flat options; the bridge's own
    schema checks the values and names the option at fault (see ``check_options``)."""
    config: dict[str, Any] = {}
    self_test = {
        key: valid[option]
        for key, option in (("every_days", "self_test_every_days"), ("at", "self_test_at"))
        if valid.get(option) not in (None, "")
    }
    if self_test:
        config["self_test"] = self_test
    track = [k.strip() for k in str(valid.get("inspections_track") or "").split(",") if k.strip()]
    inspections: dict[str, Any] = {}
    if track:
        inspections["track"] = track
    if "cn_patrol_every_days" in valid:
        inspections["every_days"] = {"cn_routine_patrol": valid["cn_patrol_every_days"]}
    if inspections:
        config["inspections"] = inspections
    return config


#: The bridge's keys of the proof, as the add-on's options name them.
_PROOF_OPTION_NAMES = (
    ("inspections.every_days.cn_routine_patrol", "cn_patrol_every_days"),
    (".self_test.every_days", ".self_test_every_days"),
    (".self_test.enabled", ".self_test"),
    ("self_test.every_days", "self_test_every_days"),
    ("self_test.at", "self_test_at"),
    ("inspections.track", "inspections_track"),
)


def _proof_path(problem: str) -> str:
    """A problem of the proof's blocks, named by the option a person edits."""
    for key, option in _PROOF_OPTION_NAMES:
        if key in problem:
            return problem.replace(key, option, 1)
    return problem


def _validate(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options through :data:`OPTIONS_SCHEMA`, empty relay texts taken as not given.

    The Configuration tab may keep a cleared optional text field as ``""``.
    """
    data = dict(options)
    if data.get("relay_site") == "":
        del data["relay_site"]
    if isinstance(data.get("site"), Mapping):
        data["site"] = {k: v for k, v in data["site"].items() if v != ""}
    if isinstance(data.get("devices"), list):
        data["devices"] = [
            {k: v for k, v in d.items() if not (k in INSTALLATION_OPTIONS and v == "")}
            if isinstance(d, Mapping)
            else d
            for d in data["devices"]
        ]
    if isinstance(data.get("relay_broker"), Mapping):
        data["relay_broker"] = {k: v for k, v in data["relay_broker"].items() if v != ""}
    valid: dict[str, Any] = OPTIONS_SCHEMA(data)
    return valid


def _event_names(text: str, where: str, problems: list[str]) -> list[str] | None:
    """A webhook's ``events`` option, comma separated, as a list; None (all) when empty."""
    names = [name for name in re.split(r"[\s,]+", text.strip()) if name]
    unknown = [name for name in names if name not in WEBHOOK_EVENT_NAMES]
    if unknown:
        problems.append(
            f"{where}: unknown event {', '.join(repr(n) for n in unknown)}; use names such as "
            "alarm_raised, alarm_cleared, wiring_fault_raised, heartbeat, telemetry, "
            "separated by commas, or leave it empty for every event"
        )
    return list(dict.fromkeys(names)) or None


def _supervisor_broker(mqtt: Mapping[str, Any] | None, notes: list[str]) -> dict[str, Any] | None:
    """Supervisor's broker in the shape of the ``mqtt`` section, or None (with why) if unusable."""
    if mqtt is None:
        return None
    try:
        broker: dict[str, Any] = BROKER_SCHEMA(dict(mqtt))
    except vol.MultipleInvalid as exc:
        # The reasons name keys and rules, never the values (the password among them).
        reasons = "; ".join(f"{_path_text(e.path)}: {e.msg}" for e in exc.errors)
        notes.append(
            f"relay_mqtt: {HA_BROKER}, as Supervisor announces it, is unusable ({reasons})"
        )
        return None
    return broker


def _relay(
    valid: Mapping[str, Any],
    mqtt: Mapping[str, Any] | None,
    config_dir: Path,
    problems: list[str],
    notes: list[str],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``relay`` section and the Supervisor broker it uses, each None when not needed.

    A switch that is off never stops the start: the options that depend on it are ignored,
    with a warning. Remote commands are off unless turned on, trip unless allowed too; close
    is not an option at all.
    """
    want_mqtt = valid["relay_mqtt"]
    if not want_mqtt:
        for option, reason in (
            ("relay_ha_discovery", "discovery is published over MQTT"),
            ("remote_commands", "signed commands arrive over MQTT only"),
        ):
            if valid[option]:
                notes.append(f"{option}: ignored while relay_mqtt is off ({reason})")
    if valid["remote_trip"] and not valid["remote_commands"]:
        notes.append("remote_trip: ignored while remote_commands is off")
    section: dict[str, Any] | None = None
    broker: dict[str, Any] | None = None
    if want_mqtt:
        section, broker = _mqtt_section(valid, mqtt, config_dir, problems, notes)
    webhooks: list[dict[str, Any]] = []
    for index, hook in enumerate(valid["relay_webhooks"]):
        entry = {key: hook[key] for key in ("id", "url", "secret")}
        if "events" in hook:
            events = _event_names(hook["events"], f"relay_webhooks[{index}].events", problems)
            if events is not None:
                entry["events"] = events
        webhooks.append(entry)
    if section is None and not webhooks:
        if "relay_site" in valid and not want_mqtt:
            notes.append(
                "relay_site: ignored while the relay is off (turn on relay_mqtt or add a webhook)"
            )
        return None, None
    relay: dict[str, Any] = {}
    if "relay_site" in valid:
        relay["site"] = valid["relay_site"]
    if section is not None:
        relay["mqtt"] = section
    relay["webhooks"] = webhooks
    remote = bool(valid["remote_commands"] and section is not None)
    relay["remote_commands"] = {
        "enabled": remote,
        "keys": [dict(key) for key in valid["remote_command_keys"]] if remote else [],
        "allow_trip": remote and valid["remote_trip"],
    }
    return relay, broker


def _mqtt_section(
    valid: Mapping[str, Any],
    mqtt: Mapping[str, Any] | None,
    config_dir: Path,
    problems: list[str],
    notes: list[str],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``relay.mqtt`` for ``relay_mqtt: true``, and Supervisor's broker if it is the one used.

    The section is None when there is no broker to use: the add-on then starts without the
    MQTT sink (and so without remote commands), with a warning, rather than not at all.
    """
    own = dict(valid["relay_broker"])
    if "host" in own:
        section = {
            key: own[key] for key in ("host", "port", "username", "password", "tls") if key in own
        }
        if "ca_file" in own:
            ca_file = config_dir / own["ca_file"]
            if not ca_file.is_file():
                problems.append(
                    f"relay_broker.ca_file: there is no file {ca_file}; put the broker's CA "
                    "certificate in the add-on's configuration folder"
                )
            section["ca_file"] = str(ca_file)
        section["discovery"] = valid["relay_ha_discovery"]
        return section, None
    given = sorted(key for key, value in own.items() if value is not False)
    if given:
        problems.append(
            f"relay_broker.host: give the broker's host for {', '.join(given)}, or clear "
            f"relay_broker to use {HA_BROKER}"
        )
        return None, None
    broker = _supervisor_broker(mqtt, notes)
    if broker is None:
        lost = "the MQTT sink and remote commands" if valid["remote_commands"] else "MQTT"
        notes.append(
            f"relay_mqtt: no MQTT broker: {HA_BROKER} is not available (is the Mosquitto "
            f"broker add-on installed and started?) and relay_broker has no host. Starting "
            f"without {lost}; restart this add-on once the broker runs. Alarms still reach "
            "Home Assistant."
        )
        return None, None
    if valid["relay_ha_discovery"]:
        notes.append(
            f"relay_ha_discovery: publishing discovery to {HA_BROKER} adds the detectors to "
            "this Home Assistant a second time, as MQTT entities; it is meant for a central "
            "Home Assistant on another broker"
        )
    return {"discovery": valid["relay_ha_discovery"]}, broker


_DEVICE_PATH = re.compile(r"buses\[(\d+)\]\.devices\[(\d+)\]")
# A device's installation keys are flat in its option entry; the contracts their own option.
_INSTALLATION_PATH = re.compile(r"^(devices\[\d+\])\.installation\.")
_CONTRACT_PATH = re.compile(r"^site\.contracts\[")
_BUS_KEYS = {"serial": "device", "tcp": "host", "rtu_over_tcp": "host"}
_BUS_KEY_PATH = re.compile(r"(buses\[\d+\])\.(serial|tcp|rtu_over_tcp)\b")
# The relay section's paths and the options they come from, most specific first. Webhooks and
# keys keep their index: each option entry is one entry of the section, in the same order.
_RELAY_PATHS = tuple(
    (re.compile(pattern), option)
    for pattern, option in (
        (r"^relay\.mqtt\.discovery\b", "relay_ha_discovery"),
        (r"^relay\.mqtt\.(host|port|username|password|tls|ca_file)\b", r"relay_broker.\1"),
        (r"^relay\.mqtt\b", "relay_mqtt"),
        (r"^relay\.site\b", "relay_site"),
        (r"^relay\.webhooks\b", "relay_webhooks"),
        (r"^relay\.remote_commands\.keys\b", "remote_command_keys"),
        (r"^relay\.remote_commands\.allow_trip\b", "remote_trip"),
        (r"^relay\.remote_commands\b", "remote_commands"),
        (r"^relay\b", "relay_mqtt"),
        (r"^mqtt\b", f"relay_mqtt ({HA_BROKER})"),
    )
)


def _relay_path(problem: str) -> str:
    """A problem in the relay section, named by the add-on option it comes from."""
    for pattern, option in _RELAY_PATHS:
        renamed, count = pattern.subn(option, problem, count=1)
        if count:
            return renamed
    return problem


def check_options(options: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """:func:`options_to_config`, then the bridge's own validation (profiles, duplicates).

    Problems the bridge finds name its paths (``buses[0].devices[1]``,
    ``relay.webhooks[0].secret``); they are rewritten to the option a person edits
    (``devices[3]``, ``relay_webhooks[0].secret``).
    """
    config = options_to_config(options, **kwargs)
    try:
        parse_config(config, SOURCE)
    except ConfigError as exc:
        origin = _placement(_validate(options), [])

        def device(match: re.Match[str]) -> str:
            bus, number = int(match[1]), int(match[2])
            return f"devices[{origin[bus][number]}]"

        def bus_key(match: re.Match[str]) -> str:
            return f"{match[1]}.{_BUS_KEYS[match[2]]}"

        problems = [
            _CONTRACT_PATH.sub(
                "site_contracts[",
                _INSTALLATION_PATH.sub(
                    r"\1.",
                    _proof_path(
                        _relay_path(_BUS_KEY_PATH.sub(bus_key, _DEVICE_PATH.sub(device, p)))
                    ),
                ),
            )
            for p in exc.problems
        ]
        raise ConfigError(SOURCE, problems) from None
    return config


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old file or the new, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_broker(path: Path, warnings: list[str]) -> dict[str, Any] | None:
    """Supervisor's broker as the run script saved it (``bashio::services mqtt``), or None.

    A missing, empty or malformed file means no broker: the add-on still starts. The reasons
    never quote the file, which holds the broker's password.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        warnings.append(f"relay_mqtt: cannot read {HA_BROKER} from {path}: {reason}")
        return None
    if not text.strip():
        return None  # Supervisor answered nothing: no broker (the run script said so)
    try:
        broker = json.loads(text)
    except ValueError:
        warnings.append(f"relay_mqtt: {HA_BROKER} in {path} is not JSON")
        return None
    if not isinstance(broker, dict):
        warnings.append(f"relay_mqtt: {HA_BROKER} in {path} is not a JSON object")
        return None
    return broker


def relay_summary(config: Mapping[str, Any]) -> str:
    """One line on what the relay does, for the log; never a password, secret or URL."""
    relay = config.get("relay")
    if relay is None:
        return "relay off"
    parts: list[str] = []
    mqtt = relay.get("mqtt")
    if mqtt is not None:
        if "host" in mqtt:
            port = mqtt.get("port", 8883 if mqtt.get("tls") else 1883)
            parts.append(f"MQTT to {_host_port(mqtt['host'], port)}")
        else:
            broker = config["mqtt"]
            port = broker.get("port") or (8883 if broker.get("ssl") else 1883)
            parts.append(f"MQTT to {HA_BROKER} ({_host_port(broker['host'], port)})")
        if mqtt.get("discovery"):
            parts.append("MQTT discovery")
    if relay["webhooks"]:
        parts.append(f"{len(relay['webhooks'])} webhook(s)")
    remote = relay["remote_commands"]
    if remote["enabled"]:
        trip = ", trip allowed" if remote["allow_trip"] else ""
        parts.append(f"remote commands on ({len(remote['keys'])} key(s){trip})")
    else:
        parts.append("remote commands off")
    return "relay: " + ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the bridge configuration for the add-on options; 1 with every problem if invalid."""
    parser = argparse.ArgumentParser(
        prog="python3 -m electrical_safety_bridge.config.addon_options",
        description="Turn the add-on options into the bridge configuration.",
    )
    parser.add_argument("options", type=Path, help="the add-on options, /data/options.json")
    parser.add_argument("output", type=Path, help="the bridge configuration to write (YAML)")
    parser.add_argument("--data-dir", default="/data")
    parser.add_argument("--api-port", type=int, default=API_PORT)
    parser.add_argument("--profile-dir", default="/config/profiles")
    parser.add_argument(
        "--config-dir", default=CONFIG_DIR, help="where relative file names in the options are"
    )
    parser.add_argument(
        "--mqtt-json",
        type=Path,
        metavar="FILE",
        help="Home Assistant's MQTT broker as Supervisor announces it (GET /services/mqtt), "
        "in a file readable only by the add-on: never pass the password on the command line",
    )
    args = parser.parse_args(argv)
    try:
        options = json.loads(args.options.read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"{args.options}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # not JSON, or not even UTF-8 text
        print(f"{args.options}: not valid JSON: {exc}", file=sys.stderr)
        return 1
    if not isinstance(options, dict):
        print(f"{args.options}: must be a JSON object", file=sys.stderr)
        return 1
    warnings: list[str] = []
    broker = read_broker(args.mqtt_json, warnings) if args.mqtt_json is not None else None
    try:
        config = check_options(
            options,
            data_dir=args.data_dir,
            api_port=args.api_port,
            profile_dir=args.profile_dir,
            config_dir=args.config_dir,
            mqtt=broker,
            warnings=warnings,
        )
    except ConfigError as exc:
        print(f"The add-on options have {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    header = "# Written by the add-on from /data/options.json at every start; edit the options.\n"
    # write_atomically creates the file readable by its owner only (0600): it may hold the
    # broker's password and the webhooks' secrets.
    write_atomically(args.output, header + yaml.safe_dump(config, sort_keys=False))
    devices = sum(len(bus["devices"]) for bus in config["buses"])
    print(
        f"{args.output}: {len(config['buses'])} bus(es), {devices} device(s), "
        f"{relay_summary(config)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
