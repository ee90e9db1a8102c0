"""The demo's story, played fast on the real demo line (pseudo-terminal, wire timing): it
waits for Home Assistant to listen, then leak → trip → refused close → acknowledge →
eliminate → close."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from unittest.mock import patch

import aiohttp
import pytest

from electrical_safety_bridge import demo

from ..integration.rig import free_port
from ..waiting import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_the_story_starts_when_a_client_listens_and_ends_with_the_breaker_closed(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    port = free_port()
    with patch.object(demo, "STORY_PACE", 0.4), patch.object(demo, "STORY_START_ALONE", 60.0):
        task = asyncio.create_task(demo.run_demo(tmp_path, api_port=port, table_every=600, out=out))
        try:
            token_file = tmp_path / "api_token"
            await wait_for(token_file.exists, timeout=30, what="the bridge's token")
            await wait_for(lambda: "API http" in out.getvalue(), timeout=30, what="the API")
            assert "story: a leak" not in out.getvalue()  # nobody listens yet
            token = token_file.read_text(encoding="utf-8").strip()
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(
                    f"http://127.0.0.1:{port}/api/v1/ws",
                    headers={"Authorization": f"Bearer {token}"},
                ),
            ):
                await wait_for(
                    lambda: "Home Assistant is listening" in out.getvalue(),
                    timeout=10,
                    what="the story to begin",
                )
                await wait_for(
                    lambda: "breaker closes again" in out.getvalue(),
                    timeout=60,
                    what="the kitchen story to end",
                )
                await wait_for(
                    lambda: "close: confirmed" in out.getvalue(), timeout=20, what="the close"
                )
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    text = out.getvalue()
    steps = [
        "ALARM RAISED",
        "trip: confirmed",
        "close: refused",
        "HAZARD ACKNOWLEDGED",
        "HAZARD ELIMINATED",
        "close: confirmed",
    ]
    missing = [step for step in steps if step not in text]
    assert missing == [], text
    order = [text.index(step) for step in steps]
    assert order == sorted(order), text


def test_the_demo_site_is_located_and_every_detector_installed(tmp_path: Path) -> None:
    config = demo.demo_config(tmp_path, "/dev/null", "127.0.0.1", 0)
    site = config.site.site("demo-bridge")
    assert (site.id, site.region, site.supply_system) == (
        "demo-flat",
        "jp",
        "single_phase_3wire",
    )
    assert site.latitude is not None and site.longitude is not None and site.contracts
    (bus,) = config.buses
    for spec in bus.devices:
        assert spec.installation is not None, spec.id
        # The room the installation names is the one Home Assistant is given as the area.
        assert spec.installation.room == spec.area, spec.id


def test_the_pace_comes_from_the_environment_and_a_bad_one_is_named() -> None:
    assert demo.story_pace({}) == demo.STORY_PACE
    assert demo.story_pace({demo.STORY_PACE_VARIABLE: "0.5"}) == 0.5
    for bad in ("fast", "0", "-1", "nan"):
        with pytest.raises(ValueError, match=f"{demo.STORY_PACE_VARIABLE}='{bad}'"):
            demo.story_pace({demo.STORY_PACE_VARIABLE: bad})
