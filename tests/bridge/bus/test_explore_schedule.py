"""A burst of the register explorer's reads never delays an alarm poll.

The same rig as test_bus_schedule.py (simulated detectors on a pseudo-terminal with wire
timing at 9600 baud): a person's exploratory reads wait behind everything else on the line,
so however many are queued, each unit's alarm status is still read within the bound the
scheduler states, an alarm raised meanwhile is seen, and every read is answered in the end.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from electrical_safety_bridge.common.enums import EventType

from ..conftest import wait_for
from .test_bus_schedule import ASJ_FOUR, alarm_bound, line

pytestmark = pytest.mark.usefixtures("socket_enabled")

READERS = 8
READS_EACH = 25


async def test_200_queued_explorer_reads_keep_every_alarm_poll_within_its_bound(
    tmp_path: Path,
) -> None:
    async with line(tmp_path, ASJ_FOUR, max_queued=READERS * READS_EACH) as rig:
        bus = rig.bus
        await wait_for(lambda: all(u.alarm_read_at for u in bus.units.values()), timeout=10)
        status = rig.sim.unit(3).spec("alarm_status")
        # Four registers up to the alarm status word, of each unit in turn.
        first, count = status.address - 3, 4
        assert first is not None

        async def reader(index: int) -> list[list[int]]:
            unit = 1 + index % 4
            return list(
                await asyncio.gather(
                    *(bus.explore(unit, 3, first, count) for _ in range(READS_EACH))
                )
            )

        readers = [asyncio.create_task(reader(i)) for i in range(READERS)]
        await wait_for(
            lambda: bus.stats.transactions > 0 and len(bus._explorations) > 0,
            timeout=10,
            what="the burst queued",
        )
        rig.sim.unit(3).set("alarm_status", "alarm")
        await wait_for(
            lambda: rig.of_type(EventType.ALARM_RAISED, "asj3"),
            timeout=15,
            what="the alarm on unit 3 seen during the burst",
        )
        # The alarm was seen while the person's reads were still waiting for the line.
        assert not all(task.done() for task in readers)
        answers = await asyncio.wait_for(asyncio.gather(*readers), timeout=120)
        schedule = bus.schedule_status()
    # Every one of the 200 reads was answered with the unit's registers as they were.
    assert sum(len(a) for a in answers) == READERS * READS_EACH
    for index, reads in enumerate(answers):
        unit = rig.sim.unit(1 + index % 4)
        assert all(len(read) == count for read in reads)
        assert reads[0][:3] == [unit.registers[a] for a in range(first, first + 3)]
    # No unit's alarm status went unread longer than the scheduler's stated bound.
    assert schedule["alarm_gap_max_s"] <= alarm_bound(bus), schedule
