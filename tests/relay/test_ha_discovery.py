"""The MQTT discovery templates, rendered with Jinja2 as the landlord's Home Assistant renders
them, on the telemetry bodies the relay sends (relay/messages.py)."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from electrical_safety_bridge.relay.mqtt_discovery import discovery_messages

DEVICE = {
    "id": "kitchen",
    "name": "Kitchen",
    "model": "SIM-ARCM",
    "manufacturer": "Simulated",
    "channels": [{"key": "residual_current", "has_alarm": True, "unit": "mA"}],
}


def rendered(template: str, data: dict[str, Any]) -> str:
    return jinja2.Environment().from_string(template).render(value_json={"data": data})


@pytest.mark.parametrize(
    ("alarm", "state"),
    [(True, "ON"), (False, "OFF"), (None, "None")],
    ids=["alarm", "clear", "not-known-yet"],
)
def test_an_alarm_the_bridge_cannot_decide_is_unknown_off_site_too(
    alarm: bool | None, state: str
) -> None:
    configs = dict(
        discovery_messages(
            site="home-1",
            topic_prefix="electrical_safety",
            discovery_prefix="homeassistant",
            devices=[DEVICE],
        )
    )
    (config,) = [c for topic, c in configs.items() if topic.endswith("_alarm/config")]
    data = {"alarms": {"residual_current": alarm}, "values": {}, "online": True}
    # 'None' is what Home Assistant's MQTT binary sensor takes as "unknown".
    assert rendered(config["value_template"], data) == state
