"""Who gets the web UI: trusted ingress, a token login, and nobody else (real sockets).

These need no browser: each request is made by hand, as an intruder would make it.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from electrical_safety_bridge.announce.supervisor import SUPERVISOR_ADDRESS

from .conftest import LiveBridge
from .ingress import USER


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _request(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def _log_in(live: LiveBridge, token: str) -> tuple[int, dict[str, str], str]:
    return _request(
        live.url + "/login", data=urllib.parse.urlencode({"token": token}).encode("ascii")
    )


def test_without_a_session_pages_send_to_the_login_and_the_rest_is_refused(
    live: LiveBridge,
) -> None:
    for page in ("/devices", "/reports"):
        status, headers, _ = _request(live.url + page)
        assert (status, headers["Location"]) == (303, "/login")
    for path in ("/?part=alarms", "/events.csv", "/ws", "/report?format=json"):
        status, _, body = _request(live.url + path)
        assert status == 401, path
        assert "arcm" not in body.lower()
    for action in (
        "/action/alarms/x/acknowledge",
        "/action/hazards/x/eliminate",
        "/action/devices/arcm/setpoint",
        "/action/devices/arcm/lockout",
        "/action/devices/arcm/lockout/lift",
    ):
        status, _, _ = _request(live.url + action, data=b"")
        assert status == 401, action
    # The API itself still wants its bearer token.
    status, _, _ = _request(live.url + "/api/v1/devices")
    assert status == 401


def test_a_wrong_token_is_refused_and_a_right_one_opens_a_strict_session(
    live: LiveBridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, headers, body = _log_in(live, "not-the-token")
    assert status == 401 and "That is not the bridge" in body
    assert "Set-Cookie" not in headers
    status, headers, _ = _log_in(live, live.bridge.token)
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    session = re.match(r"esb_session=([^;]+)", cookie)
    assert session is not None
    status, _, page = _request(live.url + "/", headers={"Cookie": session[0]})
    assert status == 200 and "ARCM" not in page  # the overview: no alarm yet
    assert "Buses" in page
    # A POST without the page's CSRF token does nothing, even with the session.
    live.run(lambda: live.sim.unit(1).set("residual_current", 480))
    live.wait(lambda: bool(live.bridge.alarms.open_alarms("arcm")), "the alarm")
    (alarm,) = live.run(lambda: live.bridge.alarms.open_alarms("arcm"))
    status, _, _ = _request(
        f"{live.url}/action/alarms/{alarm.id}/acknowledge",
        data=b"",
        headers={"Cookie": session[0]},
    )
    assert status == 403
    assert not live.run(lambda: live.bridge.alarms.open_alarms("arcm"))[0].acknowledged
    # Neither the token nor the session id ever reached the log.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert live.bridge.token not in logged and session[1] not in logged
    assert "not-the-token" not in logged


def test_ingress_headers_from_an_address_that_is_not_supervisors_get_nothing(
    tmp_path: Path, socket_enabled: None
) -> None:
    # This bridge trusts only Supervisor's real address; the stand-in calls from 127.0.0.1.
    with LiveBridge(tmp_path, ingress_proxy_address=SUPERVISOR_ADDRESS) as live:
        assert live.ingress is not None
        for path in ("/", "/devices", "/events.csv", "/ws", "/reports", "/report?format=json"):
            status, _, body = _request(live.ingress.url + path)
            assert status == 403, path
            assert "ARCM" not in body
        # The same headers sent straight to the bridge are refused as well.
        status, _, _ = _request(
            live.url + "/", headers={"X-Ingress-Path": "/api/hassio_ingress/x", **USER}
        )
        assert status == 403


def test_ingress_without_a_user_is_refused(live: LiveBridge) -> None:
    status, _, _ = _request(live.url + "/", headers={"X-Ingress-Path": "/api/hassio_ingress/x"})
    assert status == 403
    status, _, _ = _request(live.url + "/", headers={"X-Ingress-Path": '/x"><script>', **USER})
    assert status == 403
    status, _, page = _request(
        live.url + "/", headers={"X-Ingress-Path": "/api/hassio_ingress/x", **USER}
    )
    assert status == 200 and 'href="/api/hassio_ingress/x/devices"' in page
