"""Pure conversion between 16-bit registers and values, as a profile describes them.

``decode`` turns the registers of one value into a :class:`Reading`; ``encode`` is its
inverse, used for writes and by the simulator. Neither touches I/O.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Final

from .model import RegisterSpec, RegisterType, WordOrder

_FORMATS: Final = {
    RegisterType.U32: ">I",
    RegisterType.S32: ">i",
    RegisterType.F32: ">f",
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One decoded value.

    ``value`` is a number, or a state name for a bitfield with named states. It is ``None``
    when the raw value is a sentinel; ``fault`` then names what the sentinel means
    (for example ``short_circuit``), which the bridge reports as a wiring fault.
    """

    value: float | int | str | None
    raw: int
    fault: str | None = None


def _join(registers: list[int], order: WordOrder) -> int:
    high, low = registers if order is WordOrder.BIG else reversed(registers)
    return (high << 16) | low


def _split(raw: int, order: WordOrder) -> list[int]:
    words = [(raw >> 16) & 0xFFFF, raw & 0xFFFF]
    return words if order is WordOrder.BIG else words[::-1]


def _scaled(number: float, scale: float) -> float | int:
    value = number * scale
    if isinstance(number, int) and float(scale).is_integer():
        return int(value)
    # Scaling by 0.1 or 0.01 must not print as 22.700000000000003.
    return round(value, 10)


def raw_value(spec: RegisterSpec, registers: list[int]) -> int:
    """The unsigned raw integer of a value (what sentinels and bitfields are matched on)."""
    if len(registers) != spec.width:
        raise ValueError(f"{spec.type} needs {spec.width} registers, got {len(registers)}")
    if any(not 0 <= word <= 0xFFFF for word in registers):
        raise ValueError("registers are 16-bit unsigned values")
    match spec.type:
        case RegisterType.U32 | RegisterType.S32 | RegisterType.F32:
            return _join(registers, spec.word_order)
        case RegisterType.U8_HI:
            return registers[0] >> 8
        case RegisterType.U8_LO:
            return registers[0] & 0xFF
        case RegisterType.BITFIELD:
            bit = spec.bit or 0
            return (registers[0] >> bit) & ((1 << spec.bits) - 1)
        case _:
            return registers[0]


def decode(spec: RegisterSpec, registers: list[int]) -> Reading:
    """Decode the registers of one value."""
    raw = raw_value(spec, registers)
    if raw in spec.sentinels:
        return Reading(value=None, raw=raw, fault=spec.sentinels[raw])
    match spec.type:
        case RegisterType.S16:
            number: float | int = raw - 0x10000 if raw & 0x8000 else raw
        case RegisterType.U32 | RegisterType.S32 | RegisterType.F32:
            (number,) = struct.unpack(_FORMATS[spec.type], raw.to_bytes(4, "big"))
            if isinstance(number, float) and not math.isfinite(number):
                return Reading(value=None, raw=raw, fault="not_a_number")
        case RegisterType.BITFIELD if spec.states:
            return Reading(value=spec.states.get(raw, f"unknown_{raw}"), raw=raw)
        case _:
            number = raw
    return Reading(value=_scaled(number, spec.scale), raw=raw)


def encode(
    spec: RegisterSpec, value: float | int | str, current: list[int] | None = None
) -> list[int]:
    """Registers that hold ``value``.

    A packed byte or a bitfield shares its register with other fields, so ``current`` (the
    register as it is now) keeps the bits this value does not own.
    """
    if isinstance(value, str):
        by_name = {name: raw for raw, name in spec.states.items()}
        if value not in by_name:
            raise ValueError(f"'{value}' is not a state of this value")
        raw = by_name[value]
    elif spec.type is RegisterType.F32:
        try:
            packed = struct.pack(">f", value / spec.scale)
        except OverflowError:
            raise ValueError(f"{value} does not fit in f32") from None
        return _split(int.from_bytes(packed, "big"), spec.word_order)
    else:
        scaled = value / spec.scale
        if not math.isfinite(scaled):
            raise ValueError(f"{value} does not fit in {spec.type}")
        raw = round(scaled)
    base = (current or [0] * spec.width)[0]
    match spec.type:
        case RegisterType.U16 | RegisterType.U8_HI | RegisterType.U8_LO | RegisterType.BITFIELD:
            limit = {
                RegisterType.U16: 0xFFFF,
                RegisterType.U8_HI: 0xFF,
                RegisterType.U8_LO: 0xFF,
            }.get(spec.type, (1 << spec.bits) - 1)
            if not 0 <= raw <= limit:
                raise ValueError(f"{value} does not fit in {spec.type}")
            if spec.type is RegisterType.U8_HI:
                return [(base & 0x00FF) | (raw << 8)]
            if spec.type is RegisterType.U8_LO:
                return [(base & 0xFF00) | raw]
            if spec.type is RegisterType.BITFIELD:
                bit = spec.bit or 0
                mask = ((1 << spec.bits) - 1) << bit
                return [(base & ~mask & 0xFFFF) | (raw << bit)]
            return [raw]
        case RegisterType.S16:
            if not -0x8000 <= raw <= 0x7FFF:
                raise ValueError(f"{value} does not fit in s16")
            return [raw & 0xFFFF]
        case RegisterType.U32:
            if not 0 <= raw <= 0xFFFFFFFF:
                raise ValueError(f"{value} does not fit in u32")
            return _split(raw, spec.word_order)
        case _:  # S32
            if not -0x80000000 <= raw <= 0x7FFFFFFF:
                raise ValueError(f"{value} does not fit in s32")
            return _split(raw & 0xFFFFFFFF, spec.word_order)
