"""``python -m electrical_safety_bridge simulate``: serve simulated detectors until stopped.

Examples::

    simulate --unit 1:AIM-R100 --unit 2:ASJ --tcp 127.0.0.1:5020
    simulate --unit 1:AIM-R100 --pty /tmp/ttyESB --baud 9600 --wire-timing --scenario demo.yaml

With ``--pty PATH`` a :class:`PtyLink` is created whose end ``PATH`` is for the bridge; the
simulator serves the other end itself. One line on stdout says where it serves. While it
runs, scenario steps may be typed or piped on stdin as JSON lines, for example
``{"do": "arc_burst", "unit": 2}``; ``at`` then counts from when the line arrives. A bad
line is reported on stderr and ignored. SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import signal
import stat
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from ..modbus import timing
from ..profiles.loader import find_profile
from .line import SimulatedBus
from .pty_link import PtyLink
from .scenarios import ScenarioError, load_scenarios, parse_step
from .unit import SimulatedUnit

_LOGGER = logging.getLogger(__name__)


def _unit_spec(text: str) -> tuple[int, str]:
    """``ID:MODEL`` (the model may also be a profile file path)."""
    unit, sep, model = text.partition(":")
    if not sep or not model:
        raise argparse.ArgumentTypeError(f"'{text}' is not ID:MODEL (for example 1:AIM-R100)")
    try:
        unit_id = int(unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{unit}' is not a unit id") from None
    if not 1 <= unit_id <= 247:
        raise argparse.ArgumentTypeError(f"unit id {unit_id} is outside 1-247")
    return unit_id, model


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT (for example 127.0.0.1:5020)")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{port}' is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is outside 0-65535")
    return host.strip("[]"), number


def _framing(text: str) -> timing.Framing:
    try:
        return timing.Framing.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``simulate`` command's options."""
    parser.add_argument(
        "--unit",
        dest="units",
        action="append",
        type=_unit_spec,
        required=True,
        metavar="ID:MODEL",
        help="a unit to simulate, e.g. 1:AIM-R100 (repeat for more units on the bus)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--tcp", type=_host_port, metavar="HOST:PORT", help="serve Modbus TCP (port 0: any free)"
    )
    where.add_argument(
        "--pty", metavar="PATH", help="create a pseudo-terminal at PATH for the bridge to open"
    )
    parser.add_argument(
        "--rtu-over-tcp", action="store_true", help="with --tcp: RTU frames over TCP (a gateway)"
    )
    parser.add_argument("--baud", type=int, default=9600, help="line speed (default 9600)")
    parser.add_argument(
        "--wire-timing",
        action="store_true",
        help="delay responses as long as the frames would take on the wire at --baud",
    )
    parser.add_argument(
        "--framing",
        type=_framing,
        default=timing.DEFAULT_FRAMING,
        help=f"character framing, as the bridge's line is configured (default"
        f" {timing.DEFAULT_FRAMING}): with --wire-timing, frames take as long as it says",
    )
    parser.add_argument("--scenario", metavar="FILE", help="a YAML scenario file to play")
    parser.add_argument("--user-dir", help="folder of user profiles (override built-ins)")
    parser.add_argument("--seed", type=int, default=0, help="seed for corrupted-frame choice")


async def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on a bad scenario file."""
    user_dir = Path(args.user_dir) if getattr(args, "user_dir", None) else None
    units = [SimulatedUnit(find_profile(model, user_dir), unit_id) for unit_id, model in args.units]
    bus = SimulatedBus(
        units,
        baudrate=args.baud,
        wire_timing=args.wire_timing,
        framing=getattr(args, "framing", timing.DEFAULT_FRAMING),
        seed=getattr(args, "seed", 0),
    )
    try:
        steps = load_scenarios(Path(args.scenario)) if args.scenario else []
        if steps:
            bus.play(steps)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2

    link: PtyLink | None = None
    folder: str | None = None
    feeder: asyncio.Task[None] | None = None
    try:
        if args.pty:
            folder = tempfile.mkdtemp(prefix="esb-simulator-")
            link = PtyLink(args.pty, Path(folder) / "bus")
            await link.start()
            await bus.serve_serial(str(link.b_path))
            where = f"serial://{args.pty}"
        else:
            host, port = args.tcp
            served = await bus.serve_tcp(host, port, rtu=args.rtu_over_tcp)
            where = served.url
        described = ", ".join(f"{u.unit_id}:{u.profile.model}" for u in bus.units)
        timed = "wire timing on" if args.wire_timing else "wire timing off"
        print(
            f"simulator serving {where} (units {described}; {args.baud} baud"
            f" {bus.framing}, {timed})"
        )
        sys.stdout.flush()

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        feeder = asyncio.create_task(_read_stdin(bus))
        await stop.wait()
    finally:
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        await bus.stop()
        if link is not None:
            await link.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


async def _read_stdin(bus: SimulatedBus) -> None:
    """Read steps from stdin; a closed or unusable stdin only means no live injection."""
    if sys.stdin is None:  # started with stdin closed
        return
    try:
        await read_steps(bus, sys.stdin)
    except (OSError, ValueError) as exc:
        _LOGGER.warning("not reading scenario steps from stdin: %s", exc)


async def read_steps(bus: SimulatedBus, stream: TextIO, errors: TextIO | None = None) -> None:
    """Inject each JSON line of ``stream`` as a scenario step, until end of input.

    Pipes, sockets and terminals are read without blocking the event loop; anything else
    (stdin redirected from a file or from /dev/null, which the event loop cannot watch) is
    read at once, because it is all there already.
    """
    errors = errors or sys.stderr
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        fd = -1
    if fd < 0 or not _streams(fd):
        for number, line in enumerate(stream, 1):
            inject_line(bus, line, number, errors)
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(fd), "rb", buffering=0)
    )
    try:
        number = 0
        while raw := await reader.readline():
            number += 1
            inject_line(bus, raw.decode("utf-8", "replace"), number, errors)
    finally:
        transport.close()
        # O_NONBLOCK is shared with the original descriptor: give the terminal back as it was.
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)


def _streams(fd: int) -> bool:
    """Whether the event loop can watch this descriptor (a pipe, socket or terminal)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


def inject_line(bus: SimulatedBus, line: str, number: int, errors: TextIO) -> bool:
    """Inject one JSON scenario step; report a bad one on ``errors`` and carry on."""
    text = line.strip()
    if not text or text.startswith("#"):
        return False
    where = f"stdin line {number}"
    try:
        step = parse_step(json.loads(text), where)
    except json.JSONDecodeError as exc:
        print(f"{where}: not a JSON object: {exc.msg} (ignored)", file=errors, flush=True)
        return False
    except ScenarioError as exc:
        print(f"{exc} (ignored)", file=errors, flush=True)
        return False
    try:
        bus.inject(step)
    except ScenarioError as exc:
        print(f"{where}: {exc} (ignored)", file=errors, flush=True)
        return False
    _LOGGER.info("%s: injected %s", where, step)
    return True


__all__ = ["add_arguments", "inject_line", "read_steps", "run"]
