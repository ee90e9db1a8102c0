"""The ``site:`` block and each device's ``installation:`` in the bridge configuration.

A bridge serves one site (``common/site.py``). Its profile is optional: without a ``site:``
block the site is named by its id, which is the relay's ``site`` or else the bridge's id, and
is held to no region's rules. The compliance rules read what is given here; nothing here is
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from ..common.enums import ContractUnit, CtLocation, Region, SupplySystem
from ..common.site import Contract, Installation, Site
from ..validation import each, finite

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = vol.All(str, vol.Length(min=1, max=100, msg="must be 1-100 characters"))


def _one_of(values: list[str]) -> vol.In:
    return vol.In(values, msg=f"must be one of {', '.join(values)}")


def _more_than_zero(value: Any) -> float:
    number = finite(value)
    if number <= 0:
        raise vol.Invalid("must be more than 0")
    return number


def _degrees(limit: float) -> vol.All:
    return vol.All(
        finite, vol.Range(min=-limit, max=limit, msg=f"must be from -{limit:g} to {limit:g}")
    )


REGIONS = [region.value for region in Region]
SUPPLY_SYSTEMS = [system.value for system in SupplySystem]
CONTRACT_UNITS = [unit.value for unit in ContractUnit]
CT_LOCATIONS = [location.value for location in CtLocation]

CONTRACT_SCHEMA = vol.Schema(
    {
        vol.Required("unit"): _one_of(CONTRACT_UNITS),
        vol.Required("value"): _more_than_zero,
    }
)


def _located_in_full(site: dict[str, Any]) -> dict[str, Any]:
    """Latitude and longitude together: half a location puts a site nowhere on a map."""
    given = [key for key in ("latitude", "longitude") if key in site]
    if len(given) == 1:
        missing = "longitude" if given == ["latitude"] else "latitude"
        raise vol.Invalid(f"give {missing} with {given[0]}, or neither", path=[missing])
    return site


SITE_SCHEMA = vol.Schema(
    vol.All(
        {
            vol.Required("name"): _NAME,
            vol.Optional("id"): vol.All(
                str, vol.Match(_ID_PATTERN, msg="letters, digits, - _ . (at most 64)")
            ),
            vol.Optional("region", default=Region.GENERIC.value): _one_of(REGIONS),
            vol.Optional("latitude"): _degrees(90),
            vol.Optional("longitude"): _degrees(180),
            vol.Optional("supply_system"): _one_of(SUPPLY_SYSTEMS),
            vol.Optional("contracts", default=list): each(CONTRACT_SCHEMA),
        },
        _located_in_full,
    )
)
"""The ``site:`` block."""

INSTALLATION_SCHEMA = vol.Schema(
    {
        vol.Optional("ct_rating_a"): _more_than_zero,
        vol.Optional("ct_location"): _one_of(CT_LOCATIONS),
        vol.Optional("circuit"): _NAME,
        vol.Optional("circuit_rated_current_a"): _more_than_zero,
        vol.Optional("room"): vol.All(
            str, vol.Length(min=1, max=64, msg="must be 1-64 characters")
        ),
    }
)
"""A device's ``installation:`` block."""

_NOT_IN_AN_ID = re.compile(r"[^a-z0-9]+")


def id_from_name(name: str) -> str | None:
    """An id made of a name's letters and digits (``"Flat 3, Hill St"`` → ``flat-3-hill-st``);
    None when it has none (``"山田ハイツ"``), and the bridge's id is used instead."""
    slug = _NOT_IN_AN_ID.sub("-", name.lower()).strip("-")[:64].strip("-")
    return slug or None


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The site as configured; :meth:`site` completes it once the bridge's id is known."""

    name: str | None = None
    #: None: the relay's ``site``, else one made from the name, else the bridge's id.
    id: str | None = None
    region: Region = Region.GENERIC
    latitude: float | None = None
    longitude: float | None = None
    supply_system: SupplySystem | None = None
    contracts: tuple[Contract, ...] = ()

    def site(self, bridge_id: str) -> Site:
        """The wire model of the site served by the bridge ``bridge_id``."""
        site_id = self.id or (id_from_name(self.name) if self.name else None) or bridge_id
        return Site(
            id=site_id,
            name=self.name or site_id,
            region=self.region,
            latitude=self.latitude,
            longitude=self.longitude,
            supply_system=self.supply_system,
            contracts=self.contracts,
        )


def site_config(
    valid: Mapping[str, Any] | None, relay_site: str | None, problems: list[str]
) -> SiteConfig:
    """The validated ``site:`` block (None when absent) as a :class:`SiteConfig`.

    The relay's ``site`` names the same site in its topics: given alone it is the site's id;
    given with a different ``site.id`` it is a problem, since one bridge serves one site.
    """
    if valid is None:
        return SiteConfig(id=relay_site)
    site_id = valid.get("id")
    if site_id is not None and relay_site is not None and site_id != relay_site:
        problems.append(
            f"relay.site: '{relay_site}' differs from site.id '{site_id}'; a bridge serves one"
            " site: give the id once, as site.id"
        )
    supply = valid.get("supply_system")
    return SiteConfig(
        name=valid["name"],
        id=site_id or relay_site,
        region=Region(valid["region"]),
        latitude=valid.get("latitude"),
        longitude=valid.get("longitude"),
        supply_system=None if supply is None else SupplySystem(supply),
        contracts=tuple(
            Contract(ContractUnit(c["unit"]), float(c["value"])) for c in valid["contracts"]
        ),
    )


def installation(valid: Mapping[str, Any] | None) -> Installation | None:
    """A validated ``installation:`` block as the wire model; None when absent."""
    if valid is None:
        return None
    location = valid.get("ct_location")
    return Installation(
        ct_rating_a=valid.get("ct_rating_a"),
        ct_location=None if location is None else CtLocation(location),
        circuit=valid.get("circuit"),
        circuit_rated_current_a=valid.get("circuit_rated_current_a"),
        room=valid.get("room"),
    )


def shows_its_value(path: list[Any]) -> bool:
    """Whether a problem at ``path`` may quote the bad value: the site's and the
    installations' keys hold no secret (elsewhere, relay keys and passwords may)."""
    return bool(path) and (path[0] == "site" or "installation" in path)
