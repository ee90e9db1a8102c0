"""The alarm-first dashboard of demo/dashboard.py, from registry listings as Home Assistant's
WebSocket API gives them."""

from __future__ import annotations

from typing import Any

from demo.dashboard import (
    dashboard_config,
    detectors_from_registry,
    entities_from_registry,
    natural_key,
)

DOMAIN = "electrical_safety"


def _entity(entity_id: str, device_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "device_id": device_id,
        "platform": DOMAIN,
        "original_name": name,
        "entity_category": None,
        **extra,
    }


DEVICES = [
    {"id": "d-bridge", "name": "Bridge", "identifiers": [[DOMAIN, "b1"]], "area_id": None},
    {
        "id": "d-k",
        "name": "Kitchen circuit",
        "identifiers": [[DOMAIN, "b1:k"]],
        "area_id": "kitchen",
    },
    {"id": "d-b", "name": "Main board", "identifiers": [[DOMAIN, "b1:b"]], "area_id": None},
    {"id": "other", "name": "A lamp", "identifiers": [["hue", "1"]], "area_id": "kitchen"},
]
AREAS = [{"area_id": "kitchen", "name": "Kitchen"}]
ENTITIES = [
    _entity("switch.kitchen_breaker", "d-k", "Breaker"),
    _entity(
        "binary_sensor.kitchen_alarm",
        "d-k",
        "Residual current alarm",
        original_device_class="safety",
    ),
    _entity("button.kitchen_acknowledge", "d-k", "Acknowledge", translation_key="acknowledge"),
    _entity("sensor.kitchen_leak", "d-k", "Residual current"),
    _entity("sensor.kitchen_firmware", "d-k", "Firmware", entity_category="diagnostic"),
    _entity("sensor.board_loop_10", "d-b", "Loop 10 residual current"),
    _entity("sensor.board_loop_2", "d-b", "Loop 2 residual current"),
    _entity("binary_sensor.board_fault", "d-b", "Wiring fault", original_device_class="problem"),
    _entity("sensor.bridge_open_hazards", "d-bridge", "Open hazards"),
    _entity("todo.bridge_hazards", "d-bridge", "Hazards"),
    {**_entity("light.lamp", "other", "Lamp"), "platform": "hue"},
    {**_entity("sensor.kitchen_old", "d-k", "Old"), "disabled_by": "user"},
]


#: ``get_states``: the registry lists a device class only when a person set one.
STATES = [{"entity_id": "binary_sensor.kitchen_alarm", "attributes": {"device_class": "safety"}}]


def _build() -> dict[str, Any]:
    return dashboard_config(
        entities_from_registry(ENTITIES, STATES),
        detectors_from_registry(DEVICES, AREAS),
        title="Electrical safety",
    )


def _entities_of(cards: list[dict[str, Any]]) -> list[str]:
    return [c["entity"] for c in cards if "entity" in c]


def test_what_is_wrong_comes_first() -> None:
    (view,) = _build()["views"]
    now = view["sections"][0]["cards"]
    # Each alarm's tile, shown while it is on, under its full name (device and entity).
    alerts = [c for c in now if "visibility" in c]
    assert _entities_of(alerts) == ["binary_sensor.kitchen_alarm", "binary_sensor.board_fault"]
    for tile in alerts:
        assert tile["type"] == "tile" and "name" not in tile
        assert tile["visibility"] == [
            {"condition": "state", "entity": tile["entity"], "state": "on"}
        ]
    (buttons,) = [c for c in now if c["type"] == "entity-filter"]
    assert buttons["entities"] == ["button.kitchen_acknowledge"]
    assert {"type": "todo-list", "entity": "todo.bridge_hazards"} in now
    assert _entities_of(now) == [
        *_entities_of(alerts),
        "todo.bridge_hazards",
        "sensor.bridge_open_hazards",
    ]
    # The counts under the bridge's name, each tile naming its entity alone.
    heading = now.index({"type": "heading", "heading": "Bridge", "heading_style": "subtitle"})
    assert now[heading + 1]["entity"] == "sensor.bridge_open_hazards"
    assert now[heading + 1]["name"] == {"type": "entity"}


def test_one_section_per_room_in_natural_order() -> None:
    (view,) = _build()["views"]
    kitchen, others = view["sections"][1:]
    assert kitchen["cards"][0]["heading"] == "Kitchen"
    assert _entities_of(kitchen["cards"]) == [
        "switch.kitchen_breaker",
        "sensor.kitchen_leak",
        "binary_sensor.kitchen_alarm",
    ]  # buttons are in "now" or on the device page; diagnostics, disabled, others: out
    assert [c["heading"] for c in others["cards"] if c["type"] == "heading"] == ["…", "Main board"]
    assert all(c["name"] == {"type": "entity"} for c in others["cards"] if c["type"] == "tile")
    assert _entities_of(others["cards"]) == [
        "sensor.board_loop_2",
        "sensor.board_loop_10",
        "binary_sensor.board_fault",
    ]


def test_natural_order() -> None:
    names = ["Loop 10", "Loop 2", "loop 1", "Loop 12", "Alarm"]
    assert sorted(names, key=natural_key) == ["Alarm", "loop 1", "Loop 2", "Loop 10", "Loop 12"]


def test_no_alert_entities_no_filter_card() -> None:
    """An entity-filter card without entities is a configuration error in the frontend."""
    (view,) = dashboard_config([], [], title="t")["views"]
    assert all(c["type"] != "entity-filter" for c in view["sections"][0]["cards"])
