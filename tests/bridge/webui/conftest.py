"""A real bridge on the simulator, run on its own event loop in a thread, for the browser.

Selenium blocks while the browser works, so the bridge cannot share the test's thread: it
runs in :class:`LiveBridge`, whose :meth:`~LiveBridge.call` runs a coroutine on the bridge's
loop and returns its result (the simulator and the bridge are touched only there).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus
from tests.chromium import chromium
from tests.waiting import wait_for

from ..api.conftest import running_bridge
from .ingress import Ingress, ingress_proxy

T = TypeVar("T")
SCREENSHOTS = Path(__file__).resolve().parents[3] / ".artifacts" / "webui"


class LiveBridge:
    """A bridge, its simulator and (optionally) an ingress stand-in, on a loop in a thread."""

    def __init__(self, tmp_path: Path, *, ingress_proxy_address: str, **overrides: Any) -> None:
        self.tmp_path = tmp_path
        self.ingress_proxy_address = ingress_proxy_address
        self.overrides = overrides  # more BridgeConfig fields (a profile folder, a relay)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bridge", daemon=True)
        self.bridge: Bridge
        self.sim: SimulatedBus
        self.ingress: Ingress | None = None
        self._stack = contextlib.AsyncExitStack()

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``work`` on the bridge's loop; its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def run(self, function: Callable[[], T]) -> T:
        """Call ``function`` on the bridge's loop (simulator changes happen there)."""

        async def wrapped() -> T:
            return function()

        return self.call(wrapped())

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        """Until ``predicate`` (run on the bridge's loop) holds."""
        self.call(wait_for(predicate, timeout=timeout, what=what), timeout + 5)

    @property
    def url(self) -> str:
        """The standalone address of the web UI (no trailing slash)."""
        return f"http://127.0.0.1:{self.bridge.api_port}"

    async def _start(self) -> None:
        running = await self._stack.enter_async_context(
            running_bridge(
                self.tmp_path,
                ingress_port=0,
                ingress_proxy=self.ingress_proxy_address,
                **self.overrides,
            )
        )
        self.bridge, self.sim = running.bridge, running.sim
        units = self.bridge.buses["line"].units
        await wait_for(lambda: all(u.online for u in units.values()), what="every unit online")
        # The stand-in forwards to the ingress port, as Supervisor does in the add-on.
        ingress_port = self.bridge.ingress_port
        assert ingress_port is not None and ingress_port != self.bridge.api_port
        self.ingress = await self._stack.enter_async_context(
            ingress_proxy(f"http://127.0.0.1:{ingress_port}")
        )

    def __enter__(self) -> LiveBridge:
        self.thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture
def live(tmp_path: Path, socket_enabled: None) -> Iterator[LiveBridge]:
    """A bridge whose web UI trusts the ingress stand-in on 127.0.0.1 as Supervisor (only
    for tests: the add-on trusts 172.30.32.2, Supervisor's address, alone)."""
    with LiveBridge(tmp_path, ingress_proxy_address="127.0.0.1") as running:
        yield running


@pytest.fixture
def browser(socket_enabled: None) -> Iterator[WebDriver]:
    """A headless Chromium asking for English pages."""
    with chromium(window=(1280, 1000)) as driver:
        yield driver


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the window as ``.artifacts/webui/<name>.png``, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
