"""The integration's data files, checked as hassfest and HACS would (hassfest skips custom
integrations): manifest, hacs.json, quality scale, translations, icons and services."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.electrical_safety import kinds
from custom_components.electrical_safety.helpers import REFUSALS
from electrical_safety_bridge.common.enums import (
    ChannelKind,
    CommandName,
    EventType,
    SetpointKind,
    StorageState,
)

from .rig import ROOT, bridge_python

PACKAGE = ROOT / "custom_components" / "electrical_safety"
LANGUAGES = ("en", "zh-Hans", "ja")

#: Every rule of the Integration Quality Scale, by tier (reference/ha_integration.md §1).
TIERS: dict[str, set[str]] = {
    "bronze": {
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-triggers",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    },
    "silver": {
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    },
    "gold": {
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    },
    "platinum": {"async-dependency", "inject-websession", "strict-typing"},
}
PLATFORM_MODULES = (
    "sensor",
    "binary_sensor",
    "event",
    "switch",
    "button",
    "number",
    "select",
    "todo",
)


def _json(name: str) -> Any:
    return json.loads((PACKAGE / name).read_text(encoding="utf-8"))


def _strings(language: str | None = None) -> dict[str, Any]:
    return _json("strings.json" if language is None else f"translations/{language}.json")


# ---------------------------------------------------------------------------- manifest, HACS


def test_manifest_is_what_hassfest_and_hacs_expect() -> None:
    manifest = _json("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest: keys after domain and name sorted"
    assert manifest["domain"] == "electrical_safety"
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "hub"
    assert manifest["iot_class"] == "local_push"
    # One requirement, at the integration's own version: the base install (aiohttp only, which
    # Home Assistant ships; pymodbus is in the [bridge] extra, which is not asked for).
    assert manifest["requirements"] == [f"electrical-safety-bridge=={manifest['version']}"]
    assert manifest["codeowners"] and all(c.startswith("@") for c in manifest["codeowners"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["zeroconf"] == ["_elecsafety._tcp.local."]


def test_hacs_json_is_valid() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    allowed = {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "hacs",
    }
    assert set(hacs) <= allowed
    assert hacs["name"] == _json("manifest.json")["name"]
    assert hacs["content_in_root"] is False
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", hacs["homeassistant"])


def test_the_brand_images_are_there() -> None:
    assert (PACKAGE / "brand" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (PACKAGE / "brand" / "icon@2x.png").exists()


# ---------------------------------------------------------------------------- quality scale


def test_quality_scale_has_every_rule_done_or_exempt_with_a_reason() -> None:
    raw = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {"rules"}
    rules: dict[str, Any] = raw["rules"]
    everything = set().union(*TIERS.values())
    assert len(everything) == 54
    assert set(rules) == everything, (
        f"missing {sorted(everything - set(rules))}, unknown {sorted(set(rules) - everything)}"
    )
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in ("done", "exempt"), f"{rule}: {status}"
        if status == "exempt":
            assert isinstance(value, dict) and value.get("comment", "").strip(), rule
        if isinstance(value, dict):
            assert set(value) <= {"status", "comment"}, rule


@pytest.mark.parametrize("module", PLATFORM_MODULES)
def test_every_platform_sets_parallel_updates(module: str) -> None:
    """Rule parallel-updates: 0 where only pushed data is read, 1 where a bus is written."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    values = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        if node.targets[0].id == "PARALLEL_UPDATES"
    }
    expected = 1 if module in ("switch", "button", "number", "select") else 0
    assert values == {"PARALLEL_UPDATES": expected}


# ---------------------------------------------------------------------------- translations


def _leaves(tree: Any, path: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        found: dict[str, str] = {}
        for key, value in tree.items():
            found.update(_leaves(value, f"{path}.{key}" if path else key))
        return found
    assert isinstance(tree, str), path
    return {path: tree}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_english_translation_is_strings_json() -> None:
    assert _strings("en") == _strings()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_string_with_its_placeholders(language: str) -> None:
    english = _leaves(_strings())
    translated = _leaves(_strings(language))
    assert set(translated) == set(english)
    for key, text in english.items():
        assert translated[key].strip(), f"{language}: {key} is empty"
        assert _placeholders(translated[key]) == _placeholders(text), f"{language}: {key}"


def test_config_flow_fields_all_have_a_description() -> None:
    strings = _strings()
    for section in ("config", "options"):
        for step_id, step in strings[section]["step"].items():
            assert set(step.get("data", {})) == set(step.get("data_description", {})), step_id


def _entity_keys(platform: str) -> set[str]:
    return set(_strings()["entity"][platform])


def test_every_kind_has_its_names() -> None:
    """Each row of the kind tables, numbered or not, and each of its conditions is named."""
    sensor, binary = _entity_keys("sensor"), _entity_keys("binary_sensor")
    for spec in [*kinds.CHANNEL_KINDS.values(), kinds.UNKNOWN_KIND]:
        variants = (
            [spec.translation_key]
            if spec.named
            else [
                spec.translation_key,
                f"{spec.translation_key}_n",
            ]
        )
        assert set(variants) <= sensor, spec
        if spec.shape in (kinds.Shape.STATUS, kinds.Shape.BREAKER):
            assert set(variants) <= binary, spec
        for role in kinds.CONDITION_ROLES:
            assert f"channel_{role}" in binary
            if spec.shape is kinds.Shape.MEASUREMENT and not spec.named:
                assert {f"{v}_{role}" for v in variants} <= binary, (spec, role)
    number = _entity_keys("number")
    for setpoint in [*kinds.SETPOINT_KINDS.values(), kinds.UNKNOWN_SETPOINT]:
        variants = {setpoint.translation_key}
        if not setpoint.named:
            variants.add(f"{setpoint.translation_key}_n")
        assert variants <= number and variants <= sensor, setpoint
    assert {spec.translation_key for spec in kinds.BUTTON_COMMANDS.values()} <= _entity_keys(
        "button"
    )
    assert {"breaker", "breaker_n"} <= _entity_keys("switch")


def test_every_translation_key_the_code_raises_exists() -> None:
    exceptions = set(_strings()["exceptions"])
    used: set[str] = set(REFUSALS.values()) | {"command_refused"}
    for path in PACKAGE.glob("*.py"):
        used |= set(re.findall(r'translation_key="(\w+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'_invalid\("(\w+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'key = "(\w+)" if', path.read_text(encoding="utf-8")))
    issues = set(_strings()["issues"])
    entity_keys = set().union(*(set(v) for v in _strings()["entity"].values()))
    unknown = used - exceptions - issues - entity_keys
    assert not unknown, f"no string for {sorted(unknown)}"


def test_services_yaml_matches_the_strings() -> None:
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    strings = _strings()["services"]
    assert set(services) == set(strings)
    for name, service in services.items():
        assert set(service["fields"]) == set(strings[name]["fields"]), name
    options = services["get_events"]["fields"]["event_types"]["selector"]["select"]["options"]
    assert set(options) == set(_strings()["selector"]["event_types"]["options"])


def test_icons_name_existing_translation_keys() -> None:
    icons = _json("icons.json")
    strings = _strings()
    for platform, entries in icons["entity"].items():
        assert set(entries) <= set(strings["entity"][platform]), platform
    assert set(icons["services"]) == set(strings["services"])


# ---------------------------------------------------------------------------- the contract


@pytest.fixture(scope="module")
def bridge() -> dict[str, Any]:
    """What only the bridge's own environment can say (bridge_contract.py): the hints of its
    profile metadata and the service type it advertises. The wire enums need no bridge:
    they are common/enums.py, which Home Assistant's environment imports (the bridge's
    tests check that its internal enums say the same)."""
    script = Path(__file__).with_name("bridge_contract.py")
    done = subprocess.run(
        [bridge_python(), str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def test_home_assistants_environment_has_the_contract_but_not_the_bridge() -> None:
    """Home Assistant's environment has the base distribution the manifest requires (the
    contract and the client, on aiohttp), never the bridge's own dependencies; and loading
    the contract and the client loads no module of the bridge's server."""
    assert importlib.util.find_spec("pymodbus") is None
    code = (
        "import sys, electrical_safety_bridge.client, electrical_safety_bridge.common.models;"
        "print(sorted(m for m in sys.modules if m.startswith('electrical_safety_bridge')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules = ast.literal_eval(loaded)
    assert modules, "the contract did not load"
    assert all(
        m == "electrical_safety_bridge"
        or m.startswith(("electrical_safety_bridge.common", "electrical_safety_bridge.client"))
        for m in modules
    ), modules


def test_home_assistants_environment_has_the_base_distribution_only() -> None:
    """The manifest's requirement is installed from the checkout (scripts/venv --package), so
    Home Assistant finds it satisfied; the bridge's [bridge] extra and its pins are not."""
    manifest = _json("manifest.json")
    (requirement,) = manifest["requirements"]
    name, _, version = requirement.partition("==")
    assert importlib.metadata.version(name) == version
    spec = importlib.util.find_spec("electrical_safety_bridge")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().parent == ROOT / "addon" / "electrical_safety_bridge"
    assert importlib.util.find_spec("pymodbus") is None
    assert importlib.util.find_spec("serial") is None


@pytest.mark.parametrize(
    ("contract", "table"),
    [(ChannelKind, kinds.CHANNEL_KINDS), (SetpointKind, kinds.SETPOINT_KINDS)],
)
def test_every_kind_the_bridge_knows_has_a_row(contract: Any, table: dict[str, Any]) -> None:
    """Every kind of the contract (common/enums.py) has its row, and no row is of a kind
    the bridge does not send."""
    assert set(table) == {k.value for k in contract}


def test_every_command_the_bridge_knows_is_a_button_or_the_breaker() -> None:
    commands = {c.value for c in CommandName}
    assert set(kinds.BUTTON_COMMANDS) | kinds.BREAKER_COMMANDS == commands
    assert not set(kinds.BUTTON_COMMANDS) & kinds.BREAKER_COMMANDS


def test_the_event_types_and_storage_states_are_the_contracts() -> None:
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    options = services["get_events"]["fields"]["event_types"]["selector"]["select"]["options"]
    assert set(options) <= {t.value for t in EventType}
    # Each storage trouble the bridge can report has its repair issue.
    issues = set(_strings()["issues"])
    assert {f"storage_{s.value}" for s in StorageState if s is not StorageState.OK} <= issues


def test_the_bridge_hints_agree_with_the_table(bridge: dict[str, Any]) -> None:
    """The bridge's own hints (profiles/metadata.py) and our rows name the same device classes."""
    assert set(bridge["device_classes"]) == {k.value for k in ChannelKind}
    for kind, device_class in bridge["device_classes"].items():
        spec = kinds.CHANNEL_KINDS[kind]
        if device_class is not None:
            assert spec.sensor_device_class is not None, kind
            assert spec.sensor_device_class.value == device_class, kind


def test_no_platform_file_ladders_over_kinds() -> None:
    """style.md: platform files filter the tables; they never compare a kind themselves."""
    for module in PLATFORM_MODULES:
        text = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
        assert not re.search(r"\.kind\s*==|ChannelKind\.", text), module


def test_readme_documents_every_action() -> None:
    readme = (PACKAGE / "README.md").read_text(encoding="utf-8")
    for service in _strings()["services"]:
        assert f"electrical_safety.{service}" in readme
    for section in ("Installation", "Removal", "Options", "Troubleshooting", "Known limitations"):
        assert f"## {section}" in readme


def test_the_package_has_no_stray_files() -> None:
    names = {p.name for p in PACKAGE.iterdir() if not p.name.startswith("__pycache__")}
    assert "strings.json" in names and "translations" in names
    assert not any(Path(n).suffix in (".pyc", ".orig", ".rej") for n in names)


def test_manifest_zeroconf_type_is_what_the_bridge_advertises(bridge: dict[str, Any]) -> None:
    assert _json("manifest.json")["zeroconf"] == [bridge["service_type"]]


def test_every_setpoint_name_is_translated_where_its_shape_shows_it() -> None:
    """A profile's setpoint translation key names the entity of each platform its shape
    may take (writable and read-only), plain and numbered; each kind's row also names a
    setpoint that lists options (a select, or an enum sensor), and a flag's row a read-only
    flag (a binary sensor)."""
    for language in LANGUAGES:
        entities = _strings(language)["entity"]
        for key, shape in kinds.SETPOINT_NAMES.items():
            for platform in kinds.SETPOINT_PLATFORMS[shape]:
                for variant in (key, f"{key}_n"):
                    assert variant in entities[platform], (language, platform, variant)
        rows = [*kinds.SETPOINT_KINDS.values(), kinds.UNKNOWN_SETPOINT]
        for spec in rows:
            keys = [spec.translation_key] + ([] if spec.named else [f"{spec.translation_key}_n"])
            shapes = [kinds.SetpointShape.CHOICE, kinds.SetpointShape.VALUE]
            if spec.flag:
                shapes.append(kinds.SetpointShape.FLAG)
            for shape in shapes:
                for platform in kinds.SETPOINT_PLATFORMS[shape]:
                    for key in keys:
                        if shape is kinds.SetpointShape.VALUE and spec.flag:
                            continue
                        assert key in entities[platform], (language, platform, key)
