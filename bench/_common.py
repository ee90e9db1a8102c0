"""What the benchmarks share: the simulated line's options and the ``name: value`` output.

Every benchmark runs the same simulated RS-485 line (a baud rate, wire timing on or off)
and prints its figures the same way, one ``name: value`` line each, so that runs can be
compared line by line and the smoke tests parse every benchmark alike.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

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
