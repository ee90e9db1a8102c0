"""Early warning: "Rising leakage" and "Rising temperature", one binary sensor per channel
that the bridge keeps a baseline of.

The bridge decides (safety/early_warning.py there): from daily levels and their slope over
weeks, it warns when a channel's level would reach its alarm setpoint within months. This
side shows it. The baselines are read over REST at set-up, after every reconnect and every
ten minutes (the projected days move a little each day without an event); the bridge's
``early_warning`` and ``early_warning_cleared`` events, which carry the same fields, turn
a sensor on and off as they happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import callback
from homeassistant.helpers.event import async_track_time_interval

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.errors import BridgeError, BridgeResponseError
from electrical_safety_bridge.common.models import BridgeEvent, Device
from electrical_safety_bridge.common.trends import ChannelTrend

from .const import LOGGER
from .coordinator import ElectricalSafetyConfigEntry, ElectricalSafetyCoordinator
from .entity import ElectricalSafetyEntity, timestamp
from .kinds import channel_naming
from .listeners import Listeners

#: How often the baselines are read again (their projection moves once a day).
REFRESH_INTERVAL = timedelta(minutes=10)
#: The role in the sensors' unique ids, and the suffix of their translation keys
#: ("residual_current_rising", "temperature_n_rising").
ROLE = "rising"
_EVENTS = frozenset({EventType.EARLY_WARNING, EventType.EARLY_WARNING_CLEARED})

type TrendKey = tuple[str, str]


class EarlyWarnings(Listeners):
    """The bridge's baselines as last read or pushed, by (device id, channel key)."""

    def __init__(self, coordinator: ElectricalSafetyCoordinator) -> None:
        """Nothing is read until :meth:`async_refresh`."""
        super().__init__()
        self.coordinator = coordinator
        self.trends: dict[TrendKey, ChannelTrend] = {}
        self._was_connected = False

    async def async_refresh(self, _now: datetime | None = None) -> None:
        """Read every baseline; a bridge from before early warnings (404) has none."""
        try:
            trends = await self.coordinator.client.early_warnings()
        except BridgeResponseError as err:
            if not str(err).startswith("HTTP 404"):
                LOGGER.warning("Could not read the early-warning baselines: %s", err)
            return
        except BridgeError as err:
            LOGGER.debug("Early-warning baselines not read (the bridge is away): %s", err)
            return
        self.trends = {(t.device_id, t.channel): t for t in trends}
        self._notify()

    @callback
    def async_start(self, entry: ElectricalSafetyConfigEntry) -> None:
        """Follow the bridge's events and reconnects, and read again now and then."""
        entry.async_on_unload(self.coordinator.async_add_event_listener(self._on_event))
        entry.async_on_unload(self.coordinator.async_add_listener(self._on_coordinator))
        entry.async_on_unload(
            async_track_time_interval(self.coordinator.hass, self.async_refresh, REFRESH_INTERVAL)
        )

    @callback
    def _on_event(self, event: BridgeEvent) -> None:
        if event.type not in _EVENTS:
            return
        try:
            trend = ChannelTrend.from_dict(event.data)
        except ValueError as err:
            LOGGER.warning("Ignoring an early-warning event that could not be read: %s", err)
            return
        self.trends[(trend.device_id, trend.channel)] = trend
        self._notify()

    @callback
    def _on_coordinator(self) -> None:
        """After a reconnect (the bridge may have restarted with other baselines), read
        them again."""
        connected = self.coordinator.connected
        if connected and not self._was_connected:
            self.coordinator.config_entry.async_create_background_task(
                self.coordinator.hass, self.async_refresh(), "early-warning baselines"
            )
        self._was_connected = connected


async def async_setup_early_warnings(entry: ElectricalSafetyConfigEntry) -> EarlyWarnings:
    """Read the baselines before the platforms are set up, so that their sensors exist."""
    warnings = EarlyWarnings(entry.runtime_data)
    await warnings.async_refresh()
    warnings.async_start(entry)
    return warnings


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def trend_attributes(trend: ChannelTrend) -> dict[str, Any]:
    """What a person reads beside "on": how soon, how fast, from where to where."""
    return {
        "days_to_setpoint": _rounded(trend.days_to_setpoint),
        "slope_per_day": _rounded(trend.slope_per_day, 2),
        "level": _rounded(trend.level),
        "setpoint": trend.setpoint,
        "unit": trend.unit,
        "since": timestamp(trend.since),
        "days_observed": trend.days_observed,
        "days_needed": trend.days_needed,
    }


def rising_sensors(
    coordinator: ElectricalSafetyCoordinator, device: Device
) -> Iterable[BinarySensorEntity]:
    """A "rising" binary sensor for each channel of ``device`` with a baseline."""
    warnings = coordinator.early_warnings
    if warnings is None:
        return
    for (device_id, key), _trend in sorted(warnings.trends.items()):
        channel = device.channel(key) if device_id == device.id else None
        if channel is None:
            continue
        translation_key, placeholders = channel_naming(channel, ROLE)
        description = BinarySensorEntityDescription(
            key=key,
            translation_key=translation_key,
            device_class=BinarySensorDeviceClass.PROBLEM,
        )
        yield RisingSensor(coordinator, device, description, warnings, placeholders)


class RisingSensor(ElectricalSafetyEntity, BinarySensorEntity):
    """On while a channel's level rises towards its alarm setpoint."""

    def __init__(
        self,
        coordinator: ElectricalSafetyCoordinator,
        device: Device,
        description: BinarySensorEntityDescription,
        warnings: EarlyWarnings,
        placeholders: dict[str, str],
    ) -> None:
        """A channel's sensor, fed by the entry's :class:`EarlyWarnings`."""
        super().__init__(coordinator, device, description, ROLE, placeholders=placeholders)
        self._warnings = warnings
        self._key: TrendKey = (device.id, description.key)

    async def async_added_to_hass(self) -> None:
        """Follow the baselines too, not only the detector's state."""
        await super().async_added_to_hass()
        self.async_on_remove(self._warnings.async_add_listener(self.async_write_ha_state))

    @property
    def _trend(self) -> ChannelTrend | None:
        return self._warnings.trends.get(self._key)

    @property
    def available(self) -> bool:
        """The bridge keeps the baseline while the detector is silent: shown while the
        bridge is connected."""
        return self.coordinator.last_update_success and self._trend is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the bridge's early warning is on."""
        trend = self._trend
        return None if trend is None else trend.warning

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The projection and the slope behind the state."""
        trend = self._trend
        return None if trend is None else trend_attributes(trend)
