"""Sensors of the proof (proof.py): each detector's last and next self-test, and the
bridge's next inspection due. Timestamps; the result and the figures behind it are
attributes, so an automation or a card can show "passed in 4 s of the 30 s allowed"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)

from electrical_safety_bridge.common.enums import CommandName
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.proof import SelfTestScheduleEntry

from .coordinator import ElectricalSafetyCoordinator
from .entity import BridgeEntity, ElectricalSafetyEntity, timestamp
from .proof import ProofTracker


@dataclass(frozen=True, kw_only=True)
class SelfTestSensorEntityDescription(SensorEntityDescription):
    """A detector's self-test sensor: what it shows of its schedule entry."""

    value_fn: Callable[[SelfTestScheduleEntry], datetime | None]
    attributes_fn: Callable[[SelfTestScheduleEntry], dict[str, Any]]


def _last_attributes(entry: SelfTestScheduleEntry) -> dict[str, Any]:
    last = entry.last
    if last is None:
        return {"result": None}
    return {
        "result": str(last.result),
        "trigger": str(last.trigger),
        "seconds_to_alarm": last.seconds_to_alarm,
        "time_limit_s": last.time_limit_s,
        "channel": last.channel,
        "due_at": timestamp(last.due_at),
        "who": last.who,
    }


LAST_SELF_TEST = SelfTestSensorEntityDescription(
    key="last_self_test",
    translation_key="last_self_test",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda entry: None if entry.last is None else timestamp(entry.last.at),
    attributes_fn=_last_attributes,
)
NEXT_SELF_TEST = SelfTestSensorEntityDescription(
    key="next_self_test",
    translation_key="next_self_test",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda entry: timestamp(entry.next_due),
    attributes_fn=lambda entry: {
        "every_days": entry.every_days,
        "at": entry.at,
        "pending": entry.pending,
        "enabled": entry.enabled,
        "reason": entry.reason,
    },
)
NEXT_INSPECTION = SensorEntityDescription(
    key="next_inspection",
    translation_key="next_inspection",
    device_class=SensorDeviceClass.TIMESTAMP,
)


class SelfTestSensor(ElectricalSafetyEntity, SensorEntity):
    """A detector's last or next self-test."""

    entity_description: SelfTestSensorEntityDescription

    def __init__(
        self,
        coordinator: ElectricalSafetyCoordinator,
        device: Device,
        tracker: ProofTracker,
        description: SelfTestSensorEntityDescription,
    ) -> None:
        """A sensor of the detector's self-test schedule entry."""
        super().__init__(coordinator, device, description, "proof")
        self._tracker = tracker

    async def async_added_to_hass(self) -> None:
        """Follow the tracker's refreshes as well as the coordinator's."""
        await super().async_added_to_hass()
        self.async_on_remove(self._tracker.async_add_listener(self.async_write_ha_state))

    @property
    def available(self) -> bool:
        """A record stays readable while the detector is offline (a missed test is news)."""
        return self.coordinator.last_update_success and self.device_id in self._tracker.schedule

    @property
    def native_value(self) -> datetime | None:
        """The time of the last test, or when the next one is due."""
        entry = self._tracker.schedule.get(self.device_id)
        return None if entry is None else self.entity_description.value_fn(entry)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The result and its figures, or the schedule."""
        entry = self._tracker.schedule.get(self.device_id)
        return None if entry is None else self.entity_description.attributes_fn(entry)


class NextInspectionSensor(BridgeEntity, SensorEntity):
    """When the first of the tracked inspections is due; each kind's as attributes."""

    def __init__(self, coordinator: ElectricalSafetyCoordinator, tracker: ProofTracker) -> None:
        """The bridge's (the site's) next inspection."""
        super().__init__(coordinator, NEXT_INSPECTION)
        self._tracker = tracker

    async def async_added_to_hass(self) -> None:
        """Follow the tracker's refreshes."""
        await super().async_added_to_hass()
        self.async_on_remove(self._tracker.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> datetime | None:
        """The earliest due date; unknown when no inspection is tracked."""
        first = self._tracker.next_inspection
        return None if first is None else timestamp(first.due_at)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Each tracked inspection: kind, due date, last one, overdue."""
        first = self._tracker.next_inspection
        return {
            "kind": None if first is None else str(first.kind),
            "inspections": [
                {
                    "kind": str(d.kind),
                    "due_at": timestamp(d.due_at),
                    "last_at": timestamp(d.last_at),
                    "every_days": d.every_days,
                    "overdue": d.overdue,
                }
                for d in self._tracker.due
            ],
        }


def device_proof_sensors(
    coordinator: ElectricalSafetyCoordinator, device: Device
) -> Iterable[SensorEntity]:
    """A detector's last and next self-test, when it has a self-test."""
    # getattr: a stand-in coordinator (the contract tests) may have no tracker.
    tracker: ProofTracker | None = getattr(coordinator, "proof", None)
    if tracker is None or CommandName.SELF_TEST not in device.commands:
        return
    yield SelfTestSensor(coordinator, device, tracker, LAST_SELF_TEST)
    yield SelfTestSensor(coordinator, device, tracker, NEXT_SELF_TEST)


def bridge_proof_sensors(coordinator: ElectricalSafetyCoordinator) -> Iterable[SensorEntity]:
    """The bridge's next inspection due."""
    tracker: ProofTracker | None = getattr(coordinator, "proof", None)
    if tracker is not None:
        yield NextInspectionSensor(coordinator, tracker)
