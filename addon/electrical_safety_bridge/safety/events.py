"""What the bridge tells the world: one event type for alarms, faults, commands and health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common import models as wire
from ..common.enums import EventType


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """One thing that happened. ``at`` is wall-clock time (seconds since the epoch)."""

    type: EventType
    at: float
    device_id: str | None = None
    channel: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "type": self.type.value,
            "at": self.at,
            "device_id": self.device_id,
            "channel": self.channel,
            "data": dict(self.data),
        }

    def to_wire(self, event_id: str, seq: int | None) -> wire.BridgeEvent:
        """The contract's form once it has an id: stored (``seq``), or held unstored
        (``seq`` None) while the disk is full."""
        return wire.BridgeEvent(
            seq=seq,
            id=event_id,
            type=self.type,
            at=self.at,
            device_id=self.device_id,
            channel=self.channel,
            data=self.data,
        )
