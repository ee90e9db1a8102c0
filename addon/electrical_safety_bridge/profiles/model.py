"""Device profiles: register maps as data, validated at the edge.

A profile is one YAML file per device model. This module holds the schema (voluptuous),
the frozen dataclasses the rest of the bridge trusts, and :func:`parse_profile`, which turns
one into the other; :mod:`.loader` reads the files and keeps the catalogue. A profile that
fails validation raises :class:`ProfileError` naming the file, the key path and the reason;
it is never half-loaded.

Templates are profiles whose register addresses are left empty on purpose: no public map
exists for those models, and an invented address could write to the wrong register of a
safety device. Loading a template raises :class:`ProfileIncomplete` listing every field
the user must fill in from the manual that came with the device.

User profiles override built-ins by model. A user file that cannot be loaded is never
skipped with the built-in map running in its place: resolving the model it claims raises
its error, and a file whose model cannot be read at all blocks every model
(:class:`BrokenUserProfile`), because it may be the override of any of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import voluptuous as vol

from ..common.enums import ChannelKind, CommandName, DeviceKind, PollClass, SetpointKind
from ..errors import ProfileError, ProfileIncomplete
from ..validation import each, error_lines


class RegisterType(StrEnum):
    """How a value is laid out in 16-bit registers."""

    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    F32 = "f32"
    U8_HI = "u8-hi"
    U8_LO = "u8-lo"
    BITFIELD = "bitfield"

    @property
    def width(self) -> int:
        """Number of registers the value occupies."""
        return 2 if self in (RegisterType.U32, RegisterType.S32, RegisterType.F32) else 1


class WordOrder(StrEnum):
    """Order of the two registers of a 32-bit value; bytes in a register are always big-endian."""

    BIG = "big"  # high word first (Acrel's convention, devices.md §2)
    LITTLE = "little"


#: Channel kinds that are status words: read on the fast alarm poll by default.
STATUS_KINDS = frozenset(
    {
        ChannelKind.ALARM_STATUS,
        ChannelKind.FAULT_STATUS,
        ChannelKind.BREAKER,
        ChannelKind.DIGITAL_INPUT,
        ChannelKind.DIGITAL_OUTPUT,
    }
)
#: Channel kinds that change rarely: read on the slow poll by default.
SLOW_KINDS = frozenset({ChannelKind.CONFIGURATION, ChannelKind.IDENTITY})


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """Where a value lives and how to decode it. ``address`` is a 0-based PDU address."""

    address: int | None
    type: RegisterType = RegisterType.U16
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0
    bit: int | None = 0
    bits: int = 1
    sentinels: Mapping[int, str] = field(default_factory=dict)
    states: Mapping[int, str] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Number of registers read for this value."""
        return self.type.width

    @property
    def span(self) -> range:
        """Register addresses this value occupies (empty for a template)."""
        if self.address is None:
            return range(0)
        return range(self.address, self.address + self.width)


@dataclass(frozen=True, slots=True)
class Condition:
    """A reason a channel is in alarm, in warning or has a wiring fault.

    Either ``source`` (a status channel, true when its decoded state is one of ``states``,
    or non-zero when ``states`` is empty) or ``above`` (true when the channel's own value
    is at or above that setpoint's value).
    """

    source: str | None = None
    states: tuple[str, ...] = ()
    above: str | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A value read from the device."""

    key: str
    name: str
    kind: ChannelKind
    register: RegisterSpec
    unit: str | None = None
    poll: PollClass = PollClass.TELEMETRY
    alarm: tuple[Condition, ...] = ()
    warning: tuple[Condition, ...] = ()
    wiring_fault: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class Setpoint:
    """A writable configuration value, bounded by what the device accepts.

    A register that is an enumeration (a trip or operating mode) lists its ``options``
    (register value → option key, from the manual): only those values are ever written,
    and its bounds are the smallest and largest of them.
    """

    key: str
    name: str
    kind: SetpointKind
    register: RegisterSpec
    minimum: float
    maximum: float
    unit: str | None = None
    writable: bool = True
    options: Mapping[int, str] = field(default_factory=dict)
    #: How clients name it in each language (``trip_delay``); None: after its kind, or
    #: ``name`` where the kind means something different on each model.
    translation_key: str | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    """How to confirm a command took effect: a channel read back after the write."""

    channel: str
    state: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A register write that makes the device do something."""

    name: CommandName
    address: int | None
    value: int
    function: int = 16
    verify: Verification | None = None


@dataclass(frozen=True, slots=True)
class SerialDefaults:
    """Factory serial settings from the manual."""

    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8
    unit: int = 1


@dataclass(frozen=True, slots=True)
class Identify:
    """A register whose masked value identifies the model during a bus scan."""

    address: int
    mask: int
    equals: int


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated register map for one device model."""

    manufacturer: str
    model: str
    kind: DeviceKind
    manual_version: str
    verified: bool
    source: str
    simulated: bool
    serial: SerialDefaults
    read_function: int
    channels: tuple[Channel, ...]
    setpoints: tuple[Setpoint, ...] = ()
    commands: Mapping[CommandName, Command] = field(default_factory=dict)
    identify: Identify | None = None
    notes: str = ""
    origin: str = ""

    def channel(self, key: str) -> Channel:
        """The channel with this key."""
        for channel in self.channels:
            if channel.key == key:
                return channel
        raise KeyError(key)

    def setpoint(self, key: str) -> Setpoint:
        """The setpoint with this key."""
        for setpoint in self.setpoints:
            if setpoint.key == key:
                return setpoint
        raise KeyError(key)

    @property
    def can_write(self) -> bool:
        """Only a verified profile ever writes to a device."""
        return self.verified


# --------------------------------------------------------------------------- schema

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_REPEAT_KEY = re.compile(r"^[a-z][a-z0-9_{}n]*$")


def _key(value: Any) -> str:
    if not isinstance(value, str) or not _REPEAT_KEY.match(value):
        raise vol.Invalid("must be lower_snake_case (letters, digits, underscores)")
    return value


def _address(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("must be an integer register address (0-based; 0x004A style is fine)")
    if not 0 <= value <= 0xFFFF:
        raise vol.Invalid("must be between 0 and 0xFFFF")
    return value


def _u16(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise vol.Invalid("must be an integer between 0 and 0xFFFF")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise vol.Invalid("must be a number")
    return float(value)


def _nonzero_number(value: Any) -> float:
    number = _number(value)
    if number == 0:
        raise vol.Invalid("must not be zero")
    return number


def _blank_or[T](validator: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """Accept an empty value (a template leaves it to the manual) or a valid one.

    Unlike ``vol.Any(None, validator)``, this keeps the validator's own message.
    """

    def check(value: Any) -> T | None:
        return None if value is None else validator(value)

    return check


_STATE_MAP = vol.Schema({vol.All(_u16): vol.All(str, _key)})


def _options(value: Any) -> dict[int, str]:
    """A setpoint's options: register value → option key, at least two, each key once."""
    if not isinstance(value, dict):
        raise vol.Invalid("must be a mapping of register value to option key ({0: off, 1: trip})")
    options: dict[int, str] = {}
    for code, option in value.items():
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 0xFFFF:
            raise vol.Invalid(f"{code!r} is not a register value (an integer 0 to 0xFFFF)")
        if isinstance(option, bool):
            # YAML reads a bare off / on / yes / no as a boolean.
            raise vol.Invalid(f'the option of {code} reads as {option!r}: quote it ("off", "on")')
        if not isinstance(option, str) or not _KEY.match(option):
            raise vol.Invalid(f"the option of {code}, {option!r}, must be lower_snake_case")
        if option in options.values():
            first = next(c for c, o in options.items() if o == option)
            raise vol.Invalid(f"'{option}' is the option of both {first} and {code}")
        options[code] = option
    if len(options) < 2:
        raise vol.Invalid("must list at least two options")
    return options


def _translation_key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise vol.Invalid("must be lower_snake_case (letters, digits, underscores)")
    return value


_REGISTER_FIELDS: dict[Any, Any] = {
    vol.Required("address"): _address,
    vol.Optional("type", default="u16"): vol.In([t.value for t in RegisterType]),
    vol.Optional("word_order"): vol.In([w.value for w in WordOrder]),
    vol.Optional("scale", default=1.0): _nonzero_number,
    vol.Optional("bit"): _blank_or(vol.All(int, vol.Range(min=0, max=15))),
    vol.Optional("bits", default=1): vol.All(int, vol.Range(min=1, max=16)),
    vol.Optional("sentinels", default=dict): _STATE_MAP,
    vol.Optional("states", default=dict): _STATE_MAP,
    vol.Optional("repeat"): vol.All(int, vol.Range(min=1, max=64)),
    vol.Optional("stride"): vol.All(int, vol.Range(min=-16, max=125)),
    vol.Optional("bit_stride"): vol.All(int, vol.Range(min=-16, max=16)),
    vol.Optional("first"): vol.All(int, vol.Range(min=0, max=64)),
}

_CONDITION = vol.Schema(
    vol.Any(
        {vol.Required("source"): _key, vol.Optional("states", default=list): [_key]},
        {vol.Required("above"): _key},
    )
)
_CONDITIONS = vol.Any(_CONDITION, [_CONDITION])

_CHANNEL = vol.Schema(
    {
        **_REGISTER_FIELDS,
        vol.Required("key"): _key,
        vol.Optional("name"): str,
        vol.Required("kind"): vol.In([k.value for k in ChannelKind]),
        vol.Optional("unit"): vol.Any(None, str),
        vol.Optional("poll"): vol.In([p.value for p in PollClass]),
        vol.Optional("alarm"): _CONDITIONS,
        vol.Optional("warning"): _CONDITIONS,
        vol.Optional("wiring_fault"): _CONDITIONS,
    }
)

_SETPOINT = vol.Schema(
    {
        **_REGISTER_FIELDS,
        vol.Required("key"): _key,
        vol.Optional("name"): str,
        vol.Required("kind"): vol.In([k.value for k in SetpointKind]),
        vol.Optional("unit"): vol.Any(None, str),
        # Required unless the setpoint has options (checked in parse_profile).
        vol.Optional("min"): _blank_or(_number),
        vol.Optional("max"): _blank_or(_number),
        vol.Optional("writable", default=True): bool,
        vol.Optional("options"): _blank_or(_options),
        vol.Optional("translation_key"): _translation_key,
    }
)

_COMMAND = vol.Schema(
    {
        vol.Required("address"): _address,
        vol.Required("value"): _blank_or(_u16),
        vol.Optional("function", default=16): vol.In([6, 16]),
        vol.Optional("verify"): {
            vol.Required("channel"): _key,
            vol.Exclusive("state", "expect"): _key,
            vol.Exclusive("value", "expect"): _number,
        },
    }
)

PROFILE_SCHEMA = vol.Schema(
    {
        vol.Required("manufacturer"): vol.All(str, vol.Length(min=1)),
        vol.Required("model"): vol.All(str, vol.Length(min=1)),
        vol.Required("kind"): vol.In([k.value for k in DeviceKind]),
        vol.Required("manual_version"): vol.All(str, vol.Length(min=1)),
        vol.Required("verified"): bool,
        vol.Required("source"): vol.All(str, vol.Length(min=1)),
        vol.Optional("simulated", default=False): bool,
        vol.Optional("notes", default=""): str,
        vol.Optional("serial", default=dict): {
            vol.Optional("baudrate", default=9600): vol.In(
                [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
            ),
            vol.Optional("parity", default="N"): vol.In(["N", "E", "O"]),
            vol.Optional("stopbits", default=1): vol.In([1, 2]),
            vol.Optional("bytesize", default=8): vol.In([7, 8]),
            vol.Optional("unit", default=1): vol.All(int, vol.Range(min=1, max=247)),
        },
        vol.Optional("read_function", default=3): vol.In([3, 4]),
        vol.Optional("word_order", default="big"): vol.In([w.value for w in WordOrder]),
        vol.Optional("identify"): {
            vol.Required("address"): vol.All(_address, int),
            vol.Optional("mask", default=0xFFFF): _u16,
            vol.Required("equals"): _u16,
        },
        vol.Required("channels"): vol.All(each(_CHANNEL), vol.Length(min=1)),
        vol.Optional("setpoints", default=list): each(_SETPOINT),
        vol.Optional("commands", default=dict): {
            vol.In([c.value for c in CommandName]): _COMMAND,
        },
    }
)


# --------------------------------------------------------------------------- loading


def _expand(entries: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """Expand ``repeat`` entries into one entry per instance, keeping their key paths.

    ``{n}`` in key and name is replaced by the instance number (from ``first``, default 1);
    the address moves by ``stride`` registers (default: the type's width) and a bitfield's
    bit by ``bit_stride``.

    Each item is ``(instance label, entry label, entry)``: ``[2] (loop_3_current)`` names
    the instance a problem is in, ``[2] (loop_{n}_current)`` the YAML entry a user edits.
    """
    expanded: list[tuple[str, str, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        count = entry.pop("repeat", None)
        stride = entry.pop("stride", None)
        bit_stride = entry.pop("bit_stride", 0)
        first = entry.pop("first", 1)
        label = f"[{index}] ({entry['key']})"
        if count is None:
            expanded.append((label, label, entry))
            continue
        width = RegisterType(entry["type"]).width
        for instance in range(count):
            number = first + instance
            item = {name: _numbered(value, number) for name, value in entry.items()}
            if entry["address"] is not None:
                item["address"] = entry["address"] + instance * (
                    width if stride is None else stride
                )
            if entry.get("bit") is not None:
                item["bit"] = entry["bit"] + instance * bit_stride
            expanded.append((f"[{index}] ({item['key']})", label, item))
    return expanded


def _numbered(value: Any, number: int) -> Any:
    """Replace ``{n}`` in every string of a repeated entry (key, name, condition targets)."""
    if isinstance(value, str):
        return value.replace("{n}", str(number))
    if isinstance(value, list):
        return [_numbered(item, number) for item in value]
    if isinstance(value, dict):
        return {key: _numbered(item, number) for key, item in value.items()}
    return value


def _conditions(raw: Any) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    return tuple(
        Condition(source=c.get("source"), states=tuple(c.get("states", ())), above=c.get("above"))
        for c in items
    )


def _register(raw: Mapping[str, Any], word_order: str) -> RegisterSpec:
    kind = RegisterType(raw["type"])
    bit = raw.get("bit", 0) if kind is RegisterType.BITFIELD else 0
    return RegisterSpec(
        address=raw["address"],
        type=kind,
        word_order=WordOrder(raw.get("word_order", word_order)),
        scale=raw["scale"],
        bit=bit,
        bits=raw["bits"],
        sentinels=dict(raw["sentinels"]),
        states=dict(raw["states"]),
    )


def _default_poll(kind: ChannelKind) -> PollClass:
    if kind in STATUS_KINDS:
        return PollClass.ALARM
    if kind in SLOW_KINDS:
        return PollClass.SLOW
    return PollClass.TELEMETRY


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _check_register(
    where: str, entry: str, raw: Mapping[str, Any], problems: list[str], missing: list[str]
) -> None:
    if raw["address"] is None:
        missing.append(f"{entry}.address")
    kind = RegisterType(raw["type"])
    if kind is RegisterType.BITFIELD:
        bit = raw.get("bit")
        if bit is None:
            missing.append(f"{entry}.bit")
        elif bit < 0 or bit + raw["bits"] > 16:
            problems.append(f"{where}.bit: bits {bit}..{bit + raw['bits'] - 1} do not fit in 16")
    elif "bit" in raw or raw["bits"] != 1:
        problems.append(f"{where}.bit: only a bitfield has bit and bits")
    if raw["states"] and kind is not RegisterType.BITFIELD:
        problems.append(f"{where}.states: only a bitfield has named states")


def _check_setpoint(
    where: str, entry: str, raw: Mapping[str, Any], problems: list[str], missing: list[str]
) -> None:
    """Bounds, or options: a setpoint whose register is an enumeration lists its values."""
    if "options" not in raw:
        for bound in ("min", "max"):
            if bound not in raw:
                problems.append(
                    f"{where}.{bound}: required (or options, for a register that is an enumeration)"
                )
            elif raw[bound] is None:
                missing.append(f"{entry}.{bound}")
        return
    if raw["options"] is None:
        missing.append(f"{entry}.options")
    for bound in ("min", "max"):
        if bound in raw:
            problems.append(
                f"{where}.{bound}: a setpoint with options takes its values from them"
                f" (got {raw[bound]!r}); remove min and max"
            )
    if raw["scale"] != 1.0 or RegisterType(raw["type"]) is RegisterType.F32:
        problems.append(
            f"{where}.scale: options are register values, written as they are"
            f" (got type {raw['type']}, scale {raw['scale']:g})"
        )


def _bound(raw: Mapping[str, Any], name: str, pick: Callable[[Iterable[int]], int]) -> float:
    """A setpoint's bound: as given, or the smallest (largest) option; NaN while empty."""
    options = raw.get("options")
    if options:
        return float(pick(options))
    value = raw.get(name)
    return math.nan if value is None else float(value)


_ENTRY = re.compile(r"^(channels|setpoints)\[(\d+)\]")


def _file_order(path: str) -> tuple[int, int]:
    """Sort key of a field path: channels, setpoints, then commands, each by entry."""
    match = _ENTRY.match(path)
    if match is None:
        return (2, 0)
    return (0 if match[1] == "channels" else 1, int(match[2]))


def parse_profile(data: Any, origin: str) -> Profile:
    """Validate one profile's parsed YAML and build it, or raise naming every problem."""
    try:
        valid = PROFILE_SCHEMA(data)
    except vol.MultipleInvalid as exc:
        # A profile holds no secrets: show the bad values.
        raise ProfileError(origin, error_lines(exc, data)) from None

    problems: list[str] = []
    missing: list[str] = []
    word_order = valid["word_order"]

    channel_entries = _expand(valid["channels"])
    setpoint_entries = _expand(valid["setpoints"])
    keys: dict[str, str] = {}
    #: The YAML entry of each key, where a field the user must fill is named.
    entry_of: dict[str, str] = {}
    for section, entries in (("channels", channel_entries), ("setpoints", setpoint_entries)):
        for where, entry, raw in entries:
            path = f"{section}{where}"
            if "{n}" in raw["key"]:
                problems.append(f"{path}.key: '{{n}}' only makes sense with repeat")
            if raw["key"] in keys:
                problems.append(f"{path}.key: '{raw['key']}' is already used at {keys[raw['key']]}")
            keys[raw["key"]] = path
            entry_of.setdefault(raw["key"], f"{section}{entry}")
            _check_register(path, f"{section}{entry}", raw, problems, missing)
            if section == "setpoints":
                _check_setpoint(path, f"{section}{entry}", raw, problems, missing)

    channels = tuple(
        Channel(
            key=raw["key"],
            name=raw.get("name") or _title(raw["key"]),
            kind=ChannelKind(raw["kind"]),
            register=_register(raw, word_order),
            unit=raw.get("unit"),
            poll=PollClass(raw["poll"])
            if "poll" in raw
            else _default_poll(ChannelKind(raw["kind"])),
            alarm=_conditions(raw.get("alarm")),
            warning=_conditions(raw.get("warning")),
            wiring_fault=_conditions(raw.get("wiring_fault")),
        )
        for _, _, raw in channel_entries
    )
    setpoints = tuple(
        Setpoint(
            key=raw["key"],
            name=raw.get("name") or _title(raw["key"]),
            kind=SetpointKind(raw["kind"]),
            register=_register(raw, word_order),
            # A missing bound (a template) never escapes: ProfileIncomplete is raised below.
            minimum=_bound(raw, "min", min),
            maximum=_bound(raw, "max", max),
            unit=raw.get("unit"),
            writable=raw["writable"],
            options=dict(raw.get("options") or {}),
            translation_key=raw.get("translation_key"),
        )
        for _, _, raw in setpoint_entries
    )
    channel_keys = {c.key: c for c in channels}
    setpoint_keys = {s.key for s in setpoints}

    def check_states(path: str, target: Channel, states: Iterable[str]) -> None:
        """Named states must exist; a template may leave them to the manual."""
        if not target.register.states and target.register.address is None:
            missing.append(f"{entry_of[target.key]}.states")
            return
        known = set(target.register.states.values())
        for state in states:
            if state not in known:
                problems.append(f"{path}: '{state}' is not a state of '{target.key}'")

    for (where, _, _), channel in zip(channel_entries, channels, strict=True):
        for label in ("alarm", "warning", "wiring_fault"):
            for condition in getattr(channel, label):
                path = f"channels{where}.{label}"
                if condition.source is not None:
                    source = channel_keys.get(condition.source)
                    if source is None:
                        problems.append(f"{path}.source: no channel named '{condition.source}'")
                    elif condition.states:
                        check_states(f"{path}.states", source, condition.states)
                if condition.above is not None and condition.above not in setpoint_keys:
                    problems.append(f"{path}.above: no setpoint named '{condition.above}'")
    for (where, _, _), setpoint in zip(setpoint_entries, setpoints, strict=True):
        if setpoint.minimum > setpoint.maximum:
            problems.append(f"setpoints{where}.min: greater than max")

    commands: dict[CommandName, Command] = {}
    for name, raw in valid["commands"].items():
        path = f"commands.{name}"
        for name_of_field in ("address", "value"):
            if raw[name_of_field] is None:
                missing.append(f"{path}.{name_of_field}")
        verify = None
        if "verify" in raw:
            spec = raw["verify"]
            target = channel_keys.get(spec["channel"])
            if target is None:
                problems.append(f"{path}.verify.channel: no channel named '{spec['channel']}'")
            elif "state" in spec:
                check_states(f"{path}.verify.state", target, [spec["state"]])
            verify = Verification(
                channel=spec["channel"], state=spec.get("state"), value=spec.get("value")
            )
        commands[CommandName(name)] = Command(
            name=CommandName(name),
            address=raw["address"],
            # A missing value (a template) never escapes: ProfileIncomplete is raised below.
            value=0 if raw["value"] is None else raw["value"],
            function=raw["function"],
            verify=verify,
        )
    if CommandName.CLOSE in commands and not any(c.alarm for c in channels):
        # The close interlock needs to know when the device is in alarm; a profile that
        # can re-energise a circuit without describing its alarms would defeat it.
        problems.append("commands.close: the profile has no alarm conditions to interlock it")

    if problems:
        raise ProfileError(origin, problems)
    # One field can be reported twice (states named by two conditions); list them in file order.
    missing = sorted(dict.fromkeys(missing), key=_file_order)
    if missing and valid["verified"]:
        raise ProfileError(
            origin,
            [
                "verified: a profile with empty fields cannot be verified"
                f" (empty: {', '.join(missing)})"
            ],
        )
    if missing:
        raise ProfileIncomplete(origin, missing)

    serial = valid["serial"]
    identify = valid.get("identify")
    return Profile(
        manufacturer=valid["manufacturer"],
        model=valid["model"],
        kind=DeviceKind(valid["kind"]),
        manual_version=valid["manual_version"],
        verified=valid["verified"],
        source=valid["source"],
        simulated=valid["simulated"],
        notes=valid["notes"],
        serial=SerialDefaults(**serial),
        read_function=valid["read_function"],
        channels=channels,
        setpoints=setpoints,
        commands=commands,
        identify=Identify(**identify) if identify else None,
        origin=origin,
    )
