"""The gateway's defaults, which the configuration reads: plain numbers, no pymodbus."""

from __future__ import annotations

from typing import Final

DEFAULT_MAX_CLIENTS: Final = 16
DEFAULT_MAX_PIPELINED: Final = 8
#: Seconds without a request before a connection is closed. Longer than mbusd's 60 s, which
#: breaks masters that poll less often (reference/addon_relay.md §2.6 item 14); idle
#: connections cannot lock others out anyway, because a new client replaces the idlest.
DEFAULT_IDLE_TIMEOUT: Final = 300.0
#: When every slot is taken, a connection idle at least this long gives way to a new one.
DEFAULT_EVICTION_GRACE: Final = 5.0
