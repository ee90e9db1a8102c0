"""A restart does not put off a silent unit's offline report (storage/last_heard.py).

The fault matrix's SIGKILL run showed it: a unit that died before a run of crashes was only
reported offline its whole silence after the last start, so a bridge restarting often enough
never reported it, past the 100 s bound. Real parts: simulated units on a pseudo-terminal
with wire timing, the bridge's Bus, the last-heard file in a real folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from electrical_safety_bridge.bus.scheduler import restart_grace
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.storage.last_heard import (
    LAST_HEARD_FILE,
    load_last_heard,
    save_last_heard,
)

from ..conftest import wait_for
from .test_bus_schedule import line

pytestmark = pytest.mark.usefixtures("socket_enabled")

OFFLINE_AFTER_S = 30.0
DEVICES = [("live", 1, "ASJ"), ("dead", 2, "ASJ")]


async def test_silence_before_a_restart_counts(tmp_path: Path) -> None:
    long_ago = time.time() - 3600
    heard = {"live": long_ago, "dead": long_ago}
    async with line(
        tmp_path, DEVICES, simulated={1}, offline_after=OFFLINE_AFTER_S, heard_before=heard
    ) as rig:
        started = time.monotonic()
        grace = restart_grace(rig.bus.settings)
        # Without the memory, the dead unit would be reported OFFLINE_AFTER_S after the start.
        await wait_for(
            lambda: rig.bus.online("dead") is False,
            timeout=OFFLINE_AFTER_S - grace,
            what="the dead unit offline, its silence counted from before the start",
        )
        assert time.monotonic() - started >= grace - 0.5  # polled first
        # The live unit, as long silent before the start, answered first: never offline.
        assert rig.bus.online("live") is True
        offline = [e.device_id for e in rig.events if e.type == EventType.DEVICE_OFFLINE]
        assert offline == ["dead"]
        times = rig.bus.heard_times()
        assert times["dead"] == long_ago  # not heard since: kept as it was
        assert times["live"] > long_ago + 3000


async def test_a_unit_never_heard_before_gets_its_whole_silence(tmp_path: Path) -> None:
    async with line(tmp_path, DEVICES, simulated={1}, offline_after=OFFLINE_AFTER_S) as rig:
        await wait_for(lambda: rig.bus.online("live") is True, timeout=10)
        assert rig.bus.online("dead") is None  # not silent long enough to tell
        assert "dead" not in rig.bus.heard_times()


def test_the_file_round_trips_and_a_bad_one_is_moved_aside(tmp_path: Path) -> None:
    assert load_last_heard(tmp_path) == {}
    save_last_heard(tmp_path, {"a": 1.5, "b": 2.0})
    assert load_last_heard(tmp_path) == {"a": 1.5, "b": 2.0}
    (tmp_path / LAST_HEARD_FILE).write_text(
        json.dumps({"version": 1, "units": {"a": "yesterday", "b": 3, "c": True}})
    )
    assert load_last_heard(tmp_path) == {"b": 3.0}  # only times
    (tmp_path / LAST_HEARD_FILE).write_text("{not json")
    assert load_last_heard(tmp_path) == {}
    assert (tmp_path / f"{LAST_HEARD_FILE}.unreadable").exists()
