"""The fault matrix, short: each fault while alarms keep coming, and not one alarm lost.

Each case injects one fault into the whole chain (simulated detectors on a pseudo-terminal,
the bridge process, a real Mosquitto, a landlord's subscriber and a Home Assistant stand-in
on the integration's client library; see tests/bridge/fault_matrix.py) for a few seconds,
and counts the alarms raised against those in the event store, at the MQTT subscriber and at
the WebSocket client. A real Home Assistant restarted mid-stream is the end-to-end tests'
case, not this suite's. ``bench/fault_soak.py`` runs the same faults for their full length
(the broker down 2 minutes, 20 kills, ...).

Every case also checks that no alarm is false (corrupted frames included: an alarm needs a
valid frame) and that a unit dying as the fault starts is reported offline within the
configured silence, and never more than 100 s after it died.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .fault_matrix import FAULTS, TEST, run_fault

#: What bench/fault_soak.py prints of each outcome, one figure a line (bench/_common.py).
FIGURE = re.compile(r"^[a-z][a-z0-9_]*: \S+$")

pytestmark = [pytest.mark.usefixtures("socket_enabled"), pytest.mark.timeout(300)]


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_no_alarm_is_lost_under_fault(tmp_path: Path, fault: str) -> None:
    outcome = await run_fault(fault, tmp_path, TEST)
    lines = [f"{name}: {value}" for name, value in outcome.figures()]
    print("\n".join(lines))
    assert all(FIGURE.match(line) for line in lines), lines
    assert outcome.alarms_in >= TEST.alarms_before + TEST.alarms_after
    problems = outcome.problems(TEST)
    assert not problems, "\n".join(problems)
    if fault == "frames_corrupted":
        assert outcome.corrupted_frames >= TEST.corrupted_frames
    if fault == "bridge_killed":
        assert outcome.bridge_starts == TEST.kills + 1
    if fault == "gateway_clients":
        assert outcome.gateway_answers > 0
