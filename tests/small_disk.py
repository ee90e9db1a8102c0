"""A real, small disk to fill: a tmpfs mounted for one test. Shared by every test folder.

Mounting needs root (CI runs the tests as root); elsewhere the tests that need it are skipped
and say why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def mounted_small_disk(mount_point: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mount_point`` for the duration; skips the test if impossible."""
    import pytest

    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root (CI runs the tests as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, name: str) -> Path:
    """Write a file on ``disk`` until it has no room left; returns the file."""
    filler = disk / name
    block = b"\xa5" * 65536
    with filler.open("ab") as out:
        while True:
            try:
                out.write(block)
                out.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    # Whatever a block could not take, byte by byte.
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while out.write(b"\xa5"):
            pass
    return filler
