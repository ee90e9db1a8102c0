"""The fault matrix at full length: each fault while alarms keep coming, every alarm counted.

The same rig as the test suite (tests/bridge/fault_matrix.py: simulated ASJ detectors on a
9600-baud pseudo-terminal with wire timing, the bridge process, a real Mosquitto with a
landlord's subscriber, and a WebSocket client on the integration's client library), with the
faults at their full length: the broker down for 2 minutes, the bridge SIGKILLed 20 times
mid-burst, the serial adapter unplugged for 30 s, 1 % of frames corrupted until 40 were,
a dead unit, a slow unit (200 ms turnaround), 16 gateway clients and a full data disk for
2 minutes each, and a unit that may stay silent 60 s before it is reported offline.

Per fault it prints the alarms in, those delivered to and lost by each sink (the event store,
MQTT, the WebSocket client), the false alarms, and the dead unit's offline delay (from its
death, and from the bridge's last start), one ``name: value`` line each. The goal: nothing
lost, nothing false, offline within the configured silence and never past 100 s. The
full-disk fault needs root (a small tmpfs is mounted); without it its figures are ``nan``.

Run it with ``.venv-bridge/bin/python bench/fault_soak.py [--fault NAME ...] [--short]``
(about 25 minutes for all; ``--short`` uses the test suite's lengths).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest

from bench._common import Figures, argument_parser, run_and_print
from tests.bridge.fault_matrix import FAULTS, SOAK, TEST, Durations, Outcome, run_fault


@dataclass(frozen=True, slots=True)
class Config:
    faults: tuple[str, ...]
    durations: Durations


async def measure(config: Config) -> Figures:
    figures: Figures = []
    for name in config.faults:
        with tempfile.TemporaryDirectory(prefix=f"fault-soak-{name}-") as folder:
            try:
                outcome = await run_fault(name, Path(folder), config.durations)
            except (pytest.skip.Exception, AssertionError) as exc:
                # No root for the small disk, or the rig itself failed: say so, go on.
                print(f"{name}: not measured: {exc}", file=sys.stderr)
                figures += [(n, "nan") for n, _ in Outcome(name).figures()]
                figures.append((f"{name}_problems_count", "nan"))
                continue
        figures += outcome.figures()
        problems = outcome.problems(config.durations)
        figures.append((f"{name}_problems_count", str(len(problems))))
        for problem in problems:  # what broke, on stderr: the figures stay one per line
            print(f"{name}: {problem}", file=sys.stderr)
    return figures


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--fault", action="append", choices=sorted(FAULTS), help="only this fault (repeatable)"
    )
    parser.add_argument("--short", action="store_true", help="the test suite's lengths")
    args = parser.parse_args(argv)
    faults = tuple(args.fault or FAULTS)
    return run_and_print(measure, Config(faults, TEST if args.short else SOAK), out)


if __name__ == "__main__":
    sys.exit(main())
