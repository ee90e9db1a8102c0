"""What the HTTP API needs of the bridge: the :class:`BridgeBackend` protocol.

The routes (:mod:`.http`) are written against this protocol only, so the API never imports
the service that runs it; :class:`~electrical_safety_bridge.service.Bridge` satisfies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, TextIO

from ..common.enums import EventType, HazardState
from ..safety.alarms import Alarm
from ..safety.commands import CommandResult
from ..safety.events import BridgeEvent
from ..storage.event_store import StoredEvent


class DeviceCommands(Protocol):
    """The bus a device is on, as the command route uses it."""

    async def command(self, device_id: str, name: str, who: str = "unknown") -> CommandResult:
        """Run a command on a device and wait for its result."""
        ...

    async def write_setpoint(
        self, device_id: str, key: str, value: float, who: str = "unknown"
    ) -> CommandResult:
        """Write a setpoint of a device and wait for its read-back."""
        ...


class OpenAlarms(Protocol):
    """The bridge's alarm book, as the alarm route reads it."""

    def open_alarms(self, device_id: str | None = None) -> list[Alarm]:
        """Open alarms, optionally of one device, oldest first."""
        ...


class EventQueries(Protocol):
    """The event store, as the event routes read it."""

    async def query(
        self,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """Stored events matching the filters, oldest first (or the newest, newest first)."""
        ...

    async def export_csv(
        self,
        out: TextIO,
        *,
        device_id: str | None = None,
        types: Iterable[EventType] | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
    ) -> int:
        """Write the matching events to ``out`` as CSV; the number written."""
        ...


class BridgeBackend(Protocol):
    """Everything the API routes use of the bridge, and nothing more."""

    @property
    def token(self) -> str:
        """The API's bearer token."""
        ...

    @property
    def device_bus(self) -> Mapping[str, DeviceCommands]:
        """The bus of each device, by device id."""
        ...

    @property
    def alarms(self) -> OpenAlarms:
        """The open alarms."""
        ...

    @property
    def store(self) -> EventQueries:
        """The event store."""
        ...

    @property
    def profile_dir(self) -> Path | None:
        """The folder of user profiles, which override built-ins by model (None: none)."""
        ...

    def status(self) -> dict[str, Any]:
        """The health document (GET /health)."""
        ...

    def info(self) -> dict[str, Any]:
        """The bridge's identity and configuration summary (GET /info)."""
        ...

    async def read_registers(
        self, bus_id: str, unit: int, function: int, address: int, count: int
    ) -> list[int]:
        """Raw registers of any unit on a bus, read at the lowest priority (the register
        explorer): KeyError for an unknown bus, ValueError for a request outside Modbus,
        DeviceTimeout, DeviceException, BusError, BusBusy."""
        ...

    def devices(self) -> list[dict[str, Any]]:
        """Every device, sorted by id (GET /devices)."""
        ...

    def device(self, device_id: str) -> dict[str, Any]:
        """One device (GET /devices/{id})."""
        ...

    def site(self) -> dict[str, Any]:
        """The site the bridge serves (GET /site)."""
        ...

    async def compliance(self, device_id: str | None = None) -> dict[str, Any]:
        """The site and the compliance rules' findings, or one device's (GET /compliance)."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """What a new WebSocket client gets first."""
        ...

    async def acknowledge(
        self, alarm_id: str, who: str, source: str | None = "api"
    ) -> list[BridgeEvent]:
        """Acknowledge an open alarm (and its hazard); the events it caused."""
        ...

    async def acknowledge_hazard(
        self, hazard_id: str, who: str, source: str | None
    ) -> dict[str, Any]:
        """Acknowledge a hazard (and its alarm); the hazard after (UnknownHazard)."""
        ...

    async def eliminate_hazard(
        self, hazard_id: str, who: str, note: str, source: str | None
    ) -> dict[str, Any]:
        """Eliminate a hazard after a fresh read (CommandRefused: condition_persists,
        device_offline); the hazard after."""
        ...

    def hazard_list(
        self, state: HazardState | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Hazards oldest first: of one state, or those not eliminated."""
        ...

    def hazard(self, hazard_id: str) -> dict[str, Any]:
        """One hazard (UnknownHazard)."""
        ...

    def statistics(self) -> dict[str, Any]:
        """The hazards' statistics (GET /statistics)."""
        ...

    def early_warnings(self, *, warning_only: bool = False) -> list[dict[str, Any]]:
        """Every watched channel's baseline, or only those warning (GET /early-warnings)."""
        ...

    async def lock_out(
        self, device_id: str, who: str, why: str, until: float | None, source: str | None
    ) -> dict[str, Any]:
        """Lock a device out for maintenance; the lock-out."""
        ...

    async def lift_lock_out(
        self, device_id: str, who: str, source: str | None
    ) -> dict[str, Any] | None:
        """Lift a device's lock-out; the one lifted, or None."""
        ...
