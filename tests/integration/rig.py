"""A real bridge on 127.0.0.1, over a real simulator: the integration tests' only device.

The simulator and the bridge run as two processes, exactly as a user runs them, so the
integration is tested against API v1 as the bridge implements it, not against a mock. They
run on the bridge's own environment (``BRIDGE_PYTHON``, which the Makefile sets to
``.venv-bridge/bin/python``): Home Assistant's environment never imports the bridge.
Both are started with plain ``subprocess`` (no threads, no event loop of their own), so
Home Assistant's test harness sees nothing lingering. Readiness is waited for by condition
(a line on stdout, then every device online with every value read), never by a fixed sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: The variable naming the bridge environment's interpreter.
BRIDGE_PYTHON = "BRIDGE_PYTHON"
BRIDGE_ID = "test-bridge"
START_S = 30.0  # bound on a process printing its ready line (imports dominate)
READY_S = 20.0  # bound on every device being online and read
STOP_S = 10.0

#: The units of the default rig: device id, unit address, model.
DEFAULT_UNITS: tuple[tuple[str, int, str], ...] = (
    ("arcm-1", 1, "SIM-ARCM"),
    ("aafd-2", 2, "SIM-AAFD"),
    ("aim-3", 3, "AIM-R100"),
    ("asj-4", 4, "ASJ"),
)
NAMES = {"arcm-1": "Kitchen", "aafd-2": "Bedroom"}
#: The rooms the configuration gives (Home Assistant suggests them as areas).
AREAS = {"arcm-1": "Kitchen"}
#: The site the rig's bridge serves: a Japanese flat on two kVA contracts.
SITE = {
    "name": "Test flat",
    "id": "test-flat",
    "region": "jp",
    "latitude": 35.6812,
    "longitude": 139.7671,
    "supply_system": "single_phase_3wire",
    "contracts": [{"unit": "kVA", "value": 6}, {"unit": "kVA", "value": 4}],
}
#: How detectors are installed. The AIM-R100 has no area of its own: its installation's
#: room is the one suggested.
INSTALLATIONS = {
    "arcm-1": {
        "ct_rating_a": 30,
        "ct_location": "service_entrance",
        "circuit": "Kitchen sockets",
        "circuit_rated_current_a": 20,
        "room": "Kitchen",
    },
    "aim-3": {
        "ct_rating_a": 100,
        "ct_location": "grounding_wire",
        "circuit": "Main incomer",
        "circuit_rated_current_a": 60,
        "room": "Hallway",
    },
}
#: A user profile: the simulator's ARCM map, not verified (the bridge never writes to it).
UNVERIFIED_MODEL = "SIM-UNVERIFIED"
#: A user profile: the AIM-R100 whose loop currents read a sentinel when their sensor is
#: open or shorted (as its "last event value" register does), so that a loop's alarm,
#: derived from that current, cannot be decided while the sensor is faulty.
SENTINEL_MODEL = "SIM-AIM-SENTINEL"
#: A test profile: the simulator's ARCM map with enumerated and flag setpoints, writable
#: and read-only. No built-in profile has a documented enumerated register (the ARCM300's
#: protection mode codes are not public, the ASJ's mode values were not retrieved): these
#: registers are the simulator's own, past the ARCM map's last one.
MODES_MODEL = "SIM-MODES"
#: Seconds between two alarm polls. The rig's line (four units over TCP) needs a few
#: milliseconds a round: well under the 75 % of it that would make the bridge call the line
#: overloaded, even on a busy machine.
ALARM_POLL_S = 0.1
#: The rig's poll intervals on its TCP line.
TCP_POLL: dict[str, float] = {"alarm": ALARM_POLL_S, "telemetry": 0.1, "slow": 0.5}
#: The line speed of a rig on a pseudo-terminal (``serial=True``): the simulator delays
#: each answer by the frames' time on a wire at this speed.
SERIAL_BAUD = 9600


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BridgeEnvironmentError(RuntimeError):
    """The bridge's interpreter is not set, or is not there."""


def bridge_python() -> str:
    """The interpreter of the bridge's environment, from ``BRIDGE_PYTHON``."""
    path = os.environ.get(BRIDGE_PYTHON, "")
    hint = (
        "run the integration tests with `make test-integration`, which sets it, or set "
        f"{BRIDGE_PYTHON}=.venv-bridge/bin/python (built by `make test-bridge`)"
    )
    if not path:
        raise BridgeEnvironmentError(
            f"{BRIDGE_PYTHON} is not set: the integration tests start the bridge and its "
            f"simulator with the bridge environment's interpreter; {hint}"
        )
    if not os.access(path, os.X_OK):
        raise BridgeEnvironmentError(f"{BRIDGE_PYTHON}={path} is not an executable; {hint}")
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "addon"), "PYTHONUNBUFFERED": "1"}


def _read_line(
    process: subprocess.Popen[bytes], pattern: re.Pattern[str], log: Path
) -> re.Match[str]:
    """Wait for a line matching ``pattern`` on the process's stdout."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_S
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                break
            raw = process.stdout.readline()
            if not raw:
                break
            match = pattern.search(raw.decode("utf-8", "replace"))
            if match:
                return match
    raise AssertionError(f"{process.args!r} did not start; its log:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_S)


def unverified_profile() -> str:
    """The simulator's ARCM profile as a user profile that is not verified."""
    source = ROOT / "addon/electrical_safety_bridge/profiles/simulated/sim_arcm.yaml"
    text = source.read_text(encoding="utf-8")
    text = text.replace("model: SIM-ARCM", f"model: {UNVERIFIED_MODEL}", 1)
    return text.replace("verified: true", "verified: false", 1)


def sentinel_profile() -> str:
    """The AIM-R100 profile with sentinels on its loop currents, as a user profile."""
    source = ROOT / "addon/electrical_safety_bridge/profiles/builtin/acrel_aim_r100.yaml"
    text = source.read_text(encoding="utf-8")
    text = text.replace("model: AIM-R100", f"model: {SENTINEL_MODEL}", 1)
    loop = "    kind: residual_current\n    poll: alarm"
    assert loop in text, "the AIM-R100 profile changed: update the rig's sentinel profile"
    sentinels = "\n    sentinels: {0xE5E5: short_circuit, 0xFAFA: open_circuit}"
    return text.replace(loop, loop + sentinels, 1)


def modes_profile() -> str:
    """The simulator's ARCM profile with a mode (a select), a read-only mode (an enum
    sensor) and a read-only flag (a binary sensor), as a user profile."""
    source = ROOT / "addon/electrical_safety_bridge/profiles/simulated/sim_arcm.yaml"
    text = source.read_text(encoding="utf-8")
    text = text.replace("model: SIM-ARCM", f"model: {MODES_MODEL}", 1)
    extra = """  - key: protection_mode
    translation_key: protection_mode
    address: 0x0038
    kind: mode
    options: {0: "off", 1: alarm, 2: trip}
  - key: output_mode
    name: Output mode
    address: 0x0039
    kind: mode
    options: {0: "off", 2: trip}
    writable: false
  - key: ct_break_alarm_enable
    translation_key: ct_break_alarm
    address: 0x003A
    kind: enable
    min: 0
    max: 1
    writable: false
commands:
"""
    assert text.count("\ncommands:\n") == 1, "sim_arcm changed: update the rig's modes profile"
    return text.replace("commands:\n", extra, 1)


@dataclass
class Rig:
    """The simulator and the bridge of one test."""

    folder: Path
    units: tuple[tuple[str, int, str], ...] = DEFAULT_UNITS
    #: Seconds of silence before the bridge calls a unit offline.
    offline_after: float = 3.0
    bridge_id: str = BRIDGE_ID
    #: The ``site:`` block of the bridge's configuration.
    site: dict[str, Any] = field(default_factory=lambda: dict(SITE))
    #: A pseudo-terminal at SERIAL_BAUD with wire timing (as an RS-485 adapter), not TCP.
    serial: bool = False
    #: The bus's ``poll`` intervals (None: the rig's fast TCP ones; ``{}``: the bridge's own
    #: defaults).
    poll: dict[str, float] | None = None
    #: Top-level keys added to the bridge's configuration (``early_warning``, ...), for the
    #: next start.
    config_extra: dict[str, Any] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    sim_port: int = 0
    simulator: subprocess.Popen[bytes] | None = None
    bridge: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def profile_dir(self) -> Path:
        return self.folder / "profiles"

    @property
    def tty(self) -> Path:
        """The pseudo-terminal the bridge opens (``serial=True``)."""
        return self.folder / "bridge-tty"

    @property
    def token(self) -> str:
        return (self.data_dir / "api_token").read_text(encoding="utf-8").strip()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    def entry_data(self) -> dict[str, Any]:
        """What a config entry for this bridge holds."""
        return {"host": "127.0.0.1", "port": self.api_port, "token": self.token}

    # ------------------------------------------------------------------ processes

    def start(self) -> None:
        """Start the simulator and the bridge side by side (each takes about a second to
        import); the bridge connects as soon as the simulator listens. A pseudo-terminal
        exists only once the simulator has made it: the bridge opens it after."""
        self.spawn_simulator()
        if self.serial:
            self.simulator_ready()
        self.spawn_bridge()
        if not self.serial:
            self.simulator_ready()
        self.bridge_ready()

    def spawn_simulator(self) -> None:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        (self.profile_dir / "sim_unverified.yaml").write_text(unverified_profile())
        (self.profile_dir / "sim_aim_sentinel.yaml").write_text(sentinel_profile())
        (self.profile_dir / "sim_modes.yaml").write_text(modes_profile())
        self.sim_port = free_port()
        args = [bridge_python(), "-m", "electrical_safety_bridge", "simulate"]
        for _, unit, model in self.units:
            args += ["--unit", f"{unit}:{model}"]
        if self.serial:
            args += ["--pty", str(self.tty), "--baud", str(SERIAL_BAUD), "--wire-timing"]
        else:
            args += ["--tcp", f"127.0.0.1:{self.sim_port}"]
        args += ["--user-dir", str(self.profile_dir)]
        with (self.folder / "simulator.log").open("wb") as stderr:
            self.simulator = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=_env()
            )

    def simulator_ready(self) -> None:
        assert self.simulator is not None
        _read_line(
            self.simulator, re.compile(r"serving (tcp|serial)://"), self.folder / "simulator.log"
        )

    def write_config(self, units: tuple[tuple[str, int, str], ...] | None = None) -> Path:
        devices = [
            {"id": device_id, "unit": unit, "profile": model}
            | ({"name": NAMES[device_id]} if device_id in NAMES else {})
            | ({"area": AREAS[device_id]} if device_id in AREAS else {})
            | ({"installation": INSTALLATIONS[device_id]} if device_id in INSTALLATIONS else {})
            for device_id, unit, model in (units if units is not None else self.units)
        ]
        config = {
            "data_dir": str(self.data_dir),
            "bridge_id": self.bridge_id,
            "site": self.site,
            "profile_dir": str(self.profile_dir),
            "api": {"host": "127.0.0.1", "port": self.api_port},
            "buses": [
                {
                    "id": "line-1",
                    **(
                        {"serial": str(self.tty), "baudrate": SERIAL_BAUD}
                        if self.serial
                        else {"tcp": f"127.0.0.1:{self.sim_port}"}
                    ),
                    "poll": TCP_POLL if self.poll is None else self.poll,
                    "offline_after": self.offline_after,
                    "devices": devices,
                }
            ],
        }
        config |= self.config_extra
        path = self.folder / "bridge.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        return path

    def start_bridge(self, units: tuple[tuple[str, int, str], ...] | None = None) -> None:
        """Start the bridge (on the same API port as before) and wait until it has read
        every device."""
        self.spawn_bridge(units)
        self.bridge_ready()

    def spawn_bridge(self, units: tuple[tuple[str, int, str], ...] | None = None) -> None:
        config = self.write_config(units)
        with (self.folder / "bridge.log").open("ab") as stderr:
            self.bridge = subprocess.Popen(
                [bridge_python(), "-m", "electrical_safety_bridge", "run", "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=_env(),
            )

    def bridge_ready(self) -> None:
        assert self.bridge is not None
        log = self.folder / "bridge.log"
        _read_line(self.bridge, re.compile(r"^bridge \S+ serving http://"), log)
        self.wait(self._all_read, f"every device read; bridge log:\n{log.read_text()}")

    def stop_bridge(self) -> None:
        _stop(self.bridge)
        if self.bridge is not None and self.bridge.stdout is not None:
            self.bridge.stdout.close()
        self.bridge = None

    def kill_bridge(self) -> None:
        """SIGKILL the bridge: no clean stop, as a power cut or the OOM killer does it."""
        if self.bridge is not None:
            self.bridge.kill()
            self.bridge.wait(STOP_S)
            if self.bridge.stdout is not None:
                self.bridge.stdout.close()
        self.bridge = None

    def stop_simulator(self) -> None:
        """Stop serving the detectors (a gateway that died)."""
        self._close_simulator()

    def close(self) -> None:
        self.stop_bridge()
        self._close_simulator()

    def _close_simulator(self) -> None:
        if self.simulator is not None:
            if self.simulator.stdin is not None:
                with contextlib.suppress(OSError):
                    self.simulator.stdin.close()
            _stop(self.simulator)
            if self.simulator.stdout is not None:
                self.simulator.stdout.close()
            self.simulator = None

    # ------------------------------------------------------------------ talking to them

    def inject(self, step: dict[str, Any]) -> None:
        """Play a scenario step on the simulator, now."""
        assert self.simulator is not None and self.simulator.stdin is not None
        self.simulator.stdin.write((json.dumps(step) + "\n").encode())
        self.simulator.stdin.flush()

    def get(self, path: str) -> Any:
        """A REST answer of the bridge, read with its token."""
        request = urllib.request.Request(
            f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read())

    def _all_read(self) -> bool:
        try:
            devices = self.get("/devices")["devices"]
        except (OSError, ValueError):
            return False
        return all(
            d["online"]
            and all(v is not None for v in d["values"].values())
            and all(v is not None for v in d["setpoint_values"].values())
            for d in devices
        )

    @staticmethod
    def wait(predicate: Callable[[], bool], what: str, timeout: float = READY_S) -> None:
        """Poll a condition of the processes (not of Home Assistant) with a bound."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s: {what}")
            time.sleep(0.02)


@contextlib.contextmanager
def running_rig(
    folder: Path,
    units: tuple[tuple[str, int, str], ...] = DEFAULT_UNITS,
    offline_after: float = 3.0,
) -> Iterator[Rig]:
    """A simulator and a bridge, both stopped at the end."""
    rig = Rig(folder, units, offline_after)
    try:
        rig.start()
        yield rig
    finally:
        rig.close()
