"""How the bridge describes its channels to clients: one table keyed by channel kind.

The integration builds its entities from these hints; a new channel kind is one new row
here. ``device_class`` and ``state_class`` use Home Assistant's vocabulary as plain strings
(the bridge imports nothing from Home Assistant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Channel, ChannelKind, Profile, Setpoint


@dataclass(frozen=True, slots=True)
class KindHints:
    """What a client should know about every channel of one kind."""

    device_class: str | None = None
    state_class: str | None = None
    diagnostic: bool = False


KIND_HINTS: dict[ChannelKind, KindHints] = {
    ChannelKind.RESIDUAL_CURRENT: KindHints("current", "measurement"),
    ChannelKind.TEMPERATURE: KindHints("temperature", "measurement"),
    ChannelKind.VOLTAGE: KindHints("voltage", "measurement"),
    ChannelKind.CURRENT: KindHints("current", "measurement"),
    ChannelKind.POWER: KindHints("power", "measurement"),
    ChannelKind.ENERGY: KindHints("energy", "total_increasing"),
    ChannelKind.FREQUENCY: KindHints("frequency", "measurement"),
    ChannelKind.ARC_COUNT: KindHints(None, "measurement"),
    ChannelKind.ALARM_STATUS: KindHints(None, None, diagnostic=True),
    ChannelKind.FAULT_STATUS: KindHints(None, None, diagnostic=True),
    ChannelKind.BREAKER: KindHints(None, None),
    ChannelKind.DIGITAL_INPUT: KindHints(None, None, diagnostic=True),
    ChannelKind.DIGITAL_OUTPUT: KindHints(None, None, diagnostic=True),
    ChannelKind.VALUE_AT_ALARM: KindHints(None, None, diagnostic=True),
    ChannelKind.CONFIGURATION: KindHints(None, None, diagnostic=True),
    ChannelKind.IDENTITY: KindHints(None, None, diagnostic=True),
}


def channel_metadata(channel: Channel) -> dict[str, Any]:
    """A channel as clients see it."""
    hints = KIND_HINTS[channel.kind]
    return {
        "key": channel.key,
        "name": channel.name,
        "kind": channel.kind.value,
        "unit": channel.unit,
        "device_class": hints.device_class,
        "state_class": hints.state_class,
        "diagnostic": hints.diagnostic,
        "writable": False,
        "states": sorted(set(channel.register.states.values())) or None,
        "has_alarm": bool(channel.alarm),
        "has_warning": bool(channel.warning),
        "has_wiring_fault": bool(channel.wiring_fault or channel.register.sentinels),
        "poll": channel.poll.value,
    }


def setpoint_metadata(setpoint: Setpoint, profile: Profile) -> dict[str, Any]:
    """A setpoint as clients see it; writable only where the profile may write."""
    return {
        "key": setpoint.key,
        "name": setpoint.name,
        "kind": setpoint.kind.value,
        "unit": setpoint.unit,
        "min": setpoint.minimum,
        "max": setpoint.maximum,
        # The register's scale is the smallest change the device can store.
        "step": setpoint.register.scale,
        "writable": setpoint.writable and profile.can_write,
    }


def profile_metadata(profile: Profile) -> dict[str, Any]:
    """The identity and shape of a device, from its profile."""
    return {
        "manufacturer": profile.manufacturer,
        "model": profile.model,
        "kind": profile.kind.value,
        "manual_version": profile.manual_version,
        "verified": profile.verified,
        "simulated": profile.simulated,
        "source": profile.source,
        "channels": [channel_metadata(c) for c in profile.channels],
        "setpoints": [setpoint_metadata(s, profile) for s in profile.setpoints],
        "commands": sorted(profile.commands) if profile.can_write else [],
    }
