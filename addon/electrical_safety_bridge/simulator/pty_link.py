"""A virtual null-modem cable made of two pseudo-terminals, and its USB plug.

``PtyLink(a_path, b_path)`` opens two pty pairs and copies bytes between their master
sides, so that whatever is written to the device behind ``a_path`` comes out of the one
behind ``b_path`` and back. Both paths are symlinks to the slave devices (``/dev/pts/N``),
which look to pyserial like any serial port: the bridge opens one end as it would open a
``/dev/serial/by-id/`` path, the simulator serves the other.

``unplug()`` takes the bridge's end away as a USB adapter pulled out of its socket does:
the pty pair is closed, so the bridge's open port fails with an I/O error, and the symlink
disappears, so reopening fails too until ``replug()`` puts a new device at the same path.
By default only side ``a`` (the bridge's adapter) is unplugged: the units on the bus stay
powered and the simulator keeps serving side ``b``, which is what happens on a real bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Self

Side = Literal["a", "b", "both"]
_READ_SIZE: Final = 4096


@dataclass(slots=True)
class _End:
    """One pty pair: the master the relay uses and the slave a program opens."""

    master: int
    slave: int
    device: str

    @classmethod
    def open(cls) -> _End:
        master, slave = os.openpty()
        # Raw: no echo, no line editing, no CR/LF translation; bytes pass as they are.
        tty.setraw(slave)
        os.set_blocking(master, False)
        # The link keeps the slave open itself, so the master never sees a hang-up while
        # no program has the port open.
        return cls(master, slave, os.ttyname(slave))

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class PtyLink:
    """Two pseudo-terminals joined back to back, reachable at ``a_path`` and ``b_path``."""

    def __init__(self, a_path: str | Path, b_path: str | Path) -> None:
        self.paths: dict[str, Path] = {"a": Path(a_path), "b": Path(b_path)}
        self._ends: dict[str, _End | None] = {"a": None, "b": None}
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Bytes relayed from a to b and from b to a.
        self.relayed: dict[str, int] = {"a": 0, "b": 0}
        #: Bytes lost because the other end was unplugged or its buffer was full.
        self.lost_bytes = 0

    @property
    def a_path(self) -> Path:
        """The symlink for the bridge's end."""
        return self.paths["a"]

    @property
    def b_path(self) -> Path:
        """The symlink for the other end (the simulator's)."""
        return self.paths["b"]

    def device(self, side: Literal["a", "b"]) -> str | None:
        """The pty device behind a side, or None while it is unplugged."""
        end = self._ends[side]
        return end.device if end else None

    def plugged(self, side: Literal["a", "b"] = "a") -> bool:
        """Whether a side currently has a device."""
        return self._ends[side] is not None

    async def start(self) -> None:
        """Create both ends and start relaying."""
        self._loop = asyncio.get_running_loop()
        for side in ("a", "b"):
            self._plug(side)

    async def unplug(self, side: Side = "a") -> None:
        """Pull a side out: its pty closes (open ports fail) and its symlink goes away."""
        for name in _sides(side):
            self._unplug(name)

    async def replug(self, side: Side = "a") -> None:
        """Plug a side back in: a new pty at the same path (programs must reopen it)."""
        for name in _sides(side):
            if self._ends[name] is None:
                self._plug(name)

    async def close(self) -> None:
        """Remove both ends for good."""
        for name in ("a", "b"):
            self._unplug(name)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ internals

    def _plug(self, side: str) -> None:
        if self._loop is None:
            raise RuntimeError("PtyLink.start() has not been awaited")
        end = _End.open()
        try:
            _symlink(Path(end.device), self.paths[side])
        except OSError:
            end.close()
            raise
        self._ends[side] = end
        self._loop.add_reader(end.master, self._relay, side)

    def _unplug(self, side: str) -> None:
        end = self._ends[side]
        if end is None:
            return
        self._ends[side] = None
        if self._loop is not None:
            self._loop.remove_reader(end.master)
        end.close()
        path = self.paths[side]
        with contextlib.suppress(OSError):
            if path.is_symlink() and str(path.readlink()) == end.device:
                path.unlink()

    def _relay(self, side: str) -> None:
        """Copy what a program wrote into one end out of the other end."""
        source = self._ends[side]
        if source is None:
            return
        try:
            data = os.read(source.master, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # nobody has the slave open right now; nothing to carry
        if not data:
            return
        self.relayed[side] += len(data)
        target = self._ends["b" if side == "a" else "a"]
        if target is None:
            self.lost_bytes += len(data)
            return
        try:
            written = os.write(target.master, data)
        except OSError:
            written = 0
        # A full buffer means nobody reads that end: the bytes are lost, as on a real line.
        self.lost_bytes += len(data) - written


def _sides(side: Side) -> tuple[str, ...]:
    if side == "both":
        return ("a", "b")
    if side not in ("a", "b"):
        raise ValueError(f"side must be 'a', 'b' or 'both', not {side!r}")
    return (side,)


def _symlink(target: Path, path: Path) -> None:
    """Point ``path`` at ``target`` atomically; never replace anything but a symlink."""
    if path.exists(follow_symlinks=False) and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a symlink; refusing to replace it")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    temporary.replace(path)
