"""The register explorer's pure part: raw registers shown every way, changes, proposals.

A person maps a detector with no public register map by reading ranges of its registers
live (:mod:`.explorer_views` does the reading, through the bus at the lowest priority). This
module takes the registers read and returns what the page shows; it touches no I/O.

Every value is decoded by the profile codec (:func:`..profiles.codec.decode`) with the same
:class:`RegisterSpec` a profile would hold, so what the explorer shows is what the bridge
would read with that profile. A proposed channel is checked the same way: its YAML is parsed
by the profile loader, and the value shown beside it is decoded from the parsed channel.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Final

from ..common.enums import ChannelKind
from ..errors import ProfileError
from ..profiles.codec import decode
from ..profiles.loader import load_profile_text
from ..profiles.model import RegisterSpec, RegisterType, WordOrder

#: Modbus's own limits for one read (functions 03 and 04).
MAX_COUNT: Final = 125
MAX_ADDRESS: Final = 0xFFFF
FUNCTIONS: Final = (3, 4)
#: The types a channel can be proposed as, 16-bit first.
PROPOSABLE: Final = (
    RegisterType.U16,
    RegisterType.S16,
    RegisterType.U32,
    RegisterType.S32,
    RegisterType.F32,
)
_WIDE: Final = (RegisterType.U32, RegisterType.S32, RegisterType.F32)
#: The proposable types that take two registers, by name.
WIDE_TYPES: Final = frozenset(t.value for t in _WIDE)
#: A channel key, as a profile's schema takes it.
_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")
#: The decodings of two adjacent registers, in the order the page's columns show them.
PAIR_DECODINGS: Final = tuple(
    (register_type, order) for order in WordOrder for register_type in _WIDE
)


class ExplorerProblem(ValueError):
    """A request the explorer cannot serve; ``key`` is its catalogue text (``explorer.*``)
    and ``values`` fill it in, so that the page names the value in the person's words."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(f"{key}: {values}")


@dataclass(frozen=True, slots=True)
class ReadRange:
    """Which registers a person asked for; checked against Modbus's limits on creation."""

    bus: str
    unit: int
    function: int
    address: int
    count: int

    def __post_init__(self) -> None:
        if self.function not in FUNCTIONS:
            raise ExplorerProblem("explorer.error.function", function=self.function)
        if not 1 <= self.unit <= 247:
            raise ExplorerProblem("explorer.error.unit", unit=self.unit)
        if not 1 <= self.count <= MAX_COUNT:
            raise ExplorerProblem("explorer.error.count", count=self.count, most=MAX_COUNT)
        if not 0 <= self.address <= MAX_ADDRESS:
            raise ExplorerProblem("explorer.error.address", address=self.address)
        last = self.address + self.count - 1
        if last > MAX_ADDRESS:
            raise ExplorerProblem(
                "explorer.error.past_end", address=hex4(self.address), count=self.count
            )

    @property
    def last(self) -> int:
        return self.address + self.count - 1


def hex4(value: int) -> str:
    """A register address or value as the manuals write it: ``0x001B``."""
    return f"0x{value:04X}"


def bits_of(value: int) -> str:
    """A register's 16 bits, bit 15 first, in groups of four."""
    text = f"{value:016b}"
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def number_text(value: float | int | str | None) -> str:
    """A decoded number as the page shows it (no float noise; NaN and infinities named)."""
    if value is None:
        return "NaN"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.7g}"
    return str(value)


def decoded(spec: RegisterSpec, registers: list[int]) -> float | int | str | None:
    """``registers`` decoded as ``spec`` says, by the profile codec (None for a NaN f32)."""
    return decode(spec, registers).value


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One register, every way a profile can read it on its own."""

    address: int
    raw: int
    s16: int
    hex: str
    bits: str
    previous: int | None  # the value at the read before, when it differs


@dataclass(frozen=True, slots=True)
class PairRow:
    """Two adjacent registers as one 32-bit value, in both word orders."""

    address: int
    registers: tuple[int, int]
    values: tuple[str, ...]  # in PAIR_DECODINGS's order
    changed: bool


@dataclass(frozen=True, slots=True)
class Change:
    """A register whose value differs between two reads."""

    address: int
    old: int
    new: int


def changes(
    address: int, registers: list[int], before_address: int, before: list[int]
) -> list[Change]:
    """Registers read at ``address`` that differ from a read at ``before_address`` (only
    the addresses both reads cover are compared)."""
    old = {before_address + i: value for i, value in enumerate(before)}
    return [
        Change(address + i, old[address + i], value)
        for i, value in enumerate(registers)
        if address + i in old and old[address + i] != value
    ]


def register_rows(address: int, registers: list[int], changed: list[Change]) -> list[RegisterRow]:
    """Each register as u16, s16, hex and bits (decoded by the codec, as u16 and s16)."""
    was = {c.address: c.old for c in changed}
    unsigned, signed = (
        RegisterSpec(address, RegisterType.U16),
        RegisterSpec(address, RegisterType.S16),
    )
    rows = []
    for offset, raw in enumerate(registers):
        u16, s16 = decoded(unsigned, [raw]), decoded(signed, [raw])
        assert isinstance(u16, int) and isinstance(s16, int)
        rows.append(
            RegisterRow(
                address + offset, u16, s16, hex4(raw), bits_of(raw), was.get(address + offset)
            )
        )
    return rows


def pair_rows(address: int, registers: list[int], changed: list[Change]) -> list[PairRow]:
    """Each adjacent pair as u32, s32 and f32, high word first and low word first."""
    moved = {c.address for c in changed}
    rows = []
    for offset in range(len(registers) - 1):
        pair = [registers[offset], registers[offset + 1]]
        values = tuple(
            number_text(decoded(RegisterSpec(address + offset, kind, order), pair))
            for kind, order in PAIR_DECODINGS
        )
        first = address + offset
        rows.append(PairRow(first, (pair[0], pair[1]), values, bool({first, first + 1} & moved)))
    return rows


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True, slots=True)
class Proposal:
    """A channel for a profile, as YAML to paste, and what it reads from the registers."""

    yaml: str
    address: int
    registers: tuple[int, ...]
    type: RegisterType
    word_order: WordOrder
    scale: float
    value: str  # decoded from the parsed YAML, with its unit


def _scale(text: str) -> float:
    try:
        scale = float(text)
    except ValueError:
        raise ExplorerProblem("explorer.error.scale", scale=text) from None
    if scale == 0 or not math.isfinite(scale):
        raise ExplorerProblem("explorer.error.scale", scale=text)
    return scale


def _yaml_string(text: str) -> str:
    """A string as a YAML scalar that reads back the same (JSON's quoting is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def propose(
    address: int,
    registers: list[int],
    *,
    register_type: str,
    word_order: str,
    scale: str,
    key: str,
    kind: str,
    unit: str = "",
    name: str = "",
    comment: str = "",
) -> Proposal:
    """A channel reading ``registers`` (read at ``address``) as the person chose.

    Raises :class:`ExplorerProblem` for a choice a profile would refuse, naming the value.
    ``comment`` is written above the channel (who proposed it, and that it wants checking).
    """
    try:
        chosen_type = RegisterType(register_type)
    except ValueError:
        raise ExplorerProblem("explorer.error.type", type=register_type) from None
    if chosen_type not in PROPOSABLE:
        raise ExplorerProblem("explorer.error.type", type=register_type)
    try:
        order = WordOrder(word_order or WordOrder.BIG)
    except ValueError:
        raise ExplorerProblem("explorer.error.word_order", word_order=word_order) from None
    factor = _scale(scale.strip() or "1")
    key = key.strip()
    if not _KEY.fullmatch(key):
        raise ExplorerProblem("explorer.error.key", key=key)
    if kind not in set(ChannelKind):
        raise ExplorerProblem("explorer.error.kind", kind=kind)
    if not 0 <= address <= MAX_ADDRESS - chosen_type.width + 1:
        raise ExplorerProblem("explorer.error.address", address=address)
    if len(registers) < chosen_type.width or any(not 0 <= r <= 0xFFFF for r in registers):
        raise ExplorerProblem(
            "explorer.error.selection", type=chosen_type.value, width=chosen_type.width
        )
    words = list(registers[: chosen_type.width])
    lines = [f"  # {line}" for line in comment.splitlines() if line.strip()]
    lines.append(f"  - key: {key}")
    if name.strip():
        lines.append(f"    name: {_yaml_string(name.strip())}")
    lines.append(f"    address: {hex4(address)}")
    lines.append(f"    type: {chosen_type.value}")
    if chosen_type in _WIDE:
        lines.append(f"    word_order: {order.value}")
    if factor != 1:
        lines.append(f"    scale: {factor:g}")
    if unit.strip():
        lines.append(f"    unit: {_yaml_string(unit.strip())}")
    lines.append(f"    kind: {kind}")
    text = "\n".join(lines) + "\n"
    # Read the proposal back as the bridge will: the value shown is the parsed channel's.
    try:
        profile = load_profile_text(_CHECK_PROFILE + text, "register explorer proposal")
    except ProfileError as exc:
        raise ExplorerProblem("explorer.error.profile", problems="; ".join(exc.problems)) from None
    channel = profile.channels[0]
    value = number_text(decoded(channel.register, words))
    return Proposal(
        yaml=text,
        address=address,
        registers=tuple(words),
        type=chosen_type,
        word_order=channel.register.word_order,
        scale=channel.register.scale,
        value=f"{value} {unit.strip()}".strip(),
    )


#: The frame a proposal is checked in: the least a profile must have, then the channel.
_CHECK_PROFILE: Final = """\
manufacturer: Register explorer
model: proposal check
kind: residual_current_detector
manual_version: "-"
verified: false
source: the register explorer's proposal
channels:
"""
