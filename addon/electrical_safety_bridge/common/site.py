"""The site and its installations on the wire: where the bridge's detectors are, how the
site is supplied, and how each detector is installed. The compliance rules read these, the
relay carries the site (and its location, for a landlord's map), and Home Assistant shows
them on a site device.

A bridge serves one site: one property, one board. A landlord with many properties runs a
bridge in each, and their relays meet at one central Home Assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import ContractUnit, CtLocation, FindingSeverity, Region, SupplySystem
from .json_schema import wire
from .parsing import _extra, _list, _number, _opt_enum, _opt_str, _str, enum_or_str

type FindingValue = float | int | str | None


@dataclass(frozen=True, slots=True)
class Contract:
    """One supply contract: its size in amperes, kVA or kW. A site may have several; those
    of the same unit add up (seed 004)."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"unit", "value"})

    #: A ``ContractUnit``.
    unit: str = field(metadata=wire(enum=ContractUnit))
    value: float
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Contract:
        """Parse one contract."""
        value = _number(raw, "value")
        if value is None:
            raise ValueError(f"'value' must be a number, not {raw.get('value')!r}")
        return cls(
            unit=enum_or_str(ContractUnit, _str(raw, "unit")),
            value=value,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"unit": str(self.unit), "value": self.value, **self.extra}


@dataclass(frozen=True, slots=True)
class Site:
    """The property a bridge watches."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"id", "name", "region", "latitude", "longitude", "supply_system", "contracts"}
    )

    #: Stable, unique among a landlord's sites: the relay's topics and the central Home
    #: Assistant's devices use it.
    id: str
    name: str
    #: A ``Region``: whose rules apply.
    region: str = field(metadata=wire(enum=Region))
    #: Optional: a site without a location is left off the map.
    latitude: float | None
    longitude: float | None
    #: A ``SupplySystem``, or None when not given (the rules that need it say so).
    supply_system: str | None = field(metadata=wire(enum=SupplySystem, nullable=True))
    contracts: tuple[Contract, ...]
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Site:
        """Parse ``GET /site`` (or a snapshot's ``site``)."""
        return cls(
            id=_str(raw, "id"),
            name=_opt_str(raw, "name") or _str(raw, "id"),
            region=enum_or_str(Region, _opt_str(raw, "region") or Region.GENERIC),
            latitude=_number(raw, "latitude"),
            longitude=_number(raw, "longitude"),
            supply_system=_opt_enum(SupplySystem, raw, "supply_system"),
            contracts=tuple(
                Contract.from_dict(c) for c in _list(raw, "contracts") if isinstance(c, Mapping)
            ),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "name": self.name,
            "region": str(self.region),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "supply_system": None if self.supply_system is None else str(self.supply_system),
            "contracts": [c.to_dict() for c in self.contracts],
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Installation:
    """How one detector is installed: its CT, where the CT sits, what it guards, where."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"ct_rating_a", "ct_location", "circuit", "circuit_rated_current_a", "room"}
    )

    #: The CT's rated current in amperes; None when not given.
    ct_rating_a: float | None
    #: A ``CtLocation``; None when not given.
    ct_location: str | None = field(metadata=wire(enum=CtLocation, nullable=True))
    #: The circuit it guards, as a person names it ("Kitchen sockets").
    circuit: str | None
    #: The guarded circuit's rated current in amperes, when known (seed 004: the CT's rating
    #: must reach it; 125 % of the contract current is deemed to).
    circuit_rated_current_a: float | None
    room: str | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Installation:
        """Parse a device's ``installation``."""
        return cls(
            ct_rating_a=_number(raw, "ct_rating_a"),
            ct_location=_opt_enum(CtLocation, raw, "ct_location"),
            circuit=_opt_str(raw, "circuit"),
            circuit_rated_current_a=_number(raw, "circuit_rated_current_a"),
            room=_opt_str(raw, "room"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "ct_rating_a": self.ct_rating_a,
            "ct_location": None if self.ct_location is None else str(self.ct_location),
            "circuit": self.circuit,
            "circuit_rated_current_a": self.circuit_rated_current_a,
            "room": self.room,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """What a compliance rule found: which rule (and the clause it cites), how much it
    matters, about what, the value seen and the limit. The explanation a person reads is
    translated from ``rule_id`` and ``params`` on each side (en, zh-Hans, ja)."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "rule_id",
            "severity",
            "source",
            "device_id",
            "channel",
            "value",
            "limit",
            "unit",
            "params",
        }
    )

    #: For example ``JP-CT-125`` or ``CN-RC-SETPOINT``.
    rule_id: str
    #: A ``FindingSeverity``.
    severity: str = field(metadata=wire(enum=FindingSeverity))
    #: The clause the rule implements ("GB 50116-2013 §9.2.3", "seed 004 §3").
    source: str
    #: None: about the site as a whole.
    device_id: str | None
    channel: str | None
    #: What was measured or configured, and the limit it was held to.
    value: FindingValue
    limit: FindingValue
    unit: str | None
    #: Further values the explanation names (the contract current, the CT's location…).
    params: Mapping[str, FindingValue] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Finding:
        """Parse one finding of ``GET /compliance``."""
        params = raw.get("params")
        return cls(
            rule_id=_str(raw, "rule_id"),
            severity=enum_or_str(FindingSeverity, _opt_str(raw, "severity") or "warning"),
            source=_opt_str(raw, "source") or "",
            device_id=_opt_str(raw, "device_id"),
            channel=_opt_str(raw, "channel"),
            value=_finding_value(raw.get("value")),
            limit=_finding_value(raw.get("limit")),
            unit=_opt_str(raw, "unit"),
            params={str(k): _finding_value(v) for k, v in params.items()}
            if isinstance(params, Mapping)
            else {},
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "source": self.source,
            "device_id": self.device_id,
            "channel": self.channel,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "params": dict(self.params),
            **self.extra,
        }


def _finding_value(value: Any) -> FindingValue:
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, (int, float, str)) else None


SITE_MODELS: tuple[type[Any], ...] = (Contract, Site, Installation, Finding)
