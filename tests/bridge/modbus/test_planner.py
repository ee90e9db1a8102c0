"""The block-read planner: few transactions, within the limits, and learning from exception 02."""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Sequence

import pytest

from electrical_safety_bridge.common.enums import PollClass
from electrical_safety_bridge.modbus.planner import (
    DEFAULT_MAX_GAP,
    MAX_READ_REGISTERS,
    Block,
    PlanState,
    learn_illegal_address,
    plan,
)
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.profiles.model import Channel, Profile, Setpoint


def spans_of(*starts_and_widths: tuple[int, int]) -> list[range]:
    return [range(start, start + width) for start, width in starts_and_widths]


def covered(blocks: Sequence[Block], span: range) -> bool:
    return any(block.covers(span) for block in blocks)


# --------------------------------------------------------------------------- merging


def test_block_reports_its_stop_and_what_it_covers() -> None:
    block = Block(10, 4)
    assert block.stop == 14
    assert block.covers(range(10, 14))
    assert block.covers(range(12, 13))
    assert not block.covers(range(13, 15))
    assert not block.covers(range(9, 10))


def test_nothing_to_read_plans_nothing() -> None:
    assert plan([]) == ()


def test_adjacent_values_are_read_in_one_block() -> None:
    assert plan(spans_of((0, 1), (1, 1), (2, 2), (4, 1))) == (Block(0, 5),)


def test_input_order_does_not_matter() -> None:
    spans = spans_of((40, 1), (0, 2), (20, 1), (2, 1))
    assert plan(spans) == plan(sorted(spans, key=lambda s: s.start))


def test_values_sharing_a_register_are_read_once() -> None:
    # AIM-R100 000BH holds the meter type and the faults of loops 1-4.
    spans = [range(0x0B, 0x0C)] * 5 + [range(0x0C, 0x0D)]
    assert plan(spans) == (Block(0x0B, 2),)


def test_overlapping_values_merge() -> None:
    assert plan(spans_of((10, 2), (11, 1), (11, 2))) == (Block(10, 3),)


def test_empty_spans_of_a_template_are_ignored() -> None:
    assert plan([range(0), range(5, 6), range(0)]) == (Block(5, 1),)


def test_small_gap_is_read_through() -> None:
    assert plan(spans_of((0, 1), (5, 1)), max_gap=4) == (Block(0, 6),)


def test_gap_of_exactly_max_gap_is_read_through() -> None:
    assert plan(spans_of((0, 1), (1 + DEFAULT_MAX_GAP, 1))) == (Block(0, 2 + DEFAULT_MAX_GAP),)


def test_gap_wider_than_max_gap_splits_the_block() -> None:
    assert plan(spans_of((0, 1), (2 + DEFAULT_MAX_GAP, 1))) == (
        Block(0, 1),
        Block(2 + DEFAULT_MAX_GAP, 1),
    )


def test_max_gap_zero_merges_only_adjacent_values() -> None:
    assert plan(spans_of((0, 1), (1, 1), (3, 1)), max_gap=0) == (Block(0, 2), Block(3, 1))


# --------------------------------------------------------------------------- the 125 limit


def test_a_block_never_exceeds_the_125_register_limit() -> None:
    spans = [range(address, address + 1) for address in range(300)]
    blocks = plan(spans)
    assert blocks == (Block(0, 125), Block(125, 125), Block(250, 50))
    assert all(block.count <= MAX_READ_REGISTERS for block in blocks)


def test_a_32_bit_value_is_never_split_at_the_limit() -> None:
    # 62 two-register values fill 124 registers; the 63rd would need 126.
    spans = [range(address, address + 2) for address in range(0, 130, 2)]
    blocks = plan(spans)
    assert blocks[0] == Block(0, 124)
    assert all(covered(blocks, span) for span in spans)


def test_max_count_can_be_lowered_for_a_fussy_device() -> None:
    spans = [range(address, address + 1) for address in range(10)]
    assert plan(spans, max_count=4) == (Block(0, 4), Block(4, 4), Block(8, 2))


@pytest.mark.parametrize("seed", range(20))
def test_every_value_is_read_within_the_limits(seed: int) -> None:
    rng = random.Random(seed)
    spans = [range(start, start + rng.choice((1, 2))) for start in rng.sample(range(600), k=80)]
    max_gap = rng.randint(0, 12)
    blocks = plan(spans, max_gap=max_gap)
    assert all(covered(blocks, span) for span in spans)
    assert all(1 <= block.count <= MAX_READ_REGISTERS for block in blocks)
    assert list(blocks) == sorted(blocks)
    assert all(a.stop <= b.start for a, b in itertools.pairwise(blocks))
    wanted = {address for span in spans for address in span}
    for block in blocks:
        # A block starts and ends on a value, and reads no gap wider than max_gap.
        assert block.start in wanted
        assert block.stop - 1 in wanted
        run = 0
        for address in range(block.start, block.stop):
            run = 0 if address in wanted else run + 1
            assert run <= max_gap


# --------------------------------------------------------------------------- what the state says


def test_unsupported_registers_are_never_read() -> None:
    state = PlanState(unsupported=frozenset({3}))
    blocks = plan(spans_of((0, 1), (2, 2), (5, 1)), state)
    assert blocks == (Block(0, 1), Block(5, 1))
    assert not any(3 in range(block.start, block.stop) for block in blocks)


def test_a_block_never_bridges_an_unsupported_register() -> None:
    state = PlanState(unsupported=frozenset({2}))
    assert plan(spans_of((0, 2), (3, 1)), state) == (Block(0, 2), Block(3, 1))


def test_a_cut_splits_the_block_there() -> None:
    state = PlanState(cuts=frozenset({3}))
    assert plan(spans_of((0, 1), (1, 2), (3, 1), (4, 1)), state) == (Block(0, 3), Block(3, 2))


def test_a_cut_at_the_start_of_a_block_changes_nothing() -> None:
    state = PlanState(cuts=frozenset({0, 2}))
    assert plan(spans_of((0, 1), (1, 1)), state) == (Block(0, 2),)


# --------------------------------------------------------------------------- learning


def test_a_rejected_block_with_gaps_is_cut_at_every_gap() -> None:
    spans = spans_of((0, 1), (2, 1), (3, 1), (6, 2))
    state = learn_illegal_address(Block(0, 8), spans, PlanState())
    assert state.cuts == {2, 6}
    assert state.unsupported == frozenset()
    assert plan(spans, state) == (Block(0, 1), Block(2, 2), Block(6, 2))


def test_gap_registers_are_not_called_unsupported() -> None:
    # They were read only to save a transaction; another poll class may need them.
    state = learn_illegal_address(Block(0, 5), spans_of((0, 1), (4, 1)), PlanState())
    assert not state.unsupported


def test_a_rejected_block_without_gaps_is_cut_in_two() -> None:
    spans = spans_of((0, 1), (1, 1), (2, 2), (4, 1))
    state = learn_illegal_address(Block(0, 5), spans, PlanState())
    assert len(state.cuts) == 1
    assert not state.unsupported
    first, second = plan(spans, state)
    assert first.stop == second.start


def test_a_rejected_single_value_is_remembered_as_unsupported() -> None:
    spans = spans_of((0, 1), (10, 2))
    state = learn_illegal_address(Block(10, 2), spans, PlanState())
    assert state.unsupported == {10, 11}
    assert plan(spans, state) == (Block(0, 1),)


def test_values_overlapping_each_other_cannot_be_split_and_are_retired_together() -> None:
    spans = spans_of((10, 2), (11, 1))
    state = learn_illegal_address(Block(10, 2), spans, PlanState())
    assert state.unsupported == {10, 11}
    assert plan(spans, state) == ()


def test_learning_keeps_what_was_learnt_before() -> None:
    before = PlanState(unsupported=frozenset({100}), cuts=frozenset({50}))
    after = learn_illegal_address(Block(0, 3), spans_of((0, 1), (2, 1)), before)
    assert after.unsupported >= before.unsupported
    assert after.cuts >= before.cuts | {2}


def test_learning_from_a_block_of_nothing_wanted_changes_nothing() -> None:
    state = PlanState(cuts=frozenset({7}))
    assert learn_illegal_address(Block(200, 3), spans_of((0, 1)), state) == state


class Device:
    """A unit that answers exception 02 for any block that touches an illegal register."""

    def __init__(self, illegal: Collection[int]) -> None:
        self.illegal = frozenset(illegal)
        self.reads: list[Block] = []

    def accepts(self, block: Block) -> bool:
        self.reads.append(block)
        return not self.illegal.intersection(range(block.start, block.stop))


def learn_until_read(
    device: Device, spans: Sequence[range], state: PlanState | None = None, max_gap: int = 8
) -> tuple[tuple[Block, ...], PlanState, int]:
    """Plan, read and learn as the bus does, until every block of the plan reads."""
    state = state or PlanState()
    failures = 0
    while True:
        blocks = plan(spans, state, max_gap=max_gap)
        rejected = next((block for block in blocks if not device.accepts(block)), None)
        if rejected is None:
            return blocks, state, failures
        failures += 1
        assert failures <= 2 * len(spans), "learning did not converge"
        state = learn_illegal_address(rejected, spans, state)


def test_learning_converges_on_a_device_with_reserved_registers() -> None:
    spans = spans_of((0, 1), (1, 1), (3, 1), (4, 2), (7, 1), (8, 1), (20, 1))
    device = Device(illegal={2, 6})  # reserved registers between the values
    blocks, state, _ = learn_until_read(device, spans)
    assert all(covered(blocks, span) for span in spans)
    assert not state.unsupported
    assert not any(device.illegal.intersection(range(b.start, b.stop)) for b in blocks)


def test_learning_reports_a_value_the_device_does_not_have() -> None:
    spans = spans_of((0, 1), (1, 1), (2, 2), (4, 1), (5, 1))
    device = Device(illegal={3})  # the second register of the u32 at 2
    blocks, state, _ = learn_until_read(device, spans)
    assert state.unsupported == {2, 3}
    assert not covered(blocks, range(2, 4))
    assert all(covered(blocks, span) for span in spans if span.start != 2)


@pytest.mark.parametrize("seed", range(40))
def test_learning_converges_on_any_device(seed: int) -> None:
    rng = random.Random(seed)
    spans: list[range] = []
    address = rng.randrange(0, 10)
    for _ in range(rng.randint(1, 60)):
        width = rng.choice((1, 1, 1, 2))
        spans.append(range(address, address + width))
        address += width + rng.choice((0, 0, 0, 1, 2, 5, 12))
    top = spans[-1].stop
    illegal = {a for a in range(top) if rng.random() < rng.choice((0.0, 0.05, 0.2, 0.5))}
    rng.shuffle(spans)
    device = Device(illegal)

    max_gap = rng.randint(0, 10)
    blocks, state, failures = learn_until_read(device, spans, max_gap=max_gap)

    bad = [span for span in spans if illegal.intersection(span)]
    good = [span for span in spans if not illegal.intersection(span)]
    # Every supported value is read, every unsupported one is reported, nothing else is.
    assert all(covered(blocks, span) for span in good)
    assert not any(covered(blocks, span) for span in bad)
    assert state.unsupported == {a for span in bad for a in span}
    assert failures <= 2 * len(spans)
    # Once learnt, a second pass reads without a single exception.
    assert learn_until_read(device, spans, state, max_gap=max_gap)[2] == 0


# --------------------------------------------------------------------------- real profiles


def spans_by_class(profile: Profile) -> dict[PollClass, list[range]]:
    """Spans each poll of a unit reads: setpoints with the slow poll, as the bus does."""
    spans: dict[PollClass, list[range]] = {poll: [] for poll in PollClass}
    for channel in profile.channels:
        spans[channel.poll].append(channel.register.span)
    spans[PollClass.SLOW].extend(s.register.span for s in profile.setpoints)
    return spans


def test_one_state_serves_every_poll_class_of_the_aim_r100() -> None:
    # 0009H-000AH are reserved; the slow poll's block 0008H-000FH reads across them and the
    # loop 5-12 fault word 000CH, which belongs to the alarm poll. Learning from the slow
    # poll must not stop the alarm poll from reading 000CH.
    profile = find_profile("AIM-R100")
    reserved = {0x0002, 0x0003, 0x0009, 0x000A, 0x0049, *range(0x0062, 0x0100)}
    device = Device(reserved)
    by_class = spans_by_class(profile)

    state = PlanState()
    for poll in (PollClass.SLOW, PollClass.ALARM, PollClass.TELEMETRY, PollClass.SLOW):
        blocks, state, _ = learn_until_read(device, by_class[poll], state)
        assert all(covered(blocks, span) for span in by_class[poll])
    assert not state.unsupported
    assert covered(plan(by_class[PollClass.ALARM], state), range(0x000C, 0x000D))


@pytest.mark.parametrize("model", ["SIM-ARCM", "SIM-AAFD"])
def test_simulator_maps_make_the_planner_split_around_a_reserved_register(model: str) -> None:
    profile = find_profile(model)
    values: list[Channel | Setpoint] = [*profile.channels, *profile.setpoints]
    served = {address for value in values for address in value.register.span}
    device = Device(set(range(0x0100)) - served)
    splits = 0
    state = PlanState()
    for poll, spans in spans_by_class(profile).items():
        first = plan(spans, state)
        blocks, state, failures = learn_until_read(device, spans, state)
        assert all(covered(blocks, span) for span in spans), poll
        if failures:
            splits += 1
            assert len(blocks) > len(first)
    assert splits >= 1
    assert not state.unsupported
