"""The bridge's compliance findings in Home Assistant: read at set-up, when a setpoint or
the self-test log moves, and every few minutes; each finding a repair issue
(``compliance.async_sync_compliance_issues``), and their count the site's "Compliance
findings" sensor."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant

from electrical_safety_bridge.client import BridgeClient
from electrical_safety_bridge.common.enums import EventType, FindingSeverity
from electrical_safety_bridge.common.errors import BridgeError
from electrical_safety_bridge.common.site import Finding

from .compliance import async_sync_compliance_issues
from .coordinator import ElectricalSafetyConfigEntry
from .listeners import RefreshedRecords

#: The findings move with setpoints read from the devices and with the self-test log.
REFRESH_EVERY = timedelta(minutes=10)
_MOVING_EVENTS = frozenset(
    {
        EventType.SETPOINT_CHANGED,
        EventType.SELF_TEST,
        EventType.SELF_TEST_RESULT,
        EventType.DEVICE_ONLINE,
    }
)
#: What a person has to act on; information (a fact to add) is counted apart.
ACTIONABLE = frozenset({FindingSeverity.WARNING, FindingSeverity.ERROR})


class ComplianceTracker(RefreshedRecords):
    """One bridge's findings, kept as repair issues and for the site's sensor."""

    REFRESH_EVERY = REFRESH_EVERY
    REFRESH_ON = _MOVING_EVENTS

    def __init__(
        self, hass: HomeAssistant, entry: ElectricalSafetyConfigEntry, client: BridgeClient
    ) -> None:
        super().__init__(hass)
        self._entry = entry
        self._client = client
        #: None until the bridge has answered once (a bridge before compliance never does).
        self.findings: tuple[Finding, ...] | None = None

    async def async_refresh(self) -> None:
        """Read the findings; keep the last ones (and their issues) while the bridge is
        away, rather than clear issues nobody fixed."""
        try:
            findings = await self._client.compliance()
        except BridgeError:
            return
        self.findings = findings
        async_sync_compliance_issues(self.hass, self._entry, findings)
        self._notify()
