"""The bridge's CPU share and resident memory with 32 detectors polled for alarms continuously.

Two simulated 9600-baud lines of 16 detectors each (ASJ relays and SIM-ARCM arc-fault
detectors, wire timing on, 8N1) are served by this process on pseudo-terminals; the bridge
runs as its own process (``python -m electrical_safety_bridge run``) on them with its default
poll intervals, exactly as on two USB adapters. Every second this process changes each
detector's residual current a little, so the bridge has telemetry to decode, store and push
(to Home Assistant, when it runs). After a warm-up, a window of ``--seconds`` is measured:

* ``bridge_cpu_share_of_one_core``: the bridge's user + system CPU time over the window
  (``/proc/<pid>/stat``) divided by the window's length;
* ``bridge_rss_mb`` and ``bridge_peak_rss_mb``: ``VmRSS`` at the end and ``VmHWM`` (its
  peak since start), in MB of 10⁶ bytes, against design.md's goal of ≤ 80 MB with 32
  detectors;
* ``bus_transactions_per_s``: the requests the simulated lines answered, both lines together,
  to show the polling was continuous.

With ``--hass`` (when ``HASS_BIN`` names Home Assistant's ``hass``, as ``make bench`` sets),
a real Home Assistant with the integration set up runs too, and its CPU time over the window
is divided by the ``state_changed`` events in it (the demo's minimal configuration has
nothing else that changes from second to second): ``hass_cpu_ms_per_pushed_update``. Then the
values stop changing and an equal window measures Home Assistant's baseline (the bridge
still polls, nothing changes), and ``hass_cpu_ms_per_pushed_update_over_baseline`` is the
CPU time above that baseline per extra update. Home Assistant runs its event loop on one
thread, so these are upper bounds on the event-loop time an update costs (they also count
the recorder's thread and the WebSocket that counts the changes).

Run it with ``PYTHONPATH=addon .venv-bridge/bin/python bench/bridge_resources.py``.
Each figure is printed as ``name: value``. Nothing is asserted on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

import aiohttp
import yaml

# Run as a script (``python bench/bridge_resources.py``), Python puts bench/ itself on the
# path, not the repository root that ``bench._common`` and ``demo`` are imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Figures,
    argument_parser,
    cpu_seconds,
    free_port,
    machine_load,
    memory_kib,
    run_and_print,
)
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

ROOT: Final = Path(__file__).resolve().parents[1]
GOAL_RSS_MB: Final = 80
MODELS: Final = ("ASJ", "SIM-ARCM")
UNITS_PER_LINE: Final = 16
BRIDGE_READY_S: Final = 60.0
HASS_READY_S: Final = 240.0
#: After the values stop changing: longer than the default telemetry interval (10 s), so the
#: last changes are read and pushed before Home Assistant's baseline is measured.
SETTLE_S: Final = 15.0


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures."""

    detectors: int = 32
    seconds: float = 30.0
    warmup: float = 10.0
    hass: bool = False


def _device_id(line: int, unit: int) -> str:
    return f"l{line}-u{unit}"


def _bridge_config(folder: Path, ttys: Sequence[str], api_port: int, detectors: int) -> Path:
    buses = []
    for line, tty in enumerate(ttys):
        units = range(1, min(UNITS_PER_LINE, detectors - line * UNITS_PER_LINE) + 1)
        buses.append(
            {
                "id": f"line{line}",
                "serial": tty,
                "baudrate": 9600,
                "devices": [
                    {
                        "id": _device_id(line, unit),
                        "unit": unit,
                        "profile": MODELS[unit % len(MODELS)],
                    }
                    for unit in units
                ],
            }
        )
    config = {
        "data_dir": str(folder / "bridge"),
        "api": {"host": "127.0.0.1", "port": api_port, "advertise": False},
        "buses": buses,
    }
    path = folder / "bridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def _lines(folder: Path, detectors: int) -> AsyncIterator[list[tuple[str, SimulatedBus]]]:
    """The simulated lines on pseudo-terminals: (the bridge's tty, the simulator) per line."""
    lines: list[tuple[str, SimulatedBus]] = []
    links: list[PtyLink] = []
    try:
        for line in range(-(-detectors // UNITS_PER_LINE)):
            count = min(UNITS_PER_LINE, detectors - line * UNITS_PER_LINE)
            sim = SimulatedBus(
                [
                    SimulatedUnit(find_profile(MODELS[unit % len(MODELS)]), unit)
                    for unit in range(1, count + 1)
                ],
                baudrate=9600,
                wire_timing=True,
            )
            link = PtyLink(folder / f"bridge-tty{line}", folder / f"sim-tty{line}")
            await link.start()
            links.append(link)
            await sim.serve_serial(str(link.b_path))
            lines.append((str(link.a_path), sim))
        yield lines
    finally:
        for _, sim in lines:
            await sim.stop()
        for link in links:
            await link.close()


async def _vary(lines: list[tuple[str, SimulatedBus]]) -> None:
    """Every second, move each detector's residual current a little (telemetry to push)."""
    wobble = random.Random(32)
    while True:
        for _, sim in lines:
            for unit in sim.units:
                with contextlib.suppress(KeyError, ValueError):
                    unit.set("residual_current", wobble.randint(20, 120))
        await asyncio.sleep(1.0)  # the pace of the changes, not a wait for a condition


class _HomeAssistant:
    """A real ``hass`` with the integration set up on the bridge; counts its state changes."""

    def __init__(self, folder: Path, api_port: int) -> None:
        self.folder = folder
        self.api_port = api_port
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.changes = 0
        self._pump: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self, token: str) -> None:
        from demo import home_assistant_demo as demo

        demo.prepare_config(self.folder / "homeassistant", self.port)
        self.process = await asyncio.create_subprocess_exec(
            demo.hass_executable(),
            "-c",
            str(self.folder / "homeassistant"),
            "--skip-pip",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(self.folder / "hass.log").open("wb"),
        )
        base = f"http://127.0.0.1:{self.port}"
        self._session = aiohttp.ClientSession()
        try:
            await demo.wait_http(self._session, f"{base}/api/onboarding", HASS_READY_S)
        except RuntimeError as exc:
            log = (self.folder / "hass.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{exc}; Home Assistant's log ends:\n{log}") from None
        _, _, access = await demo.onboard(self._session, base, self.folder / "owner.json")
        await demo.add_integration(
            self._session,
            base,
            access,
            {"host": "127.0.0.1", "port": self.api_port, "token": token},
        )
        socket_ = await self._session.ws_connect(f"{base}/api/websocket")
        await socket_.receive_json()  # auth_required
        await socket_.send_json({"type": "auth", "access_token": access})
        await socket_.receive_json()  # auth_ok
        await socket_.send_json(
            {"id": 1, "type": "subscribe_events", "event_type": "state_changed"}
        )
        self._pump = asyncio.create_task(self._count(socket_))

    async def _count(self, socket_: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket_:
            data: dict[str, Any] = message.json()
            # Every state change counts: the minimal configuration (no default_config) has
            # nothing but the integration's entities changing from second to second.
            if data.get("type") == "event":
                self.changes += 1

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self._session is not None:
            await self._session.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 30)


async def measure(config: Config) -> Figures:
    if config.detectors < 1 or config.seconds <= 0:
        raise ValueError("detectors and seconds must be positive")
    figures: Figures = [
        ("detectors_count", str(config.detectors)),
        ("lines_count", str(-(-config.detectors // UNITS_PER_LINE))),
        ("bus_baudrate_bd", "9600"),
        ("window_s", f"{config.seconds:g}"),
        ("machine_load_at_start", machine_load()),
    ]
    with tempfile.TemporaryDirectory(prefix="bridge-resources-") as name:
        folder = Path(name)
        async with _lines(folder, config.detectors) as lines:
            api_port = free_port()
            path = _bridge_config(folder, [tty for tty, _ in lines], api_port, config.detectors)
            bridge = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "electrical_safety_bridge",
                "run",
                "--config",
                str(path),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=(folder / "bridge.log").open("wb"),
                env={**os.environ, "PYTHONPATH": str(ROOT / "addon")},
            )
            vary = asyncio.create_task(_vary(lines))
            hass = _HomeAssistant(folder, api_port) if config.hass else None
            try:
                async with aiohttp.ClientSession() as session:
                    from demo import home_assistant_demo as demo

                    health = f"http://127.0.0.1:{api_port}/api/v1/health"
                    await demo.wait_http(session, health, BRIDGE_READY_S)
                token = (folder / "bridge" / "api_token").read_text(encoding="utf-8").strip()
                if hass is not None:
                    await hass.start(token)
                await asyncio.sleep(config.warmup)  # let the polling settle before measuring
                requests = sum(sim.counters.requests for _, sim in lines)
                changes = hass.changes if hass is not None else 0
                hass_cpu = (
                    cpu_seconds(hass.process.pid) if hass and hass.process is not None else 0.0
                )
                cpu, at = cpu_seconds(bridge.pid), time.perf_counter()
                await asyncio.sleep(config.seconds)  # the measured window
                elapsed = time.perf_counter() - at
                cpu = cpu_seconds(bridge.pid) - cpu
                memory = memory_kib(bridge.pid)
                requests = sum(sim.counters.requests for _, sim in lines) - requests
                figures += [
                    ("bridge_cpu_share_of_one_core", f"{cpu / elapsed:.3f}"),
                    ("bridge_rss_mb", f"{memory['VmRSS'] * 1024 / 1e6:.1f}"),
                    ("bridge_peak_rss_mb", f"{memory['VmHWM'] * 1024 / 1e6:.1f}"),
                    ("goal_bridge_peak_rss_mb", str(GOAL_RSS_MB)),
                    ("bus_transactions_per_s", f"{requests / elapsed:.1f}"),
                ]
                if hass is not None and hass.process is not None:
                    hass_cpu = cpu_seconds(hass.process.pid) - hass_cpu
                    updates = hass.changes - changes
                    figures += await _hass_figures(hass, hass_cpu, updates, elapsed, vary)
                else:
                    figures.append(("hass_measured", "0"))
                figures.append(("machine_load_at_end", machine_load()))
            finally:
                vary.cancel()
                if hass is not None:
                    await hass.stop()
                with contextlib.suppress(ProcessLookupError):
                    bridge.terminate()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bridge.wait(), 30)
    return figures


async def _hass_figures(
    hass: _HomeAssistant,
    busy_cpu: float,
    busy_updates: int,
    window: float,
    vary: asyncio.Task[None],
) -> Figures:
    """Home Assistant's CPU per update: raw, and over its baseline with nothing changing."""
    assert hass.process is not None
    vary.cancel()  # the values stop changing: what Home Assistant does then is its baseline
    await asyncio.sleep(SETTLE_S)  # the last changes' polls and pushes, before the baseline
    cpu, changes, at = cpu_seconds(hass.process.pid), hass.changes, time.perf_counter()
    await asyncio.sleep(window)  # the baseline window, as long as the measured one
    idle_cpu = (cpu_seconds(hass.process.pid) - cpu) * window / (time.perf_counter() - at)
    idle_updates = hass.changes - changes
    extra_updates = busy_updates - idle_updates
    return [
        ("hass_measured", "1"),
        ("hass_state_changes_count", str(busy_updates)),
        ("hass_cpu_share_of_one_core", f"{busy_cpu / window:.3f}"),
        (
            "hass_cpu_ms_per_pushed_update",
            f"{1000 * busy_cpu / busy_updates:.2f}" if busy_updates else "nan",
        ),
        ("hass_baseline_state_changes_count", str(idle_updates)),
        ("hass_baseline_cpu_share_of_one_core", f"{idle_cpu / window:.3f}"),
        (
            "hass_cpu_ms_per_pushed_update_over_baseline",
            f"{1000 * (busy_cpu - idle_cpu) / extra_updates:.2f}" if extra_updates > 0 else "nan",
        ),
    ]


def _parse(argv: Sequence[str] | None) -> Config:
    parser = argument_parser(__doc__)
    defaults = Config()
    parser.add_argument("--detectors", type=int, default=defaults.detectors)
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="measured")
    parser.add_argument("--warmup", type=float, default=defaults.warmup)
    parser.add_argument(
        "--hass", action="store_true", help="also run Home Assistant (HASS_BIN) on the bridge"
    )
    args = parser.parse_args(argv)
    return Config(args.detectors, args.seconds, args.warmup, args.hass)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Measure and print ``name: value`` lines."""
    return run_and_print(measure, _parse(argv), out)


if __name__ == "__main__":
    sys.exit(main())
