"""Alarm latency: from a detector's alarm bit to Home Assistant's entity and to an MQTT subscriber.

Sixteen simulated ASJ relays share one 9600-baud line (8N1) with wire timing, served on a
pseudo-terminal by this process. The bridge runs as its own process with its default poll
intervals, relaying its events to a real local Mosquitto; Home Assistant runs as a real
``hass`` process (from the environment ``make test`` builds: no frontend, a configuration of
its own) with the integration added through its config flow; a subscriber in this process
stands in for the landlord.

For each sample the alarm status of one unit is set at a random moment, and the latency is
the time until Home Assistant reports that unit's alarm binary_sensor ``on`` (a
``state_changed`` event on its WebSocket API) and until the subscriber receives the
``alarm_raised`` event. The alarm is then acknowledged over the bridge's API and the bit
cleared, and both its ``off`` and its ``alarm_cleared`` are awaited before the next sample.
The samples run twice: with the line otherwise idle, then while a Modbus gateway client
reads back to back.

Printed beside them: the wire time of one alarm-status sweep of every unit (the physical
limit of the wait), the bridge's measured alarm round and alarm cycle, the detection windows
the alarms carried, and the delivery into Home Assistant as the integration measured it
(its "last alarm delay" sensor).

Run it with ``make bench-latency`` (``HASS_BIN`` is Home Assistant's ``hass``). When a part
fails, the last lines of Home Assistant's and the bridge's output are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

import aiohttp
import aiomqtt
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/alarm_latency.py` has bench/, not the root
    sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    Figures,
    Mosquitto,
    argument_parser,
    free_port,
    run_and_print,
)
from demo import home_assistant_demo as demo  # noqa: E402
from electrical_safety_bridge.common.enums import PollClass  # noqa: E402
from electrical_safety_bridge.modbus import timing  # noqa: E402
from electrical_safety_bridge.modbus.planner import PlanState, plan  # noqa: E402
from electrical_safety_bridge.profiles.loader import find_profile  # noqa: E402
from electrical_safety_bridge.profiles.model import Profile  # noqa: E402
from electrical_safety_bridge.simulator import (  # noqa: E402
    PtyLink,
    SimulatedBus,
    SimulatedUnit,
    other_masters,
)

GOAL_HA_P99_S: Final = 0.6
GOAL_MQTT_P99_S: Final = 0.7
BAUD: Final = 9600
SITE: Final = "bench"
#: Per sample: how long to wait for each part before the run fails (and says which).
STEP_BOUND_S: Final = 30.0
#: Lines of a process's output shown when the run fails.
TAIL_LINES: Final = 60

#: Home Assistant without the frontend (not in the test environment) and without anything
#: that needs it: the API, the config entries, onboarding for the owner, the integration.
CONFIGURATION: Final = """\
# Written by bench/alarm_latency.py: no frontend, nothing installed at start.
homeassistant:
  name: Alarm latency bench
  unit_system: metric
  time_zone: UTC
  country: CN
  currency: CNY
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
logger:
  default: warning
  logs:
    homeassistant.components.camera.img_util: critical
"""


@dataclass(frozen=True, slots=True)
class Config:
    samples: int
    units: int


@dataclass(slots=True)
class Phase:
    """The samples of one load."""

    to_ha: list[float]
    to_mqtt: list[float]
    windows: list[float]
    deliveries: list[float]
    #: Alarms and wiring faults nobody raised at the simulator (a false alarm): acknowledged
    #: so that the run goes on, and counted.
    unexpected: dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sweep_wire_seconds(profile: Profile, units: int) -> float:
    """Wire time of one alarm-status read of every unit: the blocks the bridge reads."""
    spans = [c.register.span for c in profile.channels if c.poll is PollClass.ALARM]
    bits = timing.DEFAULT_FRAMING.bits_per_char
    one = sum(
        timing.transaction_seconds(
            timing.read_request_bytes(), timing.read_response_bytes(block.count), BAUD, bits
        )
        for block in plan(spans, PlanState(), max_gap=8)
    )
    return units * one


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"({path} unreadable: {exc})"
    return "\n".join(lines[-TAIL_LINES:])


def _bridge_config(
    folder: Path, tty: str, units: int, api_port: int, gateway_port: int, broker: int
) -> Path:
    config = {
        "data_dir": str(folder / "bridge"),
        "api": {"host": "127.0.0.1", "port": api_port, "advertise": False},
        "gateway": {"host": "127.0.0.1", "tcp_port": gateway_port},
        "relay": {"site": SITE, "mqtt": {"host": "127.0.0.1", "port": broker}},
        "buses": [
            {
                "id": "bench",
                "serial": tty,
                "baudrate": BAUD,
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


class Watcher:
    """What Home Assistant and the subscriber reported, with this process's receive times."""

    def __init__(self) -> None:
        self.states: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.mqtt: list[tuple[float, str, dict[str, Any]]] = []
        self.changed = asyncio.Event()

    def on_state(self, at: float, entity_id: str, state: dict[str, Any]) -> None:
        self.states.setdefault(entity_id, []).append((at, state))
        self.changed.set()

    def on_mqtt(self, at: float, topic: str, body: dict[str, Any]) -> None:
        self.mqtt.append((at, topic, body))
        self.changed.set()

    async def until(self, find: Any, what: str) -> Any:
        """The first non-None ``find()``, within STEP_BOUND_S."""
        deadline = time.perf_counter() + STEP_BOUND_S
        while (found := find()) is None:
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"{what}: not seen within {STEP_BOUND_S:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return found

    def state_after(self, entity_id: str, state: str, since: float) -> float | None:
        return next(
            (
                at
                for at, new in self.states.get(entity_id, [])
                if at >= since and new.get("state") == state
            ),
            None,
        )

    def event_after(
        self, device_id: str, event_type: str, since: float
    ) -> tuple[float, dict[str, Any]] | None:
        suffix = f"/{device_id}/event/{event_type}"
        return next(
            ((at, body) for at, topic, body in self.mqtt if at >= since and topic.endswith(suffix)),
            None,
        )


class HomeAssistantSocket:
    """Home Assistant's WebSocket API: entity registry, and state changes to a Watcher."""

    def __init__(self, socket_: aiohttp.ClientWebSocketResponse, watcher: Watcher) -> None:
        self.socket = socket_
        self.watcher = watcher
        self.next_id = 1
        self.replies: dict[int, asyncio.Future[Any]] = {}

    async def call(self, message: dict[str, Any]) -> Any:
        message_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.replies[message_id] = future
        await self.socket.send_json({"id": message_id, **message})
        return await asyncio.wait_for(future, timeout=STEP_BOUND_S)

    async def pump(self) -> None:
        async for message in self.socket:
            data = message.json()
            if data.get("type") == "event":
                event = data["event"]["data"]
                self.watcher.on_state(
                    time.perf_counter(), event.get("entity_id", ""), event.get("new_state") or {}
                )
            elif data.get("type") == "result" and data.get("id") in self.replies:
                self.replies.pop(data["id"]).set_result(data.get("result"))


@contextlib.asynccontextmanager
async def subscriber(port: int, watcher: Watcher) -> AsyncIterator[None]:
    """The landlord: every event of the site, stamped on receipt."""
    ready = asyncio.Event()

    async def run() -> None:
        async with aiomqtt.Client("127.0.0.1", port, identifier="bench-landlord") as client:
            await client.subscribe(f"electrical_safety/{SITE}/+/event/#", qos=1)
            ready.set()
            async for message in client.messages:
                payload = message.payload
                if isinstance(payload, bytes | bytearray):
                    with contextlib.suppress(ValueError):
                        watcher.on_mqtt(
                            time.perf_counter(), str(message.topic), json.loads(payload)
                        )

    task = asyncio.create_task(run())
    try:
        await asyncio.wait_for(ready.wait(), STEP_BOUND_S)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await task


async def _entities(ha: HomeAssistantSocket, units: int) -> tuple[dict[int, str], str]:
    """Each unit's residual-current alarm binary_sensor, and the last-alarm-delay sensor."""
    wanted = {f":asj-{unit}:alarm:residual_current": unit for unit in range(1, units + 1)}
    found: dict[int, str] = {}
    delay: str | None = None
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        entries = await ha.call({"type": "config/entity_registry/list"})
        ours = [e for e in entries if e.get("platform") == "electrical_safety"]
        found = {
            wanted[suffix]: entry["entity_id"]
            for entry in ours
            for suffix in wanted
            if str(entry.get("unique_id", "")).endswith(suffix)
        }
        delay = next(
            (
                e["entity_id"]
                for e in ours
                if str(e.get("unique_id", "")).endswith("last_alarm_delay")
            ),
            None,
        )
        if len(found) == units and delay is not None:
            return found, delay
        await asyncio.sleep(1)  # the entities appear after the first snapshot: poll, bounded
    raise RuntimeError(
        f"only {len(found)} of {units} alarm entities (delay sensor: {delay}) appeared"
    )


async def _samples(
    count: int,
    sim: SimulatedBus,
    watcher: Watcher,
    entity_of: dict[int, str],
    delay_entity: str,
    acknowledge: Any,
    seed: int,
    expected: set[str],
) -> Phase:
    """``count`` measured samples, after one that is not measured (the first alarm after a
    start or a change of load finds the line in its start-up reads); ``expected`` holds the
    ids of the alarms the bench raised, across phases."""
    phase = Phase([], [], [], [])
    await _acknowledge_unexpected(watcher, expected, phase, acknowledge)
    moments = random.Random(seed)
    units = sorted(entity_of)
    for n in range(-1, count):
        unit = units[n % len(units)]
        device = f"asj-{unit}"
        entity_id = entity_of[unit]
        await asyncio.sleep(moments.uniform(0.0, 1.0))  # alarms come at random moments
        start = time.perf_counter()
        sim.unit(unit).set("alarm_status", "alarm")
        on_at = await watcher.until(
            lambda e=entity_id, s=start: watcher.state_after(e, "on", s), f"{entity_id} on"
        )
        mqtt_at, body = await watcher.until(
            lambda d=device, s=start: watcher.event_after(d, "alarm_raised", s),
            f"{device} alarm_raised over MQTT",
        )
        measured = n >= 0
        if measured:
            phase.to_ha.append(on_at - start)
            phase.to_mqtt.append(mqtt_at - start)
        data = body.get("data") or {}
        alarm_id = str(data.get("id"))
        expected.add(alarm_id)
        if measured and isinstance(window := data.get("detection_window_s"), int | float):
            phase.windows.append(float(window))
        # The integration's own measurement of this alarm's delivery.
        delivery = await watcher.until(
            lambda s=start, a=alarm_id: next(
                (
                    attributes["delivery"]
                    for _, new in watcher.states.get(delay_entity, [])
                    if (attributes := new.get("attributes") or {}).get("alarm_id") == a
                ),
                None,
            ),
            f"{delay_entity} for {alarm_id}",
        )
        if measured:
            phase.deliveries.append(float(delivery))
        await acknowledge(alarm_id)
        await _acknowledge_unexpected(watcher, expected, phase, acknowledge)
        cleared_since = time.perf_counter()
        sim.unit(unit).set("alarm_status", "normal")
        await watcher.until(
            lambda e=entity_id, s=cleared_since: watcher.state_after(e, "off", s),
            f"{entity_id} off",
        )
        await watcher.until(
            lambda d=device, s=start: watcher.event_after(d, "alarm_cleared", s),
            f"{device} alarm_cleared over MQTT",
        )
    return phase


async def _acknowledge_unexpected(
    watcher: Watcher, expected: set[str], phase: Phase, acknowledge: Any
) -> None:
    """Count and acknowledge every alarm or wiring fault raised that no sample raised."""
    for _, topic, body in watcher.mqtt:
        kind = topic.rsplit("/", 1)[-1]
        alarm_id = str((body.get("data") or {}).get("id"))
        if kind in ("alarm_raised", "wiring_fault_raised") and alarm_id not in expected:
            expected.add(alarm_id)
            phase.unexpected[kind] = phase.unexpected.get(kind, 0) + 1
            print(f"unexpected {kind}: {json.dumps(body)}", file=sys.stderr)
            with contextlib.suppress(aiohttp.ClientResponseError):  # cleared meanwhile
                await acknowledge(alarm_id)


def _phase_figures(name: str, phase: Phase) -> Figures:
    figures: Figures = [
        (f"{name}_samples_count", f"{len(phase.to_ha)}"),
        (f"{name}_unexpected_alarms_count", f"{phase.unexpected.get('alarm_raised', 0)}"),
        (
            f"{name}_unexpected_wiring_faults_count",
            f"{phase.unexpected.get('wiring_fault_raised', 0)}",
        ),
    ]
    for part, values in (
        ("to_ha", phase.to_ha),
        ("to_mqtt", phase.to_mqtt),
        ("detection_window", phase.windows),
        ("ha_delivery", phase.deliveries),
    ):
        figures += [
            (f"{name}_{part}_p50_s", f"{percentile(values, 0.5):.3f}"),
            (f"{name}_{part}_p99_s", f"{percentile(values, 0.99):.3f}"),
            (f"{name}_{part}_max_s", f"{max(values, default=float('nan')):.3f}"),
        ]
    return figures


async def _bus_schedule(session: aiohttp.ClientSession, api: str, token: str) -> dict[str, Any]:
    async with session.get(f"{api}/info", headers={"Authorization": f"Bearer {token}"}) as reply:
        reply.raise_for_status()
        info = await reply.json()
    bus = next(b for b in info["buses"] if b["id"] == "bench")
    return dict(bus.get("schedule") or {})


async def measure(config: Config) -> Figures:
    """Run the whole chain, idle then under a gateway client; the figures, in print order."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="es-latency-") as name:
        folder = Path(name)
        asj = find_profile("ASJ")
        sim = SimulatedBus(
            [SimulatedUnit(asj, unit) for unit in range(1, config.units + 1)],
            baudrate=BAUD,
            wire_timing=True,
        )
        link = PtyLink(folder / "bridge-tty", folder / "sim-tty")
        await link.start()
        await sim.serve_serial(str(link.b_path))
        broker = Mosquitto(folder)
        await broker.start()
        api_port, ha_port, gateway_port = free_port(), free_port(), free_port()
        bridge_config = _bridge_config(
            folder, str(link.a_path), config.units, api_port, gateway_port, broker.port
        )
        bridge_log, hass_log = folder / "bridge.log", folder / "hass.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
        with bridge_log.open("wb") as bridge_out, hass_log.open("wb") as hass_out:
            bridge = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "electrical_safety_bridge",
                "run",
                "--config",
                str(bridge_config),
                stdout=bridge_out,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
            ha_config = folder / "homeassistant"
            demo.prepare_config(ha_config, ha_port, configuration=CONFIGURATION)
            hass = await asyncio.create_subprocess_exec(
                demo.hass_executable(),
                "-c",
                str(ha_config),
                "--skip-pip",
                stdout=hass_out,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                figures = await _run(
                    config, folder, sim, broker.port, api_port, ha_port, gateway_port
                )
            except BaseException:
                for what, path in (
                    ("Home Assistant", hass_log),
                    ("Home Assistant's log", ha_config / "home-assistant.log"),
                    ("the bridge", bridge_log),
                ):
                    print(f"--- the last lines of {what} ({path}):\n{_tail(path)}", file=sys.stderr)
                raise
            finally:
                for process in (hass, bridge):
                    with contextlib.suppress(ProcessLookupError):
                        process.terminate()
                for process in (hass, bridge):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(process.wait(), timeout=30)
                await broker.stop()
                await sim.stop()
                await link.close()
    load_after = os.getloadavg()
    return [
        ("alarm_latency_units_count", f"{config.units}"),
        ("alarm_latency_baudrate_bd", f"{BAUD}"),
        ("alarm_sweep_wire_s", f"{sweep_wire_seconds(asj, config.units):.3f}"),
        *figures,
        ("goal_to_ha_p99_s", f"{GOAL_HA_P99_S}"),
        ("goal_to_mqtt_p99_s", f"{GOAL_MQTT_P99_S}"),
        ("machine_cpus_count", f"{os.cpu_count()}"),
        ("machine_load_1min_before", f"{load_before[0]:.2f}"),
        ("machine_load_1min_after", f"{load_after[0]:.2f}"),
    ]


async def _run(
    config: Config,
    folder: Path,
    sim: SimulatedBus,
    broker_port: int,
    api_port: int,
    ha_port: int,
    gateway_port: int,
) -> Figures:
    watcher = Watcher()
    base = f"http://127.0.0.1:{ha_port}"
    api = f"http://127.0.0.1:{api_port}/api/v1"
    async with aiohttp.ClientSession() as session, subscriber(broker_port, watcher):
        await demo.wait_http(session, f"{api}/health", 60)
        token = (folder / "bridge" / "api_token").read_text(encoding="utf-8").strip()

        async def acknowledge(alarm_id: str) -> None:
            async with session.post(
                f"{api}/alarms/{alarm_id}/acknowledge",
                json={"who": "bench"},
                headers={"Authorization": f"Bearer {token}"},
            ) as reply:
                reply.raise_for_status()

        await demo.wait_http(session, f"{base}/api/onboarding", 180)
        _, _, access = await demo.onboard(session, base, folder / "owner.json")
        # The demo's helper says what it did on stdout, which holds only figures here.
        with contextlib.redirect_stdout(sys.stderr):
            await demo.add_integration(
                session, base, access, {"host": "127.0.0.1", "port": api_port, "token": token}
            )
        async with session.ws_connect(f"{base}/api/websocket") as socket_:
            await socket_.receive_json()  # auth_required
            await socket_.send_json({"type": "auth", "access_token": access})
            await socket_.receive_json()  # auth_ok
            ha = HomeAssistantSocket(socket_, watcher)
            pump = asyncio.create_task(ha.pump())
            try:
                await ha.call({"type": "subscribe_events", "event_type": "state_changed"})
                entity_of, delay_entity = await _entities(ha, config.units)
                expected: set[str] = set()
                idle = await _samples(
                    config.samples, sim, watcher, entity_of, delay_entity, acknowledge, 1, expected
                )
                idle_schedule = await _bus_schedule(session, api, token)
                async with other_masters(gateway_port, config.units, 1) as answers:
                    loaded = await _samples(
                        config.samples,
                        sim,
                        watcher,
                        entity_of,
                        delay_entity,
                        acknowledge,
                        2,
                        expected,
                    )
                    gateway_reads = sum(answers)
                loaded_schedule = await _bus_schedule(session, api, token)
            finally:
                pump.cancel()
    return [
        ("bridge_alarm_round_s", f"{idle_schedule.get('alarm_round_s')}"),
        ("bridge_alarm_cycle_idle_s", f"{idle_schedule.get('alarm_cycle_s')}"),
        ("bridge_alarm_cycle_gateway_s", f"{loaded_schedule.get('alarm_cycle_s')}"),
        *_phase_figures("idle", idle),
        *_phase_figures("gateway", loaded),
        ("gateway_client_reads_count", f"{gateway_reads}"),
    ]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Parse the options and measure."""
    parser = argument_parser(__doc__)
    parser.add_argument("--samples", type=int, default=48, help="alarms per load (default 48)")
    parser.add_argument("--units", type=int, default=16)
    args = parser.parse_args(argv)
    return run_and_print(measure, Config(args.samples, args.units), out)


if __name__ == "__main__":
    raise SystemExit(main())
