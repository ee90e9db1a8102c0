"""Which versions of the wire contract a bridge and a client understand.

Like python-matter-server's: the bridge announces the schema it speaks and the oldest
client schema it still serves (``GET /api/v1/info`` and the WebSocket snapshot), and each
side refuses the other when they do not overlap. A change that only adds fields keeps the
schema: both sides keep what they do not know (see ``models``). A change that removes or
redefines a field raises ``SCHEMA_VERSION``, and raises ``MIN_SUPPORTED_SCHEMA_VERSION``
once the old shape is no longer produced or understood.
"""

from __future__ import annotations

from typing import Final

#: The URL version: ``/api/v1``.
API_VERSION: Final = 1
#: The contract this code speaks.
SCHEMA_VERSION: Final = 1
#: The oldest contract this code still understands from the other side.
MIN_SUPPORTED_SCHEMA_VERSION: Final = 1


def schema_problem(
    server_schema: int | None,
    server_min_supported: int | None,
    *,
    schema_version: int = SCHEMA_VERSION,
    min_supported: int = MIN_SUPPORTED_SCHEMA_VERSION,
) -> str | None:
    """Why a client of ``schema_version`` cannot talk to this server, or None.

    ``"server_too_old"`` when the server speaks an older contract than the client still
    understands (a bridge from before schema versions counts as 0); ``"server_too_new"``
    when the server no longer serves a client this old.
    """
    if server_schema is None or server_schema < min_supported:
        return "server_too_old"
    if server_min_supported is not None and server_min_supported > schema_version:
        return "server_too_new"
    return None
