"""The inputs the compliance checker gathers from a running bridge: each detector's latest
judged self-test."""

from __future__ import annotations

from typing import Any

from electrical_safety_bridge.common.enums import ChannelKind, SelfTestResult
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.proof import SelfTestRecord
from electrical_safety_bridge.compliance.checker import latest_timings


def record(device_id: str, result: str, at: float, **extra: Any) -> SelfTestRecord:
    return SelfTestRecord.from_dict(
        {
            "id": f"{device_id}-{at}",
            "device_id": device_id,
            "result": result,
            "trigger": "schedule",
            "at": at,
            "time_limit_s": 30.0,
            **extra,
        }
    )


def device(device_id: str, *channels: tuple[str, str]) -> Device:
    return Device.from_dict(
        {
            "id": device_id,
            "name": device_id,
            "model": "m",
            "kind": "residual_current",
            "channels": [{"key": key, "kind": kind, "name": key} for key, kind in channels],
        }
    )


def test_each_device_counts_its_latest_judged_test_only() -> None:
    devices = [
        device("board", ("loop_1", ChannelKind.RESIDUAL_CURRENT), ("t_1", ChannelKind.TEMPERATURE)),
        device("asj", ("leak", ChannelKind.RESIDUAL_CURRENT)),
        device("gone", ("leak", ChannelKind.RESIDUAL_CURRENT)),
    ]
    records = [
        # board: a failed test long ago, a pass since on its temperature channel, then a
        # missed one and one nobody answered (neither says how fast it alarms).
        record("board", SelfTestResult.FAILED, 100.0),
        record("board", SelfTestResult.PASSED, 200.0, channel="t_1", seconds_to_alarm=12.5),
        record("board", SelfTestResult.MISSED, 300.0),
        record("board", SelfTestResult.NO_RESPONSE, 400.0),
        # asj: failed, no channel named, a 40 s limit: judged as temperature's.
        record("asj", SelfTestResult.FAILED, 150.0, time_limit_s=40.0),
        # a device the bridge no longer has is left out.
        record("elsewhere", SelfTestResult.PASSED, 500.0, seconds_to_alarm=3.0),
    ]
    assert latest_timings(records, devices) == [
        ("asj", ChannelKind.TEMPERATURE, None),
        ("board", ChannelKind.TEMPERATURE, 12.5),
    ]
