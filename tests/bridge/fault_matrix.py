"""The fault matrix: one fault at a time while alarms keep coming, and every alarm counted.

Every part is real: simulated ASJ detectors served by pymodbus on a pseudo-terminal with wire
timing at 9600 baud (simulator/PtyLink), the bridge as its own process on the other end of
the pty (``python -m electrical_safety_bridge run``, killed with real signals), a real
Mosquitto with TLS and passwords that the bridge's relay publishes to, a landlord's MQTT
subscriber on it, and a WebSocket client built on ``client/bridge_client.py`` (the library
the Home Assistant integration uses) standing in for Home Assistant. A restart of a real
Home Assistant belongs to the end-to-end tests, not here.

The alarms: four units raise an alarm in turn at a steady pace, a person acknowledges each
over the REST API once the bridge shows it, and the unit clears it. The next alarm of a unit
waits for that acknowledgement, because an unacknowledged alarm stays latched in the bridge
however often its cause comes and goes: a second raise would be the same alarm. Every alarm
raised is an alarm in; it must reach the event store, the MQTT subscriber and the WebSocket
client, each with the same event id. A fifth unit stays quiet (any alarm of it is false) and
a sixth dies when the fault starts: the bridge must report it offline within its configured
silence (at the latest that long after its last start; a restart remembers when each unit
was last heard, storage/last_heard.py) and never more than 100 s after it died.

The test suite (tests/bridge/test_fault_matrix.py) runs each fault for a few seconds;
``bench/fault_soak.py`` runs the same faults for their full length and prints the counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

from electrical_safety_bridge.client.bridge_client import BridgeClient, parse_snapshot
from electrical_safety_bridge.common.errors import BridgeError
from electrical_safety_bridge.common.models import BridgeEvent
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit, other_masters
from tests.relay.helpers import Broker, Collector, free_port, make_pki
from tests.small_disk import fill, mounted_small_disk
from tests.waiting import wait_for

from .test_service_process import BridgeProcess, Launcher, read_token

SITE: Final = "fault-site"
BAUD: Final = 9600
CYCLING_UNITS: Final = (1, 2, 3, 4)
QUIET_UNIT: Final = 5  # never alarms: any alarm of it is false
DEAD_UNIT: Final = 6  # dies when the fault starts
UNITS: Final = (*CYCLING_UNITS, QUIET_UNIT, DEAD_UNIT)
SLOW_UNIT: Final = 2  # the slow-unit fault's unit: a cycling one, so its alarms are counted
GATEWAY_CLIENTS: Final = 16
SLOW_TURNAROUND_S: Final = 0.2
#: The bus's configured turnaround (the bus option ``turnaround``), in every fault. It is set
#: for the slowest unit, as an installer does: below a unit's turnaround every answer would come
#: too late and be dropped (modbus/transport.py), and the unit reported offline. It also covers
#: the simulator's lag: it shares a busy test process, and an RTU answer later than the
#: timeout and the quiet time after it would be taken for the next request's (no RTU master
#: can tell), where a real unit answers in its own bounded time.
BUS_TURNAROUND_S: Final = 0.3
CORRUPT_RATE: Final = 0.01
#: Never more than this from a unit's death to its offline report, whatever is configured.
OFFLINE_CEILING_S: Final = 100.0
#: Beyond the configured silence: the scheduler's check and one alarm round on a busy line.
OFFLINE_SLACK_S: Final = 3.0
#: One page of replay on reconnection, as the integration asks (custom_components' const.py).
REPLAY_LIMIT: Final = 1000
API_TIMEOUT_S: Final = 3.0
#: Bound on any one step of an alarm (seen, acknowledged, cleared), bridge restarts included,
#: beyond the fault's own length (a full disk refuses acknowledgements while it lasts: a
#: person's acknowledgement is never unrecorded).
STEP_S: Final = 60.0
#: Bound on the sinks catching up once the alarms stop (the relay's outbox drains).
CONVERGE_S: Final = 60.0


def device_id(unit: int) -> str:
    return f"asj-{unit}"


@dataclass(frozen=True, slots=True)
class Durations:
    """How long each fault lasts: short in the test suite, full length in the soak."""

    offline_after_s: float  # the configured silence before a unit is reported offline
    alarm_poll_s: float
    alarm_period_s: float  # a cycling unit raises an alarm at most this often
    broker_down_s: float
    kills: int
    unplugged_s: float
    corrupted_frames: int  # the CRC fault lasts until this many frames were corrupted
    fault_s: float  # the dead, slow, gateway and full-disk faults
    alarms_before: int  # alarms delivered before the fault starts
    alarms_after: int  # alarms raised after the fault ends, before counting

    @property
    def step_s(self) -> float:
        """Bound on one step of an alarm: :data:`STEP_S` beyond the longest fault."""
        return STEP_S + max(self.broker_down_s, self.unplugged_s, self.fault_s)


TEST: Final = Durations(
    offline_after_s=8.0,  # above the restart grace (bus/scheduler.py), so a restart remembers
    alarm_poll_s=0.2,
    alarm_period_s=1.0,
    broker_down_s=5.0,
    kills=3,
    unplugged_s=3.0,
    corrupted_frames=8,
    fault_s=6.0,
    alarms_before=4,
    alarms_after=4,
)
SOAK: Final = Durations(
    offline_after_s=60.0,
    alarm_poll_s=1.0,
    alarm_period_s=2.0,
    broker_down_s=120.0,
    kills=20,
    unplugged_s=30.0,
    corrupted_frames=40,
    fault_s=120.0,
    alarms_before=8,
    alarms_after=8,
)


# --------------------------------------------------------------------------- the sinks


class HomeAssistantStandIn:
    """A WebSocket client doing what the integration's coordinator does with the push channel.

    It connects with :class:`BridgeClient`, reconnects after any drop, and on each snapshot
    replays what it missed (one page of the event log after the last stored event it saw) and
    the events a full disk holds unstored. Events are recognised by id: nothing is counted
    twice.
    """

    def __init__(self, session: aiohttp.ClientSession, port: int, token: str) -> None:
        self.client = BridgeClient(session, "127.0.0.1", port, token)
        self.events: dict[str, BridgeEvent] = {}
        self.connections = 0
        self._seen_seq: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def alarms_raised(self) -> dict[str, str]:
        """Alarm id to device id, of every ``alarm_raised`` heard."""
        return _raised(e.as_dict() for e in self.events.values())

    async def _run(self) -> None:
        while True:
            try:
                async with self.client.websocket() as socket:
                    async for message in socket:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            await self._handle(json.loads(message.data))
            except (BridgeError, aiohttp.ClientError, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.1)  # reconnect pacing, not a wait for a result

    async def _handle(self, message: dict[str, Any]) -> None:
        if message.get("type") == "snapshot":
            self.connections += 1
            snapshot = parse_snapshot(message)
            missed_after = self._seen_seq
            last = snapshot.last_seq
            if missed_after is not None and last is not None and last > missed_after:
                for event in await self.client.events(after=missed_after, limit=REPLAY_LIMIT):
                    if event.seq is not None and event.seq <= last:
                        self._on_event(event)
            if last is not None:
                self._seen_seq = max(self._seen_seq or 0, last)
            for held in snapshot.held_events:
                self._on_event(held)
        elif message.get("type") == "event":
            self._on_event(BridgeEvent.from_dict(message["event"]))

    def _on_event(self, event: BridgeEvent) -> None:
        if event.seq is not None:
            self._seen_seq = max(self._seen_seq or 0, event.seq)
        self.events.setdefault(event.id, event)


def _raised(events: Any) -> dict[str, str]:
    """Alarm id to device id, of the ``alarm_raised`` among event dicts."""
    return {
        str(e["data"]["id"]): str(e["device_id"]) for e in events if e["type"] == "alarm_raised"
    }


# --------------------------------------------------------------------------- the outcome


@dataclass(slots=True)
class Outcome:
    """One fault's counts: alarms in against alarms delivered, per sink."""

    fault: str
    alarms_in: int = 0
    #: Alarms the bridge never showed open within the bound (lost before any sink).
    never_shown: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    #: Event ids a sink has that the store has not, or the other way round.
    mismatched_ids: dict[str, int] = field(default_factory=dict)
    #: Alarms of units that never alarmed, a second alarm for one raise, any wiring fault.
    false_alarms: int = 0
    offline_delay_s: float | None = None  # from the unit's death
    offline_after_start_s: float | None = None  # from the bridge's last start
    bridge_starts: int = 0
    corrupted_frames: int = 0
    gateway_answers: int = 0
    details: list[str] = field(default_factory=list)

    def figures(self) -> list[tuple[str, str]]:
        """``name: value`` pairs (bench/_common.py), each name prefixed with the fault."""

        def seconds(value: float | None) -> str:
            return "nan" if value is None else f"{value:.2f}"

        prefix = self.fault
        figures = [(f"{prefix}_alarms_in_count", str(self.alarms_in))]
        for sink in SINKS:
            figures.append((f"{prefix}_delivered_{sink}_count", str(self.delivered.get(sink, 0))))
        for sink in SINKS:
            figures.append((f"{prefix}_lost_{sink}_count", str(self.lost.get(sink, 0))))
        figures += [
            (f"{prefix}_false_alarms_count", str(self.false_alarms)),
            (f"{prefix}_offline_delay_s", seconds(self.offline_delay_s)),
            (f"{prefix}_offline_after_last_start_s", seconds(self.offline_after_start_s)),
        ]
        return figures

    def problems(self, durations: Durations) -> list[str]:
        """What breaks the matrix's promises; empty when the fault lost nothing."""
        found = [f"{sink}: {n} of {self.alarms_in} lost" for sink, n in self.lost.items() if n]
        found += [f"{sink}: {n} ids differ" for sink, n in self.mismatched_ids.items() if n]
        if self.never_shown:
            found.append(f"{self.never_shown} alarms never shown by the bridge")
        if self.false_alarms:
            found.append(f"{self.false_alarms} false alarms")
        if self.offline_delay_s is None or self.offline_after_start_s is None:
            found.append("the dead unit was never reported offline")
        else:
            if self.offline_after_start_s > durations.offline_after_s + OFFLINE_SLACK_S:
                found.append(f"offline {self.offline_after_start_s:.1f} s after the last start")
            if self.offline_delay_s > OFFLINE_CEILING_S:
                found.append(f"offline {self.offline_delay_s:.1f} s after the unit died")
        return found + self.details


SINKS: Final = ("store", "mqtt", "websocket")


# --------------------------------------------------------------------------- the rig


@dataclass(slots=True)
class Episode:
    unit: int
    alarm_id: str | None = None
    #: The open alarm as the bridge's API first showed it.
    shown: dict[str, Any] | None = None


class FaultRig:
    """Simulated line, bridge process, broker, landlord and Home Assistant stand-in."""

    def __init__(
        self,
        folder: Path,
        durations: Durations,
        *,
        small_disk: bool = False,
        turnaround_s: float | None = None,
    ) -> None:
        self.folder = folder
        self.durations = durations
        self.small_disk = small_disk
        self.turnaround_s = turnaround_s
        self.api_port = free_port()
        self.gateway_port = free_port()
        self.episodes: list[Episode] = []
        self.last_start = 0.0
        self.starts = 0
        self.gateway_answers = 0
        self._stack = contextlib.AsyncExitStack()
        self._stop_cycling = asyncio.Event()
        self._cyclers: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ set-up

    async def __aenter__(self) -> FaultRig:
        stack = self._stack
        await stack.__aenter__()
        try:
            await self._start(stack)
        except BaseException:
            await stack.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop_cycling.set()
        for task in self._cyclers:
            task.cancel()
        await asyncio.gather(*self._cyclers, return_exceptions=True)
        await self._stack.__aexit__(None, None, None)

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.broker = Broker(self.folder / "broker", make_pki(self.folder / "pki"))
        await self.broker.start()
        stack.push_async_callback(self.broker.kill)
        self.landlord = Collector(self.broker, topic=f"electrical_safety/{SITE}/#")
        await self.landlord.start()
        stack.push_async_callback(self.landlord.stop)

        self.sim = SimulatedBus(
            [SimulatedUnit(find_profile("ASJ"), unit) for unit in UNITS],
            baudrate=BAUD,
            wire_timing=True,
            corrupt_payload=True,
        )
        stack.push_async_callback(self.sim.stop)
        self.link = await stack.enter_async_context(
            PtyLink(self.folder / "bridge-tty", self.folder / "sim-tty")
        )
        await self.sim.serve_serial(str(self.link.b_path))

        self.data_dir = self.folder / "data"
        if self.small_disk:
            self.data_dir = stack.enter_context(mounted_small_disk(self.folder / "disk", "16m"))
        self.config = self._write_config()
        self.launcher = Launcher(self.folder)
        stack.push_async_callback(self.launcher.cleanup)
        self.bridge = await self.start_bridge()

        token = read_token(self.data_dir)
        self.http = await stack.enter_async_context(
            aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_S),
            )
        )
        self.home_assistant = HomeAssistantStandIn(self.http, self.api_port, token)
        self.home_assistant.start()
        stack.push_async_callback(self.home_assistant.stop)
        await wait_for(self._all_online_but_dead, timeout=30, what="every unit online")

    def _write_config(self) -> Path:
        config = {
            "data_dir": str(self.data_dir),
            "api": {"host": "127.0.0.1", "port": self.api_port},
            "gateway": {"tcp_port": self.gateway_port},
            "buses": [
                {
                    "id": "line-1",
                    "serial": str(self.link.a_path),
                    "baudrate": BAUD,
                    "poll": {"alarm": self.durations.alarm_poll_s, "telemetry": 2, "slow": 30},
                    "offline_after": self.durations.offline_after_s,
                    **({} if self.turnaround_s is None else {"turnaround": self.turnaround_s}),
                    "devices": [
                        {"id": device_id(u), "unit": u, "profile": "ASJ", "name": f"Relay {u}"}
                        for u in UNITS
                    ],
                }
            ],
            "relay": {"site": SITE, "mqtt": self.broker.relay_mqtt()},
        }
        path = self.folder / "bridge.yaml"
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")  # YAML 1.2
        return path

    async def start_bridge(self) -> BridgeProcess:
        bridge = await self.launcher.start(self.config, api_port=self.api_port, devices=len(UNITS))
        self.last_start = time.monotonic()
        self.starts += 1
        self.bridge = bridge
        return bridge

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1/"

    async def _get(self, path: str, **params: str) -> Any | None:
        """A GET answered 200, or None (the bridge is down or restarting)."""
        try:
            async with self.http.get(self.base + path, params=params) as response:
                if response.status != 200:
                    return None
                return await response.json()
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None

    async def _all_online_but_dead(self) -> bool:
        devices = await self._get("devices")
        if devices is None:
            return False
        listed = devices["devices"] if isinstance(devices, dict) else devices
        return all(d["online"] is True for d in listed)

    # ------------------------------------------------------------------ the alarms

    def start_alarms(self) -> None:
        """Every cycling unit raises, has acknowledged and clears alarms until told to stop."""
        self._cyclers = [asyncio.create_task(self._cycle(unit)) for unit in CYCLING_UNITS]

    async def stop_alarms(self) -> None:
        """Let each unit finish the alarm it is in, then stop."""
        self._stop_cycling.set()
        done, _ = await asyncio.wait(self._cyclers, timeout=3 * self.durations.step_s)
        for task in done:
            task.result()  # a driver's own error shows here
        assert len(done) == len(self._cyclers), "a unit's alarm never finished"

    def shown(self) -> int:
        """Alarms the bridge has shown open so far."""
        return sum(1 for e in self.episodes if e.alarm_id is not None)

    async def until_shown(self, count: int, what: str) -> None:
        """Until the bridge has shown ``count`` alarms; a unit's driver that failed says why."""
        await wait_for(
            lambda: self.shown() >= count or any(t.done() for t in self._cyclers),
            timeout=self.durations.step_s,
            interval=0.05,
            what=what,
        )
        for task in self._cyclers:
            if task.done():
                task.result()  # the driver's own error
                raise AssertionError(f"a unit's alarms stopped before {what}")

    async def _cycle(self, unit: int) -> None:
        loop = asyncio.get_running_loop()
        device = self.sim.unit(unit)
        while not self._stop_cycling.is_set():
            begun = loop.time()
            episode = Episode(unit)
            self.episodes.append(episode)
            device.set("alarm_status", "alarm")
            episode.shown = await self._open_alarm(unit)
            episode.alarm_id = None if episode.shown is None else str(episode.shown["id"])
            if episode.alarm_id is not None:
                await self._acknowledge(episode.alarm_id)
            device.set("alarm_status", "normal")
            if episode.alarm_id is not None:
                await self._closed(episode.alarm_id)
            # The steady pace of a unit's alarms (not a wait for a result).
            await asyncio.sleep(max(0.0, self.durations.alarm_period_s - (loop.time() - begun)))

    def _known_ids(self) -> set[str]:
        return {e.alarm_id for e in self.episodes if e.alarm_id is not None}

    async def _open_alarm(self, unit: int) -> dict[str, Any] | None:
        """The unit's new open alarm, once the bridge shows it (None: never)."""
        found: list[dict[str, Any]] = []

        async def shown() -> bool:
            answer = await self._get("alarms")
            if answer is None:
                return False
            known = self._known_ids()
            found[:] = [
                a
                for a in answer["alarms"]
                if a["device_id"] == device_id(unit)
                and a["kind"] == "alarm"
                and a["id"] not in known
            ]
            return bool(found)

        try:
            await wait_for(
                shown, timeout=self.durations.step_s, interval=0.1, what=f"unit {unit}'s alarm"
            )
        except AssertionError:
            return None
        return found[0]

    async def _acknowledge(self, alarm_id: str) -> None:
        async def acknowledged() -> bool:
            answer = await self._get("alarms")
            if answer is None:
                return False
            alarm = next((a for a in answer["alarms"] if a["id"] == alarm_id), None)
            if alarm is None or alarm["acknowledged"]:
                return True  # acknowledged (and maybe cleared already)
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with self.http.post(
                    self.base + f"alarms/{alarm_id}/acknowledge", json={"who": "fault matrix"}
                ):
                    pass
            return False

        await wait_for(
            acknowledged, timeout=self.durations.step_s, interval=0.1, what=f"{alarm_id} acked"
        )

    async def _closed(self, alarm_id: str) -> None:
        async def closed() -> bool:
            answer = await self._get("alarms")
            return answer is not None and all(a["id"] != alarm_id for a in answer["alarms"])

        await wait_for(
            closed, timeout=self.durations.step_s, interval=0.1, what=f"{alarm_id} cleared"
        )

    # ------------------------------------------------------------------ counting

    async def stored_alarms(self, event_type: str = "alarm_raised") -> dict[str, str] | None:
        """Alarm id to device id of every ``event_type`` in the store, or None if down."""
        raised: dict[str, str] = {}
        after = 0
        while True:
            page = await self._get("events", after=str(after), limit="500", type=event_type)
            if page is None:
                return None
            if not page["events"]:
                return raised
            raised.update({str(e["data"]["id"]): str(e["device_id"]) for e in page["events"]})
            after = page["next_after"]

    def mqtt_alarms(self) -> dict[str, str]:
        return _raised(self.landlord.events())

    async def count(self, outcome: Outcome) -> None:
        """Wait (bounded) for every sink to hold every alarm shown, then count."""
        shown = {e.alarm_id: device_id(e.unit) for e in self.episodes if e.alarm_id is not None}
        store: dict[str, str] = {}

        async def caught_up() -> bool:
            found = await self.stored_alarms()
            if found is None:
                return False
            store.clear()
            store.update(found)
            sinks = (store, self.mqtt_alarms(), self.home_assistant.alarms_raised())
            return all(shown.keys() <= set(sink) for sink in sinks)

        with contextlib.suppress(AssertionError):  # what is missing is counted below
            await wait_for(caught_up, timeout=CONVERGE_S, interval=0.2, what="sinks caught up")
        sinks = {
            "store": store,
            "mqtt": self.mqtt_alarms(),
            "websocket": self.home_assistant.alarms_raised(),
        }
        outcome.alarms_in = len(self.episodes)
        outcome.never_shown = outcome.alarms_in - len(shown)
        cycling = {device_id(u) for u in CYCLING_UNITS}
        for sink, raised in sinks.items():
            delivered = {a for a in shown if a in raised}
            outcome.delivered[sink] = len(delivered)
            outcome.lost[sink] = outcome.alarms_in - len(delivered)
            outcome.mismatched_ids[sink] = len(set(raised) ^ set(store))
        # False: any alarm of a unit that never alarmed, and a second alarm for one raise.
        # And any wiring fault: no unit ever has one here, so one read means a wrong frame.
        wiring_faults = await self.stored_alarms("wiring_fault_raised")
        outcome.false_alarms = sum(
            1 for a, d in store.items() if d not in cycling or a not in shown
        ) + len(wiring_faults or {})
        if wiring_faults:
            outcome.details.append(f"wiring faults no unit had: {sorted(wiring_faults.items())}")
        missing = {a for a in shown if any(a not in raised for raised in sinks.values())}
        for episode in self.episodes:
            if episode.alarm_id in missing:
                outcome.details.append(f"shown but not delivered everywhere: {episode.shown}")
        outcome.bridge_starts = self.starts
        outcome.corrupted_frames = self.sim.counters.corrupted


# --------------------------------------------------------------------------- the faults


Fault = Callable[[FaultRig], Awaitable[None]]


async def broker_down(rig: FaultRig) -> None:
    """The landlord's broker stopped, then started again (its sessions kept on disk)."""
    await rig.broker.stop()
    await asyncio.sleep(rig.durations.broker_down_s)  # the outage itself
    await rig.broker.start()


async def bridge_killed(rig: FaultRig) -> None:
    """The bridge SIGKILLed mid-burst, restarted each time on the same data and port."""
    for _ in range(rig.durations.kills):
        shown = rig.shown()
        await rig.until_shown(shown + 2, "alarms flowing before the kill")
        rig.bridge.process.send_signal(signal.SIGKILL)
        assert await rig.bridge.exit_code() == -signal.SIGKILL
        await rig.start_bridge()


async def serial_unplugged(rig: FaultRig) -> None:
    """The bridge's USB adapter pulled out and plugged back in (the pty closed, reopened)."""
    await rig.link.unplug("a")
    await asyncio.sleep(rig.durations.unplugged_s)  # the time it stays out
    await rig.link.replug("a")


async def frames_corrupted(rig: FaultRig) -> None:
    """1 % of the units' answers corrupted (random data bits, the CRC of the true data)."""
    rig.sim.corrupt_rate = CORRUPT_RATE
    try:
        await wait_for(
            lambda: rig.sim.counters.corrupted >= rig.durations.corrupted_frames,
            timeout=30 * rig.durations.corrupted_frames,
            interval=0.1,
            what="frames corrupted",
        )
    finally:
        rig.sim.corrupt_rate = 0.0


async def unit_dead(rig: FaultRig) -> None:
    """Only the dead unit (which dies in every fault): the others' alarms go on around it."""
    await asyncio.sleep(rig.durations.fault_s)  # the fault's length


async def unit_slow(rig: FaultRig) -> None:
    """One alarming unit takes 200 ms to answer each request."""
    rig.sim.unit(SLOW_UNIT).turnaround_delay = SLOW_TURNAROUND_S
    try:
        await asyncio.sleep(rig.durations.fault_s)  # the fault's length
    finally:
        rig.sim.unit(SLOW_UNIT).turnaround_delay = 0.0


async def gateway_clients(rig: FaultRig) -> None:
    """16 Modbus TCP clients reading through the bridge's gateway back to back."""
    async with other_masters(
        rig.gateway_port, QUIET_UNIT, GATEWAY_CLIENTS, response_timeout=10
    ) as answers:
        await asyncio.sleep(rig.durations.fault_s)  # the fault's length
        rig.gateway_answers = sum(answers)


async def disk_full(rig: FaultRig) -> None:
    """The data folder's disk filled to the last byte, then freed."""
    filler = fill(rig.data_dir, "filler")
    try:
        await asyncio.sleep(rig.durations.fault_s)  # the fault's length
    finally:
        filler.unlink()


FAULTS: Final[dict[str, Fault]] = {
    "broker_down": broker_down,
    "bridge_killed": bridge_killed,
    "serial_unplugged": serial_unplugged,
    "frames_corrupted": frames_corrupted,
    "unit_dead": unit_dead,
    "unit_slow": unit_slow,
    "gateway_clients": gateway_clients,
    "disk_full": disk_full,
}


@contextlib.asynccontextmanager
async def _offline_watch(rig: FaultRig, outcome: Outcome) -> AsyncIterator[None]:
    """The dead unit dies now; note when the bridge first reports it offline."""
    died = time.monotonic()
    rig.sim.unit(DEAD_UNIT).online = False

    async def watch() -> None:
        while True:
            device = await rig._get(f"devices/{device_id(DEAD_UNIT)}")
            if device is not None and device["online"] is False:
                now = time.monotonic()
                outcome.offline_delay_s = now - died
                outcome.offline_after_start_s = now - max(died, rig.last_start)
                return
            await asyncio.sleep(0.1)  # polling the API's view

    task = asyncio.create_task(watch())
    try:
        yield
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(task), rig.durations.offline_after_s + OFFLINE_CEILING_S
            )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run_fault(name: str, folder: Path, durations: Durations) -> Outcome:
    """One fault while alarms keep coming: the counts, whatever they are."""
    fault = FAULTS[name]
    outcome = Outcome(name)
    rig = FaultRig(
        folder,
        durations,
        small_disk=name == "disk_full",
        turnaround_s=BUS_TURNAROUND_S,
    )
    async with rig:
        rig.start_alarms()
        await rig.until_shown(durations.alarms_before, "alarms before the fault")
        async with _offline_watch(rig, outcome):
            await fault(rig)
            shown = rig.shown()
            await rig.until_shown(shown + durations.alarms_after, "alarms after the fault")
        await rig.stop_alarms()
        await rig.count(outcome)
        outcome.gateway_answers = rig.gateway_answers
        tracebacks = _logs_with_tracebacks(folder)
        if tracebacks:
            outcome.details.append(f"tracebacks in {', '.join(tracebacks)}")
    return outcome


def _logs_with_tracebacks(folder: Path) -> list[str]:
    """The bridge logs (one per start) that show a traceback, with the first one's text."""
    found = []
    for log in sorted(folder.glob("bridge-*.log")):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            found.append(f"{log.name}: {text[text.index('Traceback') :][:3000]}")
    return found
