"""Latency the Modbus gateway adds over a direct read and over mbusd, on the same simulated bus.

One :class:`SimulatedBus` with wire timing on (every answer waits as long as its request and
response frames and both t3.5 silences take at the bus's baud rate) is served over Modbus
TCP and, for mbusd, on a pseudo-terminal too: both servers share the simulator's one line
lock, so every path waits for the same line. pymodbus clients read the same registers of the
same units, one request at a time, on each path:

* **direct**: a client connected to the simulator's own TCP server;
* **gateway**: a client connected to the bridge's :class:`Gateway`, whose :class:`Bus` is
  connected to that same server and forwards each request through its queue;
* **mbusd** (when an ``mbusd`` binary is found: ``MBUSD_BIN`` or ``PATH``; Debian has no
  package, build upstream 3cky/mbusd with cmake): mbusd on the simulator's pseudo-terminal,
  as it runs on a USB adapter, once with its defaults (``-R 100 -W 500``: a 100 ms pause
  between requests) and once tuned (``-R 1``);
* **direct_serial** (with mbusd): a pymodbus RTU master on a pseudo-terminal of its own,
  served by the same simulator: mbusd's baseline, since the simulator's serial server and the
  pty pair this process relays cost time that its TCP server does not. mbusd's added
  latency is taken against it, the gateway's against **direct**.

Three situations, all in one run: **idle** (the bridge polls nothing, so a gateway request
never waits behind one of its polls), **under polling** (the bridge polls the units at its
default intervals meanwhile; every path then waits for polls in flight on the shared line),
and **4 clients** reading back to back at once through the gateway (and through tuned mbusd),
under polling: each client's p50 and p99, and the spread of the p99s (max / min), for
fairness.

The paths alternate request by request (and the first path rotates), so drift in the
machine's load hits all alike. A few warm-up reads per path are made first and excluded.
The added latency is the difference of percentiles (gateway p50 − direct p50, and so on).

Each figure is printed on its own line as ``name: value`` with its unit in the name. No
assertion is made on time: this is a measurement, compared from run to run.

Run it with ``PYTHONPATH=addon .venv/bin/python bench/gateway.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.framer import FramerType

# Run as a script (``python bench/gateway.py``), Python puts bench/ itself on the path, not
# the repository root that the shared ``bench._common`` is imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Figures, add_line_options, argument_parser, free_port, run_and_print
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus import timing
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

MODEL: Final = "SIM-ARCM"
#: Registers per read: SIM-ARCM's measurements, 0x0000-0x0009, all present.
COUNT: Final = 10
WARMUP_READS: Final = 5


#: design.md: "The gateway adds ≤ 2 ms at p50 over a direct read".
GOAL_ADDED_P50_MS: Final = 2.0
#: mbusd's settings measured: its defaults, and tuned (the shortest pause between requests).
MBUSD_SETTINGS: Final = {
    "mbusd_default": ("-R", "100", "-W", "500", "-N", "3"),
    "mbusd_tuned": ("-R", "1", "-W", "500", "-N", "3"),
}
READY_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures."""

    reads: int = 200
    units: int = 2
    baudrate: int = 9600
    wire_timing: bool = True
    clients: int = 4
    client_reads: int = 50
    mbusd: str | None = None


def find_mbusd() -> str | None:
    """``MBUSD_BIN`` if set (and executable), else ``mbusd`` on ``PATH``, else None."""
    configured = os.environ.get("MBUSD_BIN")
    if configured:
        if not os.access(configured, os.X_OK):
            raise SystemExit(f"MBUSD_BIN={configured!r} is not an executable file")
        return configured
    return shutil.which("mbusd")


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


@contextlib.asynccontextmanager
async def _serial_client(sim: SimulatedBus, folder: Path) -> AsyncIterator[AsyncModbusSerialClient]:
    """A direct RTU master on a pseudo-terminal the simulator serves: mbusd's baseline."""
    link = PtyLink(folder / "direct-tty", folder / "direct-sim-tty")
    await link.start()
    client: AsyncModbusSerialClient | None = None
    try:
        await sim.serve_serial(str(link.b_path))
        client = AsyncModbusSerialClient(
            str(link.a_path), framer=FramerType.RTU, baudrate=sim.baudrate, retries=0
        )
        if not await client.connect():
            raise RuntimeError(f"cannot open {link.a_path}")
        yield client
    finally:
        if client is not None:
            client.close()
        await link.close()


@contextlib.asynccontextmanager
async def _mbusd(
    binary: str, sim: SimulatedBus, folder: Path, name: str, options: Sequence[str]
) -> AsyncIterator[int]:
    """mbusd on a pseudo-terminal the simulator serves; yields its TCP port."""
    link = PtyLink(folder / f"{name}-tty", folder / f"{name}-sim-tty")
    await link.start()
    port = free_port()
    process: asyncio.subprocess.Process | None = None
    try:
        await sim.serve_serial(str(link.b_path))
        process = await asyncio.create_subprocess_exec(
            binary,
            "-d",
            "-L",
            str(folder / f"{name}.log"),
            "-v",
            "1",
            "-p",
            str(link.a_path),
            "-s",
            str(sim.baudrate),
            "-m",
            "8N1",
            "-A",
            "127.0.0.1",
            "-P",
            str(port),
            *options,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_S
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError(f"mbusd did not start (see {folder / name}.log)") from None
                await asyncio.sleep(0.02)  # polling for its listener, bounded above
                continue
            writer.close()
            break
        yield port
    finally:
        if process is not None and process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), READY_S)
        await link.close()


type Client = AsyncModbusTcpClient | AsyncModbusSerialClient


async def _timed_read(client: Client, unit: int) -> tuple[float, list[int]]:
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


async def _alternating(
    ports: dict[str, int], serial: Client | None, unit_ids: Sequence[int], reads: int
) -> dict[str, list[float]]:
    """One read per path in turn (the first path rotates); each path's measured times."""
    samples: dict[str, list[float]] = {name: [] for name in ports}
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, Client] = {
            name: await stack.enter_async_context(_client(p)) for name, p in ports.items()
        }
        if serial is not None:
            clients["direct_serial"] = serial
            samples["direct_serial"] = []
        names = list(clients)
        for index in range(WARMUP_READS + reads):
            unit = unit_ids[index % len(unit_ids)]
            shift = index % len(names)
            answers = []
            for name in names[shift:] + names[:shift]:
                elapsed, registers = await _timed_read(clients[name], unit)
                answers.append(registers)
                if index >= WARMUP_READS:
                    samples[name].append(elapsed)
            if any(answer != answers[0] for answer in answers):
                raise RuntimeError(f"the paths read different registers: {answers}")
    return samples


async def _at_once(
    port: int, unit_ids: Sequence[int], clients: int, reads: int
) -> list[list[float]]:
    """``clients`` clients reading back to back at the same time; each one's times."""

    async def one(offset: int) -> list[float]:
        found: list[float] = []
        async with _client(port) as client:
            for index in range(WARMUP_READS + reads):
                elapsed, _ = await _timed_read(client, unit_ids[(index + offset) % len(unit_ids)])
                if index >= WARMUP_READS:
                    found.append(elapsed)
        return found

    return list(await asyncio.gather(*(one(k) for k in range(clients))))


def _path_figures(situation: str, samples: dict[str, list[float]]) -> Figures:
    figures: Figures = []
    for name, values in samples.items():
        figures += [
            (f"{situation}_{name}_latency_p50_ms", f"{_p50_ms(values):.3f}"),
            (f"{situation}_{name}_latency_p99_ms", f"{_p99_ms(values):.3f}"),
        ]
    direct, gateway = samples["direct"], samples["gateway"]
    figures += [
        (f"{situation}_gateway_added_latency_p50_ms", f"{_p50_ms(gateway) - _p50_ms(direct):.3f}"),
        (f"{situation}_gateway_added_latency_p99_ms", f"{_p99_ms(gateway) - _p99_ms(direct):.3f}"),
    ]
    for name in MBUSD_SETTINGS:
        if name in samples:
            # mbusd's baseline is a direct master on the same kind of pseudo-terminal.
            base = samples["direct_serial"]
            for q, quantile in (("p50", _p50_ms), ("p99", _p99_ms)):
                added = quantile(samples[name]) - quantile(base)
                figures.append((f"{situation}_{name}_added_latency_{q}_ms", f"{added:.3f}"))
    return figures


def _fairness_figures(prefix: str, per_client: list[list[float]]) -> Figures:
    p99s = [_p99_ms(values) for values in per_client]
    figures: Figures = []
    for index, values in enumerate(per_client):
        figures += [
            (f"{prefix}_client{index + 1}_p50_ms", f"{_p50_ms(values):.3f}"),
            (f"{prefix}_client{index + 1}_p99_ms", f"{_p99_ms(values):.3f}"),
        ]
    figures.append((f"{prefix}_p99_spread_max_over_min", f"{max(p99s) / min(p99s):.2f}"))
    return figures


async def measure(config: Config) -> Figures:
    """Idle, under polling, and 4 clients at once; the figures, in print order."""
    if config.reads < 1 or config.units < 1 or config.clients < 1 or config.client_reads < 1:
        raise ValueError("reads, units, clients and client reads must be at least 1")
    profile = find_profile(MODEL)
    unit_ids = list(range(1, config.units + 1))
    sim = SimulatedBus(
        [SimulatedUnit(profile, u) for u in unit_ids],
        baudrate=config.baudrate,
        wire_timing=config.wire_timing,
    )
    for unit in unit_ids:
        sim.unit(unit).set("residual_current", 10 * unit)
    wire_ms = 1000 * timing.transaction_seconds(
        timing.read_request_bytes(),
        timing.read_response_bytes(COUNT),
        config.baudrate,
        sim.bits_per_char,
    )
    figures: Figures = [
        ("reads_per_path_count", f"{config.reads}"),
        ("warmup_reads_per_path_excluded_count", f"{WARMUP_READS}"),
        ("registers_per_read_count", f"{COUNT}"),
        ("bus_units_count", f"{config.units}"),
        ("bus_baudrate_bd", f"{config.baudrate}"),
        ("simulated_wire_timing_on", f"{int(config.wire_timing)}"),
        ("wire_time_per_read_ms", f"{wire_ms if config.wire_timing else 0.0:.3f}"),
        ("mbusd_measured", f"{int(config.mbusd is not None)}"),
        ("goal_gateway_added_latency_p50_ms", f"{GOAL_ADDED_P50_MS:g}"),
    ]
    served = await sim.serve_tcp("127.0.0.1", 0)
    assert served.port is not None
    try:
        with tempfile.TemporaryDirectory(prefix="gateway-bench-") as name:
            async with contextlib.AsyncExitStack() as stack:
                ports = {"direct": served.port}
                serial: Client | None = None
                if config.mbusd is not None:
                    serial = await stack.enter_async_context(_serial_client(sim, Path(name)))
                    for label, options in MBUSD_SETTINGS.items():
                        ports[label] = await stack.enter_async_context(
                            _mbusd(config.mbusd, sim, Path(name), label, options)
                        )
                for situation, poll in (("idle", False), ("polling", True)):
                    figures += await _situation(config, situation, poll, ports, serial, unit_ids)
    finally:
        await sim.stop()
    return figures


async def _situation(
    config: Config,
    situation: str,
    poll: bool,
    ports: dict[str, int],
    serial: Client | None,
    unit_ids: list[int],
) -> Figures:
    """One bus (polling or not) and its gateway; the alternating reads, and under polling the
    clients at once."""
    profile = find_profile(MODEL)
    direct_port = ports["direct"]
    settings = BusSettings("bench", TcpLine("127.0.0.1", direct_port, baudrate=config.baudrate))
    devices = [DeviceSpec(f"arcm-{u}", u, profile) for u in unit_ids] if poll else []
    bus = Bus(settings, devices)
    running = asyncio.create_task(bus.run())
    gateway = Gateway([bus], "127.0.0.1", tcp_port=0, max_clients=config.clients + 4)
    figures: Figures = [(f"{situation}_bridge_polling_on", f"{int(poll)}")]
    try:
        await gateway.start()
        assert gateway.tcp_port is not None
        paths = {"direct": direct_port, "gateway": gateway.tcp_port}
        paths |= {k: v for k, v in ports.items() if k != "direct"}
        figures += _path_figures(
            situation, await _alternating(paths, serial, unit_ids, config.reads)
        )
        if poll:
            figures.append(("clients_at_once_count", f"{config.clients}"))
            figures.append(("reads_per_client_count", f"{config.client_reads}"))
            per_client = await _at_once(
                gateway.tcp_port, unit_ids, config.clients, config.client_reads
            )
            figures += _fairness_figures(f"gateway_{config.clients}_clients", per_client)
            if "mbusd_tuned" in ports:
                per_client = await _at_once(
                    ports["mbusd_tuned"], unit_ids, config.clients, config.client_reads
                )
                figures += _fairness_figures(f"mbusd_tuned_{config.clients}_clients", per_client)
        figures += [
            (f"{situation}_gateway_requests_count", f"{gateway.stats.requests}"),
            (f"{situation}_gateway_timeouts_count", f"{gateway.stats.timeouts}"),
        ]
    finally:
        await gateway.stop()
        bus.stop()
        await asyncio.wait_for(running, timeout=10)
    return figures


def _parse(argv: Sequence[str] | None) -> Config:
    parser = argument_parser(__doc__)
    defaults = Config()
    parser.add_argument("--reads", type=int, default=defaults.reads, help="measured per path")
    parser.add_argument("--units", type=int, default=defaults.units)
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--client-reads", type=int, default=defaults.client_reads)
    parser.add_argument("--no-mbusd", action="store_true", help="leave mbusd out even if found")
    add_line_options(parser, defaults.baudrate)
    args = parser.parse_args(argv)
    return Config(
        args.reads,
        args.units,
        args.baudrate,
        args.wire_timing,
        args.clients,
        args.client_reads,
        None if args.no_mbusd else find_mbusd(),
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Measure and print ``name: value`` lines."""
    return run_and_print(measure, _parse(argv), out)


if __name__ == "__main__":
    sys.exit(main())
