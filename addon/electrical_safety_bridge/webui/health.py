"""A bus's health as a person reads it: rates from the bus's running counters.

The bus counts transactions, exceptions, timeouts and the seconds its line carried frames
since the bridge started. Rates need two looks at those counters; :class:`BusRates` keeps the
looks of the last few seconds and measures across them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Rates are measured over at most this many seconds of looks.
WINDOW_S = 10.0
#: Two looks closer together than this give no rate (too few transactions to say).
MIN_SPAN_S = 0.5


@dataclass(frozen=True)
class Rates:
    """Transactions per second, and the share of the time the line carried frames."""

    transactions_per_s: float
    line_utilisation: float


@dataclass(frozen=True)
class _Look:
    at: float
    transactions: float
    wire_seconds: float


class BusRates:
    """The last looks at each bus's counters."""

    def __init__(self) -> None:
        self._looks: dict[str, deque[_Look]] = {}

    def look(self, bus_id: str, at: float, stats: Mapping[str, Any]) -> Rates | None:
        """Record the counters seen ``at``; the rates since the oldest look in the window."""
        looks = self._looks.setdefault(bus_id, deque())
        now = _Look(at, float(stats.get("transactions", 0)), float(stats.get("wire_seconds", 0)))
        if looks and looks[-1].transactions > now.transactions:
            looks.clear()  # the counters started again: the looks before say nothing now
        while looks and at - looks[0].at > WINDOW_S:
            looks.popleft()
        looks.append(now)
        first = looks[0]
        span = now.at - first.at
        if span < MIN_SPAN_S:
            return None
        return Rates(
            (now.transactions - first.transactions) / span,
            min(1.0, max(0.0, (now.wire_seconds - first.wire_seconds) / span)),
        )
