"""The site's sensors (region, supply system, contract) and each detector's installation
(CT rating and location, the circuit it guards and its rated current), all diagnostic.

They show what the bridge's configuration says, which the compliance rules read: facts of
the installation, not measurements, so none has a state class. A detector's installation is
shown while the bridge is connected, even when the detector does not answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.helpers.typing import StateType

from electrical_safety_bridge.common.enums import CtLocation, Region, SupplySystem
from electrical_safety_bridge.common.models import Device
from electrical_safety_bridge.common.site import Finding, Installation, Site

from .compliance_tracker import ACTIONABLE
from .coordinator import ElectricalSafetyCoordinator, shown_site
from .entity import ElectricalSafetyEntity, SiteEntity

REGIONS = [region.value for region in Region]
SUPPLY_SYSTEMS = [system.value for system in SupplySystem]
CT_LOCATIONS = [location.value for location in CtLocation]


def _one_of(value: str | None, options: list[str]) -> str | None:
    """An enum's value as a state; None for none, or for a newer bridge's value."""
    return str(value) if value is not None and str(value) in options else None


@dataclass(frozen=True, kw_only=True)
class SiteSensorEntityDescription(SensorEntityDescription):
    """A sensor of the site."""

    value_fn: Callable[[Site], StateType]
    attributes_fn: Callable[[Site], dict[str, Any] | None] = lambda _: None


@dataclass(frozen=True, kw_only=True)
class InstallationSensorEntityDescription(SensorEntityDescription):
    """A sensor of a detector's installation."""

    value_fn: Callable[[Installation], StateType]
    has_fn: Callable[[Installation], bool]
    attributes_fn: Callable[[Installation], dict[str, Any] | None] = lambda _: None


def _site_attributes(site: Site) -> dict[str, Any]:
    location = (
        None
        if site.latitude is None or site.longitude is None
        else {"latitude": site.latitude, "longitude": site.longitude}
    )
    # Nested, so that Home Assistant's map does not take the sensor for a tracker.
    return {"site_id": site.id, "location": location}


def _contract_total(site: Site) -> StateType:
    """The contracts added up, when they share a unit (seed 004: those of one kind add up);
    unknown when there is none, or when they mix units (the attribute lists each)."""
    units = {str(c.unit) for c in site.contracts}
    return sum(c.value for c in site.contracts) if len(units) == 1 else None


def _contracts(site: Site) -> dict[str, Any]:
    return {"contracts": [{"unit": str(c.unit), "value": c.value} for c in site.contracts]}


REGION = SiteSensorEntityDescription(
    key="region",
    translation_key="site_region",
    device_class=SensorDeviceClass.ENUM,
    options=REGIONS,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda site: _one_of(site.region, REGIONS),
    attributes_fn=_site_attributes,
)

SUPPLY_SYSTEM = SiteSensorEntityDescription(
    key="supply_system",
    translation_key="site_supply_system",
    device_class=SensorDeviceClass.ENUM,
    options=SUPPLY_SYSTEMS,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda site: _one_of(site.supply_system, SUPPLY_SYSTEMS),
)


def contract_description(site: Site) -> SiteSensorEntityDescription:
    """The contract's sensor, in the unit its contracts share (none when they mix)."""
    units = {str(c.unit) for c in site.contracts}
    return SiteSensorEntityDescription(
        key="contract",
        translation_key="site_contract",
        native_unit_of_measurement=next(iter(units)) if len(units) == 1 else None,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_contract_total,
        attributes_fn=_contracts,
    )


INSTALLATION_SENSORS: tuple[InstallationSensorEntityDescription, ...] = (
    InstallationSensorEntityDescription(
        key="ct_rating",
        translation_key="ct_rating",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: installation.ct_rating_a,
        has_fn=lambda installation: installation.ct_rating_a is not None,
    ),
    InstallationSensorEntityDescription(
        key="ct_location",
        translation_key="ct_location",
        device_class=SensorDeviceClass.ENUM,
        options=CT_LOCATIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: _one_of(installation.ct_location, CT_LOCATIONS),
        has_fn=lambda installation: installation.ct_location is not None,
    ),
    InstallationSensorEntityDescription(
        key="circuit",
        translation_key="circuit",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: installation.circuit,
        has_fn=lambda installation: installation.circuit is not None,
        attributes_fn=lambda installation: {"room": installation.room},
    ),
    InstallationSensorEntityDescription(
        key="circuit_rated_current",
        translation_key="circuit_rated_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda installation: installation.circuit_rated_current_a,
        has_fn=lambda installation: installation.circuit_rated_current_a is not None,
    ),
)


def site_sensors(coordinator: ElectricalSafetyCoordinator) -> Iterable[SensorEntity]:
    """The site's sensors, when the bridge reports a site."""
    site = shown_site(coordinator.data)
    if site is None:
        return
    for description in (REGION, SUPPLY_SYSTEM, contract_description(site)):
        yield SiteSensor(coordinator, description)
    if coordinator.compliance is not None:
        yield ComplianceSensor(coordinator, COMPLIANCE_FINDINGS)


def installation_sensors(
    coordinator: ElectricalSafetyCoordinator, device: Device
) -> Iterable[SensorEntity]:
    """A detector's installation, one sensor for each thing the configuration gives."""
    installation = device.installation
    if installation is None:
        return
    for description in INSTALLATION_SENSORS:
        if description.has_fn(installation):
            yield InstallationSensor(coordinator, device, description, "installation")


class SiteSensor(SiteEntity, SensorEntity):
    """A sensor of the site."""

    entity_description: SiteSensorEntityDescription

    @property
    def available(self) -> bool:
        """Available while the bridge is connected and reports a site."""
        return super().available and self.site is not None

    @property
    def native_value(self) -> StateType:
        """The value as last reported."""
        site = self.site
        return None if site is None else self.entity_description.value_fn(site)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the description has them."""
        site = self.site
        return None if site is None else self.entity_description.attributes_fn(site)


class InstallationSensor(ElectricalSafetyEntity, SensorEntity):
    """A fact of a detector's installation."""

    entity_description: InstallationSensorEntityDescription

    @property
    def available(self) -> bool:
        """Available while the bridge is connected and still has the installation: it is
        configuration, known even while the detector does not answer."""
        device = self.device
        return (
            self.coordinator.last_update_success
            and device is not None
            and device.installation is not None
        )

    @property
    def native_value(self) -> StateType:
        """The value as configured."""
        device = self.device
        if device is None or device.installation is None:
            return None
        return self.entity_description.value_fn(device.installation)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the description has them."""
        device = self.device
        if device is None or device.installation is None:
            return None
        return self.entity_description.attributes_fn(device.installation)


COMPLIANCE_FINDINGS = SensorEntityDescription(
    key="compliance_findings",
    translation_key="compliance_findings",
)


class ComplianceSensor(SiteEntity, SensorEntity):
    """How many compliance findings ask for action (warnings and errors), each listed in
    the attributes; the repair issues explain them. A count of problems, not a
    measurement: no state class."""

    async def async_added_to_hass(self) -> None:
        """Follow the tracker's refreshes too."""
        await super().async_added_to_hass()
        compliance = self.coordinator.compliance
        if compliance is not None:
            self.async_on_remove(compliance.async_add_listener(self.async_write_ha_state))

    @property
    def available(self) -> bool:
        """Available while the bridge is connected and has answered with its findings."""
        compliance = self.coordinator.compliance
        return super().available and compliance is not None and compliance.findings is not None

    @property
    def native_value(self) -> int | None:
        """The findings that ask for action."""
        findings = self._findings()
        return None if findings is None else sum(f.severity in ACTIONABLE for f in findings)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Every finding, information included."""
        findings = self._findings()
        if findings is None:
            return None
        return {
            "findings": [
                {
                    "rule": f.rule_id,
                    "severity": str(f.severity),
                    "device_id": f.device_id,
                    "channel": f.channel,
                    "value": f.value,
                    "limit": f.limit,
                    "unit": f.unit,
                    "source": f.source,
                }
                for f in findings
            ]
        }

    def _findings(self) -> tuple[Finding, ...] | None:
        compliance = self.coordinator.compliance
        return None if compliance is None else compliance.findings
