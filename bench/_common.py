"""What the benchmarks share: the simulated line's options and the ``name: value`` output.

Every benchmark runs the same simulated RS-485 line (a baud rate, wire timing on or off)
and prints its figures the same way, one ``name: value`` line each, so that runs can be
compared line by line and the smoke tests parse every benchmark alike.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import math
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

#: A benchmark's measurement: its figures as ``(name, value)`` pairs, in print order.
type Figures = list[tuple[str, str]]


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser described by the first line of the benchmark's module docstring."""
    return argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)


def add_line_options(parser: argparse.ArgumentParser, baudrate: int) -> None:
    """``--baudrate`` and ``--no-wire-timing`` (into ``wire_timing``), for the simulated line."""
    parser.add_argument("--baudrate", type=int, default=baudrate)
    parser.add_argument(
        "--no-wire-timing",
        dest="wire_timing",
        action="store_false",
        help="let the simulator answer at once (shows the pure software overhead)",
    )


def run_and_print[C](
    measure: Callable[[C], Coroutine[Any, Any, Figures]], config: C, out: TextIO | None
) -> int:
    """Run ``measure(config)`` and print each figure as ``name: value`` (stdout by default).

    The exit status is 0: a benchmark asserts nothing about time.
    """
    stream = out if out is not None else sys.stdout
    for name, value in asyncio.run(measure(config)):
        print(f"{name}: {value}", file=stream, flush=True)
    return 0


# -- shared by the benchmarks that run a broker or measure another process ------------------

#: How long a started broker or child process may take to be ready.
READY_S: Final = 10.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


class Mosquitto:
    """A local Mosquitto (Debian's, from apt) on a free loopback port, stopped and started at will.

    ``extra`` is appended to its configuration: persistence, queue limits and the like. The
    port stays the same across restarts, so clients with persistent sessions come back to it.
    """

    def __init__(self, folder: Path, extra: str = "max_queued_messages 0\n") -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"user {getpass.getuser()}\nallow_anonymous true\n{extra}"
            f"log_dest none\nlistener {self.port} 127.0.0.1\n"
        )
        self.command = [binary, "-c", str(self.config)]
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "the broker is not running"
        return self.process.pid

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_S
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline or self.process.returncode is not None:
                    raise RuntimeError(f"mosquitto did not start ({self.config})") from None
                await asyncio.sleep(0.01)  # polling for the listener, bounded above
                continue
            writer.close()
            return

    async def stop(self) -> None:
        """SIGTERM: Mosquitto writes its persistence file (if configured) and exits."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), READY_S * 6)


_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (its peak) of a process, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def machine_load() -> str:
    """The 1-minute load average and the core count, for reading a figure on a shared host."""
    return f"{os.getloadavg()[0]:.2f}/{os.cpu_count()}"
