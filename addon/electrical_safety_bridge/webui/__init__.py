"""The bridge's web UI: Overview, Devices, Events and Reports, in en / zh-Hans / ja.

Served by the API's aiohttp application at ``/`` (:func:`mount`), so that Supervisor's
ingress, which proxies the add-on's root and names its own path prefix in
``X-Ingress-Path``, and a standalone browser see the same pages. Every link and asset URL
is written with that prefix. Who may enter is decided in :mod:`.access`; the pages are
server-rendered (:mod:`.views`) and kept live by one small script over the WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from ..announce.supervisor import SUPERVISOR_ADDRESS
from ..api.backend import BridgeBackend
from . import editor, explorer_views, views
from .access import Access

__all__ = ["SUPERVISOR_ADDRESS", "mount"]

_STATIC = __path__[0] + "/static"


def mount(
    app: web.Application,
    bridge: BridgeBackend,
    *,
    websocket: views.Handler,
    events_csv: views.Handler,
    report: views.Handler,
    ingress_proxy: str = SUPERVISOR_ADDRESS,
) -> None:
    """Add the web UI's routes to the API's ``app``.

    ``websocket``, ``events_csv`` and ``report`` are the API's own handlers, served here
    behind the web UI's login instead of the bearer token (a browser cannot send a header on
    a WebSocket, nor an iframe or a download link).
    ``ingress_proxy`` is the one address whose ingress headers are believed.
    """
    ui = views.WebUi(bridge, Access(lambda: bridge.token, ingress_proxy=ingress_proxy))
    app[views.WEB_UI] = ui

    async def looking(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(ui.keep_looking(), name="web UI bus rates")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(looking)
    router = app.router
    router.add_get("/", views.overview)
    router.add_get("/devices", views.devices)
    router.add_get("/events", views.events)
    router.add_get("/events.csv", views.guarded(lambda r, v: events_csv(r)))
    router.add_get("/reports", views.reports)
    router.add_get("/report", views.guarded(lambda r, v: report(r)))
    router.add_get("/ws", views.guarded(lambda r, v: websocket(r)))
    router.add_get("/login", views.login_form)
    router.add_post("/login", views.log_in)
    router.add_post("/logout", views.log_out)
    router.add_post("/action/alarms/{alarm_id}/acknowledge", views.acknowledge_alarm)
    router.add_post("/action/hazards/{hazard_id}/acknowledge", views.acknowledge_hazard)
    router.add_post("/action/devices/{device_id}/command", views.command)
    router.add_post("/action/devices/{device_id}/setpoint", views.write_setpoint)
    router.add_post("/action/devices/{device_id}/lockout", views.lock_out)
    router.add_post("/action/devices/{device_id}/lockout/lift", views.lift_lock_out)
    router.add_post("/action/hazards/{hazard_id}/eliminate", views.eliminate_hazard)
    explorer_views.mount(app)
    editor.add_routes(app, bridge)
    router.add_static("/static", _STATIC, append_version=False)
