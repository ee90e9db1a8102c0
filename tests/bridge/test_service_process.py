"""The bridge as a user runs it: a real process, killed and stopped by real signals.

The simulated detectors run in the test process, so killing the bridge leaves them
serving; the bridge reaches them over Modbus TCP on 127.0.0.1 as it would a gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import signal
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

from .conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]
UNITS = (1, 2, 3, 4, 5)
LATCHED_UNIT = 5  # raised and never acknowledged: must still be open after a crash
CYCLING_UNITS = (1, 2, 3, 4)  # raised, acknowledged and cleared over and over
KILL_AFTER = 20  # alarm events pushed before the SIGKILL
READY_S = 20.0  # bound on a bridge process starting (imports dominate)
STOP_S = 10.0  # bound on a clean stop
READY = re.compile(r"^bridge (\S+) serving (http://\S+/api/v1/) \((\d+) devices on (\d+) buses\)$")
STORE_FILE = "events.sqlite3"


def device_id(unit: int) -> str:
    return f"asj-{unit}"


# --------------------------------------------------------------------------- the rig


@dataclass
class Devices:
    """Simulated ASJ relays served over Modbus TCP from this (the test) process."""

    sim: SimulatedBus
    port: int

    def unit(self, unit: int) -> SimulatedUnit:
        return self.sim.unit(unit)


@pytest.fixture
async def devices() -> AsyncIterator[Devices]:
    profile = find_profile("ASJ")
    sim = SimulatedBus([SimulatedUnit(profile, unit) for unit in UNITS])
    server = await sim.serve_tcp("127.0.0.1", 0)
    assert server.port is not None
    try:
        yield Devices(sim, server.port)
    finally:
        await sim.stop()


def data_dir_in(tmp_path: Path) -> Path:
    """Where the bridge of :func:`write_config` keeps its store and its API token."""
    return tmp_path / "data"


def write_config(tmp_path: Path, port: int) -> Path:
    lines = [
        f"data_dir: {data_dir_in(tmp_path)}",
        "api: {host: 127.0.0.1, port: 0}",
        "buses:",
        "  - id: line-1",
        f"    tcp: 127.0.0.1:{port}",
        "    poll: {alarm: 0.05, telemetry: 0.5, slow: 5}",
        "    offline_after: 5",
        "    devices:",
    ]
    lines += [
        f"      - {{id: {device_id(u)}, unit: {u}, profile: ASJ, name: Relay {u}}}" for u in UNITS
    ]
    path = tmp_path / "bridge.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class BridgeProcess:
    """One running ``python -m electrical_safety_bridge run``."""

    process: asyncio.subprocess.Process
    log: Path
    bridge_id: str
    base: str  # http://127.0.0.1:PORT/api/v1/

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def exit_code(self, timeout: float = STOP_S) -> int:  # noqa: ASYNC109
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bridge did not exit within {timeout} s; its log:\n{self.stderr()}"
            ) from None


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "addon"), "PYTHONUNBUFFERED": "1"}


@dataclass
class Launcher:
    """Starts bridge processes; whatever is still running at the end is killed."""

    tmp_path: Path
    started: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start(
        self, config: Path, *, api_port: int = 0, devices: int = len(UNITS)
    ) -> BridgeProcess:
        """Start a bridge on ``config`` (its API on ``api_port``, 0: any free port) and wait for
        its ready line, which must count ``devices`` devices on one bus."""
        log = self.tmp_path / f"bridge-{len(self.started)}.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "electrical_safety_bridge",
                "run",
                "--config",
                str(config),
                "--api-port",
                str(api_port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=_env(),
            )
        self.started.append(process)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), READY_S)
        except TimeoutError:
            line = b""
        text = line.decode().strip()
        match = READY.match(text)
        if match is None:
            raise AssertionError(
                f"no ready line from the bridge (got {text!r});"
                f" its log:\n{log.read_text(errors='replace')}"
            )
        assert (match[3], match[4]) == (str(devices), "1"), text
        return BridgeProcess(process, log, match[1], match[2])

    async def cleanup(self) -> None:
        for process in self.started:
            if process.returncode is None:
                process.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), STOP_S)


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        await launcher.cleanup()


@pytest.fixture
def config(tmp_path: Path, devices: Devices) -> Path:
    """The bridge's config file: every simulated unit, on one bus."""
    return write_config(tmp_path, devices.port)


@pytest.fixture
async def bridge(launcher: Launcher, config: Path) -> BridgeProcess:
    """A bridge process started from :func:`config`, ready to serve."""
    return await launcher.start(config)


@pytest.fixture
def token(tmp_path: Path, bridge: BridgeProcess) -> str:
    """The API token the started bridge created in its data dir."""
    return read_token(data_dir_in(tmp_path))


async def cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "electrical_safety_bridge",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), READY_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"`{' '.join(args)}` did not finish in {READY_S} s") from None
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def session(token: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token}"},
        timeout=aiohttp.ClientTimeout(total=10),
    )


async def get_json(http: aiohttp.ClientSession, url: str, **params: Any) -> Any:
    async with http.get(url, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def all_events(http: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    """Every stored event, paged through with ``after``."""
    events: list[dict[str, Any]] = []
    after = 0
    for _ in range(1000):
        page = await get_json(http, base + "events", after=str(after), limit="50")
        if not page["events"]:
            assert page["next_after"] == after
            return events
        events += page["events"]
        assert page["next_after"] == page["events"][-1]["seq"]
        after = page["next_after"]
    raise AssertionError("paging through the events did not end")


def read_token(data_dir: Path) -> str:
    return (data_dir / "api_token").read_text(encoding="utf-8").strip()


@dataclass
class Pushes:
    """What a WebSocket client was told, in order."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m["event"] for m in self.messages if m["type"] == "event"]

    def alarm_events(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"].startswith("alarm_")]

    def find(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((e for e in self.events if predicate(e)), None)


async def read_pushes(ws: aiohttp.ClientWebSocketResponse, pushes: Pushes) -> None:
    async for message in ws:
        if message.type is aiohttp.WSMsgType.TEXT:
            pushes.messages.append(message.json())


async def raised(pushes: Pushes, device: str, after: int = 0) -> dict[str, Any]:
    """The first alarm_raised for ``device`` pushed after the first ``after`` events."""

    def find() -> dict[str, Any] | None:
        return next(
            (
                e
                for e in pushes.events[after:]
                if e["type"] == "alarm_raised" and e["device_id"] == device
            ),
            None,
        )

    await wait_for(lambda: find() is not None, timeout=5)
    event = find()
    assert event is not None
    return event


async def cycle_alarms(
    http: aiohttp.ClientSession, base: str, devices: Devices, unit: int, pushes: Pushes
) -> None:
    """Raise, acknowledge and clear one unit's alarm as fast as the bridge follows.

    An unacknowledged alarm stays latched however often its condition comes and goes, so
    each round acknowledges it: three alarm events a round.
    """
    device = device_id(unit)
    while True:
        start = len(pushes.events)
        devices.unit(unit).set("alarm_status", "alarm")
        alarm_id = (await raised(pushes, device, start))["data"]["id"]
        async with http.post(
            base + f"alarms/{alarm_id}/acknowledge", json={"who": "burst"}
        ) as response:
            assert response.status == 200, await response.text()
        devices.unit(unit).set("alarm_status", "normal")
        await wait_for(functools.partial(cleared, pushes, alarm_id), timeout=5)


def cleared(pushes: Pushes, alarm_id: str) -> bool:
    found = pushes.find(lambda e: e["type"] == "alarm_cleared" and e["data"]["id"] == alarm_id)
    return found is not None


# --------------------------------------------------------------------------- a. SIGKILL


async def test_every_pushed_event_survives_sigkill_mid_burst(
    config: Path, bridge: BridgeProcess, token: str, devices: Devices, launcher: Launcher
) -> None:
    pushes = Pushes()

    async with session(token) as http, http.ws_connect(bridge.base + "ws") as ws:
        first = await ws.receive_json(timeout=5)
        assert first["type"] == "snapshot"
        reader = asyncio.create_task(read_pushes(ws, pushes))

        devices.unit(LATCHED_UNIT).set("alarm_status", "alarm")
        latched = (await raised(pushes, device_id(LATCHED_UNIT)))["data"]["id"]

        drivers = [
            asyncio.create_task(cycle_alarms(http, bridge.base, devices, unit, pushes))
            for unit in CYCLING_UNITS
        ]
        try:
            await wait_for(
                lambda: len(pushes.alarm_events()) >= KILL_AFTER or any(d.done() for d in drivers),
                timeout=15,
            )
            for driver in drivers:
                if driver.done():
                    driver.result()  # a driver failed before the kill: show why
                    raise AssertionError("a burst driver stopped before the kill")
            bridge.process.send_signal(signal.SIGKILL)  # mid-burst
            assert await bridge.exit_code() == -signal.SIGKILL
        finally:
            for driver in drivers:
                driver.cancel()
            await asyncio.gather(*drivers, return_exceptions=True)
        # The socket dies with the process; whatever arrived was pushed before the kill.
        await asyncio.wait_for(reader, STOP_S)

    pushed = pushes.events
    assert len(pushes.alarm_events()) >= KILL_AFTER
    assert len({e["id"] for e in pushed}) == len(pushed), "an event was pushed twice"
    kinds = {e["type"] for e in pushed}
    assert {"alarm_raised", "alarm_acknowledged", "alarm_cleared"} <= kinds, kinds

    restarted = await launcher.start(config)
    assert restarted.bridge_id == bridge.bridge_id
    async with session(token) as http:
        stored = await all_events(http, restarted.base)
        seqs = [e["seq"] for e in stored]
        assert seqs == sorted(set(seqs)), "seq must be unique and increasing"
        by_id = {e["id"]: e for e in stored}
        lost = [e for e in pushed if e["id"] not in by_id]
        assert not lost, f"{len(lost)} of {len(pushed)} pushed events were lost: {lost[:3]}"
        for event in pushed:
            assert by_id[event["id"]] == event, "a stored event differs from what was pushed"

        alarms = (await get_json(http, restarted.base + "alarms"))["alarms"]
        still_open = {a["id"]: a for a in alarms}
        assert latched in still_open, alarms
        assert still_open[latched]["acknowledged"] is False
        assert still_open[latched]["device_id"] == device_id(LATCHED_UNIT)

        # The latched alarm is the same alarm after the restart, not raised a second time.
        await wait_for(lambda: restarted_polled(http, restarted.base, LATCHED_UNIT), timeout=5)
        again = [
            e
            for e in await all_events(http, restarted.base)
            if e["seq"] > max(seqs)
            and e["type"] == "alarm_raised"
            and e["device_id"] == device_id(LATCHED_UNIT)
        ]
        assert not again, again

    restarted.process.send_signal(signal.SIGTERM)
    assert await restarted.exit_code() == 0, restarted.stderr()


async def restarted_polled(http: aiohttp.ClientSession, base: str, unit: int) -> bool:
    device = await get_json(http, base + f"devices/{device_id(unit)}")
    return device["online"] is True and device["values"].get("alarm_status") == "alarm"


# --------------------------------------------------------------------------- b. SIGTERM


def store_checks(data_dir: Path) -> None:
    """The store after a clean stop: checkpointed, then intact."""
    wal = data_dir / f"{STORE_FILE}-wal"
    assert not wal.exists() or wal.stat().st_size == 0, f"WAL left with {wal.stat().st_size} bytes"
    connection = sqlite3.connect(f"file:{data_dir / STORE_FILE}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        count = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        connection.close()
    assert count > 0


async def test_sigterm_stops_cleanly_and_the_store_is_checkpointed(
    tmp_path: Path,
    config: Path,
    bridge: BridgeProcess,
    token: str,
    devices: Devices,
    launcher: Launcher,
) -> None:
    data_dir = data_dir_in(tmp_path)
    pushes = Pushes()

    async with session(token) as http, http.ws_connect(bridge.base + "ws") as ws:
        reader = asyncio.create_task(read_pushes(ws, pushes))
        devices.unit(2).set("alarm_status", "alarm")
        alarm = await raised(pushes, device_id(2))
        # A connected client must not hold the stop up: the bridge closes it.
        bridge.process.send_signal(signal.SIGTERM)
        assert await bridge.exit_code() == 0, bridge.stderr()
        await asyncio.wait_for(reader, STOP_S)
        assert ws.close_code == 1001

    assert "Traceback" not in bridge.stderr(), bridge.stderr()
    store_checks(data_dir)

    restarted = await launcher.start(config)
    async with session(token) as http:
        stored = await all_events(http, restarted.base)
        assert alarm["id"] in {e["id"] for e in stored}
        open_ids = {a["id"] for a in (await get_json(http, restarted.base + "alarms"))["alarms"]}
        assert alarm["data"]["id"] in open_ids
    restarted.process.send_signal(signal.SIGTERM)
    assert await restarted.exit_code() == 0, restarted.stderr()
    store_checks(data_dir)


# --------------------------------------------------------------------------- c. token


async def test_token_command_is_stable_private_and_accepted(
    tmp_path: Path, config: Path, launcher: Launcher
) -> None:
    data_dir = data_dir_in(tmp_path)
    code, first, err = await cli("token", "--data-dir", str(data_dir))
    assert code == 0, err
    code, second, err = await cli("token", "--data-dir", str(data_dir))
    assert code == 0, err
    token = first.strip()
    assert first == second == token + "\n"
    assert len(token) >= 32
    token_file = data_dir / "api_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert read_token(data_dir) == token

    # Started here, not by the ``bridge`` fixture: the token must exist before the bridge.
    bridge = await launcher.start(config)
    assert read_token(data_dir) == token, "starting the bridge changed the token"
    async with session(token) as http:
        info = await get_json(http, bridge.base + "info")
        assert info["bridge_id"] == bridge.bridge_id
        async with http.ws_connect(bridge.base + "ws") as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "snapshot"

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as anonymous:
        for headers in (
            {"Authorization": f"Bearer {token[:-1]}x"},
            {"Authorization": "Bearer another-token"},
            {"Authorization": token},
            {},
        ):
            async with anonymous.get(bridge.base + "info", headers=headers) as response:
                assert response.status == 401, headers
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await anonymous.ws_connect(bridge.base + "ws", headers=headers)
            assert refused.value.status == 401
        async with anonymous.get(bridge.base + "health") as response:
            assert response.status == 200

    # The running bridge's token is still the one `token` prints.
    code, third, err = await cli("token", "--data-dir", str(data_dir))
    assert (code, third) == (0, first), err
    bridge.process.send_signal(signal.SIGTERM)
    assert await bridge.exit_code() == 0, bridge.stderr()
