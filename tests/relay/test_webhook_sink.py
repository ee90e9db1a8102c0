"""The webhook sink against local aiohttp receivers: signatures, retries, Retry-After, 410."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.relay.webhook_sink import parse_retry_after

from .conftest import Rigs
from .helpers import alarm, offline, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def verify_standard_webhook(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """Standard Webhooks verification, written from the spec, independent of the bridge."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A landlord's webhook endpoint; ``answer`` picks each response (default 200)."""

    answer: Callable[[Hit, int], web.Response] | None = None
    hits: list[Hit] = field(default_factory=list)
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        hit = Hit(dict(request.headers), await request.read(), time.monotonic())
        self.hits.append(hit)
        if self.answer is not None:
            return self.answer(hit, len(self.hits))
        return web.Response(status=204)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    def events(self) -> list[Hit]:
        return [h for h in self.hits if h.json()["kind"] != "heartbeat"]


@pytest.fixture
async def receivers(aiohttp_server: Any) -> Callable[..., Any]:
    async def make(answer: Callable[[Hit, int], web.Response] | None = None) -> Receiver:
        receiver = Receiver(answer)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        receiver.server = await aiohttp_server(app)
        return receiver

    return make


async def test_signed_deliveries_verify_and_each_endpoint_gets_its_filter(
    receivers: Any, rigs: Rigs
) -> None:
    everything, alarms_only = await receivers(), await receivers()
    secret_a, secret_b = new_secret(), new_secret()
    rig = await rigs.make(
        {
            "webhooks": [
                {"id": "all", "url": everything.url, "secret": secret_a},
                {
                    "id": "alarms",
                    "url": alarms_only.url,
                    "secret": secret_b,
                    "events": ["alarm_raised"],
                },
            ]
        }
    )
    sent = []
    for n in range(20):
        sent.append(await rig.emit(alarm(f"d{n % 2}", n)))
        if n % 4 == 0:
            sent.append(await rig.emit(offline("d0", n)))
    alarms = [s for s in sent if s.type is EventType.ALARM_RAISED]
    await wait_for(lambda: len(everything.events()) >= len(sent), what="all to 'all'")
    await wait_for(lambda: len(alarms_only.events()) >= len(alarms), what="alarms to 'alarms'")
    print(
        f"sent {len(sent)} events ({len(alarms)} alarms); endpoint 'all' received"
        f" {len(everything.events())}, endpoint 'alarms' received {len(alarms_only.events())}"
    )
    got = [h.json() for h in everything.events()]
    assert sorted(e["id"] for e in got) == sorted(s.id for s in sent)
    # Alarms go first, so each class keeps the store's order (and every body has its seq).
    for type_ in ("alarm_raised", "device_offline"):
        assert [e["id"] for e in got if e["type"] == type_] == [
            s.id for s in sent if s.type.value == type_
        ]
    assert [h.json()["id"] for h in alarms_only.events()] == [s.id for s in alarms]
    for receiver, secret, other in (
        (everything, secret_a, secret_b),
        (alarms_only, secret_b, secret_a),
    ):
        for hit in receiver.hits:
            assert verify_standard_webhook(secret, hit.headers, hit.body)
            assert not verify_standard_webhook(other, hit.headers, hit.body)
            assert hit.headers["webhook-id"] == hit.json()["id"]
            assert hit.headers["Content-Type"] == "application/json"
            # A tampered body no longer verifies.
            assert not verify_standard_webhook(secret, hit.headers, hit.body + b" ")
    # The heartbeat goes to the endpoint whose filter takes everything, signed too.
    assert any(h.json()["kind"] == "heartbeat" for h in everything.hits)
    assert all(h.json()["kind"] != "heartbeat" for h in alarms_only.hits)


async def test_failures_are_retried_with_backoff_keeping_the_id(receivers: Any, rigs: Rigs) -> None:
    def flaky(hit: Hit, count: int) -> web.Response:
        events = [h for h in receiver.hits if h.json()["kind"] != "heartbeat"]
        if hit.json()["kind"] != "heartbeat" and len(events) <= 3:
            return web.Response(status=(500, 503, 408)[len(events) - 1])
        return web.Response(status=200)

    receiver = await receivers(flaky)
    rig = await rigs.make(
        {
            "webhooks": [{"id": "hook", "url": receiver.url, "secret": new_secret()}],
            "retry_min": 0.05,
            "retry_max": 0.2,
        }
    )
    sent = [await rig.emit(alarm("d1", n)) for n in range(5)]
    await wait_for(
        lambda: (
            len({h.json()["id"] for h in receiver.events()}) >= len(sent)
            and len(receiver.events()) >= len(sent) + 3
        ),
        what="all delivered after the failures",
    )
    hits = receiver.events()
    print(f"sent {len(sent)}, {len(hits)} requests, {len(hits) - len(sent)} retries")
    first = hits[:4]
    assert {h.headers["webhook-id"] for h in first} == {sent[0].id}
    # Backoff with jitter: each wait is at least half the current ceiling.
    gaps = [b.at - a.at for a, b in itertools.pairwise(first)]
    assert all(gap >= 0.02 for gap in gaps), gaps
    # Later events waited behind the failing one: order kept.
    assert [h.headers["webhook-id"] for h in hits[3:]] == [s.id for s in sent]
    status = await rig.relay.status()
    assert status["sinks"]["webhook:hook"]["failures"] == 3
    await wait_for(lambda: rig.relay.outbox.sync.counts() == {}, what="outbox empty")


async def test_retry_after_is_honoured(receivers: Any, rigs: Rigs) -> None:
    def busy_once(hit: Hit, count: int) -> web.Response:
        if len(receiver.events()) == 1 and hit.json()["kind"] != "heartbeat":
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(status=200)

    receiver = await receivers(busy_once)
    rig = await rigs.make(
        {
            "webhooks": [
                {"id": "hook", "url": receiver.url, "secret": new_secret(), "events": ["event"]}
            ],
            # Without Retry-After the next attempt would be 15-30 s away.
            "retry_min": 30,
            "retry_max": 60,
        }
    )
    stored = await rig.emit(alarm("d1", 0))
    await wait_for(lambda: len(receiver.events()) >= 2, timeout=10, what="the retry")
    first, second = receiver.events()[:2]
    waited = second.at - first.at
    print(f"sent 1, received {len(receiver.events())} requests; retried after {waited:.2f} s")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == stored.id
    assert 0.9 <= waited < 5


def test_retry_after_forms() -> None:
    now = time.time()
    assert parse_retry_after("120", now) == 120
    when = datetime.fromtimestamp(now, UTC) + timedelta(seconds=30)
    assert parse_retry_after(format_datetime(when, usegmt=True), now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_410_stops_that_endpoint_only_and_is_surfaced(receivers: Any, rigs: Rigs) -> None:
    gone = await receivers(lambda hit, count: web.Response(status=410))
    fine = await receivers()
    section = {
        "webhooks": [
            {"id": "gone", "url": gone.url, "secret": new_secret(), "events": ["event"]},
            {"id": "fine", "url": fine.url, "secret": new_secret(), "events": ["event"]},
        ]
    }
    rig = await rigs.make(section)
    sent = [await rig.emit(alarm("d1", n)) for n in range(3)]
    await wait_for(lambda: rig.relay.webhooks[0].disabled is not None, what="disabled on 410")
    # It is surfaced: an event in the store (which the other sinks relay), the status, the log.
    await wait_for(lambda: len(fine.events()) >= len(sent) + 1, what="fine gets all + notice")
    notices = [e for e in await rig.stored() if e.type is EventType.RELAY_ENDPOINT_DISABLED]
    assert len(notices) == 1
    assert notices[0].data["endpoint"] == "gone"
    assert "410" in notices[0].data["reason"]
    status = await rig.relay.status()
    assert "410" in status["sinks"]["webhook:gone"]["disabled"]
    assert "webhook:gone" not in status["pending"]
    more = [await rig.emit(alarm("d1", n)) for n in range(3, 6)]
    await wait_for(lambda: len(fine.events()) >= len(sent) + 1 + len(more))
    print(
        f"sent {len(sent) + len(more)}; 'gone' got {len(gone.hits)} request(s),"
        f" 'fine' got {len(fine.events())}"
    )
    assert len(gone.hits) == 1  # one 410, then never again

    # It stays disabled across a restart (same url).
    await rigs.close(rig)
    again = await rigs.make(section)
    await again.emit(alarm("d1", 99))
    await wait_for(lambda: len(fine.events()) >= len(sent) + len(more) + 2)
    assert len(gone.hits) == 1
    assert again.relay.webhooks[0].disabled
