"""Compliance findings as repair issues, and the one rule only Home Assistant can check.

The bridge's findings (``GET /api/v1/compliance``, and its push) become repair issues with
``async_sync_compliance_issues``: one per rule, device and channel, created, updated and
deleted as the findings come and go, translated from ``issues.compliance_*`` with the
finding's values as placeholders.

GB 50116-2013 §9.1.6 advises against cutting power automatically. Automations live in Home
Assistant, where the bridge cannot see them, so ``auto_trip_findings`` reads each
automation's actions and flags those that turn off (or toggle) one of this bridge's breaker
switches with no step in which a person confirms: a ``wait_for_trigger`` on a person's
answer (an actionable notification's button, a tag, a spoken command, an input button),
or an automation started by one. What it cannot resolve it leaves alone: templated
targets, labels and floors, scripts the automation calls, and blueprint triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.components.automation import (
    DATA_COMPONENT as AUTOMATIONS,
)
from homeassistant.components.automation import (
    EVENT_AUTOMATION_RELOADED,
    AutomationEntity,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_state_added_domain,
    async_track_state_removed_domain,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.template import Template

from electrical_safety_bridge.common.enums import ComplianceRule, FindingSeverity
from electrical_safety_bridge.common.findings import (
    auto_trip_finding,
    finding_placeholders,
    issue_translation_key,
)
from electrical_safety_bridge.common.site import Finding

from .const import DOMAIN
from .coordinator import ElectricalSafetyConfigEntry

#: The service actions that can trip a breaker switch.
TRIP_ACTIONS = frozenset(
    {"switch.turn_off", "switch.toggle", "homeassistant.turn_off", "homeassistant.toggle"}
)
#: The device actions that can trip a breaker switch.
TRIP_DEVICE_ACTIONS = frozenset({"turn_off", "toggle"})
#: Events a person's answer fires: an actionable notification's button (the Android and
#: iOS companion apps).
PERSON_EVENTS = frozenset({"mobile_app_notification_action", "ios.action_fired"})
#: Triggers only a person sets off.
PERSON_TRIGGERS = frozenset({"tag", "conversation"})
#: Entities whose change is a person's press.
PERSON_ENTITY_DOMAINS = frozenset({"input_button"})

_SEVERITIES: dict[str, ir.IssueSeverity] = {
    FindingSeverity.ERROR: ir.IssueSeverity.ERROR,
    FindingSeverity.WARNING: ir.IssueSeverity.WARNING,
    # Repairs have no "information": a fact to add is still something to do.
    FindingSeverity.INFO: ir.IssueSeverity.WARNING,
}
_AUTO_TRIP_KEY = issue_translation_key(ComplianceRule.CN_AUTO_TRIP)


# ----------------------------------------------------------------------- repair issues


def compliance_issue_id(entry_id: str, finding: Finding) -> str:
    """One issue per rule, device (or the site) and channel; an automatic trip's also per
    automation."""
    parts = [
        "compliance",
        entry_id,
        issue_translation_key(finding.rule_id).removeprefix("compliance_"),
        finding.device_id or "site",
    ]
    if finding.channel:
        parts.append(finding.channel)
    automation_id = finding.params.get("automation_id")
    if isinstance(automation_id, str):
        parts.append(automation_id)
    return "_".join(parts)


@callback
def async_sync_compliance_issues(
    hass: HomeAssistant, entry: ElectricalSafetyConfigEntry, findings: Iterable[Finding]
) -> None:
    """Make the repair issues the bridge's findings: create or update one per finding,
    delete those whose finding is gone. The automatic-trip issues are this integration's
    own and are left to ``async_sync_auto_trip_issues``."""
    _async_sync(
        hass,
        entry,
        [f for f in findings if f.rule_id != ComplianceRule.CN_AUTO_TRIP],
        lambda key: key != _AUTO_TRIP_KEY,
    )


@callback
def async_sync_auto_trip_issues(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> None:
    """Check every automation again and make the automatic-trip issues what it finds."""
    _async_sync(hass, entry, auto_trip_findings(hass, entry), lambda key: key == _AUTO_TRIP_KEY)


def _async_sync(
    hass: HomeAssistant,
    entry: ElectricalSafetyConfigEntry,
    findings: Sequence[Finding],
    managed: Callable[[str | None], bool],
) -> None:
    entry_id = entry.entry_id
    wanted: dict[str, Finding] = {compliance_issue_id(entry_id, f): f for f in findings}
    prefix = f"compliance_{entry_id}_"
    registry = ir.async_get(hass)
    for (domain, issue_id), issue in list(registry.issues.items()):
        if (
            domain == DOMAIN
            and issue_id.startswith(prefix)
            and managed(issue.translation_key)
            and issue_id not in wanted
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, finding in wanted.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=_SEVERITIES.get(finding.severity, ir.IssueSeverity.WARNING),
            translation_key=issue_translation_key(finding.rule_id),
            translation_placeholders=finding_placeholders(finding, _name_of(entry, finding)),
        )


def _name_of(entry: ElectricalSafetyConfigEntry, finding: Finding) -> str:
    """The device's name as Home Assistant shows it; the bridge's title for the site."""
    if finding.device_id is None:
        return entry.title
    device = entry.runtime_data.data.devices.get(finding.device_id)
    return finding.device_id if device is None else device.name


# ----------------------------------------------------------------- automatic trips


@dataclass(frozen=True, slots=True)
class Breakers:
    """This bridge's breaker switches, and how an action can name them."""

    #: Entity id → the bridge's device id.
    devices: Mapping[str, str]
    #: Home Assistant device id → its breaker entity ids.
    by_device: Mapping[str, frozenset[str]]
    #: Area id → the breaker entity ids in it (their own area, or their device's).
    by_area: Mapping[str, frozenset[str]]


def breakers_of(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> Breakers:
    """The breaker switches of ``entry`` (unique id ``bridge:device:channel:key``; the
    other switches of a detector, its flags, are ``setpoint`` ones)."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    owner: dict[str, str] = {}
    by_device: dict[str, set[str]] = {}
    by_area: dict[str, set[str]] = {}
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        parts = entity.unique_id.split(":")
        if entity.domain != Platform.SWITCH or len(parts) != 4 or parts[2] != "channel":
            continue
        owner[entity.entity_id] = parts[1]
        area = entity.area_id
        if entity.device_id is not None:
            by_device.setdefault(entity.device_id, set()).add(entity.entity_id)
            device = devices.async_get(entity.device_id)
            area = area or (None if device is None else device.area_id)
        if area is not None:
            by_area.setdefault(area, set()).add(entity.entity_id)
    return Breakers(
        owner,
        {k: frozenset(v) for k, v in by_device.items()},
        {k: frozenset(v) for k, v in by_area.items()},
    )


def auto_trip_findings(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> list[Finding]:
    """A CN-AUTO-TRIP finding for each automation and breaker it trips without a person."""
    component = hass.data.get(AUTOMATIONS)
    if component is None:
        return []
    breakers = breakers_of(hass, entry)
    if not breakers.devices:
        return []
    entities = er.async_get(hass)
    findings = []
    for automation in component.entities:
        if not isinstance(automation, AutomationEntity):
            continue  # an automation whose configuration is invalid never runs
        raw = automation.raw_config or {}
        started_by_person = _any_person_trigger(_as_list(raw.get("triggers", raw.get("trigger"))))
        tripped, _ = _unconfirmed_trips(
            automation.action_script.sequence, breakers, entities, confirmed=started_by_person
        )
        for entity_id in sorted(tripped):
            findings.append(
                auto_trip_finding(
                    breakers.devices[entity_id],
                    str(automation.name or automation.entity_id),
                    automation.entity_id,
                    entity_id,
                )
            )
    return findings


def _unconfirmed_trips(
    actions: Sequence[Any], breakers: Breakers, entities: er.EntityRegistry, *, confirmed: bool
) -> tuple[set[str], bool]:
    """The breakers these actions trip before a person confirms, walking the steps in
    order, and whether a person has confirmed by their end. A confirmation inside a branch
    (choose, if, parallel, repeat) does not carry past it: another branch may have none."""
    tripped: set[str] = set()
    checking = False
    for action in actions:
        if not isinstance(action, Mapping) or action.get("enabled") is False:
            continue
        wait = _waits_for_a_person(action)
        if wait is not False:
            # A wait that goes on after its timeout confirms only if a condition then
            # checks that the person answered (``wait.trigger``).
            confirmed = confirmed or wait is True
            checking = wait is None
            continue
        if checking and "condition" in action and _mentions(action, "wait.trigger"):
            confirmed = True
            continue
        for branch in _branches(action):
            tripped |= _unconfirmed_trips(branch, breakers, entities, confirmed=confirmed)[0]
        if isinstance(action.get("sequence"), list):
            # A plain sequence runs in line: a confirmation in it holds after it.
            inner, confirmed = _unconfirmed_trips(
                action["sequence"], breakers, entities, confirmed=confirmed
            )
            tripped |= inner
        if not confirmed:
            tripped |= _trip_targets(action, breakers, entities)
    return tripped, confirmed


def _waits_for_a_person(action: Mapping[str, Any]) -> bool | None:
    """True: the step waits for a person's answer and stops without one (no timeout, or
    ``continue_on_timeout: false``); None: it waits, but goes on after its timeout (Home
    Assistant's default); False: it is no such wait."""
    if not _any_person_trigger(_as_list(action.get("wait_for_trigger"))):
        return False
    if "timeout" not in action or action.get("continue_on_timeout") is False:
        return True
    return None


def _mentions(value: Any, text: str) -> bool:
    """Whether a step's configuration (its templates included) contains ``text``."""
    if isinstance(value, Template):
        return text in value.template
    if isinstance(value, str):
        return text in value
    if isinstance(value, Mapping):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return False


def _branches(action: Mapping[str, Any]) -> Iterable[list[Any]]:
    """The nested step lists of a choose, if, parallel or repeat."""
    for option in _as_list(action.get("choose")):
        if isinstance(option, Mapping):
            yield _as_list(option.get("sequence"))
    if "choose" in action:
        yield _as_list(action.get("default"))
    if "if" in action:
        yield _as_list(action.get("then"))
        yield _as_list(action.get("else"))
    for branch in _as_list(action.get("parallel")):
        yield (
            _as_list(branch.get("sequence"))
            if isinstance(branch, Mapping) and "sequence" in branch
            else [branch]
        )
    repeat = action.get("repeat")
    if isinstance(repeat, Mapping):
        yield _as_list(repeat.get("sequence"))


def _trip_targets(
    action: Mapping[str, Any], breakers: Breakers, entities: er.EntityRegistry
) -> set[str]:
    """The breakers one step turns off or toggles, if it is such a step."""
    if action.get("domain") == Platform.SWITCH and action.get("type") in TRIP_DEVICE_ACTIONS:
        entity_id = action.get("entity_id")
        resolved = (
            er.async_resolve_entity_id(entities, entity_id) if isinstance(entity_id, str) else None
        )
        return {resolved} & set(breakers.devices) if resolved else set()
    name = action.get("action", action.get("service"))
    if name not in TRIP_ACTIONS:
        return set()
    named: set[str] = set()
    target = action.get("target")
    data = action.get("data")
    for where in (action, target, data):
        if not isinstance(where, Mapping):
            continue
        entity_ids = _strings(where.get("entity_id"))
        if "all" in entity_ids:
            named |= set(breakers.devices)
        named |= entity_ids & set(breakers.devices)
        for device_id in _strings(where.get("device_id")):
            named |= breakers.by_device.get(device_id, frozenset())
        for area_id in _strings(where.get("area_id")):
            named |= breakers.by_area.get(area_id, frozenset())
    return named


def _any_person_trigger(triggers: Sequence[Any]) -> bool:
    """Whether any of these triggers is a person's doing."""
    for trigger in triggers:
        if not isinstance(trigger, Mapping):
            continue
        kind = trigger.get("trigger", trigger.get("platform"))
        if kind in PERSON_TRIGGERS:
            return True
        if kind == "event" and _strings(trigger.get("event_type")) & PERSON_EVENTS:
            return True
        if kind == "state" and any(
            e.split(".", 1)[0] in PERSON_ENTITY_DOMAINS for e in _strings(trigger.get("entity_id"))
        ):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _strings(value: Any) -> set[str]:
    """The plain ids of a field (one, a list, or comma-separated). A validated field may
    hold templates (an event trigger's ``event_type``): a static one is its text, one that
    renders is left out, since what it names is known only when it runs."""
    if isinstance(value, Template):
        value = value.template if value.is_static else None
    if isinstance(value, str):
        return {part.strip() for part in value.split(",") if part.strip()}
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


@callback
def async_watch_auto_trips(hass: HomeAssistant, entry: ElectricalSafetyConfigEntry) -> None:
    """Check the automations once Home Assistant has started, after every reload of them,
    and whenever an automation or a switch comes or goes. The checks asked for in one turn
    of the event loop (a reload adds every automation again) run once."""
    pending = False
    unloaded = False

    @callback
    def check() -> None:
        nonlocal pending
        pending = False
        if not unloaded:  # a check asked for just before an unload or a removal
            async_sync_auto_trip_issues(hass, entry)

    @callback
    def unload() -> None:
        nonlocal unloaded
        unloaded = True

    @callback
    def soon(_event: Any = None) -> None:
        nonlocal pending
        if not pending:
            pending = True
            hass.loop.call_soon(check)

    entry.async_on_unload(unload)
    entry.async_on_unload(async_at_started(hass, soon))
    entry.async_on_unload(hass.bus.async_listen(EVENT_AUTOMATION_RELOADED, soon))
    # An entity's first state is written once it is among its component's entities.
    watched = ["automation", Platform.SWITCH]
    entry.async_on_unload(async_track_state_added_domain(hass, watched, soon))
    entry.async_on_unload(async_track_state_removed_domain(hass, watched, soon))
