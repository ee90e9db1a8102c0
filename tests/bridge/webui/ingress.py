"""A stand-in for Supervisor's ingress proxy, on 127.0.0.1.

Supervisor serves an add-on's panel at ``/api/hassio_ingress/<token>/…``: it strips that
prefix, forwards the rest to the add-on's ingress port with ``X-Ingress-Path`` and the
person's ``X-Remote-User-*`` headers, and passes WebSockets through. This does the same over
real sockets, so the browser sees the pages exactly where Home Assistant would show them.
The bridge under test is told to trust 127.0.0.1 as Supervisor's address (``ingress_proxy``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

PREFIX = "/api/hassio_ingress/Xy9_test-token"
USER = {
    "X-Remote-User-Id": "c0ffee",
    "X-Remote-User-Name": "landlord",
    "X-Remote-User-Display-Name": "Li Landlord",
}
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}


@dataclass
class Ingress:
    url: str  # the panel's address, prefix included, without a trailing slash
    frontend: str  # a page embedding the panel as Home Assistant's frontend does (``?lang=``)


@contextlib.asynccontextmanager
async def ingress_proxy(target: str) -> AsyncIterator[Ingress]:
    """Serve ``target`` (``http://127.0.0.1:PORT``) under :data:`PREFIX` as Supervisor does."""
    session = aiohttp.ClientSession(auto_decompress=False)

    async def forward(request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        url = f"{target}/{tail}" + (f"?{request.query_string}" if request.query_string else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.update({"X-Ingress-Path": PREFIX, **USER})
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await _websocket(request, session, url, headers)
        async with session.request(
            request.method, url, headers=headers, data=await request.read(), allow_redirects=False
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=body, headers=kept)

    async def frontend(request: web.Request) -> web.Response:
        # Home Assistant's frontend around the panel: its <html lang> is the person's language.
        language = request.query.get("lang", "en")
        page = (
            f'<!doctype html><html lang="{language}"><body style="margin:0">'
            f'<iframe id="panel" src="{PREFIX}/" style="border:0;width:100vw;height:100vh">'
            "</iframe></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", frontend)
    app.router.add_route("*", PREFIX + "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Ingress(f"http://127.0.0.1:{port}{PREFIX}", f"http://127.0.0.1:{port}/")
    finally:
        await runner.cleanup()
        await session.close()


async def _websocket(
    request: web.Request, session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> web.WebSocketResponse:
    headers = {k: v for k, v in headers.items() if not k.lower().startswith("sec-websocket")}
    browser = web.WebSocketResponse()
    await browser.prepare(request)
    async with session.ws_connect(url, headers=headers) as bridge:

        async def down() -> None:
            async for message in bridge:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await browser.send_str(message.data)

        pump = asyncio.create_task(down())
        try:
            async for message in browser:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await bridge.send_str(message.data)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
    return browser
