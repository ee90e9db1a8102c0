"""One site's whole chain, every part real, started once for the module.

The simulator serves two detectors on a pseudo-terminal at 9600 baud with wire timing; the
bridge (``python -m electrical_safety_bridge run``) reads them with its default poll
intervals and relays its events to a real Mosquitto over TLS; a real ``hass`` has the
integration, added through its config flow; a subscriber with a persistent session stands in
for the landlord. An alarm is raised at the simulator, as a detector would raise it, and
looked for at every end by the id the bridge's event store gave it. Then the bridge is
SIGKILLed and started again, and Home Assistant is restarted, each while a new alarm comes:
nothing is lost, and the first alarm stays latched and unacknowledged through both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.rig import SITE, Rig
from tests.relay.helpers import Broker, Collector, Pki
from tests.waiting import wait_for

from .home_assistant import REACH_S, HomeAssistant

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(420)]

BRIDGE_ID = "e2e-flat"
SITE_ID = "flat-1"
UNITS = (("arcm-1", 1, "SIM-ARCM"), ("aafd-2", 2, "SIM-AAFD"))
DETECTOR = "arcm-1"
PLATFORM = "electrical_safety"
#: Bound on the entities being back after a restart of either side (the integration
#: reconnects after 1, 2, 4... s; Home Assistant restores its states at start).
BACK_S = 90.0


@dataclass
class Chain:
    """The parts of the running chain, and the integration's entities of one detector."""

    broker: Broker
    landlord: Collector
    rig: Rig
    hass: HomeAssistant
    #: The event entity of the detector's alarms.
    alarm_events: str

    async def sensor(self, channel: str) -> str:
        """The alarm binary sensor of one channel of the detector."""
        return await self.hass.wait_entity(
            PLATFORM, "binary_sensor", f"{BRIDGE_ID}:{DETECTOR}:alarm:{channel}"
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> AsyncIterator[Chain]:
    folder = tmp_path_factory.mktemp("site")
    broker = Broker(folder / "broker", pki)
    landlord = Collector(broker, topic=f"electrical_safety/{SITE_ID}/#", identifier="landlord")
    hass = HomeAssistant(folder / "homeassistant")
    rig = Rig(
        folder / "bridge",
        UNITS,
        bridge_id=BRIDGE_ID,
        serial=True,
        site={**SITE, "id": SITE_ID},
        poll={},  # the bridge's own intervals, as a user gets them
        config_extra={"relay": {"mqtt": broker.relay_mqtt()}},
    )
    try:
        await broker.start()
        await landlord.start()
        # Home Assistant takes longest to start: the simulator and the bridge start meanwhile.
        starting = asyncio.create_task(hass.start())
        await asyncio.to_thread(rig.start)
        await starting
        await hass.onboard()
        await hass.add_integration(rig.entry_data())
        events = await hass.wait_entity(PLATFORM, "event", f"{BRIDGE_ID}:{DETECTOR}:device:alarms")
        yield Chain(broker, landlord, rig, hass, events)
    finally:
        await hass.close()
        await asyncio.to_thread(rig.close)
        await landlord.stop()
        await broker.kill()


async def stored_alarm(rig: Rig, channel: str) -> dict[str, Any]:
    """The bridge's stored ``alarm_raised`` event of a channel of the detector, once stored
    (read through its REST API)."""
    found: list[dict[str, Any]] = []

    async def stored() -> bool:
        page = await asyncio.to_thread(
            rig.get, f"/events?type=alarm_raised&device_id={DETECTOR}&limit=100"
        )
        found[:] = [e for e in page["events"] if e["channel"] == channel]
        return bool(found)

    await wait_for(stored, REACH_S, interval=0.05, what=f"alarm_raised of {channel} stored")
    assert len(found) == 1, f"one alarm raised, not {found}"
    return found[0]


def latched(alarm_id: str) -> Callable[[dict[str, Any]], bool]:
    """An alarm binary sensor on, showing this alarm latched and not acknowledged."""

    def test(state: dict[str, Any]) -> bool:
        attributes = state["attributes"]
        return (
            state["state"] == "on"
            and attributes.get("latched") is True
            and attributes.get("alarm_id") == alarm_id
            and attributes.get("acknowledged") is False
        )

    return test


def fired(event_id: str) -> Callable[[dict[str, Any]], bool]:
    """The event entity's last event is this stored event."""
    return lambda state: state["attributes"].get("event_id") == event_id


async def delivered(landlord: Collector, event_id: str) -> dict[str, Any]:
    """The landlord's copy of a stored event, once it arrived."""
    await wait_for(
        lambda: any(body["id"] == event_id for body in landlord.events()),
        REACH_S,
        what=f"event {event_id} at the landlord's subscriber",
    )
    return next(body for body in landlord.events() if body["id"] == event_id)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first_alarm(chain: Chain) -> dict[str, Any]:
    """A leak on the detector (450 mA against its 300 mA setpoint), as stored."""
    chain.rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    return await stored_alarm(chain.rig, "residual_current")


async def test_an_alarm_reaches_home_assistant_the_store_and_the_landlord_under_one_id(
    chain: Chain, first_alarm: dict[str, Any]
) -> None:
    event_id, alarm_id = first_alarm["id"], first_alarm["data"]["id"]
    # Home Assistant: the binary sensor shows the latched alarm, the event entity fired it.
    sensor = await chain.sensor("residual_current")
    await chain.hass.until(sensor, latched(alarm_id), REACH_S)
    event = await chain.hass.until(chain.alarm_events, fired(event_id), REACH_S)
    assert event["attributes"]["event_type"] == "alarm_raised"
    assert event["attributes"]["alarm_id"] == alarm_id
    assert event["attributes"]["seq"] == first_alarm["seq"]
    # The landlord: the same stored event, by its id.
    body = await delivered(chain.landlord, event_id)
    assert (body["site"], body["type"], body["device_id"]) == (SITE_ID, "alarm_raised", DETECTOR)
    assert (body["seq"], body["data"]["id"]) == (first_alarm["seq"], alarm_id)


async def test_the_chain_survives_a_bridge_kill_and_a_home_assistant_restart(
    chain: Chain, first_alarm: dict[str, Any]
) -> None:
    rig, hass = chain.rig, chain.hass
    first_sensor = await chain.sensor("residual_current")
    await hass.until(first_sensor, latched(first_alarm["data"]["id"]), REACH_S)

    # The bridge is SIGKILLed; a cable overheats while it is down; it starts again.
    await asyncio.to_thread(rig.kill_bridge)
    rig.inject({"do": "temperature_rise", "unit": 1, "channel": "temperature_2", "to": 95})
    await asyncio.to_thread(rig.start_bridge)
    during_kill = await stored_alarm(rig, "temperature_2")
    second_sensor = await chain.sensor("temperature_2")
    await hass.until(second_sensor, latched(during_kill["data"]["id"]), BACK_S)
    await hass.until(chain.alarm_events, fired(during_kill["id"]), BACK_S)
    await hass.until(first_sensor, latched(first_alarm["data"]["id"]), BACK_S)

    # Home Assistant restarts; another cable overheats while it is down.
    await hass.stop()
    rig.inject({"do": "temperature_rise", "unit": 1, "channel": "temperature_3", "to": 95})
    during_restart = await stored_alarm(rig, "temperature_3")
    await hass.start()
    third_sensor = await chain.sensor("temperature_3")
    await hass.until(third_sensor, latched(during_restart["data"]["id"]), BACK_S)
    await hass.until(second_sensor, latched(during_kill["data"]["id"]), BACK_S)
    await hass.until(first_sensor, latched(first_alarm["data"]["id"]), BACK_S)
    # The alarm raised while Home Assistant was down still fires the event entity, which
    # notifications are triggered by (the tenant's blueprint).
    await hass.until(chain.alarm_events, fired(during_restart["id"]), BACK_S)

    # The bridge still holds all three latched and unacknowledged.
    open_alarms = {a["id"]: a for a in (await asyncio.to_thread(rig.get, "/alarms"))["alarms"]}
    for raised in (first_alarm, during_kill, during_restart):
        assert open_alarms[raised["data"]["id"]]["acknowledged"] is False
    # Nothing lost: the store's events are numbered without a hole, and every one of them
    # reached the landlord.
    page = await asyncio.to_thread(rig.get, "/events?limit=1000")
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    for event in page["events"]:
        await delivered(chain.landlord, event["id"])
