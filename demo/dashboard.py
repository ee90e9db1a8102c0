"""The alarm-first dashboard: what is wrong now first, then one section per room.

Built from Home Assistant's own registries (entities, devices, areas) as its WebSocket API
lists them, so that it names whatever entities the integration made, in the person's
language (cards show each entity's translated name). ``make demo`` saves it as the
"Electrical safety" dashboard; docs/dashboard.md shows the same layout as YAML.

1. **Now**: the alarms, warnings and wiring faults that are on; the Acknowledge buttons of
   detectors that have something to acknowledge; the hazards to-do list; and the bridge's
   counts (open hazards, alarms not handled, alarms this month) under the bridge's name.
2. **One section per room** (the device's area, else "Other detectors"), detectors and
   their entities in natural order (loop 2 before loop 10): the breaker, the measurements,
   and each alarm's state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DOMAIN = "electrical_safety"
#: Binary sensors whose "on" is something a person must see first.
ALERT_DEVICE_CLASSES = frozenset({"safety", "problem"})
#: Domains shown on a room's detector, in this order (its buttons and event log are on the
#: device's page; the Acknowledge button is in the first section).
ROOM_DOMAINS = ("switch", "sensor", "binary_sensor")


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity of the integration, as the entity registry lists it."""

    entity_id: str
    device_id: str | None
    name: str
    device_class: str | None
    translation_key: str | None
    diagnostic: bool

    @property
    def domain(self) -> str:
        """``sensor`` of ``sensor.kitchen_temperature``."""
        return self.entity_id.partition(".")[0]


@dataclass(frozen=True, slots=True)
class Detector:
    """A device of the integration, with the room it is in."""

    device_id: str
    name: str
    area: str | None
    #: The bridge's own device (no detector): its entities are the counts.
    is_bridge: bool


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that puts "Loop 2" before "Loop 10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", text)
        if part
    )


def entities_from_registry(
    raw: Iterable[Mapping[str, Any]], states: Iterable[Mapping[str, Any]] = ()
) -> list[Entity]:
    """The integration's entities from ``config/entity_registry/list``; their device class
    from ``get_states`` (the registry lists only one a person set)."""
    classes = {
        str(state["entity_id"]): (state.get("attributes") or {}).get("device_class")
        for state in states
    }
    return [
        Entity(
            entity_id=str(entry["entity_id"]),
            device_id=entry.get("device_id"),
            name=str(entry.get("name") or entry.get("original_name") or entry["entity_id"]),
            device_class=entry.get("device_class")
            or entry.get("original_device_class")
            or classes.get(str(entry["entity_id"])),
            translation_key=entry.get("translation_key"),
            diagnostic=entry.get("entity_category") is not None,
        )
        for entry in raw
        if entry.get("platform") == DOMAIN and not entry.get("disabled_by")
    ]


def detectors_from_registry(
    devices: Iterable[Mapping[str, Any]], areas: Iterable[Mapping[str, Any]]
) -> list[Detector]:
    """The integration's devices from ``config/device_registry/list``, with area names
    from ``config/area_registry/list``."""
    area_names = {str(a["area_id"]): str(a["name"]) for a in areas}
    found = []
    for device in devices:
        identifiers = [tuple(i) for i in device.get("identifiers") or ()]
        ours = [value for domain, value in identifiers if domain == DOMAIN]
        if not ours:
            continue
        found.append(
            Detector(
                device_id=str(device["id"]),
                name=str(device.get("name_by_user") or device.get("name") or ours[0]),
                area=area_names.get(str(device.get("area_id") or "")),
                # Detectors are "<bridge>:<device>"; the bridge is its id alone.
                is_bridge=":" not in str(ours[0]),
            )
        )
    return found


def _ordered(entities: Iterable[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: natural_key(e.name))


#: A tile names its entity alone (Home Assistant translates it): the heading above it names
#: the device, so "Kitchen circuit" is not repeated on every tile, and a long device name
#: ("Electrical Safety bridge (192.168.1.20)") leaves room for "Mean time to acknowledge".
ENTITY_NAME_ONLY = {"type": "entity"}


def _tiles(entities: Sequence[Entity]) -> list[dict[str, Any]]:
    # The whole width of the section: a name is then read in full, in every language.
    return [
        {
            "type": "tile",
            "entity": e.entity_id,
            "name": ENTITY_NAME_ONLY,
            "grid_options": {"columns": 12},
        }
        for e in entities
    ]


def _device_heading(detector: Detector) -> dict[str, Any]:
    return {"type": "heading", "heading": detector.name, "heading_style": "subtitle"}


def dashboard_config(
    entities: Sequence[Entity], detectors: Sequence[Detector], *, title: str
) -> dict[str, Any]:
    """The dashboard's configuration (``lovelace/config/save``)."""
    alerts = _ordered(
        e
        for e in entities
        if e.domain == "binary_sensor" and e.device_class in ALERT_DEVICE_CLASSES
    )
    acknowledge = _ordered(
        e for e in entities if e.domain == "button" and e.translation_key == "acknowledge"
    )
    bridges = sorted((d for d in detectors if d.is_bridge), key=lambda d: natural_key(d.name))
    todo = [e for e in entities if e.domain == "todo"]

    now: list[dict[str, Any]] = [{"type": "heading", "heading": "⚠"}]
    # One tile per alarm, shown while it is on: a tile gives the name a line of its own
    # ("Landlord's supply Residual current sensor fault" and its state side by side in a
    # list row would be cut short, in Japanese too).
    now.extend(
        {
            "type": "tile",
            "entity": e.entity_id,
            "grid_options": {"columns": 12},
            "visibility": [{"condition": "state", "entity": e.entity_id, "state": "on"}],
        }
        for e in alerts
    )
    if acknowledge:  # an entity-filter card without entities is a configuration error
        now.append(
            {
                "type": "entity-filter",
                "entities": [e.entity_id for e in acknowledge],
                "state_filter": [{"operator": "!=", "value": "unavailable"}],
                "show_empty": False,
                "card": {"type": "entities"},
            }
        )
    now.extend({"type": "todo-list", "entity": e.entity_id} for e in todo)
    for bridge in bridges:
        counts = _ordered(
            e
            for e in entities
            if e.device_id == bridge.device_id and e.domain == "sensor" and not e.diagnostic
        )
        if counts:
            now.append(_device_heading(bridge))
            now.extend(_tiles(counts))

    sections: list[dict[str, Any]] = [{"type": "grid", "cards": now}]
    rooms: dict[str, list[Detector]] = {}
    for detector in detectors:
        if not detector.is_bridge:
            rooms.setdefault(detector.area or "", []).append(detector)
    for room in sorted(rooms, key=lambda r: (r == "", natural_key(r))):
        cards: list[dict[str, Any]] = [{"type": "heading", "heading": room or "…"}]
        for detector in sorted(rooms[room], key=lambda d: natural_key(d.name)):
            own = [e for e in entities if e.device_id == detector.device_id and not e.diagnostic]
            shown = [
                e
                for domain in ROOM_DOMAINS
                for e in _ordered(x for x in own if x.domain == domain)
                if not (domain == "button" and e.translation_key == "acknowledge")
            ]
            cards.append(_device_heading(detector))
            cards.extend(_tiles(shown))
        sections.append({"type": "grid", "cards": cards})
    return {
        "title": title,
        "views": [
            {
                "title": title,
                "path": "safety",
                "type": "sections",
                "max_columns": 4,
                "sections": sections,
            }
        ],
    }
