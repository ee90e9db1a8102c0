"""The bridge's proof in Home Assistant: self-test schedule and results, inspections due.

The bridge runs the self-tests and keeps the records (Home Assistant or not); this keeps a
copy of its schedule (``GET /self-tests/schedule``) and of the inspections' due dates
(``GET /inspections/due``), read at set-up, on each self-test or inspection event, and
every few minutes. From them come the "Last self-test" and "Next self-test" sensors of each
detector, the bridge's "Next inspection due", and repair issues: a detector whose last
self-test failed, got no response or was missed, and an inspection past its due date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from electrical_safety_bridge.common.enums import EventType, SelfTestResult
from electrical_safety_bridge.common.errors import BridgeError
from electrical_safety_bridge.common.proof import InspectionDue, SelfTestScheduleEntry

from .const import DOMAIN
from .listeners import RefreshedRecords

#: The schedule's next due times move only when a test runs or a day passes.
REFRESH_EVERY = timedelta(minutes=10)
_PROOF_EVENTS = frozenset(
    {
        EventType.SELF_TEST,
        EventType.SELF_TEST_RESULT,
        EventType.SELF_TEST_MISSED,
        EventType.INSPECTION_RECORDED,
        EventType.INSPECTION_OVERDUE,
    }
)
#: The results that raise a repair issue until a later test passes.
_BAD_RESULTS = frozenset({SelfTestResult.FAILED, SelfTestResult.NO_RESPONSE, SelfTestResult.MISSED})


def self_test_issue_id(entry_id: str, device_id: str) -> str:
    """The repair issue of a detector whose last self-test did not pass."""
    return f"self_test_{entry_id}_{device_id}"


def inspection_issue_id(entry_id: str, kind: str) -> str:
    """The repair issue of an inspection past its due date."""
    return f"inspection_overdue_{entry_id}_{kind}"


class ProofTracker(RefreshedRecords):
    """One bridge's self-test schedule and inspections due, and their repair issues."""

    REFRESH_EVERY = REFRESH_EVERY
    REFRESH_ON = _PROOF_EVENTS

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        client: _ProofClient,
        device_name: Callable[[str], str],
    ) -> None:
        super().__init__(hass)
        self._entry_id = entry_id
        self._client = client
        self._device_name = device_name
        self.schedule: dict[str, SelfTestScheduleEntry] = {}
        self.due: list[InspectionDue] = []

    async def async_refresh(self) -> None:
        """Read the schedule and due dates; keep the last ones while the bridge is away
        (an older bridge without these routes leaves them empty)."""
        try:
            schedule = await self._client.self_test_schedule()
            due = await self._client.inspections_due()
        except BridgeError:
            return
        self.schedule = {entry.device_id: entry for entry in schedule}
        self.due = due
        self._update_issues()
        self._notify()

    @property
    def next_inspection(self) -> InspectionDue | None:
        """The tracked inspection due first."""
        return min(self.due, key=lambda d: d.due_at, default=None)

    @callback
    def _update_issues(self) -> None:
        for device_id, entry in self.schedule.items():
            issue_id = self_test_issue_id(self._entry_id, device_id)
            last = entry.last
            if last is None or last.result not in _BAD_RESULTS:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING
                if last.result == SelfTestResult.MISSED
                else ir.IssueSeverity.ERROR,
                translation_key=f"self_test_{last.result}",
                translation_placeholders={
                    "device": self._device_name(device_id),
                    "when": _when(last.at),
                    "due": _when(last.due_at) if last.due_at is not None else "-",
                    "limit": f"{last.time_limit_s:g}",
                },
            )
        for due in self.due:
            issue_id = inspection_issue_id(self._entry_id, str(due.kind))
            if not due.overdue:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=f"inspection_overdue_{due.kind}",
                translation_placeholders={
                    "due": _when(due.due_at),
                    "last": "-" if due.last_at is None else _when(due.last_at),
                },
            )


def _when(at: float) -> str:
    """A bridge time as a person reads it, in Home Assistant's time zone."""
    return dt_util.as_local(dt_util.utc_from_timestamp(at)).strftime("%Y-%m-%d %H:%M")


class _ProofClient(Protocol):
    """What the tracker needs of the bridge client (``BridgeClient`` has it)."""

    async def self_test_schedule(self) -> list[SelfTestScheduleEntry]:
        """Each device's schedule."""
        ...

    async def inspections_due(self) -> list[InspectionDue]:
        """The tracked inspections' due dates."""
        ...
