"""How the bridge describes its devices to clients, as the contract's models: one table
keyed by channel kind.

The integration builds its entities from these hints; a new channel kind is one new row
here. ``device_class`` and ``state_class`` use Home Assistant's vocabulary as plain strings
(the bridge imports nothing from Home Assistant).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common import models as wire
from ..common.enums import ChannelKind
from ..common.site import Installation
from .model import Channel, Profile, Setpoint


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


def channel_metadata(channel: Channel) -> wire.Channel:
    """A channel as clients see it."""
    hints = KIND_HINTS[channel.kind]
    return wire.Channel(
        key=channel.key,
        name=channel.name,
        kind=channel.kind,
        unit=channel.unit,
        device_class=hints.device_class,
        state_class=hints.state_class,
        diagnostic=hints.diagnostic,
        writable=False,
        states=tuple(sorted(set(channel.register.states.values()))),
        has_alarm=bool(channel.alarm),
        has_warning=bool(channel.warning),
        has_wiring_fault=bool(channel.wiring_fault or channel.register.sentinels),
        poll=channel.poll,
    )


def setpoint_metadata(setpoint: Setpoint, profile: Profile) -> wire.Setpoint:
    """A setpoint as clients see it; writable only where the profile may write."""
    return wire.Setpoint(
        key=setpoint.key,
        name=setpoint.name,
        kind=setpoint.kind,
        unit=setpoint.unit,
        minimum=setpoint.minimum,
        maximum=setpoint.maximum,
        # The register's scale is the smallest change the device can store.
        step=setpoint.register.scale,
        writable=setpoint.writable and profile.can_write,
        options={option: value for value, option in setpoint.options.items()},
        translation_key=setpoint.translation_key,
    )


def device_model(
    device_id: str,
    *,
    name: str,
    bus: str,
    unit: int,
    profile: Profile,
    state: wire.DeviceState,
    area: str | None = None,
    installation: Installation | None = None,
) -> wire.Device:
    """A device as clients see it: its identity, the shape its profile gives it, its state."""
    return wire.Device(
        id=device_id,
        name=name,
        bus=bus,
        unit=unit,
        manufacturer=profile.manufacturer,
        model=profile.model,
        kind=profile.kind,
        manual_version=profile.manual_version,
        verified=profile.verified,
        simulated=profile.simulated,
        source=profile.source,
        channels=tuple(channel_metadata(c) for c in profile.channels),
        setpoints=tuple(setpoint_metadata(s, profile) for s in profile.setpoints),
        # Commands are offered only where the profile may write.
        commands=frozenset(profile.commands) if profile.can_write else frozenset(),
        state=state,
        area=area,
        installation=installation,
    )
