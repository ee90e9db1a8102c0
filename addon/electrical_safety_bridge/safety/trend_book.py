"""The early-warning baselines of every watched channel, and the events they cause.

Pure like :mod:`.early_warning`: the service hands it readings with a timestamp and gets
events back. A channel is watched when it measures residual current or temperature and
its alarm setpoint can be told from the profile (:func:`watched_channels`); without a
setpoint there is nothing to project to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..common.enums import ChannelKind, EventType, SetpointKind
from ..common.trends import ChannelTrend
from ..profiles.model import Profile
from .early_warning import ChannelBaseline, Decision, EarlyWarningSettings
from .events import BridgeEvent

_LOGGER = logging.getLogger(__name__)

#: The channel kinds with a baseline, and the setpoint kind each is compared with.
WATCHED_KINDS: Mapping[ChannelKind, SetpointKind] = {
    ChannelKind.RESIDUAL_CURRENT: SetpointKind.RESIDUAL_CURRENT_ALARM,
    ChannelKind.TEMPERATURE: SetpointKind.TEMPERATURE_ALARM,
}


@dataclass(frozen=True, slots=True)
class WatchedChannel:
    """A channel with a baseline, and the setpoint its alarm compares with."""

    device_id: str
    channel: str
    kind: ChannelKind
    unit: str | None
    setpoint: str


def watched_channels(device_id: str, profile: Profile) -> list[WatchedChannel]:
    """The channels of a device to watch, each with its alarm setpoint.

    The setpoint is the one the channel's alarm condition names (``above``); else the
    setpoint of the matching kind whose key starts with the channel's key
    (``temperature_1`` → ``temperature_1_alarm_setpoint``); else the device's only
    setpoint of that kind. A channel whose setpoint cannot be told that way is not watched.
    """
    watched = []
    for channel in profile.channels:
        setpoint_kind = WATCHED_KINDS.get(channel.kind)
        if setpoint_kind is None or channel.register.address is None:
            continue
        of_kind = [s.key for s in profile.setpoints if s.kind is setpoint_kind]
        named = [c.above for c in channel.alarm if c.above is not None and c.above in of_kind]
        prefixed = [key for key in of_kind if key.startswith(f"{channel.key}_")]
        candidates = named or prefixed or (of_kind if len(of_kind) == 1 else [])
        if len(candidates) == 1:
            watched.append(
                WatchedChannel(device_id, channel.key, channel.kind, channel.unit, candidates[0])
            )
    return watched


class TrendBook:
    """A baseline per watched channel; ``observe`` feeds them, ``trends`` shows them."""

    def __init__(self, settings: EarlyWarningSettings, channels: Iterable[WatchedChannel]) -> None:
        self.settings = settings
        self.channels = {(c.device_id, c.channel): c for c in channels}
        self._baselines = {key: ChannelBaseline(settings) for key in self.channels}

    def observe(
        self,
        at: float,
        device_id: str,
        values: Mapping[str, Any],
        setpoints: Mapping[str, Any],
        *,
        event_at: float,
    ) -> list[BridgeEvent]:
        """One device's values and setpoints as read at ``at`` (the baselines' clock); the
        events of warnings that started or ended, stamped ``event_at`` (wall clock)."""
        events = []
        for (device, key), watched in self.channels.items():
            if device != device_id:
                continue
            value = values.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # not read yet, or a sensor fault: no reading to learn from
            setpoint = setpoints.get(watched.setpoint)
            known = None if isinstance(setpoint, bool) else setpoint
            decision = self._baselines[(device, key)].add(
                at, float(value), float(known) if isinstance(known, (int, float)) else None
            )
            if decision is not None:
                events.append(self._event(watched, decision, event_at))
        return events

    def _event(self, watched: WatchedChannel, decision: Decision, at: float) -> BridgeEvent:
        trend = self.trend(watched.device_id, watched.channel).to_dict()
        if decision.reason is not None:
            trend["reason"] = decision.reason
        _LOGGER.warning(
            "%s %s %s: level %s %s, %s a day, %s days to the setpoint %s",
            "early warning" if decision.warning else "early warning cleared",
            watched.device_id,
            watched.channel,
            _rounded(decision.trend.level),
            watched.unit or "",
            _rounded(decision.trend.slope_per_day),
            _rounded(decision.trend.days_to_setpoint),
            decision.setpoint,
        )
        return BridgeEvent(
            EventType.EARLY_WARNING if decision.warning else EventType.EARLY_WARNING_CLEARED,
            at,
            device_id=watched.device_id,
            channel=watched.channel,
            data=trend,
        )

    def trend(
        self, device_id: str, channel: str, setpoints: Mapping[str, Any] | None = None
    ) -> ChannelTrend:
        """One channel's baseline as the wire shows it; the setpoint as read now when
        ``setpoints`` (the device's, by key) has it, else the one the baseline saw last."""
        watched = self.channels[(device_id, channel)]
        baseline = self._baselines[(device_id, channel)]
        trend = baseline.trend
        now = (setpoints or {}).get(watched.setpoint)
        setpoint = (
            float(now)
            if isinstance(now, (int, float)) and not isinstance(now, bool)
            else baseline.setpoint
        )
        return ChannelTrend(
            device_id=device_id,
            channel=channel,
            kind=watched.kind,
            unit=watched.unit,
            setpoint=setpoint,
            level=_rounded(trend.level),
            slope_per_day=_rounded(trend.slope_per_day),
            days_to_setpoint=_rounded(trend.days_to_setpoint),
            days_observed=trend.days_observed,
            days_needed=self.settings.min_days,
            warning=baseline.warning,
            since=baseline.warning_since,
        )

    def trends(
        self,
        *,
        warning_only: bool = False,
        setpoints: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[ChannelTrend]:
        """Every watched channel (or only those warning), by device and channel;
        ``setpoints`` are the devices' setpoints as read now, by device id."""
        every = [
            self.trend(device, channel, (setpoints or {}).get(device))
            for device, channel in sorted(self._baselines)
        ]
        return [t for t in every if t.warning] if warning_only else every

    def latest_at(self) -> float | None:
        """The newest reading any baseline took (on the baselines' clock)."""
        stamps = [b.last_at for b in self._baselines.values() if b.last_at is not None]
        return max(stamps, default=None)

    def to_state(self) -> dict[str, Any]:
        """Every baseline, JSON-ready, keyed ``device_id/channel``."""
        return {
            f"{device}/{channel}": baseline.to_state()
            for (device, channel), baseline in self._baselines.items()
        }

    def load(self, state: Mapping[str, Any]) -> list[str]:
        """Restore the baselines saved by :meth:`to_state`; channels no longer watched are
        dropped. Returns the problems of entries that could not be read (each left new)."""
        problems = []
        for name, saved in state.items():
            device, _, channel = str(name).partition("/")
            if (device, channel) not in self._baselines:
                continue
            try:
                if not isinstance(saved, Mapping):
                    raise ValueError(f"not an object: {saved!r}"[:120])
                self._baselines[(device, channel)] = ChannelBaseline.from_state(
                    self.settings, saved
                )
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        return problems


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
