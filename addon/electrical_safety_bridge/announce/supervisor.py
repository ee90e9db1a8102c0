"""Announce the bridge to Home Assistant through Supervisor's discovery API.

Inside the add-on, the bridge POSTs ``{host, port, token}`` to ``http://supervisor/discovery``
once its API is listening. Supervisor hands the message to Home Assistant Core, which starts
the integration's ``hassio`` config flow; only Core can read a message's config, so it is the
place for the API token. Discovery is a convenience: when it fails the bridge keeps running
and the person adds the integration by hand (``token`` prints what to paste).

Tokens never reach the log: each message is scrubbed of both the API token and Supervisor's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

SERVICE = "electrical_safety"
SUPERVISOR_URL = "http://supervisor"
#: Supervisor's address on the add-ons' network: ingress requests come from here only.
SUPERVISOR_ADDRESS = "172.30.32.2"
REDACTED = "**REDACTED**"

_LOGGER = logging.getLogger(__name__)
# Supervisor answers these when the request itself is wrong; trying again cannot help.
_PERMANENT = {
    400: "rejected the discovery message as malformed",
    401: "did not accept the add-on's token",
    403: "refused the discovery message (config.yaml must list the service under discovery)",
}


def discovery_payload(host: str, port: int, token: str) -> dict[str, Any]:
    """The discovery message: how Home Assistant Core reaches the bridge's API."""
    return {"service": SERVICE, "config": {"host": host, "port": port, "token": token}}


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret replaced by a marker, longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


async def post_discovery(
    payload: Mapping[str, Any],
    supervisor_token: str,
    *,
    base_url: str = SUPERVISOR_URL,
    attempts: int = 5,
    first_delay: float = 2.0,
    request_timeout: float = 10.0,
) -> str | None:
    """POST the message, retrying with doubling delays; its uuid, or None after giving up.

    Never raises for a network or Supervisor failure: each one is logged, scrubbed of the
    tokens, and the caller carries on.
    """
    config = payload.get("config")
    secrets = [supervisor_token, config.get("token") if isinstance(config, Mapping) else None]
    headers = {"Authorization": f"Bearer {supervisor_token}"}
    url = f"{base_url.rstrip('/')}/discovery"
    delay = first_delay
    problem = "not attempted"
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for attempt in range(1, attempts + 1):
            try:
                async with session.post(url, json=dict(payload), headers=headers) as response:
                    body = await response.text()
                    if response.status == 200:
                        answer = await response.json(content_type=None)
                        data = answer.get("data") if isinstance(answer, dict) else None
                        uuid = str(data.get("uuid", "")) if isinstance(data, dict) else ""
                        _LOGGER.info("Announced to Home Assistant through Supervisor (%s)", uuid)
                        return uuid
                    problem = f"HTTP {response.status}: {body.strip()[:300]}"
                    if response.status in _PERMANENT:
                        _LOGGER.error(
                            "Supervisor %s: %s; add the integration by hand with the API token",
                            _PERMANENT[response.status],
                            redact(problem, secrets),
                        )
                        return None
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < attempts:
                _LOGGER.warning(
                    "Discovery attempt %d of %d failed (%s); trying again in %.1f s",
                    attempt,
                    attempts,
                    redact(problem, secrets),
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
    _LOGGER.error(
        "Could not announce the bridge to Home Assistant after %d attempts (%s); add the "
        "integration by hand with the API token",
        attempts,
        redact(problem, secrets),
    )
    return None


async def announce(
    api_port: int,
    api_token: str,
    *,
    environ: Mapping[str, str] = os.environ,
    base_url: str = SUPERVISOR_URL,
    host: str | None = None,
    attempts: int = 5,
    first_delay: float = 2.0,
    request_timeout: float = 10.0,
) -> str | None:
    """Announce the bridge when it runs as an add-on (``SUPERVISOR_TOKEN`` set); else None.

    ``host`` defaults to the container's hostname, which Supervisor's network resolves for
    Home Assistant Core.
    """
    supervisor_token = environ.get("SUPERVISOR_TOKEN")
    if not supervisor_token:
        _LOGGER.debug("Not running as a Home Assistant add-on; no discovery message")
        return None
    payload = discovery_payload(host or socket.gethostname(), api_port, api_token)
    return await post_discovery(
        payload,
        supervisor_token,
        base_url=base_url,
        attempts=attempts,
        first_delay=first_delay,
        request_timeout=request_timeout,
    )
