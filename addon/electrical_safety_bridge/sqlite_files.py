"""What the bridge's SQLite files (the event store, the relay outbox) share: durability,
and one worker thread each.

Both are written so that a row whose commit has returned survives a SIGKILL or a power
cut: write-ahead logging with ``synchronous = FULL``, and a schema created in one
transaction together with the file's application id and version, so a half-created file
never looks like a valid one.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor


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


class SerialWorker:
    """One worker thread per SQLite file: calls leave the event loop and run in order.

    SQLite connections belong to one thread, and a single worker keeps writes in the order
    they were made. A call already handed to the worker runs even if its caller is
    cancelled, so an event whose append was started is still written.
    """

    def __init__(self, name: str, closed: Callable[[], Exception]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed_error = closed
        self.closed = False

    async def run[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the worker, after every call made before it."""
        if self.closed:
            raise self._closed_error()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def close(self, last: Callable[[], None]) -> None:
        """Run ``last`` after every queued call, then end the worker. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, last)
        finally:
            # The worker has nothing left to do: joining it is immediate, and no thread
            # outlives the file.
            self._executor.shutdown(wait=True)
