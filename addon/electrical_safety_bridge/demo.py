"""``make demo``: the bridge on a simulated bus of four detectors, printed live.

Four units share one simulated RS485 line at 9600 baud with real wire timing, served over a
pseudo-terminal: an ARCM-class detector whose relay output drives a shunt trip, an
AAFD-class arc-fault detector, an AIM-R100 and an ASJ relay. A short story plays on them:
a leak builds up and trips the breaker, a close is refused until the alarm is gone and
acknowledged, an arc burst, an overheating cable, a broken CT wire and a unit that falls
silent. The bridge's events print as they happen, and a table of values every ten seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from .bus.bus_settings import BusSettings, DeviceSpec
from .bus.scheduler import Bus
from .common.enums import AlarmKind, EventType
from .config.bridge_config import DEFAULT_API_PORT, BridgeConfig, BusConfig
from .modbus.lines import SerialLine
from .modbus.timing import bits_per_char
from .profiles.loader import find_profile
from .safety.events import BridgeEvent
from .service import Bridge
from .simulator import PtyLink, Scenario, ScenarioKind, SimulatedBus, SimulatedUnit

BAUD = 9600
#: (device id, unit, model) of the demo bus.
DEMO_UNITS = (
    ("kitchen-arcm", 1, "SIM-ARCM"),
    ("bedroom-aafd", 2, "SIM-AAFD"),
    ("board-aim-r100", 3, "AIM-R100"),
    ("landlord-asj", 4, "ASJ"),
)
#: What a person calls each demo detector, and the room it is in (the configuration's
#: ``name`` and ``area``).
DEMO_PLACES = {
    "kitchen-arcm": ("Kitchen circuit", "Kitchen"),
    "bedroom-aafd": ("Bedroom sockets", "Bedroom"),
    "board-aim-r100": ("Main board", "Hallway"),
    "landlord-asj": ("Landlord's supply", "Utility room"),
}
_HEADLINE_KINDS = ("residual_current", "temperature", "arc_count")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` command's options."""
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (0: run until Ctrl-C)",
    )
    parser.add_argument(
        "--table-every", type=float, default=10.0, help="seconds between two tables of values"
    )
    parser.add_argument("--api-port", type=int, default=DEFAULT_API_PORT, help="0 picks a free one")


class Printer:
    """Writes events and tables in a form a person can follow."""

    def __init__(self, out: TextIO, start: float) -> None:
        self.out = out
        self.start = start

    def _stamp(self) -> str:
        elapsed = int(time.monotonic() - self.start)
        return f"{elapsed // 60:02d}:{elapsed % 60:02d}"

    def say(self, text: str) -> None:
        print(f"{self._stamp()}  {text}", file=self.out, flush=True)

    def event(self, event: BridgeEvent) -> None:
        data = event.data
        label = event.type.value.replace("_", " ").upper()
        where = f"{event.device_id or data.get('bus', '')}"
        if event.channel:
            where += f" {event.channel}"
        detail = ""
        if event.type in (EventType.ALARM_RAISED, EventType.WIRING_FAULT_RAISED):
            detail = f" value at alarm: {data.get('value_at_alarm')}"
            if data.get("detail"):
                detail += f" ({data['detail']})"
        elif event.type.value.endswith("acknowledged"):
            detail = f" by {data.get('acknowledged_by')}"
        elif event.type is EventType.COMMAND:
            detail = f" {data.get('command')}: {data.get('outcome')}"
            if data.get("reason"):
                detail += f" [{data['reason']}]"
            detail += f" {data.get('message', '')} (by {data.get('who')})"
        self.say(f"{label:<26} {where}{detail}")

    def table(self, bus: Bus) -> None:
        lines = []
        for device_id, unit in bus.units.items():
            profile = unit.spec.profile
            shown = []
            for channel in profile.channels:
                if not channel.kind.value.startswith(_HEADLINE_KINDS):
                    continue
                reading = unit.readings.get(channel.key)
                value = "—" if reading is None else reading.value
                shown.append(f"{channel.key}={value}{channel.unit or ''}")
            state = {True: "online", False: "OFFLINE", None: "waiting"}[unit.online]
            alarms = bus.alarms.open_alarms(device_id)
            flag = f"  open alarms: {len(alarms)}" if alarms else ""
            lines.append(f"  {device_id:<15} {state:<8} {' '.join(shown[:5])}{flag}")
        stats = bus.stats
        self.say(
            f"bus: {stats.transactions} transactions, {stats.timeouts} timeouts, "
            f"{stats.exceptions} exception replies"
        )
        print("\n".join(lines), file=self.out, flush=True)


async def _story(sim: SimulatedBus, bus: Bus, say: Callable[[str], None]) -> None:
    """The scripted events of the demo, in wall-clock seconds from the start."""

    async def at(seconds: float, start: float = time.monotonic()) -> None:
        await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))

    async def user(action: Awaitable[Any]) -> None:
        with contextlib.suppress(Exception):
            await action

    await at(4)
    say("story: a leak builds up on the kitchen circuit (ARCM, alarm setpoint 300 mA)")
    sim.inject(
        Scenario(ScenarioKind.LEAKAGE_RAMP, unit=1, channel="residual_current", to=420, seconds=8)
    )
    await at(14)
    say("story: the tenant trips the kitchen breaker")
    await user(bus.command("kitchen-arcm", "trip", who="tenant"))
    await at(17)
    say("story: someone tries to switch it back on while the alarm is active")
    await user(bus.command("kitchen-arcm", "close", who="tenant"))
    await at(19)
    say("story: the electrician repairs the fault; the leak falls away")
    sim.inject(
        Scenario(ScenarioKind.LEAKAGE_RAMP, unit=1, channel="residual_current", to=30, seconds=3)
    )
    await at(24)
    await user(bus.command("kitchen-arcm", "reset", who="electrician"))
    for alarm in bus.alarms.open_alarms("kitchen-arcm"):
        if alarm.kind is AlarmKind.ALARM:
            bus.acknowledge(alarm.id, "electrician")
    await at(26)
    say("story: with the alarm gone and acknowledged, the close is allowed")
    await user(bus.command("kitchen-arcm", "close", who="electrician"))
    await at(30)
    say("story: a loose connection arcs in the bedroom (AAFD)")
    sim.inject(Scenario(ScenarioKind.ARC_BURST, unit=2, seconds=3, arcs=20))
    await at(38)
    say("story: a cable in the kitchen overheats (temperature 2)")
    sim.inject(
        Scenario(ScenarioKind.TEMPERATURE_RISE, unit=1, channel="temperature_2", to=95, seconds=6)
    )
    await at(46)
    say("story: the ASJ's current transformer wire breaks")
    sim.inject(Scenario(ScenarioKind.WIRING_FAULT, unit=4, seconds=12))
    await at(52)
    say("story: the AIM-R100 falls silent for 40 s (its bus cable is knocked loose)")
    sim.inject(Scenario(ScenarioKind.DROPOUT, unit=3, seconds=40))
    await at(56)
    say("story: 1 % of frames on the bus are corrupted for 20 s; nothing should be lost")
    sim.inject(Scenario(ScenarioKind.CRC_CORRUPTION, rate=0.01, seconds=20))
    await at(100)
    say("story: loop 3 of the distribution board leaks above its setpoint (AIM-R100)")
    sim.inject(
        Scenario(
            ScenarioKind.LEAKAGE_RAMP, unit=3, channel="loop_3_residual_current", to=480, seconds=6
        )
    )
    await at(110)
    say("story: that is all; values keep updating until you press Ctrl-C")


class DemoSimulation:
    """The demo's line: the four detectors served on one end of a pseudo-terminal."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        units = [SimulatedUnit(find_profile(model), unit) for _, unit, model in DEMO_UNITS]
        self.sim = SimulatedBus(
            units, baudrate=BAUD, wire_timing=True, bits_per_char=bits_per_char()
        )
        self.link = PtyLink(folder / "bridge-tty", folder / "simulator-tty")

    @property
    def bridge_port(self) -> str:
        """The end of the line the bridge opens."""
        return str(self.link.a_path)

    async def start(self) -> None:
        """Plug in the cable and start answering."""
        self.folder.mkdir(parents=True, exist_ok=True)
        await self.link.start()
        await self.sim.serve_serial(str(self.link.b_path))

    async def stop(self) -> None:
        """Stop answering and unplug."""
        await self.sim.stop()
        await self.link.close()


def demo_config(data_dir: Path, tty: str, api_host: str, api_port: int) -> BridgeConfig:
    """The bridge configuration of the demo bus."""
    specs = tuple(
        DeviceSpec(i, unit, find_profile(model), *DEMO_PLACES[i]) for i, unit, model in DEMO_UNITS
    )
    settings = BusSettings("demo", SerialLine(tty, BAUD), offline_after=20.0)
    return BridgeConfig(
        data_dir=data_dir,
        buses=(BusConfig(settings, specs),),
        api_host=api_host,
        api_port=api_port,
    )


async def run_demo(
    data_dir: Path,
    *,
    api_host: str = "127.0.0.1",
    api_port: int = DEFAULT_API_PORT,
    duration: float = 0.0,
    table_every: float = 10.0,
    out: TextIO = sys.stdout,
) -> int:
    """The whole bridge on the demo bus, with its story, until Ctrl-C, SIGTERM or duration."""
    printer = Printer(out, time.monotonic())
    simulation = DemoSimulation(data_dir / "demo-line")
    config = demo_config(data_dir, simulation.bridge_port, api_host, api_port)
    bridge = Bridge(config, simulation=simulation, console=printer.event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await bridge.start()
    tasks: list[asyncio.Task[None]] = []
    try:
        bus = bridge.buses["demo"]
        printer.say(
            f"bridge {bridge.bridge_id}: API http://{api_host}:{bridge.api_port}/api/v1/ "
            f"(token in {data_dir / 'api_token'}); {len(DEMO_UNITS)} simulated detectors on "
            f"{simulation.bridge_port} at {BAUD} baud with wire timing; Ctrl-C to stop"
        )

        async def tables() -> None:
            while True:
                await asyncio.sleep(table_every)
                printer.table(bus)

        tasks = [
            asyncio.create_task(_story(simulation.sim, bus, printer.say)),
            asyncio.create_task(tables()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration or None)
        printer.table(bus)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await bridge.stop()
    return 0


async def run(args: argparse.Namespace) -> int:
    """The ``demo`` command: ``run --demo`` in a fresh temporary data folder."""
    with tempfile.TemporaryDirectory(prefix="es-demo-") as folder:
        return await run_demo(
            Path(folder),
            api_port=args.api_port,
            duration=args.duration,
            table_every=args.table_every,
        )
