"""Keeping the alarm path alive when the data folder's disk fills up.

A full disk must never cost an alarm, nor pass in silence. The bridge keeps a **reserve**: a
file of ``reserve_bytes`` (16 MiB by default), written out in full in the data folder while
there is room. When the disk fills (free space under ``low_water_bytes``, seen by a check
every few seconds) or a write to the event store fails, the reserve is deleted: the event
store and the relay outbox, on the same disk, write into the room it leaves, so alarms go on
being stored and relayed durably while the disk is full, and the bridge says so at once
(state ``on_reserve``). 16 MiB holds tens of thousands of events.

Only when that room is used up too do writes fail (state ``failing``): then the bridge holds
the events that could not be written in memory, still pushes them to Home Assistant marked
as not yet stored, refuses commands and acknowledgements it could not record, and writes the
held events, in order, as soon as space returns. A restart while failing loses what was held
(it was pushed, but not stored): that is the limit of the guarantee.

When the disk has room again (the reserve fits with ``low_water_bytes`` to spare, twice
over), the reserve is written back and the state returns to ``ok``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..common import models as wire
from ..common.enums import StorageState

_LOGGER = logging.getLogger(__name__)

RESERVE_FILE: Final = "storage-reserve.bin"
DEFAULT_RESERVE_BYTES: Final = 16 * 1024 * 1024
DEFAULT_LOW_WATER_BYTES: Final = 1024 * 1024
_CHUNK: Final = 1024 * 1024


@dataclass(slots=True)
class StorageStatus:
    """What health pages and Home Assistant are told."""

    state: StorageState = StorageState.OK
    since: float | None = None  # when the trouble began (wall clock)
    error: str | None = None
    held: int = 0  # events not yet stored
    free_bytes: int | None = None
    reserve_bytes: int = 0  # the reserve on disk now (0 once released)

    @property
    def problem(self) -> bool:
        """Whether a person should be told (anything but ``ok``)."""
        return self.state is not StorageState.OK

    def to_wire(self) -> wire.StorageStatus:
        """The contract's form (``info.storage``, ``status`` messages)."""
        return wire.StorageStatus(
            state=self.state,
            problem=self.problem,
            since=self.since,
            error=self.error,
            held_events=self.held,
            free_bytes=self.free_bytes,
            reserve_bytes=self.reserve_bytes,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the wire form; also the data of storage events)."""
        return self.to_wire().to_dict()


class StorageGuard:
    """The reserve file and the storage state of one data folder."""

    def __init__(
        self,
        data_dir: Path,
        *,
        reserve_bytes: int = DEFAULT_RESERVE_BYTES,
        low_water_bytes: int = DEFAULT_LOW_WATER_BYTES,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if reserve_bytes < 0 or low_water_bytes < 0:
            raise ValueError("reserve_bytes and low_water_bytes must not be negative")
        self.data_dir = Path(data_dir)
        self.reserve_path = self.data_dir / RESERVE_FILE
        self.reserve_bytes = reserve_bytes
        self.low_water_bytes = low_water_bytes
        self.status = StorageStatus()
        self._wall = wall_clock
        # check() runs on a worker thread (it may write the reserve back); release() and
        # the write outcomes come from the event loop.
        self._lock = threading.RLock()

    # -- the reserve ------------------------------------------------------------------

    def _reserve_size(self) -> int:
        try:
            return self.reserve_path.stat().st_size
        except FileNotFoundError:
            return 0

    def free_bytes(self) -> int | None:
        """Bytes an unprivileged writer can still use on the data folder's filesystem."""
        try:
            stat = os.statvfs(self.data_dir)
        except OSError:
            return None
        return stat.f_bavail * stat.f_frsize

    def _write_reserve(self) -> bool:
        """Write the reserve out in full (real blocks, not a sparse file); False if no room."""
        partial = self.reserve_path.with_suffix(".partial")
        try:
            with partial.open("wb") as out:
                block = bytes(_CHUNK)
                left = self.reserve_bytes
                while left > 0:
                    left -= out.write(block[: min(left, _CHUNK)])
                out.flush()
                os.fsync(out.fileno())
            partial.chmod(0o600)
            partial.replace(self.reserve_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                _LOGGER.warning("cannot write the storage reserve %s: %s", self.reserve_path, exc)
            return False
        return True

    def release(self, reason: str = "the data folder's disk is full") -> bool:
        """Delete the reserve so that the alarm path can write; True if it freed room.

        Releasing it puts the storage in trouble (``on_reserve``) until the reserve is back.
        """
        with self._lock:
            size = self._reserve_size()
            if size == 0:
                return False
            try:
                self.reserve_path.unlink()
            except OSError as exc:
                _LOGGER.error("cannot release the storage reserve %s: %s", self.reserve_path, exc)
                return False
            self.status.reserve_bytes = 0
            _LOGGER.warning(
                "released the %d-byte storage reserve in %s so that alarms are still stored",
                size,
                self.data_dir,
            )
            if self.status.state is StorageState.OK:
                self._trouble(StorageState.ON_RESERVE, reason)
            return True

    # -- state --------------------------------------------------------------------------

    def start(self) -> None:
        """At start: make sure the reserve exists, or start in trouble if it cannot."""
        with contextlib.suppress(OSError):
            self.reserve_path.with_suffix(".partial").unlink()
        if self.reserve_bytes == 0:
            return
        if self._reserve_size() >= self.reserve_bytes or self._write_reserve():
            self.status.reserve_bytes = self.reserve_bytes
            return
        self._trouble(StorageState.ON_RESERVE, "the data folder is full: no room for the reserve")

    def check(self) -> bool:
        """Look at the free space now; True if the state changed.

        The disk filling up releases the reserve (before any write fails); room again
        writes the reserve back and, unless writes are failing, ends the trouble.
        """
        with self._lock:
            free = self.free_bytes()
            self.status.free_bytes = free
            if free is None or self.reserve_bytes == 0:
                return False
            state = self.status.state
            if self.status.reserve_bytes and free < self.low_water_bytes:
                self.release()
                return self.status.state is not state
            room = self.reserve_bytes + 2 * self.low_water_bytes
            if state is StorageState.ON_RESERVE and free >= room and self._write_reserve():
                self.status.reserve_bytes = self.reserve_bytes
                self._recovered()
                return True
            return False

    def write_failed(self, error: str, held: int) -> bool:
        """A store write failed even after the reserve was released; True if newly failing."""
        with self._lock:
            self.status.held = held
            if self.status.state is StorageState.FAILING:
                self.status.error = error
                return False
            self._trouble(StorageState.FAILING, error)
            return True

    def write_succeeded(self) -> bool:
        """The held events are written; True if the state changed (failing → on reserve)."""
        with self._lock:
            self.status.held = 0
            if self.status.state is not StorageState.FAILING:
                return False
            # Written, but maybe into the last of the room: stay in trouble until the
            # reserve is back (check() ends it).
            self.status.state = StorageState.ON_RESERVE
            _LOGGER.warning("the event store writes again; the held events are stored")
            return True

    @property
    def can_record(self) -> bool:
        """Whether an event written now would be stored."""
        return self.status.state is not StorageState.FAILING

    def _trouble(self, state: StorageState, error: str) -> None:
        status = self.status
        if status.since is None:
            status.since = self._wall()
        status.state = state
        status.error = error
        _LOGGER.error(
            "storage %s: %s (data folder %s); alarms are still latched and pushed",
            "failing" if state is StorageState.FAILING else "on its reserve",
            error,
            self.data_dir,
        )

    def _recovered(self) -> None:
        status = self.status
        status.state = StorageState.OK
        status.since = None
        status.error = None
        _LOGGER.warning("storage recovered: the data folder %s has room again", self.data_dir)
