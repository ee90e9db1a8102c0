"""The MQTT discovery templates, rendered with Jinja2 as the landlord's Home Assistant renders
them, on the telemetry bodies the relay sends (relay/messages.py)."""

from __future__ import annotations

import json
from typing import Any

import jinja2
import pytest

from electrical_safety_bridge.common.enums import Region
from electrical_safety_bridge.common.site import Site
from electrical_safety_bridge.relay.messages import site_body
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


def site_configs(profile: Site | None) -> dict[str, dict[str, Any]]:
    return dict(
        discovery_messages(
            site="home-1",
            topic_prefix="electrical_safety",
            discovery_prefix="homeassistant",
            devices=[DEVICE],
            profile=None if profile is None else profile.to_dict(),
        )
    )


TRACKER = "homeassistant/device_tracker/home-1/site_location/config"


def test_a_located_site_is_a_gps_tracker_placed_by_its_retained_profile() -> None:
    site = Site("home-1", "Flat 3", Region.CN, 31.2304, 121.4737, None, ())
    tracker = site_configs(site)[TRACKER]
    assert tracker["source_type"] == "gps"
    assert tracker["json_attributes_topic"] == "electrical_safety/home-1/site"
    # What the relay publishes on that topic, through the template as Home Assistant does.
    body = json.loads(site_body(site, 1700000000.0))
    attributes = (
        jinja2.Environment()
        .from_string(tracker["json_attributes_template"])
        .render(value_json=body)
    )
    assert json.loads(attributes) == {
        "latitude": 31.2304,
        "longitude": 121.4737,
        "gps_accuracy": 0,
    }
    assert tracker["device"]["name"] == "Flat 3"


@pytest.mark.parametrize(
    "site",
    [None, Site("home-1", "Flat 3", Region.GENERIC, None, None, None, ())],
    ids=["no-profile", "no-location"],
)
def test_a_site_without_a_location_stays_off_the_map(site: Site | None) -> None:
    configs = site_configs(site)
    assert TRACKER not in configs
    assert not any("/device_tracker/" in topic for topic in configs)


def test_a_site_nobody_named_keeps_the_words_that_say_what_it_is() -> None:
    unnamed = Site("home-1", "home-1", Region.GENERIC, None, None, None, ())
    online = site_configs(unnamed)["homeassistant/binary_sensor/home-1/site_online/config"]
    assert online["device"]["name"] == "Electrical safety home-1"


def test_every_entity_names_its_entity_id_for_old_and_new_home_assistants() -> None:
    for topic, config in discovery_messages(
        site="home-1",
        topic_prefix="electrical_safety",
        discovery_prefix="homeassistant",
        devices=[DEVICE],
    ):
        component = topic.split("/")[1]
        assert config["default_entity_id"] == f"{component}.{config['object_id']}", topic


def test_a_status_register_named_like_an_alarm_is_not_a_second_entity_of_that_name() -> None:
    device = {
        **DEVICE,
        "channels": [
            {"key": "residual_current", "name": "Residual current", "has_alarm": True},
            {"key": "residual_current_alarm", "name": "Residual current alarm"},
            {"key": "temperature_1", "name": "Temperature 1"},
        ],
    }
    configs = discovery_messages(
        site="home-1",
        topic_prefix="electrical_safety",
        discovery_prefix="homeassistant",
        devices=[device],
    )
    names = [config["name"] for _, config in configs if config.get("name")]
    assert names.count("Residual current alarm") == 1
    assert "Residual current alarm (status register)" in names
    assert "Temperature 1" in names
