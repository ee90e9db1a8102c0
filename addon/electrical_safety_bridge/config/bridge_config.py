"""The bridge service's configuration: YAML, validated with voluptuous at the edge.

Errors name the file, the key path and the reason, all at once, like profile errors. Past
this module the service trusts :class:`BridgeConfig`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from ..announce.supervisor import SUPERVISOR_ADDRESS
from ..bus.bus_settings import MAX_OFFLINE_AFTER, BusSettings, DeviceSpec, PollIntervals
from ..errors import FileProblems, ProfileError, ProfileIncomplete
from ..gateway.gateway_settings import DEFAULT_IDLE_TIMEOUT
from ..modbus.lines import Line, SerialLine, TcpLine
from ..profiles.loader import BrokenUserProfile, ProfileNotFound, catalogue, resolve_profile
from ..profiles.model import Profile
from ..relay.relay_settings import BROKER_SCHEMA, RELAY_SCHEMA, RelayConfig, relay_config
from ..validation import (
    YamlProblems,
    each,
    error_lines,
    finite,
    integer,
    load_yaml_file,
    not_a_mapping,
)
from .early_warning_settings import (
    EARLY_WARNING_SCHEMA,
    EarlyWarningConfig,
    early_warning_config,
)
from .proof_config import (
    DEVICE_SELF_TEST_SCHEMA,
    INSPECTIONS_SCHEMA,
    SELF_TEST_SCHEMA,
    ProofConfig,
    proof_config,
)
from .site_config import (
    INSTALLATION_SCHEMA,
    SITE_SCHEMA,
    SiteConfig,
    installation,
    shows_its_value,
    site_config,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_PORT = 8765


class ConfigError(FileProblems):
    """The configuration is malformed."""


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """The optional Modbus listener for other masters. A port of None is off."""

    host: str = "127.0.0.1"
    tcp_port: int | None = None
    rtu_over_tcp_port: int | None = None
    allow_writes: bool = False
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # seconds without a request before closing


@dataclass(frozen=True, slots=True)
class BusConfig:
    """One bus and the devices on it."""

    settings: BusSettings
    devices: tuple[DeviceSpec, ...]


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Everything the service needs to start."""

    data_dir: Path
    buses: tuple[BusConfig, ...]
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    profile_dir: Path | None = None
    retention_days: float = 3650.0
    gateway: GatewayConfig = GatewayConfig()
    bridge_id: str | None = None
    advertise: bool | None = None
    #: A second port serving the same API and web UI: the add-on's ingress port.
    ingress_port: int | None = None
    #: The only address whose ingress headers the web UI believes (Supervisor's).
    ingress_proxy: str = SUPERVISOR_ADDRESS
    relay: RelayConfig | None = None  # off-site relay (relay/); None: off
    #: The site the bridge serves (its profile, when the configuration has a ``site:``).
    site: SiteConfig = field(default_factory=SiteConfig)
    # Self-test schedules and inspections tracked (config/proof_config.py).
    proof: ProofConfig = field(default_factory=ProofConfig)
    early_warning: EarlyWarningConfig = field(default_factory=EarlyWarningConfig)


def _host_port(value: Any) -> tuple[str, int]:
    if not isinstance(value, str) or ":" not in value:
        raise vol.Invalid("must be HOST:PORT, for example 192.168.1.50:502")
    host, _, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise vol.Invalid(f"'{port}' is not a port number") from None
    if not host or not 1 <= number <= 65535:
        raise vol.Invalid("must be HOST:PORT with a port in 1-65535")
    return host.strip("[]"), number


_LINE_KEYS = ("serial", "tcp", "rtu_over_tcp")


def _one_line(bus: dict[str, Any]) -> dict[str, Any]:
    given = [key for key in _LINE_KEYS if key in bus]
    if len(given) != 1:
        found = f"found {' and '.join(given)}" if given else "found none"
        raise vol.Invalid(f"give exactly one of serial, tcp or rtu_over_tcp ({found})")
    return bus


_PORT = vol.All(integer, vol.Range(min=1, max=65535))
_ID = vol.All(str, vol.Match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", msg="letters, digits, - _ ."))
_SECONDS = vol.All(finite, vol.Range(min=0.01))

_DEVICE = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("unit"): vol.All(integer, vol.Range(min=1, max=247)),
        vol.Required("profile"): vol.All(str, vol.Length(min=1)),
        vol.Optional("name"): str,
        vol.Optional("area"): vol.All(str, vol.Length(min=1, max=64)),
        # How it is installed (its CT, the circuit it guards, the room): what the
        # compliance rules read.
        vol.Optional("installation"): INSTALLATION_SCHEMA,
        vol.Optional("self_test"): DEVICE_SELF_TEST_SCHEMA,
    }
)

_BUS = vol.Schema(
    vol.All(
        {
            vol.Required("id"): _ID,
            vol.Optional("serial"): vol.All(str, vol.Length(min=1)),
            vol.Optional("tcp"): _host_port,
            vol.Optional("rtu_over_tcp"): _host_port,
            vol.Optional("baudrate"): vol.In([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]),
            vol.Optional("parity", default="N"): vol.In(["N", "E", "O"]),
            vol.Optional("stopbits", default=1): vol.In([1, 2]),
            vol.Optional("poll", default=dict): {
                vol.Optional("alarm", default=1.0): _SECONDS,
                vol.Optional("telemetry", default=10.0): _SECONDS,
                vol.Optional("slow", default=300.0): _SECONDS,
            },
            vol.Optional("offline_after", default=60.0): vol.All(
                finite,
                vol.Range(min=1, max=MAX_OFFLINE_AFTER, msg="must be 1-100 seconds (GB 14287.1)"),
            ),
            vol.Optional("turnaround", default=0.1): vol.All(finite, vol.Range(min=0.0, max=5.0)),
            vol.Required("devices"): vol.All(each(_DEVICE), vol.Length(min=1)),
        },
        _one_line,
    )
)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("data_dir"): vol.All(str, vol.Length(min=1)),
        vol.Optional("bridge_id"): _ID,
        vol.Optional("site"): SITE_SCHEMA,
        vol.Optional("profile_dir"): str,
        vol.Optional("api", default=dict): {
            vol.Optional("host", default="127.0.0.1"): str,
            vol.Optional("port", default=DEFAULT_API_PORT): vol.All(
                integer, vol.Range(min=0, max=65535)
            ),
            # mDNS advertisement; unset: only when standalone and reachable from other hosts.
            vol.Optional("advertise"): vol.Any(None, bool),
            # The add-on's ingress port (its web UI through Home Assistant), and the one
            # address whose ingress headers are believed (tests put 127.0.0.1 here).
            vol.Optional("ingress_port"): vol.Any(
                None, vol.All(integer, vol.Range(min=0, max=65535))
            ),
            vol.Optional("ingress_proxy", default=SUPERVISOR_ADDRESS): vol.All(
                str, vol.Length(min=1)
            ),
        },
        vol.Optional("retention_days", default=3650.0): vol.All(finite, vol.Range(min=1)),
        vol.Optional("gateway", default=dict): {
            vol.Optional("host", default="127.0.0.1"): str,
            vol.Optional("tcp_port"): vol.Any(None, _PORT),
            vol.Optional("rtu_over_tcp_port"): vol.Any(None, _PORT),
            # Other masters only read unless the user opts in; even then the profile
            # rules and the close interlock apply to their writes.
            vol.Optional("allow_writes", default=False): bool,
            # A client that sends nothing for this long is disconnected (gateway/server.py).
            vol.Optional("idle_timeout", default=DEFAULT_IDLE_TIMEOUT): vol.All(
                finite, vol.Range(min=1.0, max=86400.0)
            ),
        },
        vol.Required("buses"): vol.All(each(_BUS), vol.Length(min=1)),
        # Off-site relay (relay/relay_settings.py). `mqtt` is the add-on's Supervisor broker
        # ({host, port, username, password, ssl}), used when relay.mqtt names no host.
        vol.Optional("mqtt"): vol.Any(None, BROKER_SCHEMA),
        vol.Optional("relay"): vol.Any(None, RELAY_SCHEMA),
        # The proof: self-test schedule and inspections (config/proof_config.py).
        vol.Optional("self_test"): SELF_TEST_SCHEMA,
        vol.Optional("inspections"): INSPECTIONS_SCHEMA,
        # Rising leakage and temperature (config/early_warning_settings.py).
        vol.Optional("early_warning"): vol.Any(None, EARLY_WARNING_SCHEMA),
    }
)


def _line(bus: dict[str, Any]) -> Line:
    if "serial" in bus:
        return SerialLine(
            bus["serial"],
            baudrate=bus.get("baudrate", 9600),
            parity=bus["parity"],
            stopbits=bus["stopbits"],
        )
    rtu = "rtu_over_tcp" in bus
    host, port = bus["rtu_over_tcp"] if rtu else bus["tcp"]
    return TcpLine(host, port, rtu=rtu, baudrate=bus.get("baudrate"))


class _DeviceProfiles:
    """Resolves the devices' profiles against one reading of the profile folders.

    A profile's problems are reported in full at the first device using that profile name;
    later ones point back to it, so that sixteen detectors of one model do not print them
    sixteen times.
    """

    def __init__(self, profile_dir: Path | None) -> None:
        if profile_dir is not None and not profile_dir.exists():
            # Not an error: the add-on always passes its folder, made empty on first start.
            # Said out loud, so that a mistyped folder is not mistaken for overrides in use.
            _LOGGER.warning(
                "profile_dir %s does not exist: only built-in profiles are used", profile_dir
            )
        self._entries = catalogue(profile_dir)
        self._first_failure: dict[str, str] = {}

    def resolve(self, model: str, where: str, problems: list[str]) -> Profile | None:
        """The profile of ``model`` for the device at ``where``; None after noting a problem."""
        if model in self._first_failure:
            problems.append(
                f"{where}: '{model}' cannot be used either (see {self._first_failure[model]})"
            )
            return None
        try:
            return resolve_profile(model, self._entries)
        except ProfileError as exc:
            self._first_failure[model] = where
            problems += [f"{where}: {line}" for line in _profile_problems(exc)]
            return None


def _profile_problems(exc: ProfileError) -> list[str]:
    """One ``<file>: <key path>: <reason>`` line per problem: the user sees what to edit."""
    if isinstance(exc, ProfileNotFound):
        return exc.problems  # no file to name: the model itself is unknown
    if isinstance(exc, BrokenUserProfile):
        return [f"{file}: {line}" for file, lines in exc.by_file.items() for line in lines]
    if isinstance(exc, ProfileIncomplete):
        # A template lists dozens of empty fields: one line, not one each.
        return [
            f"{exc.source}: a template, to fill in from the device manual: {', '.join(exc.missing)}"
        ]
    return [f"{exc.source}: {line}" for line in exc.problems]


def _raw_profile_problems(data: Any) -> list[str]:
    """The profile problems of a configuration that failed its schema, as far as it can be read.

    A user fixing the schema should not then meet a second round of problems that were
    there all along, such as a broken user profile.
    """
    if not isinstance(data, dict) or not isinstance(data.get("buses"), list):
        return []
    folder = data.get("profile_dir")
    profiles = _DeviceProfiles(Path(folder) if isinstance(folder, str) else None)
    problems: list[str] = []
    for index, bus in enumerate(data["buses"]):
        devices = bus.get("devices") if isinstance(bus, dict) else None
        for number, device in enumerate(devices if isinstance(devices, list) else []):
            model = device.get("profile") if isinstance(device, dict) else None
            if isinstance(model, str) and model:
                profiles.resolve(model, f"buses[{index}].devices[{number}].profile", problems)
    return problems


def parse_config(data: Any, source: str) -> BridgeConfig:
    """Validate parsed YAML and resolve every device's profile, or raise ConfigError.

    The configuration's own problems and its profiles' problems are reported together.
    """
    try:
        valid = CONFIG_SCHEMA(data)
    except vol.MultipleInvalid as exc:
        # The configuration may hold secrets (relay keys, broker password): values are shown
        # only for the keys that hold none (the site, the installations).
        lines = error_lines(exc, data, shown=shows_its_value)
        raise ConfigError(source, lines + _raw_profile_problems(data)) from None
    profile_dir = Path(valid["profile_dir"]) if "profile_dir" in valid else None
    profiles = _DeviceProfiles(profile_dir)
    problems: list[str] = []
    seen: dict[str, str] = {}
    buses: list[BusConfig] = []
    for index, bus in enumerate(valid["buses"]):
        where = f"buses[{index}]"
        if bus["id"] in seen:
            problems.append(f"{where}.id: '{bus['id']}' is already used at {seen[bus['id']]}")
        seen[bus["id"]] = where
        units: dict[int, str] = {}
        devices: list[DeviceSpec] = []
        for number, device in enumerate(bus["devices"]):
            path = f"{where}.devices[{number}]"
            if device["id"] in seen:
                problems.append(
                    f"{path}.id: '{device['id']}' is already used at {seen[device['id']]}"
                )
            seen[device["id"]] = path
            if device["unit"] in units:
                problems.append(
                    f"{path}.unit: unit {device['unit']} is already {units[device['unit']]}"
                )
            units[device["unit"]] = device["id"]
            profile = profiles.resolve(device["profile"], f"{path}.profile", problems)
            if profile is None:
                continue
            devices.append(
                DeviceSpec(
                    device["id"],
                    device["unit"],
                    profile,
                    device.get("name"),
                    device.get("area"),
                    installation(device.get("installation")),
                )
            )
        poll = bus["poll"]
        settings = BusSettings(
            id=bus["id"],
            line=_line(bus),
            intervals=PollIntervals(poll["alarm"], poll["telemetry"], poll["slow"]),
            offline_after=bus["offline_after"],
            turnaround=bus["turnaround"],
        )
        buses.append(BusConfig(settings, tuple(devices)))
    gateway = valid["gateway"]
    if gateway.get("tcp_port") and gateway.get("tcp_port") == gateway.get("rtu_over_tcp_port"):
        problems.append("gateway.rtu_over_tcp_port: must differ from gateway.tcp_port")
    relay = relay_config(valid.get("relay"), valid.get("mqtt"), problems)
    site = site_config(valid.get("site"), relay.site if relay is not None else None, problems)
    proof = proof_config(
        valid.get("self_test"),
        valid.get("inspections"),
        {
            device["id"]: device["self_test"]
            for bus in valid["buses"]
            for device in bus["devices"]
            if "self_test" in device
        },
    )
    early_warning = early_warning_config(valid.get("early_warning"), problems)
    if problems:
        raise ConfigError(source, problems)
    return BridgeConfig(
        data_dir=Path(valid["data_dir"]),
        buses=tuple(buses),
        api_host=valid["api"]["host"],
        api_port=valid["api"]["port"],
        profile_dir=profile_dir,
        retention_days=valid["retention_days"],
        gateway=GatewayConfig(
            host=gateway["host"],
            tcp_port=gateway.get("tcp_port"),
            rtu_over_tcp_port=gateway.get("rtu_over_tcp_port"),
            allow_writes=gateway["allow_writes"],
            idle_timeout=gateway["idle_timeout"],
        ),
        bridge_id=valid.get("bridge_id"),
        advertise=valid["api"].get("advertise"),
        ingress_port=valid["api"].get("ingress_port"),
        ingress_proxy=valid["api"]["ingress_proxy"],
        relay=relay,
        site=site,
        proof=proof,
        early_warning=early_warning,
    )


def load_config(path: Path) -> BridgeConfig:
    """Read and validate a configuration file; a key given twice is refused, like in profiles."""
    source = str(path)
    try:
        data = load_yaml_file(path)
    except YamlProblems as exc:
        if not exc.parsed:
            raise ConfigError(source, exc.problems) from None
        # Only keys were duplicated: validate the rest too, so every problem shows at once.
        raise ConfigError(source, exc.problems + _problems_of(exc.document, source)) from None
    problem = not_a_mapping(data, "configuration keys")
    if problem is not None:
        raise ConfigError(source, [problem])
    return parse_config(data, source)


def _problems_of(data: Any, source: str) -> list[str]:
    """What else is wrong with a configuration, as lines; none when nothing is."""
    problem = not_a_mapping(data, "configuration keys")
    if problem is not None:
        return [problem]
    try:
        parse_config(data, source)
    except ConfigError as exc:
        return exc.problems
    return []
