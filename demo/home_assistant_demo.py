"""``make demo``: the bridge on a simulated bus, and Home Assistant with the integration set up.

Each runs from its own environment: the bridge from the bridge's (this script's interpreter,
``.venv-bridge``), Home Assistant from its own (``HASS_BIN``, ``.venv/bin/hass``); ``make demo``
builds both and sets ``HASS_BIN``.

1. The bridge runs ``run --demo``: four simulated detectors on a pseudo-terminal at 9600
   baud with wire timing, and a scripted story that starts once Home Assistant listens and
   repeats every five minutes (a leak that is tripped, acknowledged, fixed and closed again;
   an arc, an overheating cable and a broken CT wire left for the person who logs in).
2. Home Assistant runs ``hass --skip-pip`` on a prepared configuration (frontend, config,
   history, logbook, recorder; no ``default_config``, so nothing installs at run time).
3. On first start this script onboards Home Assistant through its own HTTP API, as a
   person would in the browser: it creates the owner, then adds the Electrical Safety
   integration through the real config flow with the bridge's host, port and token, and
   adds a dashboard of the detectors. The owner's credentials are printed and kept in the
   demo folder, so a second ``make demo`` reuses them.

Everything listens on 127.0.0.1 only. Ctrl-C stops both processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python demo/home_assistant_demo.py` has demo/, not the root
    sys.path.insert(0, str(ROOT))

from demo.dashboard import (  # noqa: E402
    dashboard_config,
    detectors_from_registry,
    entities_from_registry,
)

DOMAIN = "electrical_safety"
CLIENT_ID = "http://127.0.0.1/"  # onboarding needs a client id; any URL on the host will do
#: The variable naming Home Assistant's ``hass`` executable, in Home Assistant's environment.
HASS_BIN = "HASS_BIN"

CONFIGURATION = """\
# Written by demo/home_assistant_demo.py. A minimal configuration: no default_config, so
# Home Assistant starts without installing anything.
homeassistant:
  name: Electrical Safety demo
  unit_system: metric
  time_zone: Asia/Shanghai
  country: CN
  currency: CNY
  latitude: 31.23
  longitude: 121.47
  elevation: 10
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
history:
logbook:
recorder:
  purge_keep_days: 3
logger:
  default: warning
  logs:
    # The camera helper looks for libjpeg-turbo at import; the demo has no cameras.
    homeassistant.components.camera.img_util: critical
    custom_components.electrical_safety: info
"""


def _say(text: str) -> None:
    print(f"demo | {text}", flush=True)


async def _pipe(prefix: str, stream: asyncio.StreamReader | None) -> None:
    if stream is None:
        return
    while line := await stream.readline():
        print(f"{prefix} | {line.decode(errors='replace').rstrip()}", flush=True)


async def wait_http(session: aiohttp.ClientSession, url: str, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(url, allow_redirects=False) as response:
                if response.status < 500:
                    return
        if loop.time() > deadline:
            raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
        await asyncio.sleep(0.5)


def hass_executable() -> str:
    """Home Assistant's ``hass``, from its own environment (``HASS_BIN``)."""
    path = os.environ.get(HASS_BIN, "")
    hint = f"run `make demo`, which builds .venv and sets it, or set {HASS_BIN}=.venv/bin/hass"
    if not path:
        raise SystemExit(
            f"{HASS_BIN} is not set: Home Assistant runs from its own environment; {hint}"
        )
    if not os.access(path, os.X_OK):
        raise SystemExit(f"{HASS_BIN}={path} is not an executable; {hint}")
    return path


def prepare_config(folder: Path, port: int, configuration: str = CONFIGURATION) -> None:
    """A Home Assistant configuration folder: ``configuration`` (formatted with ``port``),
    onboarding settled but for the owner, and the integration linked in."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration.yaml").write_text(configuration.format(port=port), encoding="utf-8")
    storage = folder / ".storage"
    storage.mkdir(exist_ok=True)
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        # Every onboarding step but the owner is settled by configuration.yaml. Finishing
        # them over the API would also start the default integrations' config flows
        # (met, radio_browser, ...), whose packages --skip-pip does not install.
        onboarding.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["core_config", "analytics", "integration"]},
                }
            ),
            encoding="utf-8",
        )
    components = folder / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / DOMAIN
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_private_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(0o600)


def _read_token(data_dir: Path) -> str:
    return (data_dir / "bridge" / "api_token").read_text(encoding="utf-8").strip()


async def _tokens(session: aiohttp.ClientSession, base: str, code: str) -> str:
    async with session.post(
        f"{base}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
    ) as response:
        response.raise_for_status()
        return str((await response.json())["access_token"])


async def _login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(
        f"{base}/auth/login_flow",
        json={
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": CLIENT_ID,
        },
    ) as response:
        flow = await response.json()
    async with session.post(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": CLIENT_ID, "username": username, "password": password},
    ) as response:
        result = await response.json()
    return await _tokens(session, base, result["result"])


async def onboard(
    session: aiohttp.ClientSession, base: str, credentials: Path
) -> tuple[str, str, str]:
    """Owner credentials and an access token, creating the owner on first start."""
    async with session.get(f"{base}/api/onboarding") as response:
        # Once onboarding is complete, Home Assistant no longer serves it (404).
        done = response.status == 404
        steps = {} if done else {s["step"]: s["done"] for s in await response.json()}
    if done or steps.get("user"):
        saved = await asyncio.to_thread(_read_json, credentials)
        token = await _login(session, base, saved["username"], saved["password"])
        return saved["username"], saved["password"], token
    username, password = "owner", secrets.token_urlsafe(9)
    async with session.post(
        f"{base}/api/onboarding/users",
        json={
            "client_id": CLIENT_ID,
            "name": "Demo owner",
            "username": username,
            "password": password,
            "language": "en",
        },
    ) as response:
        response.raise_for_status()
        code = (await response.json())["auth_code"]
    await asyncio.to_thread(
        _write_private_json, credentials, {"username": username, "password": password}
    )
    token = await _tokens(session, base, code)
    return username, password, token


async def add_integration(
    session: aiohttp.ClientSession, base: str, token: str, bridge: dict[str, Any]
) -> None:
    """Add the integration through its real config flow, unless it is already there."""
    auth = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{base}/api/config/config_entries/entry", headers=auth) as response:
        entries = await response.json()
    if any(entry["domain"] == DOMAIN for entry in entries):
        return
    async with session.post(
        f"{base}/api/config/config_entries/flow",
        json={"handler": DOMAIN, "show_advanced_options": False},
        headers=auth,
    ) as response:
        step = await response.json()
    # Walk the flow: fill whatever it asks for from what the bridge told us.
    for _ in range(5):
        if step.get("type") != "form":
            break
        if step.get("step_id") == "user" and any(
            field["name"] == "next_step_id" for field in step.get("data_schema", [])
        ):
            answer: dict[str, Any] = {"next_step_id": "manual"}
        else:
            names = {field["name"] for field in step.get("data_schema", [])}
            answer = {k: v for k, v in bridge.items() if k in names}
        async with session.post(
            f"{base}/api/config/config_entries/flow/{step['flow_id']}", json=answer, headers=auth
        ) as response:
            step = await response.json()
    if step.get("type") != "create_entry":
        raise RuntimeError(f"the config flow did not finish: {step}")
    _say(f"integration added: {step.get('title')}")


class HomeAssistantSocket:
    """Home Assistant's WebSocket API, authenticated with an access token."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = iter(range(1, 1_000_000))

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, session: aiohttp.ClientSession, base: str, token: str
    ) -> AsyncIterator[HomeAssistantSocket]:
        """Open and authenticate; closed on leaving."""
        async with session.ws_connect(f"{base}/api/websocket") as socket:
            await socket.receive_json(timeout=30)  # auth_required
            await socket.send_json({"type": "auth", "access_token": token})
            answer = await socket.receive_json(timeout=30)
            if answer.get("type") != "auth_ok":
                raise RuntimeError(f"Home Assistant refused the demo's token: {answer}")
            yield cls(socket)

    async def call(self, kind: str, **fields: Any) -> Any:
        """One command and its result (``success`` checked)."""
        message_id = next(self._ids)
        await self._socket.send_json({"id": message_id, "type": kind, **fields})
        while True:
            answer = await self._socket.receive_json(timeout=60)
            if answer.get("id") == message_id and answer.get("type") == "result":
                if not answer.get("success"):
                    raise RuntimeError(f"{kind} failed: {answer.get('error')}")
                return answer.get("result")


DASHBOARD_URL = "electrical-safety"


async def add_dashboard(session: aiohttp.ClientSession, base: str, token: str) -> str:
    """The alarm-first dashboard (demo/dashboard.py), made from the entities the integration
    has now, saved as the "Electrical safety" dashboard; returns its address."""
    async with HomeAssistantSocket.connect(session, base, token) as ha:
        entities = entities_from_registry(await ha.call("config/entity_registry/list"))
        for _ in range(300):
            if any(e.domain == "switch" for e in entities):
                break  # the platforms are set up
            await asyncio.sleep(0.2)
            entities = entities_from_registry(await ha.call("config/entity_registry/list"))
        entities = entities_from_registry(
            await ha.call("config/entity_registry/list"), await ha.call("get_states")
        )
        detectors = detectors_from_registry(
            await ha.call("config/device_registry/list"),
            await ha.call("config/area_registry/list"),
        )
        dashboards = await ha.call("lovelace/dashboards/list")
        if not any(d.get("url_path") == DASHBOARD_URL for d in dashboards):
            await ha.call(
                "lovelace/dashboards/create",
                url_path=DASHBOARD_URL,
                title="Electrical safety",
                icon="mdi:flash-alert",
                show_in_sidebar=True,
                require_admin=False,
                mode="storage",
            )
        await ha.call(
            "lovelace/config/save",
            url_path=DASHBOARD_URL,
            config=dashboard_config(entities, detectors, title="Electrical safety"),
        )
    return f"{base}/{DASHBOARD_URL}/safety"


async def run(data_dir: Path, ha_port: int, bridge_port: int, duration: float) -> int:
    """Start both processes, set Home Assistant up once, and wait."""
    hass_bin = hass_executable()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
    bridge = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "electrical_safety_bridge",
        "run",
        "--demo",
        "--data-dir",
        str(data_dir / "bridge"),
        "--api-port",
        str(bridge_port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    pipes = [asyncio.create_task(_pipe("bridge", bridge.stdout))]
    config_dir = data_dir / "homeassistant"
    hass = await asyncio.create_subprocess_exec(
        hass_bin,
        "-c",
        str(config_dir),
        "--skip-pip",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    pipes.append(asyncio.create_task(_pipe("hass  ", hass.stdout)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base = f"http://127.0.0.1:{ha_port}"
    try:
        async with aiohttp.ClientSession() as session:
            await wait_http(session, f"http://127.0.0.1:{bridge_port}/api/v1/health", 60)
            token = await asyncio.to_thread(_read_token, data_dir)
            _say("bridge is up; starting Home Assistant (well under a minute)")
            await wait_http(session, f"{base}/api/onboarding", 180)
            username, password, access = await onboard(
                session, base, data_dir / "owner_credentials.json"
            )
            await add_integration(
                session,
                base,
                access,
                {"host": "127.0.0.1", "port": bridge_port, "token": token},
            )
            dashboard = await add_dashboard(session, base, access)
        _say(f"open {dashboard} and log in as '{username}' with password '{password}'")
        _say(
            f"the bridge's own web UI (bus health, register explorer, profiles, reports) is at"
            f" http://127.0.0.1:{bridge_port}/ : log in with the token in"
            f" {data_dir / 'bridge' / 'api_token'}"
        )
        _say(
            "the story starts now and repeats every 5 minutes: a kitchen leak is tripped,"
            " acknowledged, fixed and closed again; then an arc, a hot cable and a broken CT wire"
            " wait for you on the dashboard. Ctrl-C to stop"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration or None)
    finally:
        for process in (hass, bridge):
            if process.returncode is None:
                process.terminate()
        for process in (hass, bridge):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=30)
            if process.returncode is None:
                process.kill()
        for pipe in pipes:
            pipe.cancel()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", default=str(ROOT / "demo-data"))
    parser.add_argument("--ha-port", type=int, default=8123)
    parser.add_argument("--bridge-port", type=int, default=8765)
    parser.add_argument("--duration", type=float, default=0.0, help="0: until Ctrl-C")
    args = parser.parse_args(argv)
    prepare_config(Path(args.data_dir) / "homeassistant", args.ha_port)
    return asyncio.run(run(Path(args.data_dir), args.ha_port, args.bridge_port, args.duration))


if __name__ == "__main__":
    raise SystemExit(main())
