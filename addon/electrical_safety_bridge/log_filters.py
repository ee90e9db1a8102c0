"""Log filters that keep secrets and floods out of the bridge's log.

The API is reachable by anyone on the network, so whatever a client sends can end up in a
log line: aiohttp quotes a malformed header line verbatim, ``Authorization: Bearer …``
included, and writes a traceback for every malformed request. Two things follow:

* no secret is ever written: every record of aiohttp's loggers has bearer credentials,
  ``Authorization`` header values and the registered secrets (the API token) replaced,
  in its message, its arguments, its traceback and its stack;
* a stranger cannot fill the disk: a malformed request is one WARNING line without a
  traceback, and repeated refusals are written at most once per interval, the next line
  saying how many there were and from which peers.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable

from aiohttp.http_exceptions import HttpProcessingError

from .api.auth import REDACTED, redact

#: Loggers the aiohttp server writes to (and its client, used by the relay's webhooks).
AIOHTTP_LOGGERS = (
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
)
REPORT_INTERVAL_S = 60.0
NAMED_PEERS = 3  # a summary names this many peers; more are "others"
_LONGEST_DETAIL = 120

# "Bearer <credential>" in any case, as sent, quoted or escaped (b'…\x01' keeps no spaces).
_BEARER = re.compile(r"(?i)\b(bearer)\s+\S+")
# An Authorization header's value runs to the end of its line or to a closing quote: this
# covers raw header lines, "Authorization: …" in a message and {'Authorization': '…'}.
_AUTHORIZATION = re.compile(r"(?i)\b((?:proxy-)?authorization\b['\"]?\s*[:=]?\s*['\"]?)[^\r\n'\"]+")
# A cookie header carries the web UI's session id: its whole value, the same way.
_COOKIE = re.compile(r"(?i)\b((?:set-)?cookie\b['\"]?\s*[:=]?\s*['\"]?)[^\r\n'\"]+")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with bearer credentials, Authorization and Cookie values and ``secrets``
    replaced."""
    text = redact(text, *secrets)  # first, so that no part of a secret is left
    text = _AUTHORIZATION.sub(rf"\g<1>{REDACTED}", text)
    text = _COOKIE.sub(rf"\g<1>{REDACTED}", text)
    return _BEARER.sub(rf"\g<1> {REDACTED}", text)


class RateLimitedReport:
    """One log line per interval for something that repeats; the rest are only counted.

    :meth:`note` says whether a line may be written now. When it may, it also returns what
    happened since the last line (how many were held back, from which peers), so that the
    one line written accounts for every occurrence.
    """

    def __init__(
        self,
        interval: float = REPORT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()  # log records can come from any thread
        self._last_line_at: float | None = None
        self._held_back = 0
        self._held_back_peers: list[str] = []
        self._more_peers = False

    def note(self, peer: str) -> str | None:
        """Count one occurrence from ``peer``.

        Returns None when it is only counted, or the summary of the held-back ones (``""``
        when there are none) when a line is to be written now.
        """
        with self._lock:
            now = self._clock()
            if self._last_line_at is not None and now - self._last_line_at < self.interval:
                self._held_back += 1
                if peer not in self._held_back_peers:
                    if len(self._held_back_peers) < NAMED_PEERS:
                        self._held_back_peers.append(peer)
                    else:
                        self._more_peers = True
                return None
            summary = self._summary(now)
            self._last_line_at = now
            self._held_back = 0
            self._held_back_peers = []
            self._more_peers = False
            return summary

    def held_back(self) -> str:
        """The summary of the occurrences not yet written (``""`` when none), then forget them.

        For a last line when the server stops, so that no count is lost.
        """
        with self._lock:
            summary = self._summary(self._clock())
            self._held_back = 0
            self._held_back_peers = []
            self._more_peers = False
            return summary

    def _summary(self, now: float) -> str:
        if not self._held_back:
            return ""
        peers = ", ".join(self._held_back_peers)
        if self._more_peers:
            peers += " and others"
        since = (
            "" if self._last_line_at is None else f" in the last {now - self._last_line_at:.0f} s"
        )
        return f"{self._held_back} more{since}, from {peers}"


def _detail(exc: HttpProcessingError, secrets: Iterable[str]) -> str:
    """What was wrong with a request, in one line: the parser's reason, without the data."""
    # aiohttp's message is the reason on its first line, then the offending bytes quoted.
    lines = str(exc.message).strip().splitlines()
    detail = redact_text(lines[0].rstrip(": ") if lines else type(exc).__name__, secrets)
    if len(detail) > _LONGEST_DETAIL:
        detail = detail[:_LONGEST_DETAIL] + "…"
    return f"{exc.code} {detail}"


class AiohttpLogGuard(logging.Filter):
    """The filter on aiohttp's loggers: redacts every record, and tames request errors.

    aiohttp logs "Error handling request from <peer>" with a traceback when a request cannot
    be parsed. A malformed request is the client's fault, so it becomes one WARNING line
    (the parser's reason, never the data) at most once per interval. Any other error
    aiohttp catches is a fault of the bridge: it keeps its level and its (redacted)
    traceback, but is rate-limited too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secret_sources: dict[int, Callable[[], str]] = {}
        self._next_source = 0
        self.malformed_requests = RateLimitedReport()
        self.server_errors = RateLimitedReport()

    def add_secret(self, source: Callable[[], str]) -> Callable[[], None]:
        """Redact the value ``source()`` returns, read at each record; returns the undo."""
        key = self._next_source
        self._next_source += 1
        self._secret_sources[key] = source

        def remove() -> None:
            self._secret_sources.pop(key, None)

        return remove

    def held_back(self) -> list[str]:
        """A line for each kind of record held back since its last line, then forget them.

        For when the server stops, so that the last counts are not lost.
        """
        lines = []
        if summary := self.malformed_requests.held_back():
            lines.append(f"refused malformed HTTP requests: {summary}")
        if summary := self.server_errors.held_back():
            lines.append(f"errors handling requests, not logged: {summary}")
        return lines

    def secrets(self) -> list[str]:
        return [secret for source in list(self._secret_sources.values()) if (secret := source())]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self._filter(record)
        except Exception:
            # A filter that raises would break the request being served: write nothing of
            # the record that might hold a secret, but say that something was there.
            _rewrite(record, record.levelno, "(a log line withheld: it could not be redacted)")
            return True

    def _filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets()
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and str(record.msg).startswith(
            "Error handling request"
        ):
            return self._malformed_request(record, exc, secrets)
        if exc is not None and record.levelno >= logging.ERROR:
            held_back = self.server_errors.note(_peer(record))
            if held_back is None:
                return False
            _redact_record(record, secrets)
            if held_back:
                record.msg = redact_text(f"{record.msg} (and {held_back}, not logged)", secrets)
            return True
        _redact_record(record, secrets)
        return True

    def _malformed_request(
        self, record: logging.LogRecord, exc: HttpProcessingError, secrets: list[str]
    ) -> bool:
        peer = _peer(record)
        held_back = self.malformed_requests.note(peer)
        if held_back is None:
            return False
        line = f"refused a malformed HTTP request from {peer}: {_detail(exc, secrets)}"
        if held_back:
            line += f" (and {held_back})"
        # aiohttp logs the common case of non-HTTP traffic at DEBUG on purpose; keep that.
        _rewrite(record, min(record.levelno, logging.WARNING), redact_text(line, secrets))
        return True


def _peer(record: logging.LogRecord) -> str:
    # "Error handling request from %s" carries the peer as its one argument.
    args = record.args
    if (
        str(record.msg).startswith("Error handling request from")
        and isinstance(args, tuple)
        and len(args) == 1
        and isinstance(args[0], str)
    ):
        return args[0]
    return "unknown"


def _rewrite(record: logging.LogRecord, level: int, message: str) -> None:
    """Make ``record`` one plain line: ``message`` at ``level``, without a traceback."""
    record.levelno = level
    record.levelname = logging.getLevelName(level)
    record.msg = message
    record.args = ()
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None


_TRACEBACK_FORMATTER = logging.Formatter()


def _redact_record(record: logging.LogRecord, secrets: list[str]) -> None:
    """Redact everything a handler could write of ``record``: message, traceback, stack.

    The message is rendered here (arguments merged) so no argument can carry a secret past
    the filter; the traceback is rendered to text for the same reason.
    """
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is, still redacted
        message = f"{record.msg!s} {record.args!r}"
    record.msg = redact_text(message, secrets)
    record.args = ()
    if record.exc_info:
        record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info, secrets)


AIOHTTP_LOG_GUARD = AiohttpLogGuard()


def guard_aiohttp_logs(secret: Callable[[], str]) -> Callable[[], None]:
    """Put :data:`AIOHTTP_LOG_GUARD` on aiohttp's loggers (once) and redact ``secret()``.

    Logger filters see only the records logged on that very logger, which is how aiohttp
    logs, so this works whatever handlers the process has. Returns the undo for ``secret``.
    """
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if AIOHTTP_LOG_GUARD not in logger.filters:
            logger.addFilter(AIOHTTP_LOG_GUARD)
    return AIOHTTP_LOG_GUARD.add_secret(secret)
