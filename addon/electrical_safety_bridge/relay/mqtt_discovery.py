"""Home Assistant MQTT discovery payloads for a landlord's central Home Assistant. Pure.

With ``relay.mqtt.discovery: true`` the MQTT sink publishes, retained, one config message per
entity under ``<discovery_prefix>/<component>/<site>/<object>/config``: the site is the
discovery *node id*, so every property's entities sit under their own prefix and a central
Home Assistant shows all of them with no configuration. Entities read the relay's own topics:
the site's retained ``status`` (online/offline, also every entity's availability), its
``heartbeat``, its retained ``site`` profile, and each device's retained ``state`` snapshot.

A site with a location gets a ``device_tracker`` (``source_type: gps``) whose latitude and
longitude come from the retained profile, so that the central Home Assistant's map shows
every property. It has no availability: a site that went offline is still where it was.

The payloads are plain data; the bridge imports nothing from Home Assistant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import __version__

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


#: The map position of a site from its retained profile. The location is the one configured,
#: not measured: it is exact as far as the map is concerned (an accuracy of 0 m).
SITE_LOCATION_TEMPLATE = (
    "{{ {'latitude': value_json.data.latitude, 'longitude': value_json.data.longitude,"
    " 'gps_accuracy': 0} | tojson }}"
)


def _located(profile: Mapping[str, Any]) -> bool:
    return all(
        isinstance(profile.get(key), int | float) and not isinstance(profile.get(key), bool)
        for key in ("latitude", "longitude")
    )


def site_identifier(site: str) -> str:
    """The device-registry identifier of a site's bridge."""
    return f"electrical_safety_{site}"


def device_identifier(site: str, device_id: str) -> str:
    """The device-registry identifier of one detector of a site."""
    return f"electrical_safety_{site}_{device_id}"


def discovery_messages(
    *,
    site: str,
    topic_prefix: str,
    discovery_prefix: str,
    devices: Iterable[Mapping[str, Any]],
    profile: Mapping[str, Any] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, payload) for every entity of the site; ``profile`` is the site's
    (``Site.to_dict()``), None when the relay has none."""
    base = f"{topic_prefix}/{site}"
    node = _safe(site)
    origin = {"name": "Electrical Safety bridge", "sw": __version__}
    availability = {
        "availability_topic": f"{base}/status",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
    site_device = {
        "identifiers": [site_identifier(site)],
        # A site nobody named is named by its id: the words say what it is.
        "name": str(
            name
            if (name := (profile or {}).get("name")) and name != site
            else f"Electrical safety {site}"
        ),
        "manufacturer": "Electrical Safety for Home Assistant",
        "model": "Bridge",
        "sw_version": __version__,
    }
    out: list[tuple[str, dict[str, Any]]] = []

    def add(component: str, object_id: str, payload: dict[str, Any]) -> None:
        unique = f"es_{site}_{object_id}"
        payload = {
            "unique_id": unique,
            # The entity id a central Home Assistant gives the entity. Home Assistant 2025.10
            # and later read default_entity_id (object_id is deprecated, ignored from 2026.4);
            # earlier ones read object_id. Each drops the key it does not know.
            "default_entity_id": f"{component}.{_safe(unique)}",
            "object_id": _safe(unique),
            "origin": origin,
            **payload,
        }
        out.append((f"{discovery_prefix}/{component}/{node}/{_safe(object_id)}/config", payload))

    add(
        "binary_sensor",
        "site_online",
        {
            "name": "Online",
            "device_class": "connectivity",
            "state_topic": f"{base}/status",
            "payload_on": "online",
            "payload_off": "offline",
            "device": site_device,
        },
    )
    add(
        "sensor",
        "site_pending_alarms",
        {
            "name": "Undelivered alarms",
            "state_topic": f"{base}/heartbeat",
            "value_template": "{{ value_json.data.pending_alarms }}",
            "state_class": "measurement",
            "device": site_device,
            **availability,
        },
    )
    add(
        "sensor",
        "site_heartbeat",
        {
            "name": "Last heartbeat",
            "device_class": "timestamp",
            "entity_category": "diagnostic",
            "state_topic": f"{base}/heartbeat",
            "value_template": "{{ value_json.time }}",
            "device": site_device,
        },
    )
    if profile is not None and _located(profile):
        add(
            "device_tracker",
            "site_location",
            {
                # None: the entity takes the site's (device's) name, which the map shows.
                "name": None,
                "source_type": "gps",
                "icon": "mdi:home-lightning-bolt",
                "json_attributes_topic": f"{base}/site",
                "json_attributes_template": SITE_LOCATION_TEMPLATE,
                "device": site_device,
            },
        )
    for device in devices:
        device_id = str(device["id"])
        state_topic = f"{base}/{device_id}/state"
        registry = {
            "identifiers": [device_identifier(site, device_id)],
            "name": str(device.get("name") or device_id),
            "manufacturer": device.get("manufacturer"),
            "model": device.get("model"),
            "via_device": site_identifier(site),
        }
        common = {"state_topic": state_topic, "device": registry, **availability}
        add(
            "binary_sensor",
            f"{device_id}_online",
            {
                "name": "Communication",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "value_template": "{{ 'ON' if value_json.data.online else 'OFF' }}",
                **common,
            },
        )
        add(
            "sensor",
            f"{device_id}_open_alarms",
            {
                "name": "Open alarms",
                "state_class": "measurement",
                "value_template": "{{ value_json.data.open_alarms | length }}",
                **common,
            },
        )
        channels = device.get("channels", [])
        # A detector's raw status register is often named like the alarm a measured channel
        # raises ("Residual current alarm"): two entities of one name would leave a landlord
        # guessing which is the alarm, so the register's sensor says it is the register.
        alarm_names = {
            f"{channel.get('name') or channel['key']} alarm"
            for channel in channels
            if channel.get("has_alarm")
        }
        for channel in channels:
            key = str(channel["key"])
            name = str(channel.get("name") or key)
            payload: dict[str, Any] = {
                "name": f"{name} (status register)" if name in alarm_names else name,
                "value_template": f"{{{{ value_json.data['values'].get('{key}') }}}}",
                **common,
            }
            for field in ("device_class", "state_class"):
                if channel.get(field):
                    payload[field] = channel[field]
            if channel.get("unit"):
                payload["unit_of_measurement"] = channel["unit"]
            if channel.get("diagnostic"):
                payload["entity_category"] = "diagnostic"
            add("sensor", f"{device_id}_{key}", payload)
            if channel.get("has_alarm"):
                add(
                    "binary_sensor",
                    f"{device_id}_{key}_alarm",
                    {
                        "name": f"{name} alarm",
                        "device_class": "safety",
                        # An alarm the bridge cannot decide yet is null: 'None' makes
                        # Home Assistant's MQTT binary sensor unknown, not "no alarm".
                        "value_template": (
                            f"{{% set alarm = value_json.data.alarms.get('{key}') %}}"
                            "{{ 'None' if alarm is none else ('ON' if alarm else 'OFF') }}"
                        ),
                        **common,
                    },
                )
    return out
