"""Who may see the web UI, and who they are when they act.

Two ways in, nothing else:

- **Ingress.** Home Assistant's Supervisor proxies the add-on's panel and says who the person
  is in ``X-Remote-User-*`` headers, and where the panel lives in ``X-Ingress-Path``. Those
  headers are believed only from the Supervisor's own address (``172.30.32.2`` on the
  add-ons' network, which no other container can take); the same headers from anywhere else
  are refused outright, never taken as a login.
- **Standalone.** The person logs in once with the bridge's API token (``token`` prints it);
  the bridge answers with a random session id in an HttpOnly, SameSite=Strict cookie. The
  session lives in memory only: a restart asks for the token again.

Every POST carries a CSRF token (``X-CSRF-Token``, or the ``csrf`` form field) derived from the
session or the ingress user with a key made at start, so a page of another site can make the
browser send nothing the bridge acts on. Tokens, session ids and cookies never reach a log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

from ..announce.supervisor import SUPERVISOR_ADDRESS
from ..api.auth import token_matches
from ..log_filters import RateLimitedReport

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "esb_session"
SESSION_LIFETIME_S = 7 * 24 * 3600.0
CSRF_HEADER = "X-CSRF-Token"
INGRESS_PATH = "X-Ingress-Path"
REMOTE_USER_ID = "X-Remote-User-Id"
REMOTE_USER_NAME = "X-Remote-User-Name"
REMOTE_USER_DISPLAY_NAME = "X-Remote-User-Display-Name"
#: Who the bridge records for a step taken after a token login (no person is known).
TOKEN_VISITOR = "web UI (token)"
#: The source a step taken through the web UI is recorded with (``Actor.source``).
WEB_UI_SOURCE = "web_ui"
# Supervisor's ingress path is /api/hassio_ingress/<token>; any plain path is accepted, but
# nothing that could leave an attribute or a URL when written into a page.
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+)+")
_MAX_WHO = 100


class Refusal(StrEnum):
    """Why a request gets nothing."""

    #: Neither trusted ingress headers nor a session: log in.
    LOGIN_NEEDED = "login_needed"
    #: Ingress headers from an address that is not the Supervisor's, or without a user.
    UNTRUSTED_INGRESS = "untrusted_ingress"


@dataclass(frozen=True)
class Visitor:
    """A person let in: how they are recorded, and the URL prefix of their pages."""

    who: str
    prefix: str
    ingress: bool
    csrf: str
    session: str | None = None


class Access:
    """Decides who a request comes from; holds the standalone sessions."""

    def __init__(
        self,
        token: Callable[[], str],
        *,
        ingress_proxy: str = SUPERVISOR_ADDRESS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self.ingress_proxy = ingress_proxy
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._sessions: dict[str, float] = {}
        self.refusals = RateLimitedReport()

    def visitor(self, request: web.Request) -> Visitor | Refusal:
        """The person behind ``request``, or why it gets nothing."""
        if INGRESS_PATH in request.headers:
            return self._ingress_visitor(request)
        session = request.cookies.get(SESSION_COOKIE)
        if session is not None and self._session_valid(session):
            return Visitor(TOKEN_VISITOR, "", False, self._csrf(f"session:{session}"), session)
        return Refusal.LOGIN_NEEDED

    def _ingress_visitor(self, request: web.Request) -> Visitor | Refusal:
        headers = request.headers
        prefix = headers.get(INGRESS_PATH, "").rstrip("/")
        user_id = headers.get(REMOTE_USER_ID, "").strip()
        if request.remote != self.ingress_proxy or not user_id:
            self.note_refusal(
                request,
                "ingress headers from an address that is not Supervisor's"
                if request.remote != self.ingress_proxy
                else "an ingress request without a user",
            )
            return Refusal.UNTRUSTED_INGRESS
        if prefix and _PREFIX.fullmatch(prefix) is None:
            self.note_refusal(request, "an ingress path that is not a plain path")
            return Refusal.UNTRUSTED_INGRESS
        name = (
            headers.get(REMOTE_USER_DISPLAY_NAME, "").strip()
            or headers.get(REMOTE_USER_NAME, "").strip()
            or user_id
        )
        return Visitor(name[:_MAX_WHO], prefix, True, self._csrf(f"user:{user_id}"))

    def note_refusal(self, request: web.Request, what: str) -> None:
        """Log a refused request, at most once per interval (never its headers)."""
        peer = request.remote or "unknown"
        held_back = self.refusals.note(peer)
        if held_back is not None:
            _LOGGER.warning(
                "web UI refused %s from %s%s",
                what,
                peer,
                f" (and {held_back})" if held_back else "",
            )

    # ------------------------------------------------------------------ sessions

    def log_in(self, presented: str) -> str | None:
        """A new session id when ``presented`` is the bridge's token; else None."""
        if not token_matches(self._token(), presented.strip()):
            return None
        now = self._clock()
        self._sessions = {s: end for s, end in self._sessions.items() if end > now}
        session = secrets.token_urlsafe(32)
        self._sessions[session] = now + SESSION_LIFETIME_S
        return session

    def log_out(self, session: str | None) -> None:
        """End a session (nothing happens for one that is not there)."""
        if session is not None:
            self._sessions.pop(session, None)

    def _session_valid(self, session: str) -> bool:
        end = self._sessions.get(session)
        if end is None:
            return False
        if end <= self._clock():
            del self._sessions[session]
            return False
        return True

    # ------------------------------------------------------------------ CSRF

    def _csrf(self, identity: str) -> str:
        return hmac.new(self._key, identity.encode("utf-8"), hashlib.sha256).hexdigest()

    @staticmethod
    def csrf_matches(visitor: Visitor, presented: str | None) -> bool:
        """Whether a POST carries the visitor's CSRF token (compared in constant time)."""
        return presented is not None and hmac.compare_digest(
            visitor.csrf.encode("utf-8"), presented.encode("utf-8")
        )
