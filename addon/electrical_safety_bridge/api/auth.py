"""The API's bearer token and the bridge's identity, kept in the data folder.

The token is made on first start, stored with owner-only permissions, compared in constant
time, and never logged: :func:`redact` removes it from any text that might be.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

TOKEN_FILE = "api_token"
BRIDGE_ID_FILE = "bridge_id"
REDACTED = "**REDACTED**"


def _create_private(path: Path, text: str) -> None:
    """Create a secret file, readable by the owner only, unless one already exists.

    The file is written in full under a private name and then linked into place, which
    fails if another process (a ``token`` command and a first start at the same moment)
    got there first: both then use the one that won.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _load_or_create(path: Path, make: str) -> str:
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
        path.unlink()  # an empty file left by a crash before this scheme
    _create_private(path, make)
    return path.read_text(encoding="utf-8").strip()


def load_or_create_token(data_dir: Path) -> str:
    """The API token, made on first use."""
    return _load_or_create(data_dir / TOKEN_FILE, secrets.token_urlsafe(32))


def load_or_create_bridge_id(data_dir: Path) -> str:
    """A stable id for this bridge: Home Assistant's unique id for it."""
    return _load_or_create(data_dir / BRIDGE_ID_FILE, uuid.uuid4().hex)


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison, so timing says nothing about the token."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def bearer(header: str | None) -> str | None:
    """The token from an ``Authorization: Bearer …`` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def redact(text: str, *secrets_to_hide: str) -> str:
    """The text with every secret replaced by :data:`REDACTED`."""
    for secret in secrets_to_hide:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
