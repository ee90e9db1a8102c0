"""Full-sweep time of one 9600-baud RTU bus against its wire-time limit.

design.md holds us to: "A full telemetry sweep takes ≤ 1.1 × the wire-time limit at the
bus's baud rate and framing." This benchmark measures both sides of that sentence in one run:

* 16 simulated detectors (a mix of SIM-ARCM, SIM-AAFD, AIM-R100 and ASJ profiles) share one
  :class:`SimulatedBus` with wire timing on: every answer waits as long as its request and
  response frames and both t3.5 silences take at 9600 baud, with the same bits per character
  as the bridge's line (8N1: 10 bits). It is served over a :class:`PtyLink` pseudo-terminal,
  and a real :class:`Bus` opens the other end as a serial RTU port, as it would a USB
  adapter. So every byte goes through pymodbus on both sides and through the kernel's pty.
* A sweep is :meth:`Bus.sweep`: every poll class (alarm, telemetry, slow) of every unit
  once, with the block planner's merged reads.
* One warm-up sweep runs first and is reported apart, never averaged in: it is where the
  planner learns from exception 02 which gaps the devices refuse, so it carries extra
  transactions that later sweeps do not.
* The measured sweeps are timed with ``time.perf_counter`` around each ``sweep()``.

Why the ratio compares two figures from one run: the wire-time limit is not computed from a
guessed frame list but from the bus's own ledger, ``Bus.stats.wire_seconds``, taken before
and after the measured sweeps, i.e. from exactly the frames those sweeps put on the line
(requests, responses and exception replies, each with its two t3.5 silences). The same
frames are counted independently from the bytes the pty link carried in each direction,
and both limits are printed, so an accounting slip shows up as two different numbers. The
ratio is then sweep wall time / wire time of the same transactions: ≥ 1 by construction
(the simulator sleeps the wire time), and what lies above 1 is the software's overhead per
transaction: asyncio, pymodbus framing on both ends, the pty relay.

The bytes on the line are set against the bytes the profiles need: the register bytes of
every value a sweep polls (each unit's channels and setpoints, 2 bytes a register, counted
once), against what the pty carried both ways per sweep, and against the register bytes the
answers held (the planner's merged blocks read gap registers too). The ratio shows what the
framing (address, function, count, CRC, one request per block) and the merged gaps cost.

Each figure is printed on its own line as ``name: value`` with its unit in the name. No
assertion is made on time: this is a measurement, compared from run to run.

Run it with ``PYTHONPATH=addon .venv/bin/python bench/bus_sweep.py`` (``make bench``).
"""

from __future__ import annotations

import itertools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

# Run as a script (``python bench/bus_sweep.py``), Python puts bench/ itself on the path, not
# the repository root that the shared ``bench._common`` is imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Figures, add_line_options, argument_parser, run_and_print
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.common.enums import PollClass
from electrical_safety_bridge.modbus import timing
from electrical_safety_bridge.modbus.lines import SerialLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

#: The goal of design.md, "Figures we hold ourselves to".
GOAL_RATIO: Final = 1.1
#: Profiles spread round-robin over the units.
MODELS: Final = ("SIM-ARCM", "SIM-AAFD", "AIM-R100", "ASJ")


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures."""

    units: int = 16
    sweeps: int = 5
    baudrate: int = 9600
    wire_timing: bool = True


@dataclass(frozen=True, slots=True)
class _Ledger:
    """Counters read at one instant, to subtract."""

    at: float
    transactions: int
    exceptions: int
    timeouts: int
    wire_seconds: float
    bytes_to_units: int
    bytes_from_units: int
    sim_requests: int
    sim_exceptions: int

    @classmethod
    def read(cls, bus: Bus, sim: SimulatedBus, link: PtyLink) -> _Ledger:
        stats = bus.stats
        return cls(
            at=time.perf_counter(),
            transactions=stats.transactions,
            exceptions=stats.exceptions,
            timeouts=stats.timeouts,
            wire_seconds=stats.wire_seconds,
            bytes_to_units=link.relayed["a"],
            bytes_from_units=link.relayed["b"],
            sim_requests=sim.counters.requests,
            sim_exceptions=sim.counters.exceptions,
        )


def _line_bytes_wire_seconds(
    before: _Ledger, after: _Ledger, baudrate: int, bits_per_char: int
) -> float:
    """Wire time of what the pty carried: every byte, plus two t3.5 per answered request."""
    nbytes = (after.bytes_to_units - before.bytes_to_units) + (
        after.bytes_from_units - before.bytes_from_units
    )
    answered = (after.sim_requests - before.sim_requests) - (after.timeouts - before.timeouts)
    return timing.frame_seconds(
        nbytes, baudrate, bits_per_char
    ) + 2 * answered * timing.silent_interval(baudrate, bits_per_char)


def _profile_register_bytes(bus: Bus) -> int:
    """Register bytes of every value one sweep polls: what the profiles need, nothing more."""
    total = 0
    for unit in bus.units.values():
        for poll_class in PollClass:
            registers: set[int] = set()
            for value in bus._values_of(unit, poll_class):
                registers.update(value.register.span)
            total += 2 * len(registers)
    return total


def _devices(config: Config) -> tuple[list[SimulatedUnit], list[DeviceSpec]]:
    units, specs = [], []
    for index in range(config.units):
        unit_id = index + 1
        model = MODELS[index % len(MODELS)]
        profile = find_profile(model)
        units.append(SimulatedUnit(profile, unit_id))
        specs.append(DeviceSpec(f"{model.lower()}-{unit_id}", unit_id, profile))
    return units, specs


async def measure(config: Config) -> Figures:
    """Run the warm-up and the measured sweeps; the figures, in print order."""
    if config.units < 1 or config.sweeps < 1:
        raise ValueError("units and sweeps must be at least 1")
    units, specs = _devices(config)
    # The simulator's default framing is SerialLine's (8N1, as Acrel devices ship).
    sim = SimulatedBus(units, baudrate=config.baudrate, wire_timing=config.wire_timing)
    bits = sim.bits_per_char
    with tempfile.TemporaryDirectory(prefix="es-bench-") as folder:
        link = PtyLink(Path(folder) / "bridge-tty", Path(folder) / "simulator-tty")
        await link.start()
        try:
            await sim.serve_serial(str(link.b_path))
            line = SerialLine(str(link.a_path), config.baudrate)
            settings = BusSettings("bench", line)
            if settings.bits_per_char != bits:
                raise RuntimeError("the bridge and the simulator disagree on bits per character")
            bus = Bus(settings, specs)
            await bus.transport.open()

            start = _Ledger.read(bus, sim, link)
            await bus.sweep()
            warmed = _Ledger.read(bus, sim, link)
            ledgers = [warmed]
            for _ in range(config.sweeps):
                await bus.sweep()
                ledgers.append(_Ledger.read(bus, sim, link))
            needed = _profile_register_bytes(bus)  # after the warm-up: unsupported values known
            bus.transport.close()
        finally:
            await sim.stop()
            await link.close()

    end = ledgers[-1]
    n = config.sweeps
    sweep_times = [b.at - a.at for a, b in itertools.pairwise(ledgers)]
    total_s = end.at - warmed.at
    wire_s = end.wire_seconds - warmed.wire_seconds
    line_wire_s = _line_bytes_wire_seconds(warmed, end, config.baudrate, bits)
    transactions = end.transactions - warmed.transactions
    ratio = total_s / wire_s if wire_s > 0 else math.inf
    overhead_ms = 1000 * (total_s - wire_s) / transactions if transactions else math.nan

    to_units = (end.bytes_to_units - warmed.bytes_to_units) / n
    from_units = (end.bytes_from_units - warmed.bytes_from_units) / n
    # Every answer (registers or exception) carries 5 bytes of frame: unit, function, count
    # or exception code, CRC; the rest of a register answer is register bytes.
    register_bytes_read = from_units - 5 * transactions / n
    figures: Figures = [
        ("bus_units_count", f"{config.units}"),
        ("bus_baudrate_bd", f"{config.baudrate}"),
        ("bus_bits_per_char", f"{bits}"),
        ("simulated_wire_timing_on", f"{int(config.wire_timing)}"),
        # The warm-up sweep teaches the planner (exception 02) and is excluded below.
        ("warmup_sweep_excluded_count", "1"),
        ("warmup_sweep_s", f"{warmed.at - start.at:.4f}"),
        ("warmup_transactions_count", f"{warmed.transactions - start.transactions}"),
        ("warmup_exception_replies_count", f"{warmed.exceptions - start.exceptions}"),
        ("warmup_wire_limit_s", f"{warmed.wire_seconds - start.wire_seconds:.4f}"),
        (
            "warmup_wire_limit_from_line_bytes_s",
            f"{_line_bytes_wire_seconds(start, warmed, config.baudrate, bits):.4f}",
        ),
        ("measured_sweeps_count", f"{n}"),
        ("sweep_mean_s", f"{total_s / n:.4f}"),
        ("sweep_min_s", f"{min(sweep_times):.4f}"),
        ("sweep_max_s", f"{max(sweep_times):.4f}"),
        ("sweep_stdev_s", f"{statistics.stdev(sweep_times) if n > 1 else 0.0:.4f}"),
        ("wire_limit_per_sweep_s", f"{wire_s / n:.4f}"),
        ("wire_limit_from_line_bytes_per_sweep_s", f"{line_wire_s / n:.4f}"),
        ("sweep_to_wire_ratio", f"{ratio:.3f}"),
        ("goal_sweep_to_wire_ratio", f"{GOAL_RATIO:.2f}"),
        ("transactions_per_sweep", f"{transactions / n:g}"),
        ("exception_replies_per_sweep", f"{(end.exceptions - warmed.exceptions) / n:g}"),
        ("timeouts_per_sweep", f"{(end.timeouts - warmed.timeouts) / n:g}"),
        ("simulator_requests_per_sweep", f"{(end.sim_requests - warmed.sim_requests) / n:g}"),
        ("overhead_per_transaction_ms", f"{overhead_ms:.3f}"),
        ("line_bytes_per_sweep", f"{to_units + from_units:g}"),
        ("line_bytes_to_units_per_sweep", f"{to_units:g}"),
        ("line_bytes_from_units_per_sweep", f"{from_units:g}"),
        ("register_bytes_read_per_sweep", f"{register_bytes_read:g}"),
        ("profile_register_bytes_per_sweep", f"{needed}"),
        (
            "line_bytes_per_profile_byte",
            f"{(to_units + from_units) / needed if needed else math.nan:.2f}",
        ),
        (
            "register_bytes_read_per_profile_byte",
            f"{register_bytes_read / needed if needed else math.nan:.2f}",
        ),
        (
            "wire_per_transaction_ms",
            f"{1000 * wire_s / transactions if transactions else math.nan:.3f}",
        ),
    ]
    return figures


def _parse(argv: Sequence[str] | None) -> Config:
    parser = argument_parser(__doc__)
    defaults = Config()
    parser.add_argument("--units", type=int, default=defaults.units)
    parser.add_argument("--sweeps", type=int, default=defaults.sweeps)
    add_line_options(parser, defaults.baudrate)
    args = parser.parse_args(argv)
    return Config(args.units, args.sweeps, args.baudrate, args.wire_timing)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Measure and print ``name: value`` lines."""
    return run_and_print(measure, _parse(argv), out)


if __name__ == "__main__":
    sys.exit(main())
