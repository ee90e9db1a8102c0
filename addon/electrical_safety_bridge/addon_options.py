"""The add-on's options (``/data/options.json``) translated into the bridge configuration.

Supervisor's option schema allows nesting only two levels deep, so the add-on cannot nest a
list of devices inside each bus the way the bridge's YAML does. Its options are flat instead:
a ``buses`` list and a ``devices`` list whose entries name their bus. This module turns them
into the dictionary :data:`config.CONFIG_SCHEMA` accepts, and reports every problem with the
option names the person sees in the Configuration tab, not the bridge's internal keys.

``python3 -m electrical_safety_bridge.addon_options OPTIONS_JSON BRIDGE_YAML`` is the step the
add-on's ``run`` script takes before it starts the bridge.
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

from .config import ConfigError, parse_config

# The ports inside the container; config.yaml maps none of them to the host by default.
API_PORT = 8765
GATEWAY_TCP_PORT = 502
GATEWAY_RTU_OVER_TCP_PORT = 503
# The bridge listens on every interface of the container: Home Assistant Core reaches it
# over Supervisor's internal network by the add-on's hostname.
LISTEN_ALL = "0.0.0.0"
SOURCE = "add-on options"

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
    }
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
    mqtt: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The bridge configuration for these add-on options, or ConfigError naming each problem.

    ``profile_dir`` is the ``profiles`` folder of the add-on's own config folder (the
    ``addon_config`` map, ``/config`` inside the container), where users put their profiles.
    ``mqtt`` is the local broker Supervisor announces (``GET /services/mqtt``); it is passed
    through as the ``mqtt`` section once the bridge configuration has one.
    """
    try:
        valid = OPTIONS_SCHEMA(dict(options))
    except vol.MultipleInvalid as exc:
        raise ConfigError(SOURCE, [f"{_path_text(e.path)}: {e.msg}" for e in exc.errors]) from None
    problems: list[str] = []
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
            {
                key: valid["devices"][i][key]
                for key in ("id", "unit", "profile", "name")
                if key in valid["devices"][i]
            }
            for i in members
        ]
        buses.append(entry)
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
        "api": {"host": LISTEN_ALL, "port": api_port},
        "retention_days": valid["retention_days"],
        "gateway": gateway,
        "buses": buses,
    }
    if mqtt is not None:
        config["mqtt"] = {
            key: mqtt[key] for key in ("host", "port", "username", "password", "ssl") if key in mqtt
        }
    return config


_DEVICE_PATH = re.compile(r"buses\[(\d+)\]\.devices\[(\d+)\]")
_BUS_KEYS = {"serial": "device", "tcp": "host", "rtu_over_tcp": "host"}
_BUS_KEY_PATH = re.compile(r"(buses\[\d+\])\.(serial|tcp|rtu_over_tcp)\b")


def check_options(options: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """:func:`options_to_config`, then the bridge's own validation (profiles, duplicates).

    Problems the bridge finds name its paths (``buses[0].devices[1]``); they are rewritten to
    the option a person edits (``devices[3]``).
    """
    config = options_to_config(options, **kwargs)
    try:
        parse_config(config, SOURCE)
    except ConfigError as exc:
        origin = _placement(OPTIONS_SCHEMA(dict(options)), [])

        def device(match: re.Match[str]) -> str:
            bus, number = int(match[1]), int(match[2])
            return f"devices[{origin[bus][number]}]"

        def bus_key(match: re.Match[str]) -> str:
            return f"{match[1]}.{_BUS_KEYS[match[2]]}"

        problems = [_BUS_KEY_PATH.sub(bus_key, _DEVICE_PATH.sub(device, p)) for p in exc.problems]
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


def main(argv: Sequence[str] | None = None) -> int:
    """Write the bridge configuration for the add-on options; 1 with every problem if invalid."""
    parser = argparse.ArgumentParser(
        prog="python3 -m electrical_safety_bridge.addon_options",
        description="Turn the add-on options into the bridge configuration.",
    )
    parser.add_argument("options", type=Path, help="the add-on options, /data/options.json")
    parser.add_argument("output", type=Path, help="the bridge configuration to write (YAML)")
    parser.add_argument("--data-dir", default="/data")
    parser.add_argument("--api-port", type=int, default=API_PORT)
    parser.add_argument("--profile-dir", default="/config/profiles")
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
    try:
        config = check_options(
            options, data_dir=args.data_dir, api_port=args.api_port, profile_dir=args.profile_dir
        )
    except ConfigError as exc:
        print(f"The add-on options have {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    header = "# Written by the add-on from /data/options.json at every start; edit the options.\n"
    write_atomically(args.output, header + yaml.safe_dump(config, sort_keys=False))
    devices = sum(len(bus["devices"]) for bus in config["buses"])
    print(f"{args.output}: {len(config['buses'])} bus(es), {devices} device(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
