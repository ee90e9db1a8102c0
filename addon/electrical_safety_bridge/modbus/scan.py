"""Find the units that answer on a line, and name their model where a profile can tell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DeviceException, DeviceTimeout
from ..profiles.model import Profile
from . import timing
from .planner import Block, plan
from .transport import Transport


@dataclass(frozen=True, slots=True)
class ScanHit:
    """A unit that answered, and the models whose identify register matched."""

    unit: int
    models: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"unit": self.unit, "models": list(self.models)}


async def _answers(
    transport: Transport, unit: int, function: int, address: int, response_timeout: float
) -> list[int] | None:
    """Registers read, [] for an exception response (still an answer), None for silence."""
    try:
        return await transport.read(unit, function, address, 1, response_timeout)
    except DeviceException:
        return []
    except DeviceTimeout:
        return None


async def _has_every_register(
    transport: Transport, unit: int, profile: Profile, baudrate: int | None, margin: float
) -> bool:
    """Whether the unit answers every register the profile reads.

    An identity register is a few bits wide and another model can match it by chance; a
    unit that refuses one of the profile's registers is not that model.
    """
    # No gap-merging: a reserved register between two values is not a reason to doubt.
    for block in plan((c.register.span for c in profile.channels), max_gap=0):
        wire_time = (
            timing.transaction_seconds(
                timing.read_request_bytes(), timing.read_response_bytes(block.count), baudrate
            )
            if baudrate
            else 1.0
        )
        answer = await _answers_block(
            transport, unit, profile.read_function, block, wire_time + margin
        )
        if not answer:
            return False
    return True


async def _answers_block(
    transport: Transport, unit: int, function: int, block: Block, response_timeout: float
) -> list[int] | None:
    try:
        return await transport.read(unit, function, block.start, block.count, response_timeout)
    except (DeviceException, DeviceTimeout):
        return None


async def scan(
    transport: Transport,
    units: Iterable[int],
    profiles: Sequence[Profile],
    *,
    baudrate: int | None,
    margin: float = 0.1,
) -> list[ScanHit]:
    """Probe each unit once, then try each identifiable profile on the units that answered."""
    response_timeout = margin + (
        timing.transaction_seconds(
            timing.read_request_bytes(), timing.read_response_bytes(1), baudrate
        )
        if baudrate
        else 1.0
    )
    identifiable = [p for p in profiles if p.identify is not None]
    hits: list[ScanHit] = []
    for unit in units:
        if await _answers(transport, unit, 3, 0, response_timeout) is None:
            continue
        models: list[str] = []
        for profile in identifiable:
            assert profile.identify is not None
            ident = profile.identify
            registers = await _answers(
                transport, unit, profile.read_function, ident.address, response_timeout
            )
            if (
                registers
                and registers[0] & ident.mask == ident.equals
                and await _has_every_register(transport, unit, profile, baudrate, margin)
            ):
                models.append(profile.model)
        hits.append(ScanHit(unit, tuple(models)))
    return hits
