"""Block-read planning: as few transactions as the device allows. Pure, no I/O.

Values are merged into blocks across small gaps, up to the 125-register limit of a
read. When a device answers a block with exception 02 (illegal data address), the plan
learns from it: a block that bridged gaps is cut at each gap, and a block without gaps is
cut in two at a value boundary, until every block reads or a single value is left, which
is then remembered as unsupported.

Gap registers are never themselves called unsupported: they were only read to save a
transaction, and a gap in one poll class's spans can be a value of another class's (the
AIM-R100's loop 5-12 fault word sits between two slow-poll values). One state can so be
shared by every plan of a unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_READ_REGISTERS = 125  # Modbus limit for function 03/04
DEFAULT_MAX_GAP = 8


@dataclass(frozen=True, slots=True, order=True)
class Block:
    """One read transaction: ``count`` registers from ``start``."""

    start: int
    count: int

    @property
    def stop(self) -> int:
        """One past the last register."""
        return self.start + self.count

    def covers(self, span: range) -> bool:
        """Whether the span lies inside this block."""
        return self.start <= span.start and span.stop <= self.stop


@dataclass(frozen=True, slots=True)
class PlanState:
    """What the device has taught the planner: unsupported registers and forced cuts.

    ``unsupported`` holds registers of values the device rejected when read on their own.
    A cut at address ``a`` means no block holds both ``a - 1`` and ``a``.
    """

    unsupported: frozenset[int] = field(default_factory=frozenset)
    cuts: frozenset[int] = field(default_factory=frozenset)


def plan(
    spans: Iterable[range],
    state: PlanState = PlanState(),
    *,
    max_gap: int = DEFAULT_MAX_GAP,
    max_count: int = MAX_READ_REGISTERS,
) -> tuple[Block, ...]:
    """Blocks that read every span not known to be unsupported."""
    wanted = sorted(
        {(s.start, s.stop) for s in spans if s and not state.unsupported.intersection(s)}
    )
    blocks: list[Block] = []
    start = stop = -1
    for span_start, span_stop in wanted:
        if start >= 0:
            merged_stop = max(stop, span_stop)
            fits = (
                span_start - stop <= max_gap
                and merged_stop - start <= max_count
                and not state.unsupported.intersection(range(stop, span_start))
                and not any(start < cut < merged_stop for cut in state.cuts)
            )
            if fits:
                stop = merged_stop
                continue
            blocks.append(Block(start, stop - start))
        start, stop = span_start, span_stop
    if start >= 0:
        blocks.append(Block(start, stop - start))
    return tuple(blocks)


def learn_illegal_address(block: Block, spans: Iterable[range], state: PlanState) -> PlanState:
    """The state after the device rejected ``block`` with exception 02.

    Every call makes progress (a new cut or a newly unsupported value), so a loop of
    plan, read and learn ends after at most one step per register.
    """
    inside = sorted({(s.start, s.stop) for s in spans if s and block.covers(s)})
    if not inside:
        return state
    # Boundaries no value straddles (a cut there splits no value), and those after a gap.
    clean: list[int] = []
    after_gap: list[int] = []
    reach = inside[0][1]
    for start, stop in inside[1:]:
        if start >= reach and start not in state.cuts:
            clean.append(start)
            if start > reach:
                after_gap.append(start)
        reach = max(reach, stop)
    if after_gap:
        return PlanState(state.unsupported, state.cuts | set(after_gap))
    if clean:
        return PlanState(state.unsupported, state.cuts | {clean[len(clean) // 2]})
    # One value (or values overlapping each other) that the device will not read.
    needed = {address for start, stop in inside for address in range(start, stop)}
    return PlanState(state.unsupported | needed, state.cuts)
