"""The codec: registers to values and back, for every type a profile can declare."""

from __future__ import annotations

import math
import struct

import pytest

from electrical_safety_bridge.profiles.codec import Reading, decode, encode, raw_value
from electrical_safety_bridge.profiles.model import RegisterSpec, RegisterType, WordOrder

U16 = RegisterType.U16
S16 = RegisterType.S16
U32 = RegisterType.U32
S32 = RegisterType.S32
F32 = RegisterType.F32
U8_HI = RegisterType.U8_HI
U8_LO = RegisterType.U8_LO
BITFIELD = RegisterType.BITFIELD
BIG = WordOrder.BIG
LITTLE = WordOrder.LITTLE


def spec(
    kind: RegisterType = U16,
    *,
    order: WordOrder = BIG,
    scale: float = 1.0,
    bit: int = 0,
    bits: int = 1,
    sentinels: dict[int, str] | None = None,
    states: dict[int, str] | None = None,
) -> RegisterSpec:
    return RegisterSpec(
        address=0,
        type=kind,
        word_order=order,
        scale=scale,
        bit=bit,
        bits=bits,
        sentinels=sentinels or {},
        states=states or {},
    )


def f32_words(value: float) -> list[int]:
    raw = int.from_bytes(struct.pack(">f", value), "big")
    return [raw >> 16, raw & 0xFFFF]


# --------------------------------------------------------------------------- decode


@pytest.mark.parametrize(
    ("kind", "registers", "expected"),
    [
        (U16, [0], 0),
        (U16, [1234], 1234),
        (U16, [0xFFFF], 65535),
        (S16, [0x7FFF], 32767),
        (S16, [0x8000], -32768),
        (S16, [0xFFFF], -1),
        (S16, [0xFF38], -200),
        (U32, [0x0001, 0x0000], 65536),
        (U32, [0xFFFF, 0xFFFF], 0xFFFFFFFF),
        (S32, [0xFFFF, 0xFFFE], -2),
        (S32, [0x8000, 0x0000], -0x80000000),
        (S32, [0x0000, 0x0064], 100),
        (F32, f32_words(230.5), 230.5),
        (F32, f32_words(-0.25), -0.25),
        (U8_HI, [0x0A02], 0x0A),
        (U8_LO, [0x0A02], 0x02),
    ],
)
def test_decode_reads_each_type_in_big_endian_word_order(
    kind: RegisterType, registers: list[int], expected: float
) -> None:
    reading = decode(spec(kind), registers)
    assert reading.value == expected
    assert reading.fault is None


@pytest.mark.parametrize(
    ("kind", "big", "expected"),
    [
        (U32, [0x0001, 0x0002], 0x00010002),
        (S32, [0xFFFF, 0xFF9C], -100),
        (F32, f32_words(49.75), 49.75),
    ],
)
def test_little_word_order_reads_the_low_word_first(
    kind: RegisterType, big: list[int], expected: float
) -> None:
    assert decode(spec(kind, order=BIG), big).value == expected
    assert decode(spec(kind, order=LITTLE), big[::-1]).value == expected


def test_word_order_changes_the_value_of_the_same_registers() -> None:
    registers = [0x0001, 0x0002]
    assert decode(spec(U32, order=BIG), registers).value == 0x00010002
    assert decode(spec(U32, order=LITTLE), registers).value == 0x00020001


@pytest.mark.parametrize(
    ("kind", "registers", "scale", "expected"),
    [
        (U16, [2301], 0.1, 230.1),
        (U16, [1234], 0.01, 12.34),
        (S16, [0xFF1A], 0.1, -23.0),
        (S16, [227], 0.1, 22.7),
        (U32, [0x0001, 0x86A0], 0.01, 1000.0),
        (S32, [0xFFFF, 0xFC18], 0.001, -1.0),
        (U16, [5], 10, 50),
    ],
)
def test_scale_turns_raw_counts_into_units(
    kind: RegisterType, registers: list[int], scale: float, expected: float
) -> None:
    assert decode(spec(kind, scale=scale), registers).value == expected


def test_scaled_values_carry_no_float_noise() -> None:
    # 227 * 0.1 is 22.700000000000003 in binary floating point.
    assert decode(spec(S16, scale=0.1), [227]).value == 22.7
    assert str(decode(spec(S16, scale=0.1), [227]).value) == "22.7"


def test_integer_scale_keeps_integers() -> None:
    value = decode(spec(U16), [42]).value
    assert value == 42
    assert isinstance(value, int)


def test_reading_keeps_the_raw_value() -> None:
    assert decode(spec(S16, scale=0.1), [0xFFFF]) == Reading(value=-0.1, raw=0xFFFF)


# --------------------------------------------------------------------------- bitfields


@pytest.mark.parametrize(
    ("bit", "bits", "register", "expected"),
    [
        (0, 1, 0b0000, 0),
        (0, 1, 0b0001, 1),
        (3, 1, 0b1000, 1),
        (3, 1, 0b0111, 0),
        (15, 1, 0x8000, 1),
        (12, 4, 0x1ABC, 1),
        (6, 2, 0b1100_0000, 3),
        (0, 16, 0xBEEF, 0xBEEF),
    ],
)
def test_bitfield_extracts_its_bits(bit: int, bits: int, register: int, expected: int) -> None:
    assert decode(spec(BITFIELD, bit=bit, bits=bits), [register]).value == expected


def test_bitfield_with_states_names_the_state() -> None:
    status = spec(BITFIELD, bits=3, states={0: "normal", 1: "warning", 2: "alarm", 4: "broken"})
    assert decode(status, [0x0000]).value == "normal"
    assert decode(status, [0x0002]).value == "alarm"
    assert decode(status, [0xFFF4]).value == "broken"  # bits above the field are ignored


def test_bitfield_state_not_in_the_profile_is_reported_as_unknown() -> None:
    status = spec(BITFIELD, bits=3, states={0: "normal", 1: "warning", 2: "alarm", 4: "broken"})
    reading = decode(status, [0x0003])
    assert reading.value == "unknown_3"
    assert reading.raw == 3
    assert reading.fault is None


def test_packed_loop_faults_read_two_bits_per_loop() -> None:
    # AIM-R100 000CH: loops 5..12 from the highest pair down.
    states = {0: "normal", 1: "short_circuit", 2: "open_circuit", 3: "overload"}
    register = 0b01_10_11_00_00_00_00_01
    loops = [
        decode(spec(BITFIELD, bit=14 - 2 * i, bits=2, states=states), [register]) for i in range(8)
    ]
    assert [r.value for r in loops] == [
        "short_circuit",
        "open_circuit",
        "overload",
        "normal",
        "normal",
        "normal",
        "normal",
        "short_circuit",
    ]


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(("raw", "fault"), [(0xE5E5, "short_circuit"), (0xFAFA, "open_circuit")])
def test_sentinel_is_a_sensor_fault_not_a_value(raw: int, fault: str) -> None:
    value = spec(U16, sentinels={0xE5E5: "short_circuit", 0xFAFA: "open_circuit"})
    reading = decode(value, [raw])
    assert reading.value is None
    assert reading.fault == fault
    assert reading.raw == raw


def test_value_next_to_a_sentinel_decodes_normally() -> None:
    value = spec(U16, sentinels={0xE5E5: "short_circuit", 0xFAFA: "open_circuit"})
    assert decode(value, [0xE5E4]) == Reading(value=0xE5E4, raw=0xE5E4)


def test_sentinel_is_matched_before_sign_and_scale() -> None:
    value = spec(S16, scale=0.1, sentinels={0xFAFA: "open_circuit"})
    assert decode(value, [0xFAFA]).fault == "open_circuit"


def test_sentinel_on_a_32_bit_value_matches_the_joined_raw_value() -> None:
    value = spec(U32, order=LITTLE, sentinels={0xFFFFFFFF: "no_sensor"})
    assert decode(value, [0xFFFF, 0xFFFF]).fault == "no_sensor"


@pytest.mark.parametrize(
    "registers",
    [[0x7FC0, 0x0000], [0xFFC0, 0x0000], [0x7F80, 0x0000], [0xFF80, 0x0000]],
    ids=["nan", "negative-nan", "infinity", "minus-infinity"],
)
def test_float_that_is_not_a_number_is_a_fault(registers: list[int]) -> None:
    reading = decode(spec(F32), registers)
    assert reading.value is None
    assert reading.fault == "not_a_number"


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("kind", "registers"),
    [(U16, []), (U16, [1, 2]), (U32, [1]), (F32, [1, 2, 3]), (BITFIELD, [])],
)
def test_wrong_number_of_registers_is_refused(kind: RegisterType, registers: list[int]) -> None:
    with pytest.raises(ValueError, match="registers"):
        decode(spec(kind), registers)


@pytest.mark.parametrize("registers", [[-1], [0x10000]])
def test_register_outside_16_bits_is_refused(registers: list[int]) -> None:
    with pytest.raises(ValueError, match="16-bit"):
        decode(spec(U16), registers)


def test_raw_value_is_unsigned_and_unscaled() -> None:
    assert raw_value(spec(S16, scale=0.1), [0xFFFF]) == 0xFFFF
    assert raw_value(spec(S32, order=LITTLE), [0x0002, 0x0001]) == 0x00010002


# --------------------------------------------------------------------------- encode


@pytest.mark.parametrize(
    ("kind", "value", "registers"),
    [
        (U16, 0, [0]),
        (U16, 65535, [0xFFFF]),
        (S16, -1, [0xFFFF]),
        (S16, -32768, [0x8000]),
        (U32, 0x00010002, [0x0001, 0x0002]),
        (S32, -2, [0xFFFF, 0xFFFE]),
        (F32, 230.5, f32_words(230.5)),
        (U8_HI, 0x0A, [0x0A00]),
        (U8_LO, 0x02, [0x0002]),
    ],
)
def test_encode_writes_each_type(kind: RegisterType, value: float, registers: list[int]) -> None:
    assert encode(spec(kind), value) == registers


@pytest.mark.parametrize("kind", [U32, S32, F32])
def test_encode_honours_word_order(kind: RegisterType) -> None:
    value = 70000
    assert encode(spec(kind, order=LITTLE), value) == encode(spec(kind, order=BIG), value)[::-1]


def test_encode_divides_by_the_scale() -> None:
    assert encode(spec(U16, scale=0.1), 230.1) == [2301]
    assert encode(spec(S16, scale=0.1), -23.0) == [0xFF1A]
    assert encode(spec(U32, scale=0.01), 1000.0) == [0x0001, 0x86A0]


def test_encode_rounds_to_the_nearest_count() -> None:
    assert encode(spec(U16, scale=0.1), 22.74) == [227]
    assert encode(spec(U16, scale=0.1), 22.76) == [228]


def test_packed_high_byte_keeps_the_low_byte() -> None:
    # AIM-R100 0001H: address in one byte, baud code in the other.
    assert encode(spec(U8_HI), 5, current=[0x0A02]) == [0x0502]


def test_packed_low_byte_keeps_the_high_byte() -> None:
    assert encode(spec(U8_LO), 3, current=[0x0A02]) == [0x0A03]


def test_bitfield_encode_keeps_the_other_bits() -> None:
    assert encode(spec(BITFIELD, bit=4, bits=2), 2, current=[0xFFFF]) == [0xFFEF]
    assert encode(spec(BITFIELD, bit=4, bits=2), 3, current=[0x0000]) == [0x0030]
    assert encode(spec(BITFIELD, bit=15), 1, current=[0x0001]) == [0x8001]


def test_bitfield_encode_accepts_a_state_name() -> None:
    breaker = spec(BITFIELD, bit=1, states={0: "open", 1: "closed"})
    assert encode(breaker, "closed", current=[0x0001]) == [0x0003]
    assert encode(breaker, "open", current=[0x0003]) == [0x0001]


def test_encode_refuses_an_unknown_state_name() -> None:
    breaker = spec(BITFIELD, states={0: "open", 1: "closed"})
    with pytest.raises(ValueError, match="tripped"):
        encode(breaker, "tripped")


@pytest.mark.parametrize(
    ("value_spec", "value"),
    [
        (spec(U16), -1),
        (spec(U16), 65536),
        (spec(U16, scale=0.1), 6553.6),
        (spec(S16), 32768),
        (spec(S16), -32769),
        (spec(U32), -1),
        (spec(U32), 0x100000000),
        (spec(S32), 0x80000000),
        (spec(S32), -0x80000001),
        (spec(U8_HI), 256),
        (spec(U8_LO), -1),
        (spec(BITFIELD, bits=2), 4),
        (spec(BITFIELD, bits=1), -1),
        (spec(F32), 1e39),
        (spec(U16), math.inf),
        (spec(U16), math.nan),
        (spec(S32, scale=0.001), 1e308),
    ],
)
def test_encode_refuses_a_value_that_does_not_fit(value_spec: RegisterSpec, value: float) -> None:
    with pytest.raises(ValueError):
        encode(value_spec, value)


# --------------------------------------------------------------------------- round trips

ROUND_TRIPS = [
    (spec(U16), [0, 1, 300, 65535]),
    (spec(U16, scale=0.1), [0.0, 0.1, 230.1, 6553.5]),
    (spec(U16, scale=0.01), [0.0, 12.34, 655.35]),
    (spec(S16), [-32768, -1, 0, 1, 32767]),
    (spec(S16, scale=0.1), [-40.0, -0.1, 0.0, 22.7, 140.0]),
    (spec(U32), [0, 65535, 65536, 0xFFFFFFFF]),
    (spec(U32, order=LITTLE, scale=0.01), [0.0, 123456.78, 42949672.95]),
    (spec(S32), [-0x80000000, -1, 0, 0x7FFFFFFF]),
    (spec(S32, order=LITTLE), [-5000, 5000]),
    (spec(F32), [0.0, -1.5, 230.5, 1e-3, 3.0e38]),
    (spec(F32, order=LITTLE), [49.98, -273.15]),
    (spec(U8_HI), [0, 1, 255]),
    (spec(U8_LO), [0, 1, 255]),
    (spec(BITFIELD, bit=6, bits=2), [0, 1, 2, 3]),
    (spec(BITFIELD, bit=0, bits=3, states={0: "normal", 2: "alarm"}), ["normal", "alarm"]),
]


@pytest.mark.parametrize(("value_spec", "values"), ROUND_TRIPS)
def test_decode_inverts_encode(value_spec: RegisterSpec, values: list[float | str]) -> None:
    for value in values:
        decoded = decode(value_spec, encode(value_spec, value)).value
        if value_spec.type is F32:
            assert isinstance(decoded, float)
            assert isinstance(value, float)
            assert math.isclose(decoded, value, rel_tol=1e-6)
        else:
            assert decoded == value


@pytest.mark.parametrize("value_spec", [s for s, _ in ROUND_TRIPS if s.type is not F32])
def test_encode_inverts_decode_for_every_register_value(value_spec: RegisterSpec) -> None:
    width = value_spec.width
    samples = [0, 1, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
    for word in samples:
        registers = [word] * width
        reading = decode(value_spec, registers)
        if reading.value is None or str(reading.value).startswith("unknown_"):
            continue
        again = encode(value_spec, reading.value, current=registers)
        if value_spec.type in (U8_HI, U8_LO, BITFIELD):
            assert again == registers  # the bits it does not own are kept
        else:
            assert decode(value_spec, again).value == reading.value
