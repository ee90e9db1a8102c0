"""Alarm latency: from a detector's alarm bit to the Home Assistant binary_sensor state.

Sixteen simulated ASJ relays share one 9600-baud line with wire timing, served on a
pseudo-terminal by this process. The bridge runs as its own process with its default poll
intervals, and Home Assistant runs as a real ``hass`` process with the integration added
through its config flow (the same set-up as ``make demo``). For each sample the alarm
status of one unit is set, and the time until Home Assistant reports that unit's alarm
binary_sensor ``on`` (a ``state_changed`` event on Home Assistant's WebSocket API) is the
latency; the bit is then cleared and its ``off`` awaited before the next sample.

It runs in the bridge's environment; ``hass`` comes from Home Assistant's (``HASS_BIN``, set
by ``make bench-latency``).

Prints ``name: value`` lines: the p50, p99 and max latency in seconds, the sample count and
the goal (design.md: p99 ≤ 1 s with 16 detectors at 9600 baud).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/alarm_latency.py` has bench/, not the root
    sys.path.insert(0, str(ROOT))

from demo import home_assistant_demo as demo  # noqa: E402
from electrical_safety_bridge.profiles.loader import find_profile  # noqa: E402
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit  # noqa: E402

GOAL_P99_S = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bridge_config(folder: Path, tty: str, api_port: int, units: int) -> Path:
    config = {
        "data_dir": str(folder / "bridge"),
        "api": {"host": "127.0.0.1", "port": api_port, "advertise": False},
        "buses": [
            {
                "id": "bench",
                "serial": tty,
                "baudrate": 9600,
                "devices": [
                    {"id": f"asj-{unit}", "unit": unit, "profile": "ASJ"}
                    for unit in range(1, units + 1)
                ],
            }
        ],
    }
    path = folder / "bridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class HomeAssistantSocket:
    """Home Assistant's WebSocket API: entity registry and state changes."""

    def __init__(self, socket_: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket_
        self.next_id = 1
        self.changes: asyncio.Queue[tuple[float, str, str]] = asyncio.Queue()
        self.replies: dict[int, asyncio.Future[Any]] = {}

    async def call(self, message: dict[str, Any]) -> Any:
        message_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.replies[message_id] = future
        await self.socket.send_json({"id": message_id, **message})
        return await asyncio.wait_for(future, timeout=30)

    async def pump(self) -> None:
        async for message in self.socket:
            data = message.json()
            if data.get("type") == "event":
                event = data["event"]["data"]
                new = event.get("new_state") or {}
                self.changes.put_nowait(
                    (time.perf_counter(), event.get("entity_id", ""), str(new.get("state")))
                )
            elif data.get("type") == "result" and data.get("id") in self.replies:
                self.replies.pop(data["id"]).set_result(data.get("result"))

    async def wait_state(self, entity_id: str, state: str, bound: float) -> float:
        """The perf_counter time at which ``entity_id`` became ``state``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        while True:
            at, entity, new = await asyncio.wait_for(
                self.changes.get(), timeout=max(0.01, deadline - loop.time())
            )
            if entity == entity_id and new == state:
                return at


async def measure(samples: int, units: int, out: Any) -> int:
    """Run the whole chain and print the figures."""
    with tempfile.TemporaryDirectory(prefix="es-latency-") as name:
        folder = Path(name)
        asj = find_profile("ASJ")
        sim = SimulatedBus(
            [SimulatedUnit(asj, unit) for unit in range(1, units + 1)],
            baudrate=9600,
            wire_timing=True,
        )
        link = PtyLink(folder / "bridge-tty", folder / "sim-tty")
        await link.start()
        await sim.serve_serial(str(link.b_path))
        api_port, ha_port = _free_port(), _free_port()
        config = _bridge_config(folder, str(link.a_path), api_port, units)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
        bridge = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "electrical_safety_bridge",
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        demo.prepare_config(folder / "homeassistant", ha_port)
        hass = await asyncio.create_subprocess_exec(
            demo.hass_executable(),
            "-c",
            str(folder / "homeassistant"),
            "--skip-pip",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        latencies: list[float] = []
        try:
            base = f"http://127.0.0.1:{ha_port}"
            async with aiohttp.ClientSession() as session:
                await demo.wait_http(session, f"http://127.0.0.1:{api_port}/api/v1/health", 60)
                token = (folder / "bridge" / "api_token").read_text(encoding="utf-8").strip()
                await demo.wait_http(session, f"{base}/api/onboarding", 180)
                _, _, access = await demo.onboard(session, base, folder / "owner.json")
                await demo.add_integration(
                    session, base, access, {"host": "127.0.0.1", "port": api_port, "token": token}
                )
                async with session.ws_connect(f"{base}/api/websocket") as socket_:
                    await socket_.receive_json()  # auth_required
                    await socket_.send_json({"type": "auth", "access_token": access})
                    await socket_.receive_json()  # auth_ok
                    ha = HomeAssistantSocket(socket_)
                    pump = asyncio.create_task(ha.pump())
                    await ha.call({"type": "subscribe_events", "event_type": "state_changed"})
                    entity_of = await _alarm_entities(ha, units)
                    for sample in range(samples):
                        unit = sample % units + 1
                        entity_id = entity_of[unit]
                        await asyncio.sleep(0.137 * (sample % 7))  # spread over the poll phase
                        start = time.perf_counter()
                        sim.unit(unit).set("alarm_status", "alarm")
                        latencies.append(await ha.wait_state(entity_id, "on", 30) - start)
                        sim.unit(unit).set("alarm_status", "normal")
                        await ha.wait_state(entity_id, "off", 30)
                    pump.cancel()
        finally:
            for process in (hass, bridge):
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
            for process in (hass, bridge):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), timeout=30)
            await sim.stop()
            await link.close()
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    for name, value in (
        ("alarm_latency_samples", len(ordered)),
        ("alarm_latency_units", units),
        ("alarm_latency_p50_s", round(statistics.median(ordered), 3)),
        ("alarm_latency_p99_s", round(p99, 3)),
        ("alarm_latency_max_s", round(ordered[-1], 3)),
        ("goal_alarm_latency_p99_s", GOAL_P99_S),
    ):
        print(f"{name}: {value}", file=out, flush=True)
    return 0


async def _alarm_entities(ha: HomeAssistantSocket, units: int) -> dict[int, str]:
    """The residual-current alarm binary_sensor of each unit, from the entity registry."""
    wanted = {f":asj-{unit}:alarm:residual_current": unit for unit in range(1, units + 1)}
    for _ in range(60):
        entries = await ha.call({"type": "config/entity_registry/list"})
        found = {
            wanted[suffix]: entry["entity_id"]
            for entry in entries
            for suffix in wanted
            if entry.get("platform") == "electrical_safety"
            and str(entry.get("unique_id", "")).endswith(suffix)
        }
        if len(found) == units:
            return found
        await asyncio.sleep(1)
    raise RuntimeError(f"only {len(found)} of {units} alarm entities appeared")


def main(argv: Sequence[str] | None = None, out: Any = sys.stdout) -> int:
    """Parse the options and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--units", type=int, default=16)
    args = parser.parse_args(argv)
    return asyncio.run(measure(args.samples, args.units, out))


if __name__ == "__main__":
    raise SystemExit(main())
