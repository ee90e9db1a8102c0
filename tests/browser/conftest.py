"""`make demo` as the browser tests use it: the demo's own script (the bridge on a simulated
bus and a real Home Assistant, set up through its own API) on free ports in a temporary
folder, and a headless Chromium to look at it.

The demo runs from the bridge's environment (this interpreter) and Home Assistant from its
own (``HASS_BIN``), exactly as ``make demo`` runs them; its story plays faster
(``ELECTRICAL_SAFETY_DEMO_PACE``) so that the alarm a person acknowledges comes within a
test's patience.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from electrical_safety_bridge.demo import STORY_PACE_VARIABLE

from ..chromium import chromium
from ..integration.rig import free_port

ROOT = Path(__file__).resolve().parents[2]
#: Seconds of story per second of script: the bedroom's arc comes 37 s after Home Assistant
#: connects instead of 75 s.
PACE = "0.5"
#: Bound on Home Assistant starting, onboarding, the integration and the dashboard.
START_S = 240.0
STOP_S = 60.0
#: Bound on one script in the page that waits on Home Assistant.
SCRIPT_S = 90.0
#: The line the demo prints once everything is set up.
READY = re.compile(r"open (?P<url>http://\S+) and log in as '(?P<user>[^']+)' with password")
#: Where the screenshots go (CI keeps .artifacts/).
SCREENSHOTS = ROOT / ".artifacts" / "browser"
#: The browser's window: the dashboard's four columns side by side, and the rooms below.
WINDOW = (1920, 1700)


@dataclass(frozen=True)
class Demo:
    """A running demo."""

    folder: Path
    dashboard: str
    username: str
    password: str
    bridge_port: int
    log: Path

    @property
    def bridge_token(self) -> str:
        return (self.folder / "bridge" / "api_token").read_text(encoding="utf-8").strip()

    def bridge_get(self, path: str) -> Any:
        """``GET /api/v1/<path>`` of the demo's bridge, as JSON."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.bridge_port}/api/v1/{path}",
            headers={"Authorization": f"Bearer {self.bridge_token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def log_tail(self, lines: int = 80) -> str:
        """The end of what the demo printed (bridge and Home Assistant)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class _Watcher(threading.Thread):
    """Copies the demo's output to its log, and notes the line saying it is ready.

    The demo prints for as long as it runs: its pipe is read to the end, or the bridge and
    Home Assistant would block once the pipe is full."""

    def __init__(self, stream: IO[bytes], log: Path) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.log = log
        self.ready = threading.Event()
        self.match: re.Match[str] | None = None

    def run(self) -> None:
        with self.log.open("wb") as out:
            for raw in self.stream:
                out.write(raw)
                out.flush()
                if self.match is None:
                    self.match = READY.search(raw.decode("utf-8", "replace"))
                    if self.match is not None:
                        self.ready.set()
        self.ready.set()  # the demo ended: whoever waits sees no match


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person stops the demo: it stops Home Assistant and the bridge."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_S)
        except subprocess.TimeoutExpired:
            # The demo's own process group: its Home Assistant and bridge, nothing else.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`make demo`'s script, on free ports in a temporary folder, until the module ends."""
    folder = tmp_path_factory.mktemp("demo")
    bridge_port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "demo" / "home_assistant_demo.py"),
            "--data-dir",
            str(folder),
            "--ha-port",
            str(free_port()),
            "--bridge-port",
            str(bridge_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, STORY_PACE_VARIABLE: PACE, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    assert process.stdout is not None
    watcher = _Watcher(process.stdout, folder / "demo.log")
    watcher.start()
    try:
        if not watcher.ready.wait(START_S) or watcher.match is None:
            raise AssertionError(
                f"the demo was not ready within {START_S:.0f} s; its log "
                f"({watcher.log}):\n{watcher.log.read_text(errors='replace')[-6000:]}"
            )
        credentials = json.loads((folder / "owner_credentials.json").read_text())
        assert credentials["username"] == watcher.match["user"]
        yield Demo(
            folder=folder,
            dashboard=watcher.match["url"],
            username=credentials["username"],
            password=credentials["password"],
            bridge_port=bridge_port,
            log=watcher.log,
        )
    finally:
        _stop(process)
        watcher.join(STOP_S)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the module (a fresh profile: nobody is logged in)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(WINDOW) as driver:
        # Scripts that wait on Home Assistant (a config entry's reload) may take a while.
        driver.set_script_timeout(SCRIPT_S)
        yield driver
