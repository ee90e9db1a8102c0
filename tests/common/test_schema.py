"""Which bridge and client schemas overlap (common/schema.py)."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.schema import client_too_old, schema_problem


@pytest.mark.parametrize(
    ("server", "server_min", "expected"),
    [
        (3, 2, None),  # the same range
        (4, 1, None),  # a newer bridge that still serves schema 3
        (2, 1, None),  # an older bridge this client still reads
        (1, 1, "bridge_too_old"),  # older than this client reads
        (None, None, "bridge_too_old"),  # from before schema versions
        (5, 4, "bridge_too_new"),  # no longer serves schema 3
    ],
)
def test_a_client_of_schema_3_reading_2_and_up(
    server: int | None, server_min: int | None, expected: str | None
) -> None:
    assert schema_problem(server, server_min, schema_version=3, min_supported=2) == expected


@pytest.mark.parametrize(
    ("header", "too_old"),
    [(None, False), ("2", False), ("7", False), ("1", True), ("0", True), ("two", True)],
)
def test_a_bridge_serving_schema_2_and_up(header: str | None, too_old: bool) -> None:
    assert client_too_old(header, min_supported=2) is too_old
