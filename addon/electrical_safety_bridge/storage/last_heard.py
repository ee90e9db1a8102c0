"""When each unit was last heard: ``last_heard.json`` in the data folder.

A restarted bridge knows nothing of the silence before it started, so a unit that died
just before a crash (or before each of a run of crashes) would only be reported offline
its whole ``offline_after`` after the last start, and a bridge restarting often enough
would never report it: the 100 s bound of bus/scheduler.py broken. The bus counts a unit's
silence from the time kept here instead (bounded, so a live unit is polled before it can be
called offline; see :class:`~electrical_safety_bridge.bus.scheduler.Bus`).

It is a small state file like the early-warning baselines (``trend_state``), rewritten
whole when a unit the file lacks is heard, else once a minute (service.py); losing it only
costs that memory.
"""

from __future__ import annotations

import math
from pathlib import Path

from .trend_state import load_state_file, save_state_file

LAST_HEARD_FILE = "last_heard.json"
_KEY = "units"


def load_last_heard(data_dir: Path) -> dict[str, float]:
    """Device id to the wall-clock time it was last heard; empty when unknown."""
    saved = load_state_file(data_dir, LAST_HEARD_FILE, _KEY, "the units' last-heard times")
    return {
        str(device): float(at)
        for device, at in saved.items()
        if isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at)
    }


def save_last_heard(data_dir: Path, heard: dict[str, float]) -> None:
    """Replace the file (OSError when the disk refuses)."""
    save_state_file(data_dir, LAST_HEARD_FILE, _KEY, dict(heard))
