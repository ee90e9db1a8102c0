"""A real Home Assistant for the end-to-end tests: ``hass`` from its own environment.

It is set up the way ``make demo`` sets one up (``demo/home_assistant_demo.py``): the same
minimal configuration, the owner created through the onboarding API, the integration added
through its real config flow. The tests then talk to it with a long-lived access token they
create over the WebSocket API, as a person does on their profile page: a token that outlives
a restart of Home Assistant.

Home Assistant's output goes to ``hass.log`` in its folder, and every failure to start or to
answer shows the end of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from demo import home_assistant_demo as demo
from tests.integration.rig import free_port
from tests.waiting import wait_for

#: Bound on Home Assistant answering HTTP after its start (imports and set-up dominate; the
#: machine may be busy with other tests).
START_S = 180.0
#: Bound on a clean stop (Home Assistant writes its registries and restore states).
STOP_S = 60.0
#: How many lines of Home Assistant's output a failure shows.
LOG_TAIL = 60
#: Bound on an integration's entities being registered after its set-up.
SETUP_S = 90.0
#: Bound on a change at a detector reaching an entity (the bridge polls alarms each second
#: by default; a relay's state message follows at once).
REACH_S = 30.0


@dataclass
class HomeAssistant:
    """One ``hass`` process on a configuration folder of its own, on a free port."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    #: The long-lived access token (after :meth:`onboard`).
    token: str = ""
    _session: aiohttp.ClientSession | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "hass.log"

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-LOG_TAIL:])

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    # ------------------------------------------------------------------ the process

    async def start(self) -> None:
        """Start ``hass`` (configured on first start) and wait until it answers HTTP."""
        demo.prepare_config(self.folder, self.port)
        # The MQTT integration writes its certificates under the temporary folder: this
        # one's own, not the machine's shared /tmp.
        temporary = self.folder / "tmp"
        temporary.mkdir(exist_ok=True)
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                demo.hass_executable(),
                "-c",
                str(self.folder),
                "--skip-pip",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "TMPDIR": str(temporary)},
            )
        await self.wait(self._answers, START_S, "Home Assistant answering HTTP")

    async def _answers(self) -> bool:
        if self.process is None or self.process.returncode is not None:
            raise AssertionError(f"hass exited; the end of its log:\n{self.log_tail()}")
        try:
            # Onboarding's own view answers before and after it is done (404 once done).
            async with self.session.get(
                f"{self.base}/api/onboarding", allow_redirects=False
            ) as response:
                return response.status < 500
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def stop(self) -> None:
        """A clean stop (SIGTERM), as Home Assistant's own restart does."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_S)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(
                    f"hass did not stop within {STOP_S:.0f} s; its log:\n{self.log_tail()}"
                ) from None

    async def close(self) -> None:
        await self.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wait(self, predicate: Any, bound: float, what: str) -> None:
        """:func:`wait_for` that shows Home Assistant's log when the bound passes."""
        try:
            await wait_for(predicate, bound, interval=0.1, what=what)
        except AssertionError as err:
            raise AssertionError(
                f"{err}\nthe end of Home Assistant's log:\n{self.log_tail()}"
            ) from err

    # ------------------------------------------------------------------ set-up

    async def onboard(self) -> None:
        """Create the owner (as ``make demo`` does) and a long-lived access token."""
        _, _, access = await demo.onboard(self.session, self.base, self.folder / "owner.json")
        async with demo.HomeAssistantSocket.connect(self.session, self.base, access) as ha:
            self.token = str(
                await ha.call(
                    "auth/long_lived_access_token", client_name="end-to-end tests", lifespan=1
                )
            )

    async def add_integration(self, bridge: dict[str, Any]) -> None:
        """The Electrical Safety integration, through its config flow (``make demo``'s way)."""
        await demo.add_integration(self.session, self.base, self.token, bridge)

    # ------------------------------------------------------------------ reading it

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """``GET /api/states/<entity_id>``: the state object, None while there is none."""
        try:
            async with self.session.get(
                f"{self.base}/api/states/{entity_id}", headers=self._auth
            ) as response:
                if response.status == 404:
                    return None
                response.raise_for_status()
                data: dict[str, Any] = await response.json()
                return data
        except (aiohttp.ClientConnectionError, TimeoutError):
            return None  # restarting

    async def states(self) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.base}/api/states", headers=self._auth) as response:
            response.raise_for_status()
            data: list[dict[str, Any]] = await response.json()
            return data

    async def call(self, kind: str, **fields: Any) -> Any:
        """One WebSocket command (``config/entity_registry/list``, ...) and its result."""
        async with demo.HomeAssistantSocket.connect(self.session, self.base, self.token) as ha:
            return await ha.call(kind, **fields)

    async def entity_ids(self, platform: str) -> dict[tuple[str, str], str]:
        """(domain, unique_id) → entity_id of every registered entity of an integration (a
        unique id is unique within one domain only)."""
        entries = await self.call("config/entity_registry/list")
        return {
            (e["entity_id"].partition(".")[0], e["unique_id"]): e["entity_id"]
            for e in entries
            if e["platform"] == platform
        }

    async def wait_entity(
        self, platform: str, domain: str, unique_id: str, bound: float = SETUP_S
    ) -> str:
        """The entity id of a unique id of a domain, once registered."""
        found: dict[tuple[str, str], str] = {}

        async def registered() -> bool:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, RuntimeError):
                found.update(await self.entity_ids(platform))
            return (domain, unique_id) in found

        await self.wait(registered, bound, f"{domain} {unique_id} of {platform} registered")
        return found[domain, unique_id]

    async def until(
        self, entity_id: str, test: Callable[[dict[str, Any]], bool], bound: float = REACH_S
    ) -> dict[str, Any]:
        """The state of ``entity_id`` once ``test`` holds for it."""
        seen: list[dict[str, Any] | None] = [None]

        async def holds() -> bool:
            seen[0] = await self.state(entity_id)
            return seen[0] is not None and test(seen[0])

        try:
            await self.wait(holds, bound, f"{entity_id} as expected")
        except AssertionError as err:
            raise AssertionError(f"{err}\nits last state: {seen[0]}") from None
        assert seen[0] is not None
        return seen[0]

    def write_config_entry(self, entry: dict[str, Any]) -> None:
        """Add a config entry to ``.storage/core.config_entries`` before the first start
        (an integration whose config flow needs uploaded files, like MQTT's with a CA).
        Written at the store's first version: Home Assistant migrates it as it would a
        file of an older release."""
        storage = self.folder / ".storage"
        storage.mkdir(parents=True, exist_ok=True)
        path = storage / "core.config_entries"
        data = {
            "version": 1,
            "minor_version": 1,
            "key": "core.config_entries",
            "data": {"entries": [entry]},
        }
        path.write_text(json.dumps(data), encoding="utf-8")
