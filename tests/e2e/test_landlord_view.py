"""The landlord's view: a central Home Assistant fed by two sites' relays, every part real.

Two sites each run the simulator on a pseudo-terminal with wire timing and a bridge whose
configuration names the site (its name and location) and relays to one Mosquitto with MQTT
discovery on. The landlord's own Home Assistant knows nothing of the sites: it has only the
MQTT integration, on the same broker (a config entry in its folder, as the MQTT config flow
would write it with an uploaded CA certificate). Through discovery alone it shows both
sites' detectors, an alarm raised at one of them, and each site as a device tracker at its
coordinates, which is what its map draws.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.rig import Rig
from tests.relay.helpers import LANDLORD, LANDLORD_PASSWORD, Broker, Pki

from .home_assistant import HomeAssistant

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]


@dataclass(frozen=True)
class Site:
    """One property: its ``site:`` block and the detectors on its line."""

    id: str
    name: str
    latitude: float
    longitude: float
    units: tuple[tuple[str, int, str], ...]

    def block(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


#: Two properties of one landlord. The same detector id at both: discovery keeps them apart
#: by site.
SITES = (
    Site("sakura-flat", "Sakura flat", 35.6812, 139.7671, (("arcm-1", 1, "SIM-ARCM"),)),
    Site(
        "umeda-shop",
        "Umeda shop",
        34.7025,
        135.4959,
        (("arcm-1", 1, "SIM-ARCM"), ("aafd-2", 2, "SIM-AAFD")),
    ),
)
ALARMED = SITES[0]


def mqtt_entry(broker: Broker) -> dict[str, Any]:
    """The MQTT integration's config entry for the broker, with the landlord's login and the
    broker's CA (the certificate's text, as the config flow stores an uploaded one)."""
    return {
        "entry_id": uuid.uuid4().hex,
        "domain": "mqtt",
        "title": "127.0.0.1",
        "source": "user",
        "version": 1,
        "minor_version": 2,
        "unique_id": None,
        "data": {
            "broker": "127.0.0.1",
            "port": broker.port,
            "username": LANDLORD,
            "password": LANDLORD_PASSWORD,
            "certificate": broker.pki.ca.read_text(encoding="ascii"),
        },
        "options": {"discovery": True, "discovery_prefix": "homeassistant"},
    }


@dataclass
class Landlord:
    broker: Broker
    sites: dict[str, Rig]
    hass: HomeAssistant

    async def entity(self, domain: str, unique_id: str) -> str:
        """The central Home Assistant's entity of an MQTT-discovered unique id."""
        return await self.hass.wait_entity("mqtt", domain, unique_id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def landlord(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> AsyncIterator[Landlord]:
    folder = tmp_path_factory.mktemp("landlord")
    broker = Broker(folder / "broker", pki)
    hass = HomeAssistant(folder / "central")
    rigs = {
        site.id: Rig(
            folder / site.id,
            site.units,
            bridge_id=f"bridge-{site.id}",
            site=site.block(),
            serial=True,
            poll={},
            config_extra={"relay": {"site": site.id, "mqtt": broker.relay_mqtt(discovery=True)}},
        )
        for site in SITES
    }
    try:
        await broker.start()
        hass.write_config_entry(mqtt_entry(broker))
        starting = asyncio.create_task(hass.start())
        await asyncio.gather(*(asyncio.to_thread(rig.start) for rig in rigs.values()))
        await starting
        await hass.onboard()
        yield Landlord(broker, rigs, hass)
    finally:
        await hass.close()
        await asyncio.gather(*(asyncio.to_thread(rig.close) for rig in rigs.values()))
        await broker.kill()


async def test_both_sites_detectors_and_locations_reach_the_central_home_assistant(
    landlord: Landlord,
) -> None:
    hass = landlord.hass
    for site in SITES:
        for device_id, _, _ in site.units:
            online = await landlord.entity("binary_sensor", f"es_{site.id}_{device_id}_online")
            await hass.until(online, lambda s: s["state"] == "on")
        alarm = await landlord.entity(
            "binary_sensor", f"es_{site.id}_arcm-1_residual_current_alarm"
        )
        await hass.until(alarm, lambda s: s["state"] == "off")
        # The map: the site as a device tracker at its configured coordinates.
        tracker = await landlord.entity("device_tracker", f"es_{site.id}_site_location")
        state = await hass.until(tracker, lambda s: s["attributes"].get("latitude") is not None)
        attributes = state["attributes"]
        assert (attributes["latitude"], attributes["longitude"]) == (
            site.latitude,
            site.longitude,
        )
        assert attributes["source_type"] == "gps"
        assert attributes["friendly_name"] == site.name


async def test_an_alarm_at_one_site_shows_at_the_center_and_only_there(
    landlord: Landlord,
) -> None:
    hass = landlord.hass
    alarms = {
        site.id: await landlord.entity(
            "binary_sensor", f"es_{site.id}_arcm-1_residual_current_alarm"
        )
        for site in SITES
    }
    open_alarms = {
        site.id: await landlord.entity("sensor", f"es_{site.id}_arcm-1_open_alarms")
        for site in SITES
    }
    landlord.sites[ALARMED.id].inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await hass.until(alarms[ALARMED.id], lambda s: s["state"] == "on")
    await hass.until(open_alarms[ALARMED.id], lambda s: s["state"] == "1")
    for site in SITES:
        if site is not ALARMED:
            quiet = await hass.state(alarms[site.id])
            assert quiet is not None and quiet["state"] == "off", quiet
            quiet = await hass.state(open_alarms[site.id])
            assert quiet is not None and quiet["state"] == "0", quiet
