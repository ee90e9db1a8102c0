"""Block-read planning: as few transactions as the device allows. Pure, no I/O.

Values are merged into blocks across small gaps, up to the 125-register limit of a
read. When a device answers a block with exception 02 (illegal data address), the plan
learns from it: registers in the block's gaps are remembered as unsupported, and a block
without gaps is cut in two at a value boundary, until every block reads or a single value
is left, which is then remembered as unsupported itself.
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
    """The state after the device rejected ``block`` with exception 02."""
    inside = sorted({(s.start, s.stop) for s in spans if block.covers(s)})
    needed = {address for start, stop in inside for address in range(start, stop)}
    gaps = frozenset(range(block.start, block.stop)) - needed
    if gaps:
        return PlanState(state.unsupported | gaps, state.cuts)
    if len(inside) <= 1:
        return PlanState(state.unsupported | needed, state.cuts)
    middle = inside[len(inside) // 2][0]
    return PlanState(state.unsupported, state.cuts | {middle})
