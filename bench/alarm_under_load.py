"""Alarm detection latency with and without other masters hammering the gateway.

16 ASJ detectors on one simulated 9600-baud line with wire timing, served on a pseudo-terminal
(real pymodbus on both ends), the bridge's :class:`Bus` polling them at its default intervals
(alarm 1 s), and a Modbus TCP :class:`Gateway` in front of it. For each load (0 gateway
clients, then ``--clients`` of them reading back to back), alarms are raised one at a time on
the detectors in turn; the latency is from the simulator's alarm flag going up to the bus
emitting ``alarm_raised``. The figures of both loads come from one run, so their ratio
compares like with like.

Each figure is printed as ``name: value`` with its unit in the name. Nothing is asserted on
time: bus/scheduler.py states the bound (one alarm interval, plus one alarm round, plus the longest
transaction), and ``alarm_bound_s`` prints it for this line.

Run it with ``PYTHONPATH=addon .venv/bin/python bench/alarm_under_load.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Figures, add_line_options, argument_parser, run_and_print
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus.lines import SerialLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.simulator import (
    PtyLink,
    SimulatedBus,
    SimulatedUnit,
    other_masters,
)

MODEL: Final = "ASJ"
#: Per alarm: how long to wait for it before counting it missed.
MISSED_AFTER_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Config:
    units: int
    clients: int
    alarms: int
    baudrate: int
    wire_timing: bool


async def _latencies(
    sim: SimulatedBus, bus: Bus, raised: dict[str, asyncio.Event], alarms: int
) -> tuple[list[float], int]:
    """Raise ``alarms`` alarms in turn; their detection latencies and how many were missed.

    Each alarm ends (the flag goes down, the bus sees it and clears the acknowledged latch)
    before the next one starts: a flag raised again while the latch still holds is the same
    alarm, not a new one.
    """
    units = sorted(unit.spec.unit for unit in bus.units.values())
    found: list[float] = []
    missed = 0
    # Alarms come at random moments, not in step with the polls (seeded: repeatable).
    moments = random.Random(alarms)
    for n in range(alarms):
        unit = units[n % len(units)]
        await asyncio.sleep(moments.uniform(0.0, 1.0))
        event = raised[f"asj{unit}"]
        event.clear()
        started = time.perf_counter()
        sim.unit(unit).set("alarm_status", "alarm")
        try:
            await asyncio.wait_for(event.wait(), MISSED_AFTER_S)
        except TimeoutError:
            missed += 1
        else:
            found.append(time.perf_counter() - started)
        sim.unit(unit).set("alarm_status", "normal")
        await _until(functools.partial(_latch_cleared, bus, f"asj{unit}"))
    return found, missed


def _latch_cleared(bus: Bus, device_id: str) -> bool:
    return not bus.alarms.open_alarms(device_id)


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for a condition of the bus, at most MISSED_AFTER_S (the bus has no event for it)."""
    deadline = time.perf_counter() + MISSED_AFTER_S
    while not condition() and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(config: Config) -> Figures:
    units = list(range(1, config.units + 1))
    profile = find_profile(MODEL)
    sim = SimulatedBus(
        [SimulatedUnit(profile, u) for u in units],
        baudrate=config.baudrate,
        wire_timing=config.wire_timing,
    )
    raised = {f"asj{u}": asyncio.Event() for u in units}

    def emit(event: BridgeEvent) -> None:
        if event.type is EventType.ALARM_RAISED and event.device_id in raised:
            raised[event.device_id].set()
        if event.type is EventType.ALARM_RAISED:
            # Acknowledged at once, so that the next alarm on this unit is a new one.
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().call_soon(
                    bus.acknowledge, str(event.data["id"]), "bench"
                )

    figures: Figures = [
        ("units_count", str(config.units)),
        ("baudrate", str(config.baudrate)),
        ("simulated_wire_timing_on", str(int(config.wire_timing))),
    ]
    with tempfile.TemporaryDirectory() as folder:
        async with PtyLink(Path(folder) / "bridge", Path(folder) / "sim") as link:
            await sim.serve_serial(str(link.b_path))
            settings = BusSettings("bench", SerialLine(str(link.a_path), config.baudrate))
            bus = Bus(settings, [DeviceSpec(f"asj{u}", u, profile) for u in units], emit=emit)
            task = asyncio.create_task(bus.run())
            gateway = Gateway([bus], tcp_port=0, max_clients=config.clients + 4)
            await gateway.start()
            try:
                await _until(lambda: all(u.alarm_read_at for u in bus.units.values()))
                quiet, quiet_missed = await _latencies(sim, bus, raised, config.alarms)
                assert gateway.tcp_port is not None
                async with other_masters(gateway.tcp_port, units[0], config.clients) as answers:
                    loaded, loaded_missed = await _latencies(sim, bus, raised, config.alarms)
                    served = list(answers)
                status = bus.schedule_status()
                bound = status["effective_alarm_interval_s"] + status["alarm_round_s"]
                bound += bus._timeout(8, 255)
            finally:
                await gateway.stop()
                bus.stop()
                await asyncio.wait_for(task, 10)
                await sim.stop()
    q50, q99 = _percentile(quiet, 0.5), _percentile(quiet, 0.99)
    l50, l99 = _percentile(loaded, 0.5), _percentile(loaded, 0.99)
    figures += [
        ("alarms_per_load_count", str(config.alarms)),
        ("gateway_clients_count", str(config.clients)),
        ("alarm_latency_p50_s_no_clients", f"{q50:.3f}"),
        ("alarm_latency_p99_s_no_clients", f"{q99:.3f}"),
        ("alarm_latency_p50_s_with_clients", f"{l50:.3f}"),
        ("alarm_latency_p99_s_with_clients", f"{l99:.3f}"),
        ("alarm_latency_p99_ratio_with_to_without", f"{l99 / q99:.2f}" if q99 else "nan"),
        ("alarms_missed_no_clients_count", str(quiet_missed)),
        ("alarms_missed_with_clients_count", str(loaded_missed)),
        ("gateway_answers_min_per_client_count", str(min(served, default=0))),
        ("gateway_answers_total_count", str(sum(served))),
        ("alarm_gap_max_s", f"{status['alarm_gap_max_s']:.3f}"),
        ("alarm_round_s", f"{status['alarm_round_s']:.3f}"),
        ("alarm_bound_s", f"{bound:.3f}"),
        ("line_overloaded", str(int(status["overloaded"]))),
    ]
    return figures


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--alarms", type=int, default=32, help="alarms raised per load")
    add_line_options(parser, baudrate=9600)
    args = parser.parse_args(argv)
    config = Config(args.units, args.clients, args.alarms, args.baudrate, args.wire_timing)
    return run_and_print(measure, config, out)


if __name__ == "__main__":
    sys.exit(main())
