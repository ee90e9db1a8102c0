"""What the bridge tells the world: one event type for alarms, faults, commands and health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Every kind of event the bridge emits and stores."""

    ALARM_RAISED = "alarm_raised"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_CLEARED = "alarm_cleared"
    WIRING_FAULT_RAISED = "wiring_fault_raised"
    WIRING_FAULT_ACKNOWLEDGED = "wiring_fault_acknowledged"
    WIRING_FAULT_CLEARED = "wiring_fault_cleared"
    DEVICE_OFFLINE = "device_offline"
    DEVICE_ONLINE = "device_online"
    BUS_DOWN = "bus_down"
    BUS_UP = "bus_up"
    # A line whose alarm polls cannot keep their interval: the interval is stretched to
    # what the line can hold, and said out loud; and the end of it.
    BUS_OVERLOADED = "bus_overloaded"
    BUS_OVERLOAD_CLEARED = "bus_overload_cleared"
    # The event store cannot write (a full disk): alarms go on in memory and on the
    # reserve; and the end of it, once everything held back is written.
    STORAGE_FAILING = "storage_failing"
    STORAGE_RECOVERED = "storage_recovered"
    COMMAND = "command"
    SETPOINT_CHANGED = "setpoint_changed"
    SELF_TEST = "self_test"
    # The off-site relay (relay/): a signed remote command, accepted or rejected, with the
    # reason; and a webhook endpoint that answered 410 Gone and is no longer sent to.
    REMOTE_COMMAND = "remote_command"
    RELAY_ENDPOINT_DISABLED = "relay_endpoint_disabled"


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
