"""Shared helpers for the bridge tests: waiting on conditions, never on the clock."""

from __future__ import annotations

from tests.waiting import wait_for

__all__ = ["wait_for"]
