"""What the bridge's records read over REST share (the proof, early warnings, compliance):
entities that follow them subscribe, and are called after each change; the records are read
again on the bridge's events that move them, and every few minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.models import BridgeEvent


class Listeners:
    """Callbacks to call after each change of what the owner keeps."""

    def __init__(self) -> None:
        self._listeners: list[CALLBACK_TYPE] = []

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` after each change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


class RefreshedRecords(Listeners):
    """Records read from the bridge on the events that move them and every
    ``REFRESH_EVERY``; a subclass says which events, and how to read them."""

    REFRESH_EVERY: ClassVar[timedelta] = timedelta(minutes=10)
    REFRESH_ON: ClassVar[frozenset[EventType]] = frozenset()

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__()
        self.hass = hass

    async def async_refresh(self) -> None:
        """Read the records again (keeping the last ones while the bridge is away)."""
        raise NotImplementedError

    @callback
    def async_start(self) -> Callable[[], None]:
        """Refresh every ``REFRESH_EVERY``; returns the stopper."""

        async def refresh(_now: datetime) -> None:
            await self.async_refresh()

        return async_track_time_interval(self.hass, refresh, self.REFRESH_EVERY)

    @callback
    def async_on_event(self, event: BridgeEvent) -> None:
        """One of the events that move the records: read them again."""
        if event.type in self.REFRESH_ON:
            self.hass.async_create_task(self.async_refresh(), eager_start=False)
