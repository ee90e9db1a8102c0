"""The workflow from alarm to resolution: hazards as a to-do list, their statistics, the
repair issue of a hazard left open, and the maintenance lock-out.

The bridge these tests run against does not serve hazards and lock-outs yet: its routes
land in parallel. So the coordinator is fed real contract payloads (messages built with the
common models' ``to_dict``) through its message handler, exactly as they arrive from the
WebSocket, and the client methods whose bridge route does not exist yet are patched; each
such test says so in its docstring, so that a later change can switch it to the real bridge.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.electrical_safety.const import CONF_HAZARD_REPAIR_AFTER, DOMAIN
from custom_components.electrical_safety.coordinator import (
    ElectricalSafetyCoordinator,
    hazard_issue_id,
)
from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.enums import (
    AlarmKind,
    HazardState,
    MessageType,
    RefusalReason,
)
from electrical_safety_bridge.common.errors import (
    BridgeConnectionError,
    BridgeResponseError,
    CommandRefused,
)
from electrical_safety_bridge.common.models import Snapshot
from electrical_safety_bridge.common.workflow import Actor, Hazard, HazardStatistics, Lockout

from .conftest import find_device, snapshot_entities
from .rig import BRIDGE_ID

TODO = "todo.electrical_safety_bridge_127_0_0_1_hazards"
PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
BRIDGE_SENSOR = "sensor.electrical_safety_bridge_127_0_0_1_"
KITCHEN_LEAK = "Kitchen · Residual current 512 mA"


def hazard(**changes: Any) -> Hazard:
    """A residual-current alarm of the kitchen's detector, opened a minute ago."""
    base = Hazard(
        id="hz-1",
        alarm_id="al-1",
        kind=AlarmKind.ALARM,
        device_id="arcm-1",
        channel="residual_current",
        state=HazardState.OPEN,
        opened_at=dt_util.utcnow().timestamp() - 60,
        value_at_alarm=512,
        detail=None,
        active=True,
        acknowledged=None,
        eliminated=None,
        note=None,
    )
    return dataclasses.replace(base, **changes)


STATISTICS = HazardStatistics(
    open_hazards=2,
    unacknowledged_alarms=1,
    alarms_this_month=7,
    eliminated_this_month=5,
    mean_time_to_acknowledge_s=90.0,
    mean_time_to_eliminate_s=7200.0,
    month="2026-11",
)


def coordinator_of(entry: MockConfigEntry) -> ElectricalSafetyCoordinator:
    coordinator: ElectricalSafetyCoordinator = entry.runtime_data
    return coordinator


async def feed(hass: HomeAssistant, entry: MockConfigEntry, message: dict[str, Any]) -> None:
    """Hand the coordinator one WebSocket message, as the bridge would send it."""
    await coordinator_of(entry)._async_handle(json.dumps(message))
    await hass.async_block_till_done()


async def feed_snapshot(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hazards: tuple[Hazard, ...],
    statistics: HazardStatistics | None = STATISTICS,
) -> None:
    """A snapshot of the running bridge, with hazards and statistics added."""
    data = coordinator_of(entry).data
    snapshot = Snapshot(
        info=data.info,
        devices=tuple(data.devices.values()),
        alarms=tuple(data.open_alarms),
        last_seq=data.last_seq,
        hazards=hazards,
        statistics=statistics,
    )
    await feed(hass, entry, snapshot.to_dict())


async def feed_hazard(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    step: Hazard,
    statistics: HazardStatistics = STATISTICS,
) -> None:
    await feed(
        hass,
        entry,
        {
            "type": MessageType.HAZARD.value,
            "hazard": step.to_dict(),
            "statistics": statistics.to_dict(),
        },
    )


async def todo_items(hass: HomeAssistant) -> list[dict[str, Any]]:
    answer = await hass.services.async_call(
        "todo", "get_items", {}, target={"entity_id": TODO}, blocking=True, return_response=True
    )
    assert answer is not None
    items: list[dict[str, Any]] = answer[TODO]["items"]  # type: ignore[index,assignment]
    return items


async def check_off(
    hass: HomeAssistant, uid: str, description: str | None, user: MockUser | None = None
) -> None:
    data: dict[str, Any] = {"item": uid, "status": "completed"}
    if description is not None:
        data["description"] = description
    await hass.services.async_call(
        "todo",
        "update_item",
        data,
        target={"entity_id": TODO},
        blocking=True,
        context=Context(user_id=user.id) if user is not None else None,
    )


# ---------------------------------------------------------------------------- the to-do list


@pytest.mark.parametrize("platforms", [[Platform.TODO]])
async def test_todo_entity(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The bridge's one to-do list, named by its translation key."""
    await snapshot_entities(hass, entity_registry, snapshot, loaded_entry.entry_id)


@pytest.mark.minimum_ha
async def test_the_todo_list_shows_the_hazards_of_a_snapshot(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """One item per hazard not eliminated, oldest first, with what, where and who."""
    assert await todo_items(hass) == [], "a bridge before hazards (404) has none"
    acknowledged = hazard(
        id="hz-2",
        kind=AlarmKind.WIRING_FAULT,
        device_id="aafd-2",
        channel="temperature",
        state=HazardState.ACKNOWLEDGED,
        opened_at=dt_util.utcnow().timestamp() - 3600,
        value_at_alarm="open_circuit",
        detail="sensor open",
        acknowledged=Actor(who="Home Assistant (Alice)", source="home_assistant", at=1.0e9),
    )
    eliminated = hazard(id="hz-3", state=HazardState.ELIMINATED)
    await feed_snapshot(hass, loaded_entry, (hazard(), acknowledged, eliminated))

    items = await todo_items(hass)
    assert [i["uid"] for i in items] == ["hz-2", "hz-1"]
    assert all(i["status"] == "needs_action" and "due" not in i for i in items)
    assert items[1]["summary"] == KITCHEN_LEAK
    # A wiring fault has no value to show: the item says what it is.
    assert items[0]["summary"] == "Bedroom · Temperature wiring fault (sensor open)"
    assert "Opened: " in items[1]["description"]
    assert "State: open" in items[1]["description"]
    assert "acknowledged by Home Assistant (Alice)" in items[0]["description"]
    assert "Detail: sensor open" in items[0]["description"]
    # Markdown hard breaks: the card shows each line on its own, not one run-on sentence.
    lines = items[0]["description"].split("\n")
    assert len(lines) == 4 and all(line.endswith("  ") for line in lines[:-1]), lines
    state = hass.states.get(TODO)
    assert state is not None and state.state == "2"


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def configured_language(hass: HomeAssistant, language: str) -> str:
    """Home Assistant's language, set before the entry loads."""
    hass.config.language = language
    return language


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ja"])
async def test_a_wiring_fault_is_named_in_the_persons_language(
    hass: HomeAssistant, configured_language: str, loaded_entry: MockConfigEntry
) -> None:
    """A fault the profile names by a state (the ASJ's ``broken_line``) reads as its
    sensor's state does in that language, not as the wire's word (seen in the browser)."""
    fault = hazard(
        kind=AlarmKind.WIRING_FAULT,
        value_at_alarm="broken_line",
        detail="broken_line",
    )
    await feed_snapshot(hass, loaded_entry, (fault,))
    (item,) = await todo_items(hass)
    path = PACKAGE / f"translations/{configured_language}.json"
    strings = json.loads(path.read_text(encoding="utf-8"))
    broken_line = strings["entity"]["sensor"]["alarm_status"]["state"]["broken_line"]
    assert broken_line in item["summary"] and broken_line in item["description"]
    assert "broken_line" not in item["summary"] + item["description"]


async def test_an_item_says_whether_its_condition_is_still_there_or_unknown(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """After a restart the bridge has not read the device yet: the item says so, never the
    stored "still present" or a reassuring "no longer present"."""
    await feed_snapshot(
        hass,
        loaded_entry,
        (hazard(active=True), hazard(id="hz-2", alarm_id="al-2", active=None)),
    )
    descriptions = {i["uid"]: i["description"] for i in await todo_items(hass)}
    assert "Still present" in descriptions["hz-1"]
    assert "Not read since the bridge restarted" in descriptions["hz-2"]
    assert "present" not in descriptions["hz-2"].lower()


@pytest.mark.minimum_ha
async def test_checking_off_eliminates_with_the_note(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """Patched client: the bridge route (POST /hazards/{id}/eliminate) lands in parallel."""
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    client = coordinator_of(loaded_entry).client
    done = hazard(
        state=HazardState.ELIMINATED,
        active=False,
        eliminated=Actor(who="x", source="home_assistant", at=2.0e9),
        note="Wet socket; replaced",
    )
    with patch.object(client, "eliminate_hazard", AsyncMock(return_value=done)) as eliminate:
        await check_off(hass, "hz-1", "Wet socket; replaced", hass_admin_user)
    eliminate.assert_awaited_once_with(
        "hz-1", who=f"Home Assistant ({hass_admin_user.name})", note="Wet socket; replaced"
    )
    # The bridge pushes the eliminated hazard: its item goes.
    await feed_hazard(hass, loaded_entry, done)
    assert await todo_items(hass) == []


async def test_a_note_below_the_generated_text_is_the_note(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Patched client: the bridge route (POST /hazards/{id}/eliminate) lands in parallel.

    A note written first (without checking off) is kept on the item until it is checked off.
    """
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    (item,) = await todo_items(hass)
    await hass.services.async_call(
        "todo",
        "update_item",
        {"item": "hz-1", "description": f"{item['description']}\n\nLoose neutral, tightened"},
        target={"entity_id": TODO},
        blocking=True,
    )
    (item,) = await todo_items(hass)
    assert item["description"] == "Loose neutral, tightened"
    client = coordinator_of(loaded_entry).client
    with patch.object(client, "eliminate_hazard", AsyncMock(return_value=hazard())) as eliminate:
        await check_off(hass, "hz-1", item["description"])
    eliminate.assert_awaited_once_with(
        "hz-1", who="Home Assistant", note="Loose neutral, tightened"
    )


async def test_checking_off_needs_the_cause_and_the_fix(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    (item,) = await todo_items(hass)
    client = coordinator_of(loaded_entry).client
    with patch.object(client, "eliminate_hazard", AsyncMock()) as eliminate:
        for description in (None, item["description"]):
            with pytest.raises(ServiceValidationError) as err:
                await check_off(hass, "hz-1", description)
            assert err.value.translation_key == "hazard_note_required"
            assert err.value.translation_placeholders == {"hazard": KITCHEN_LEAK}
            assert "replace the item's description" in str(err.value)
    eliminate.assert_not_awaited()
    assert [i["uid"] for i in await todo_items(hass)] == ["hz-1"]


@pytest.mark.minimum_ha
async def test_a_refusal_keeps_the_item_and_says_why(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Patched client: the bridge route (POST /hazards/{id}/eliminate) lands in parallel."""
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    client = coordinator_of(loaded_entry).client
    refusal = CommandRefused(RefusalReason.CONDITION_PERSISTS, "480 mA is still above 300 mA")
    with (
        patch.object(client, "eliminate_hazard", AsyncMock(side_effect=refusal)),
        pytest.raises(ServiceValidationError) as err,
    ):
        await check_off(hass, "hz-1", "Replaced the socket")
    assert err.value.translation_key == "refused_condition_persists"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["target"] == KITCHEN_LEAK
    assert err.value.translation_placeholders["device"] == "Kitchen"
    assert err.value.translation_placeholders["channels"] == "Residual current"
    assert "cannot be marked eliminated yet" in str(err.value)
    (item,) = await todo_items(hass)
    assert item["status"] == "needs_action"
    assert item["description"] == "Replaced the socket", "the note is kept for the retry"

    # Any other failure is no validation error, and is translated as every bridge call is.
    with (
        patch.object(
            client, "eliminate_hazard", AsyncMock(side_effect=BridgeConnectionError("gone"))
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await check_off(hass, "hz-1", "Replaced the socket")
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "communication_error"


async def test_items_cannot_be_created_deleted_or_unknown(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    state = hass.states.get(TODO)
    assert state is not None
    features = state.attributes["supported_features"]
    # UPDATE_TODO_ITEM (4) and SET_DESCRIPTION_ON_ITEM (64): no create (1), delete (2), move.
    assert features == 4 | 64
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "todo", "add_item", {"item": "mine"}, target={"entity_id": TODO}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await check_off(hass, "hz-9", "whatever")


# ---------------------------------------------------------------------------- the coordinator


async def test_hazard_messages_replace_and_drop_hazards(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    coordinator = coordinator_of(loaded_entry)
    await feed_hazard(hass, loaded_entry, hazard())
    assert list(coordinator.data.hazards) == ["hz-1"]
    acknowledged = hazard(
        state=HazardState.ACKNOWLEDGED, acknowledged=Actor(who="Bob", source="api", at=1.0e9)
    )
    await feed_hazard(hass, loaded_entry, acknowledged)
    assert coordinator.data.hazards["hz-1"].state == HazardState.ACKNOWLEDGED
    await feed_hazard(hass, loaded_entry, hazard(state=HazardState.ELIMINATED))
    assert coordinator.data.hazards == {}
    # A message without statistics keeps the last ones.
    await feed(hass, loaded_entry, {"type": "hazard", "hazard": hazard().to_dict()})
    assert coordinator.data.statistics == STATISTICS
    # A snapshot without hazards (a bridge before them) keeps what set-up read.
    await feed_snapshot(hass, loaded_entry, (hazard(id="hz-5"),))
    data = coordinator.data
    snapshot = Snapshot(
        info=data.info, devices=tuple(data.devices.values()), alarms=(), last_seq=data.last_seq
    ).to_dict()
    del snapshot["hazards"], snapshot["statistics"]
    await feed(hass, loaded_entry, snapshot)
    assert list(coordinator.data.hazards) == ["hz-5"]


async def test_a_bridge_that_cannot_answer_hazards_fails_the_set_up(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Patched client: the bridge route (GET /hazards) lands in parallel; only a 404 means
    a bridge before hazards, any other failure is retried."""
    config_entry.add_to_hass(hass)
    failure = AsyncMock(side_effect=BridgeConnectionError("reset by peer"))
    with patch.object(BridgeClient, "hazards", failure):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_a_bridge_before_hazards_has_none(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A bridge from before hazards answers 404 for GET /statistics and sends snapshots
    without them: no hazards, no statistics (unknown), and the entry loads. Patched: the
    rig's bridge has hazards, so its 404 and its snapshot-less socket are stood in for (the
    socket is kept closed, so no snapshot of the real bridge brings statistics)."""
    config_entry.add_to_hass(hass)
    not_found = AsyncMock(side_effect=BridgeResponseError("HTTP 404: Not Found"))
    no_socket = MagicMock(side_effect=BridgeConnectionError("no socket in this test"))
    with (
        patch.object(BridgeClient, "statistics", not_found),
        patch.object(BridgeClient, "websocket", no_socket),
    ):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.data.hazards == {}
    assert config_entry.runtime_data.data.statistics is None


# ---------------------------------------------------------------------------- statistics


@pytest.mark.minimum_ha
async def test_statistics_sensors_match_the_payload(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await feed_hazard(hass, loaded_entry, hazard())
    expected = {
        "open_hazards": ("2", None),
        "unacknowledged_alarms": ("1", None),
        "alarms_this_month": ("7", "total_increasing"),
        "hazards_eliminated_this_month": ("5", "total_increasing"),
        "mean_time_to_acknowledge": ("1.5", None),
        "mean_time_to_eliminate": ("120.0", None),
    }
    for suffix, (value, state_class) in expected.items():
        state = hass.states.get(f"{BRIDGE_SENSOR}{suffix}")
        assert state is not None, suffix
        assert state.state == value, suffix
        assert state.attributes.get("state_class") == state_class, suffix
    mean = hass.states.get(f"{BRIDGE_SENSOR}mean_time_to_eliminate")
    assert mean is not None
    assert mean.attributes["device_class"] == "duration"
    assert mean.attributes["unit_of_measurement"] == "min"
    assert mean.attributes["month"] == "2026-11"
    later = dataclasses.replace(STATISTICS, open_hazards=1, mean_time_to_acknowledge_s=None)
    await feed_hazard(hass, loaded_entry, hazard(), later)
    state = hass.states.get(f"{BRIDGE_SENSOR}open_hazards")
    assert state is not None and state.state == "1"
    state = hass.states.get(f"{BRIDGE_SENSOR}mean_time_to_acknowledge")
    assert state is not None and state.state == STATE_UNKNOWN


# ---------------------------------------------------------------------------- repair issues


async def test_a_hazard_left_open_is_a_repair_issue_until_eliminated(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_HAZARD_REPAIR_AFTER: 2})
    opened = hazard(opened_at=dt_util.utcnow().timestamp() - 3600)
    fault = hazard(
        id="hz-2",
        kind=AlarmKind.WIRING_FAULT,
        opened_at=dt_util.utcnow().timestamp() - 600,
        value_at_alarm=None,
        detail="open_circuit",
    )
    await feed_snapshot(hass, loaded_entry, (opened, fault))
    issue_id = hazard_issue_id(loaded_entry.entry_id, "hz-1")
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None, "open 1 h of 2"

    freezer.tick(timedelta(minutes=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "hazard_open_alarm"
    assert issue.translation_placeholders is not None
    placeholders = dict(issue.translation_placeholders)
    assert placeholders.pop("since").count(":") == 1
    assert placeholders == {
        "device": "Kitchen",
        "channel": "Residual current",
        "value": "512 mA",
        "hours": "2",
    }
    fault_issue = hazard_issue_id(loaded_entry.entry_id, "hz-2")
    assert issue_registry.async_get_issue(DOMAIN, fault_issue) is None, "open 71 min of 120"

    freezer.tick(timedelta(minutes=50))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, fault_issue)
    assert issue is not None and issue.translation_key == "hazard_open_wiring_fault"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["value"] == "open_circuit"

    await feed_hazard(hass, loaded_entry, dataclasses.replace(opened, state="eliminated"))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert issue_registry.async_get_issue(DOMAIN, fault_issue) is not None


# ---------------------------------------------------------------------------- lock-out


def _device_id(hass: HomeAssistant, bridge_device: str) -> str:
    device = find_device(hass, f"{BRIDGE_ID}:{bridge_device}")
    assert device is not None
    return device.id


async def feed_lockout(
    hass: HomeAssistant, entry: MockConfigEntry, device_id: str, lockout: Lockout | None
) -> None:
    """A ``device_state`` message of the running bridge's device, with the lock-out."""
    device = coordinator_of(entry).data.devices[device_id]
    state = dataclasses.replace(device.state, id=device_id, lockout=lockout)
    await feed(hass, entry, {"type": "device_state", "device": state.to_dict()})


@pytest.mark.minimum_ha
async def test_the_lockout_binary_sensor(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    entity_id = "binary_sensor.asj_4_maintenance_lock_out"
    state = hass.states.get(entity_id)
    assert state is not None and state.state == STATE_OFF
    assert state.attributes["who"] is None
    since = dt_util.utcnow().replace(microsecond=0)
    lockout = Lockout(
        who="Home Assistant (Alice)",
        source="home_assistant",
        why="Replacing the socket circuit",
        since=since.timestamp(),
        until=(since + timedelta(hours=2)).timestamp(),
    )
    await feed_lockout(hass, loaded_entry, "asj-4", lockout)
    state = hass.states.get(entity_id)
    assert state is not None and state.state == STATE_ON
    assert state.attributes["who"] == "Home Assistant (Alice)"
    assert state.attributes["why"] == "Replacing the socket circuit"
    assert state.attributes["since"] == since
    assert state.attributes["until"] == since + timedelta(hours=2)
    await feed_lockout(hass, loaded_entry, "asj-4", None)
    state = hass.states.get(entity_id)
    assert state is not None and state.state == STATE_OFF


# ---------------------------------------------------------------------------- services


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any], **kw: Any) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, **kw)


async def test_acknowledge_hazard_by_id_and_by_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """Patched client: the bridge route (POST /hazards/{id}/acknowledge) lands in parallel."""
    acknowledged = hazard(id="hz-2", state=HazardState.ACKNOWLEDGED)
    other = hazard(id="hz-3", device_id="aafd-2")
    await feed_snapshot(hass, loaded_entry, (hazard(), acknowledged, other))
    client = coordinator_of(loaded_entry).client
    with patch.object(client, "acknowledge_hazard", AsyncMock(return_value=hazard())) as ack:
        answer = await _call(
            hass,
            "acknowledge_hazard",
            {"hazard_id": "hz-3"},
            return_response=True,
            context=Context(user_id=hass_admin_user.id),
        )
        assert answer == {"acknowledged": ["hz-3"]}
        ack.assert_awaited_once_with("hz-3", f"Home Assistant ({hass_admin_user.name})")
        ack.reset_mock()
        answer = await _call(
            hass,
            "acknowledge_hazard",
            {"device_id": [_device_id(hass, "arcm-1")]},
            return_response=True,
        )
    assert answer == {"acknowledged": ["hz-1"]}, "the acknowledged one is left alone"
    ack.assert_awaited_once_with("hz-1", "Home Assistant")

    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_hazard", {})
    assert err.value.translation_key == "no_hazard_target"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_hazard", {"hazard_id": "hz-9"})
    assert err.value.translation_key == "unknown_hazard"


async def test_eliminate_hazard_with_a_note(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Patched client: the bridge route (POST /hazards/{id}/eliminate) lands in parallel."""
    await feed_snapshot(hass, loaded_entry, (hazard(),))
    client = coordinator_of(loaded_entry).client
    done = hazard(state=HazardState.ELIMINATED, note="Socket replaced")
    with patch.object(client, "eliminate_hazard", AsyncMock(return_value=done)) as eliminate:
        answer = await _call(
            hass,
            "eliminate_hazard",
            {"hazard_id": "hz-1", "note": " Socket replaced "},
            return_response=True,
        )
    eliminate.assert_awaited_once_with("hz-1", who="Home Assistant", note="Socket replaced")
    assert answer["hazard"]["state"] == "eliminated"
    refusal = CommandRefused(RefusalReason.CONDITION_PERSISTS, "still 480 mA")
    with (
        patch.object(client, "eliminate_hazard", AsyncMock(side_effect=refusal)),
        pytest.raises(ServiceValidationError) as err,
    ):
        await _call(hass, "eliminate_hazard", {"hazard_id": "hz-1", "note": "Socket replaced"})
    assert err.value.translation_key == "refused_condition_persists"
    with pytest.raises(Exception, match="note"):
        await _call(hass, "eliminate_hazard", {"hazard_id": "hz-1", "note": "  "})


async def test_lock_out_and_lift(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Patched client: the bridge routes (POST /devices/{id}/lockout and .../lift) land in
    parallel."""
    client = coordinator_of(loaded_entry).client
    device = _device_id(hass, "asj-4")
    now = dt_util.utcnow()
    lockout = Lockout(
        who="Home Assistant", source=None, why="Work", since=now.timestamp(), until=None
    )
    with patch.object(client, "lock_out", AsyncMock(return_value=lockout)) as lock_out:
        answer = await _call(
            hass, "lock_out", {"device_id": device, "why": "Work"}, return_response=True
        )
        assert answer == {"lockout": lockout.to_dict()}
        lock_out.assert_awaited_with("asj-4", "Home Assistant", "Work", None)
        await _call(hass, "lock_out", {"device_id": device, "why": "Work", "duration": "01:30:00"})
        lock_out.assert_awaited_with(
            "asj-4", "Home Assistant", "Work", (now + timedelta(minutes=90)).timestamp()
        )
        until = dt_util.as_local(now + timedelta(days=1)).replace(tzinfo=None, microsecond=0)
        await _call(hass, "lock_out", {"device_id": device, "why": "Work", "until": until})
        lock_out.assert_awaited_with(
            "asj-4", "Home Assistant", "Work", dt_util.as_utc(until).timestamp()
        )
        with pytest.raises(ServiceValidationError) as err:
            await _call(
                hass,
                "lock_out",
                {"device_id": device, "why": "Work", "until": until - timedelta(days=2)},
            )
        assert err.value.translation_key == "lock_out_until_past"
    with patch.object(client, "lift_lock_out", AsyncMock(return_value=None)) as lift:
        await _call(hass, "lift_lock_out", {"device_id": device})
    lift.assert_awaited_once_with("asj-4", "Home Assistant")


async def test_a_locked_out_breaker_refuses_to_close(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Patched client: the bridge's refusal (``locked_out``) lands in parallel."""
    client = coordinator_of(loaded_entry).client
    refusal = CommandRefused(RefusalReason.LOCKED_OUT, "locked out by Alice: new socket")
    with (
        patch.object(client, "command", AsyncMock(side_effect=refusal)),
        pytest.raises(HomeAssistantError) as err,
    ):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.kitchen_breaker"}, blocking=True
        )
    assert err.value.translation_key == "close_refused_locked_out"
    assert "locked out for maintenance" in str(err.value)
