"""Latency the Modbus gateway adds over a direct client, on the same simulated bus.

One :class:`SimulatedBus` with wire timing on (every answer waits as long as its request and
response frames and both t3.5 silences take at the bus's baud rate) is served over Modbus
TCP. Two pymodbus clients read the same registers of the same units from it, one request at
a time:

* **direct**: a client connected to the simulator's own TCP server;
* **gateway**: a client connected to the bridge's :class:`Gateway`, whose :class:`Bus` is
  connected to that same server and forwards each request through its queue.

Both paths end in the same simulator, behind the same line lock and wire delays, so the
difference between them is what the gateway hop costs: one more TCP connection, framing on
both sides of the gateway, the bus queue and the bus's own pymodbus client. The two paths
alternate request by request (and swap which goes first every other time), so drift in the
machine's load hits both alike. A few warm-up reads per path are made first and excluded.

By default the bus polls nothing, so a gateway request never waits behind one of the
bridge's own polls; ``--poll`` lets the bus poll the units as in production, and then the
gateway figures include waiting for a poll in flight.

Each figure is printed on its own line as ``name: value`` with its unit in the name. The
added latency is the difference of the two paths' percentiles (gateway p50 − direct p50,
gateway p99 − direct p99). No assertion is made on time: this is a measurement, compared
from run to run.

Run it with ``PYTHONPATH=addon .venv/bin/python bench/gateway.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType

# Run as a script (``python bench/gateway.py``), Python puts bench/ itself on the path, not
# the repository root that the shared ``bench._common`` is imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Figures, add_line_options, argument_parser, run_and_print
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus import timing
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

MODEL: Final = "SIM-ARCM"
#: Registers per read: SIM-ARCM's measurements, 0x0000-0x0009, all present.
COUNT: Final = 10
WARMUP_READS: Final = 5


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures."""

    reads: int = 200
    units: int = 2
    baudrate: int = 9600
    wire_timing: bool = True
    poll: bool = False


@contextlib.asynccontextmanager
async def _client(port: int) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=port, framer=FramerType.SOCKET, retries=0, reconnect_delay=0
    )
    if not await client.connect():
        raise RuntimeError(f"cannot connect to 127.0.0.1:{port}")
    try:
        yield client
    finally:
        client.close()


async def _timed_read(client: AsyncModbusTcpClient, unit: int) -> tuple[float, list[int]]:
    started = time.perf_counter()
    response = await client.read_holding_registers(0, count=COUNT, device_id=unit)
    elapsed = time.perf_counter() - started
    if response.isError():
        raise RuntimeError(f"unit {unit} answered exception {response.exception_code:#04x}")
    return elapsed, list(response.registers)


def _p50_ms(samples: Sequence[float]) -> float:
    return 1000 * statistics.median(samples)


def _p99_ms(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return 1000 * samples[0]
    return 1000 * statistics.quantiles(samples, n=100, method="inclusive")[98]


async def measure(config: Config) -> Figures:
    """Time ``reads`` reads on each path; the figures, in print order."""
    if config.reads < 1 or config.units < 1:
        raise ValueError("reads and units must be at least 1")
    profile = find_profile(MODEL)
    unit_ids = list(range(1, config.units + 1))
    sim = SimulatedBus(
        [SimulatedUnit(profile, u) for u in unit_ids],
        baudrate=config.baudrate,
        wire_timing=config.wire_timing,
    )
    for unit in unit_ids:
        sim.unit(unit).set("residual_current", 10 * unit)
    served = await sim.serve_tcp("127.0.0.1", 0)
    assert served.port is not None
    settings = BusSettings("bench", TcpLine("127.0.0.1", served.port, baudrate=config.baudrate))
    devices = [DeviceSpec(f"arcm-{u}", u, profile) for u in unit_ids] if config.poll else []
    bus = Bus(settings, devices)
    running = asyncio.create_task(bus.run())
    gateway = Gateway([bus], "127.0.0.1", tcp_port=0)
    direct: list[float] = []
    via_gateway: list[float] = []
    try:
        await gateway.start()
        assert gateway.tcp_port is not None
        async with _client(served.port) as plain, _client(gateway.tcp_port) as relayed:
            for index in range(WARMUP_READS + config.reads):
                unit = unit_ids[index % len(unit_ids)]
                order = (plain, relayed) if index % 2 == 0 else (relayed, plain)
                timings: dict[AsyncModbusTcpClient, float] = {}
                answers = []
                for client in order:
                    timings[client], registers = await _timed_read(client, unit)
                    answers.append(registers)
                if answers[0] != answers[1]:
                    raise RuntimeError(f"the two paths read different registers: {answers}")
                if index >= WARMUP_READS:
                    direct.append(timings[plain])
                    via_gateway.append(timings[relayed])
    finally:
        await gateway.stop()
        bus.stop()
        await asyncio.wait_for(running, timeout=10)
        await sim.stop()

    wire_ms = 1000 * timing.transaction_seconds(
        timing.read_request_bytes(),
        timing.read_response_bytes(COUNT),
        config.baudrate,
        sim.bits_per_char,
    )
    direct_p50, direct_p99 = _p50_ms(direct), _p99_ms(direct)
    gateway_p50, gateway_p99 = _p50_ms(via_gateway), _p99_ms(via_gateway)
    return [
        ("reads_per_path_count", f"{config.reads}"),
        ("warmup_reads_per_path_excluded_count", f"{WARMUP_READS}"),
        ("registers_per_read_count", f"{COUNT}"),
        ("bus_units_count", f"{config.units}"),
        ("bus_baudrate_bd", f"{config.baudrate}"),
        ("simulated_wire_timing_on", f"{int(config.wire_timing)}"),
        ("bridge_polling_on", f"{int(config.poll)}"),
        ("wire_time_per_read_ms", f"{wire_ms if config.wire_timing else 0.0:.3f}"),
        ("direct_latency_p50_ms", f"{direct_p50:.3f}"),
        ("direct_latency_p99_ms", f"{direct_p99:.3f}"),
        ("gateway_latency_p50_ms", f"{gateway_p50:.3f}"),
        ("gateway_latency_p99_ms", f"{gateway_p99:.3f}"),
        ("gateway_added_latency_p50_ms", f"{gateway_p50 - direct_p50:.3f}"),
        ("gateway_added_latency_p99_ms", f"{gateway_p99 - direct_p99:.3f}"),
        ("gateway_requests_count", f"{gateway.stats.requests}"),
        ("gateway_timeouts_count", f"{gateway.stats.timeouts}"),
    ]


def _parse(argv: Sequence[str] | None) -> Config:
    parser = argument_parser(__doc__)
    defaults = Config()
    parser.add_argument("--reads", type=int, default=defaults.reads, help="measured per path")
    parser.add_argument("--units", type=int, default=defaults.units)
    add_line_options(parser, defaults.baudrate)
    parser.add_argument(
        "--poll", action="store_true", help="let the bridge poll the units meanwhile"
    )
    args = parser.parse_args(argv)
    return Config(args.reads, args.units, args.baudrate, args.wire_timing, args.poll)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Measure and print ``name: value`` lines."""
    return run_and_print(measure, _parse(argv), out)


if __name__ == "__main__":
    sys.exit(main())
