"""How a hazard reads for a person: its detector, its channel, its value and its times.

Shared by the to-do list (one item per hazard), the repair issue of a hazard left open too
long, and the service actions. The bridge's names are used as they are (the detector's name,
the profile's name for the channel); times are shown in Home Assistant's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from homeassistant.util import dt as dt_util

from electrical_safety_bridge.common.enums import AlarmKind, HazardState
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.workflow import Hazard

#: Between the detector and what it is about, in a to-do item's summary.
SEPARATOR = " · "
#: A line break in Markdown (the to-do item's description).
MARKDOWN_LINE_BREAK = "  \n"


def is_wiring_fault(hazard: Hazard) -> bool:
    """A wiring fault (an open or shorted sensor), not an alarm."""
    return hazard.kind == AlarmKind.WIRING_FAULT


def local_time(timestamp: float) -> str:
    """Seconds since the epoch as a local date and time: ``2026-11-30 14:02``."""
    return dt_util.as_local(dt_util.utc_from_timestamp(timestamp)).strftime("%Y-%m-%d %H:%M")


def device_name(device: Device | None, hazard: Hazard) -> str:
    """The detector's name, or its id once the bridge no longer has it."""
    return hazard.device_id if device is None else device.name


def channel_name(device: Device | None, hazard: Hazard) -> str:
    """The profile's name for the channel, or its key."""
    if device is not None:
        for channel in device.channels:
            if channel.key == hazard.channel:
                return channel.name
    return hazard.channel


def value_text(device: Device | None, hazard: Hazard) -> str:
    """The value that raised it, with its unit (``512 mA``), or the fault (``open_circuit``)."""
    value = hazard.value_at_alarm
    if value is None or isinstance(value, bool):
        return hazard.detail or "?"
    if isinstance(value, str):
        return value
    text = f"{value:g}" if isinstance(value, float) else str(value)
    channels = () if device is None else device.channels
    unit = next((c.unit for c in channels if c.key == hazard.channel and c.unit), None)
    return text if unit is None else f"{text} {unit}"


def summary(device: Device | None, hazard: Hazard) -> str:
    """``Kitchen · Residual current 512 mA``."""
    return (
        f"{device_name(device, hazard)}{SEPARATOR}"
        f"{channel_name(device, hazard)} {value_text(device, hazard)}"
    )


#: The lines of a to-do item's description in English, by translation key (each is
#: ``exceptions.hazard_item_<key>`` in the translations, which todo.py reads in the
#: configured language).
ITEM_TEXT = {
    "opened": "Opened: {time}",
    "detail": "Detail: {detail}",
    "open": "State: open (not acknowledged yet)",
    "acknowledged": "State: acknowledged by {who}, {time}",
    "present": "Still present",
    "gone": "No longer present",
    "unknown": "Not read since the bridge restarted",
    "wiring_fault": "wiring fault ({detail})",
}

#: Whether the condition is still there: as last read, or unknown since the bridge restarted.
_PRESENCE: dict[bool | None, str] = {True: "present", False: "gone", None: "unknown"}

type ItemText = Callable[[str, Mapping[str, str]], str]


def _english(key: str, placeholders: Mapping[str, str]) -> str:
    return ITEM_TEXT[key].format(**placeholders)


def description(hazard: Hazard, text: ItemText = _english) -> str:
    """When it opened, where it is, and who acknowledged it: what the to-do item shows until
    a person writes the cause and the fix in its place. ``text`` gives each line in the
    person's language."""
    lines = [text("opened", {"time": local_time(hazard.opened_at)})]
    if hazard.detail:
        lines.append(text("detail", {"detail": hazard.detail}))
    if hazard.state == HazardState.ACKNOWLEDGED and hazard.acknowledged is not None:
        actor = hazard.acknowledged
        lines.append(text("acknowledged", {"who": actor.who, "time": local_time(actor.at)}))
    else:
        lines.append(text("open", {}))
    lines.append(text(_PRESENCE[hazard.active], {}))
    # The to-do card shows the description as Markdown, where a bare newline joins two lines
    # into one run-on sentence; two spaces before it keep each on a line of its own.
    return MARKDOWN_LINE_BREAK.join(lines)


def note_from(written: str | None, generated: str) -> str | None:
    """The cause and the fix a person wrote in an item's description, or None when it still
    shows only what the integration wrote there (text added below it is the note)."""
    text = (written or "").strip()
    if text.startswith(generated.strip()):
        text = text.removeprefix(generated.strip()).strip()
    return text or None


def hazard_placeholders(device: Device | None, hazard: Hazard) -> dict[str, str]:
    """Which detector, what, and since when: a repair issue's placeholders."""
    return {
        "device": device_name(device, hazard),
        "channel": channel_name(device, hazard),
        "value": value_text(device, hazard),
        "since": local_time(hazard.opened_at),
    }
