"""What the bridge's SQLite files (the event store, the relay outbox) share: durability,
privacy, and one worker thread each.

Both are written so that a row whose commit has returned survives a SIGKILL or a power
cut: write-ahead logging with ``synchronous = FULL``, and a schema created in one
transaction together with the file's application id and version, so a half-created file
never looks like a valid one. Both are readable by their owner only, like the API token
beside them: they hold who acknowledged what, and the relay's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

#: Group and others may neither read nor write a database file.
_NOT_THE_OWNER = stat.S_IRWXG | stat.S_IRWXO
# The files SQLite keeps beside a database; it creates them with the database's mode.
_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def make_owner_only(path: Path) -> None:
    """Create the SQLite file ``path`` readable by its owner only, or make it so.

    Call it just before ``sqlite3.connect``. A missing file is created empty with mode
    0600 (SQLite takes an empty file for a new database), so it is never readable by
    others, not even for a moment; SQLite then gives the ``-wal`` and ``-shm`` files it
    creates the database's mode. An existing file, and any ``-wal``, ``-shm`` or
    ``-journal`` left beside it, lose their group and other permissions (an owner-only
    mode is kept as it is).

    Failures are left to ``sqlite3.connect`` to report in its own words (a missing
    folder, a directory in the way), except a mode that cannot be changed (a filesystem
    without Unix permissions), which is logged: the file still opens.
    """
    # O_NONBLOCK: a FIFO in the file's place must not hang the bridge here.
    flags = os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError:
        return
    try:
        _drop_others(path, lambda mode: os.fchmod(descriptor, mode), os.fstat(descriptor))
    finally:
        os.close(descriptor)
    for suffix in _COMPANION_SUFFIXES:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):  # usually not there; SQLite reports the rest
            _drop_others(companion, companion.chmod, companion.stat())


def _drop_others(path: Path, chmod: Callable[[int], None], status: os.stat_result) -> None:
    mode = stat.S_IMODE(status.st_mode)
    if not mode & _NOT_THE_OWNER:
        return
    try:
        chmod(mode & ~_NOT_THE_OWNER)
    except OSError as exc:
        _LOGGER.warning("%s stays readable by others: cannot change its mode (%s)", path, exc)


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
    conn: sqlite3.Connection,
    statements: Iterable[str],
    application_id: int,
    version: int,
    then: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """Create the tables and stamp the file, all in one transaction; ``then`` fills the new
    tables from the old ones (a migration) within it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
        if then is not None:
            then(conn)
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
