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
    """Why a client of ``schema_version`` cannot talk to this bridge, or None.

    ``"bridge_too_old"`` when the bridge speaks an older contract than the client still
    understands (a bridge from before schema versions counts as 0); ``"bridge_too_new"``
    when the bridge no longer serves a client this old.
    """
    if server_schema is None or server_schema < min_supported:
        return "bridge_too_old"
    if server_min_supported is not None and server_min_supported > schema_version:
        return "bridge_too_new"
    return None


#: The request header in which a client names the schema it speaks; the bridge answers a
#: client older than ``MIN_SUPPORTED_SCHEMA_VERSION`` with ``ErrorCode.CLIENT_TOO_OLD``.
SCHEMA_HEADER: Final = "X-Schema-Version"


def client_too_old(
    header: str | None, *, min_supported: int = MIN_SUPPORTED_SCHEMA_VERSION
) -> bool:
    """Whether a client that sent ``header`` speaks a schema this bridge no longer serves.
    A client that names none (curl, a third-party script) is served."""
    if header is None:
        return False
    try:
        return int(header) < min_supported
    except ValueError:
        return True
