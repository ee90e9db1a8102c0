"""What the bridge's SQLite files (the event store, the relay outbox) share: durability.

Both are written so that a row whose commit has returned survives a SIGKILL or a power
cut: write-ahead logging with ``synchronous = FULL``, and a schema created in one
transaction together with the file's application id and version, so a half-created file
never looks like a valid one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def switch_to_wal(conn: sqlite3.Connection) -> str:
    """Turn on WAL with full sync; returns the journal mode SQLite ended up in.

    A caller that gets anything but ``"wal"`` back must refuse the file: on some network
    filesystems SQLite cannot use WAL, and durability would silently be weaker.
    """
    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
    if mode == "wal":
        conn.execute("PRAGMA synchronous = FULL")
    return mode


def create_schema(
    conn: sqlite3.Connection, statements: Iterable[str], application_id: int, version: int
) -> None:
    """Create the tables and stamp the file, all in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {int(application_id)}")
        conn.execute(f"PRAGMA user_version = {int(version)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
