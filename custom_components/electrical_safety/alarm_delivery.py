"""How fast the last alarm reached Home Assistant, measured here.

Each ``alarm_raised`` event carries when the bridge raised the alarm (the event's ``at``)
and its detection window (``detection_window_s``: the time since the previous read of the
unit's alarm registers, within which the condition appeared). The alarm is *delivered* once
the event has arrived and the device's state pushed with it shows the alarm open, because
then its entities show it: the delivery time runs from the event's ``at`` to that moment.
The end-to-end delay is the detection window plus the delivery time: how long, at most,
the condition was there before Home Assistant showed it.

Only events heard live count: an event replayed after a reconnect says how long the
connection was away, not how fast alarms arrive. Both clocks are the wall clocks of the
bridge and of Home Assistant: on two hosts, their difference (NTP keeps it to milliseconds)
is in the figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from homeassistant.core import callback

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.models import BridgeEvent, Device

from .listeners import Listeners

#: Alarms raised whose device state has not shown them yet; older ones are dropped (a
#: device state always follows, so this only bounds what a lost message could leave).
PENDING_LIMIT = 64


@dataclass(frozen=True, slots=True)
class AlarmDelivery:
    """How one alarm reached Home Assistant."""

    alarm_id: str
    device_id: str | None
    channel: str | None
    raised_at: float
    detection_window_s: float | None
    delivery_s: float

    @property
    def end_to_end_s(self) -> float:
        """The detection window (when known) plus the delivery time."""
        return self.delivery_s + (self.detection_window_s or 0.0)


class AlarmDeliveries(Listeners):
    """The last alarm's delivery, measured as live events and device states arrive."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._pending: dict[str, BridgeEvent] = {}
        self.last: AlarmDelivery | None = None

    @callback
    def async_on_live_event(self, event: BridgeEvent, devices: Mapping[str, Device]) -> None:
        """An event pushed live: an alarm raised is delivered now if its device's state
        already shows it, else when that state arrives."""
        if event.type != EventType.ALARM_RAISED or event.at is None:
            return
        device = devices.get(event.device_id or "")
        if device is not None and _shows(device, event.data.get("id")):
            self._delivered(event)
            return
        self._pending[str(event.data.get("id"))] = event
        while len(self._pending) > PENDING_LIMIT:
            del self._pending[next(iter(self._pending))]

    @callback
    def async_on_device_state(self, device: Device) -> None:
        """A device's state, just shown by its entities: alarms pending on it are delivered."""
        for alarm_id, event in list(self._pending.items()):
            if event.device_id == device.id and _shows(device, alarm_id):
                del self._pending[alarm_id]
                self._delivered(event)

    def _delivered(self, event: BridgeEvent) -> None:
        assert event.at is not None
        window = event.data.get("detection_window_s")  # absent from older bridges
        self.last = AlarmDelivery(
            alarm_id=str(event.data.get("id")),
            device_id=event.device_id,
            channel=event.channel,
            raised_at=event.at,
            detection_window_s=(
                float(window)
                if isinstance(window, int | float) and not isinstance(window, bool)
                else None
            ),
            delivery_s=round(self._clock() - event.at, 3),
        )
        self._notify()


def _shows(device: Device, alarm_id: object) -> bool:
    return any(a.id == alarm_id for a in device.state.open_alarms)
