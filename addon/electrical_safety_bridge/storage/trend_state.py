"""The early-warning baselines' file in the data folder: ``early_warning.json``.

A small JSON file of its own rather than a table of the event store: the baselines are a
cache of daily aggregates, rewritten whole every few minutes, not an append-only record;
losing it costs weeks of learning, never an event. It is replaced atomically (a temporary
file, fsynced, then renamed), so a crash leaves the old one or the new one.

A file that cannot be read is moved aside (``early_warning.json.unreadable``) with an
error in the log naming it and why, and the baselines start anew: the bridge's alarms
must not wait on a cache.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

TREND_FILE = "early_warning.json"
FILE_VERSION = 1


def load_trend_state(data_dir: Path) -> dict[str, Any]:
    """The saved baselines by ``device/channel``; empty when there are none (or the file
    was unreadable, and has been moved aside)."""
    return load_state_file(data_dir, TREND_FILE, "channels", "the early-warning baselines")


def save_trend_state(data_dir: Path, channels: dict[str, Any]) -> None:
    """Replace the file with these baselines (OSError when the disk refuses)."""
    save_state_file(data_dir, TREND_FILE, "channels", channels)


def load_state_file(data_dir: Path, name: str, key: str, what: str) -> dict[str, Any]:
    """The object under ``key`` of the state file ``name`` (``{"version": 1, key: {...}}``);
    empty when there is none. A file that cannot be read is moved aside, and the log says
    which, why, and that ``what`` starts anew."""
    path = data_dir / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        if document.get("version") != FILE_VERSION:
            raise ValueError(
                f"version {document.get('version')!r}, this bridge reads version {FILE_VERSION}"
            )
        value = document.get(key)
        if not isinstance(value, dict):
            raise ValueError(f"'{key}' is not an object")
    except ValueError as exc:
        aside = path.with_name(name + ".unreadable")
        path.replace(aside)
        _LOGGER.error(
            "%s: cannot be read (%s); moved to %s, %s start anew", path, exc, aside.name, what
        )
        return {}
    return value


def save_state_file(data_dir: Path, name: str, key: str, value: dict[str, Any]) -> None:
    """Replace the state file ``name`` atomically (OSError when the disk refuses)."""
    path = data_dir / name
    temporary = path.with_name(name + ".tmp")
    document = {"version": FILE_VERSION, key: value}
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(document, out, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
