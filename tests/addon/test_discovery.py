"""Supervisor discovery: the message, the POST, the retries, and tokens kept out of the log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from electrical_safety_bridge.announce.supervisor import (
    REDACTED,
    SERVICE,
    announce,
    discovery_payload,
    post_discovery,
    redact,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

API_TOKEN = "api-token-0123456789abcdef0123456789abcdef"
SUPERVISOR_TOKEN = "supervisor-token-fedcba9876543210fedcba98"
FAST: dict[str, Any] = {"first_delay": 0.01, "request_timeout": 5.0}

ServerFactory = Callable[..., Awaitable[TestServer]]


class FakeSupervisor:
    """``POST /discovery`` answering from a script of statuses, recording every request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((dict(request.headers), body))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status == 200:
            return web.json_response({"result": "ok", "data": {"uuid": "a1b2c3"}})
        # A careless server echoes what it was sent; none of it may reach the log.
        echo = f"bad request from {request.headers['Authorization']}: {body}"
        return web.json_response({"result": "error", "message": echo}, status=status)

    async def start(self, aiohttp_server: ServerFactory) -> str:
        app = web.Application()
        app.router.add_post("/discovery", self.handle)
        server = await aiohttp_server(app, host="127.0.0.1")
        return str(server.make_url("")).rstrip("/")


def bridge_payload() -> dict[str, Any]:
    """The message the tests post: a bridge on ``bridge-host``, port 8765, with its API token."""
    return discovery_payload("bridge-host", 8765, API_TOKEN)


PostToSupervisor = Callable[..., Awaitable[tuple[str | None, FakeSupervisor]]]


@pytest.fixture
def post_to_supervisor(
    aiohttp_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> PostToSupervisor:
    """Post :func:`bridge_payload` to a :class:`FakeSupervisor` answering ``statuses``.

    The result is what ``post_discovery`` returned and the supervisor, for its requests.
    Keyword arguments go to ``post_discovery``. The log is captured down to DEBUG, because a
    token must not leak at any level.
    """
    caplog.set_level(logging.DEBUG)

    async def post(*statuses: int, **options: Any) -> tuple[str | None, FakeSupervisor]:
        supervisor = FakeSupervisor(*statuses)
        url = await supervisor.start(aiohttp_server)
        result = await post_discovery(
            bridge_payload(), SUPERVISOR_TOKEN, base_url=url, **FAST, **options
        )
        return result, supervisor

    return post


def assert_no_token_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert API_TOKEN not in text
    assert SUPERVISOR_TOKEN not in text


def test_the_payload_names_the_service_and_how_to_reach_the_bridge() -> None:
    assert discovery_payload("1a2b3c4d-electrical-safety", 8765, API_TOKEN) == {
        "service": "electrical_safety",
        "config": {"host": "1a2b3c4d-electrical-safety", "port": 8765, "token": API_TOKEN},
    }
    assert SERVICE == "electrical_safety"


def test_redact_replaces_every_secret_and_ignores_empty_ones() -> None:
    text = f"Bearer {SUPERVISOR_TOKEN} sent {API_TOKEN} twice: {API_TOKEN}"
    assert redact(text, [API_TOKEN, None, "", SUPERVISOR_TOKEN]) == (
        f"Bearer {REDACTED} sent {REDACTED} twice: {REDACTED}"
    )


async def test_the_message_is_posted_with_the_supervisor_token(
    post_to_supervisor: PostToSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    uuid, supervisor = await post_to_supervisor(200)
    assert uuid == "a1b2c3"
    ((headers, body),) = supervisor.requests
    assert headers["Authorization"] == f"Bearer {SUPERVISOR_TOKEN}"
    assert body == bridge_payload()
    assert "Announced to Home Assistant" in caplog.text
    assert_no_token_logged(caplog)


async def test_a_failing_supervisor_is_retried_until_it_answers(
    post_to_supervisor: PostToSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    uuid, supervisor = await post_to_supervisor(500, 502, 200)
    assert uuid == "a1b2c3"
    assert len(supervisor.requests) == 3
    assert caplog.text.count("trying again") == 2
    assert_no_token_logged(caplog)


async def test_giving_up_logs_the_reason_with_the_tokens_redacted(
    post_to_supervisor: PostToSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    result, supervisor = await post_to_supervisor(500, attempts=3)
    assert result is None
    assert len(supervisor.requests) == 3
    assert "after 3 attempts" in caplog.text
    # The server echoed both tokens; the log keeps the reason and hides the secrets.
    assert f"bad request from Bearer {REDACTED}" in caplog.text
    assert_no_token_logged(caplog)


async def test_a_refusal_is_not_retried(
    post_to_supervisor: PostToSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    result, supervisor = await post_to_supervisor(403)
    assert result is None
    assert len(supervisor.requests) == 1
    assert "Supervisor refused the discovery message" in caplog.text
    assert "add the integration by hand" in caplog.text
    assert_no_token_logged(caplog)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_supervisor_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{closed_port()}"
    result = await post_discovery(
        bridge_payload(), SUPERVISOR_TOKEN, base_url=url, attempts=2, **FAST
    )
    assert result is None
    assert "Could not announce the bridge" in caplog.text
    assert_no_token_logged(caplog)


async def test_announce_posts_only_inside_the_add_on(
    aiohttp_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    supervisor = FakeSupervisor(200)
    url = await supervisor.start(aiohttp_server)
    assert await announce(8765, API_TOKEN, environ={}, base_url=url, **FAST) is None
    assert supervisor.requests == []

    environ = {"SUPERVISOR_TOKEN": SUPERVISOR_TOKEN}
    uuid = await announce(8765, API_TOKEN, environ=environ, base_url=url, host="addon-host", **FAST)
    assert uuid == "a1b2c3"
    ((headers, body),) = supervisor.requests
    assert headers["Authorization"] == f"Bearer {SUPERVISOR_TOKEN}"
    assert body == discovery_payload("addon-host", 8765, API_TOKEN)
    assert_no_token_logged(caplog)


async def test_announce_names_the_container_by_its_hostname(
    aiohttp_server: ServerFactory,
) -> None:
    supervisor = FakeSupervisor(200)
    url = await supervisor.start(aiohttp_server)
    environ = {"SUPERVISOR_TOKEN": SUPERVISOR_TOKEN}
    await announce(8765, API_TOKEN, environ=environ, base_url=url, **FAST)
    assert supervisor.requests[0][1]["config"]["host"] == socket.gethostname()
