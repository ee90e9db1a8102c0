"""Forward check: every Home Assistant name the integration uses exists in a given release.

Read from source (tests/integration/ha_names.py), so a release this Python cannot run, such
as Home Assistant 2026.11 (Python 3.14), is checked from its wheel all the same.
"""

from __future__ import annotations

from pathlib import Path

import homeassistant
import pytest

from .ha_names import HomeAssistantSource, uses

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "electrical_safety"
#: Where `make forward-wheel` puts the newest Home Assistant wheel (never fetched by a test).
FORWARD_WHEELS = ROOT / ".forward-wheels"
FORWARD_VERSION = "2026.11.0"


def integration_sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in INTEGRATION.glob("*.py")}


@pytest.fixture(scope="module")
def installed() -> HomeAssistantSource:
    return HomeAssistantSource.from_folder(Path(homeassistant.__file__).parent)


@pytest.mark.minimum_ha
def test_every_name_the_integration_uses_exists_in_this_home_assistant(
    installed: HomeAssistantSource,
) -> None:
    wanted = uses(integration_sources())
    # Imports and the attributes used on imported modules (dr.async_get, ir.IssueSeverity...).
    assert len(wanted) > 100
    assert any(u.module == "homeassistant.helpers.device_registry" for u in wanted)
    assert installed.missing(wanted) == []


@pytest.mark.minimum_ha
def test_a_renamed_name_is_found_missing(installed: HomeAssistantSource) -> None:
    sources = integration_sources()
    sources["__init__.py"] = sources["__init__.py"].replace(
        "from homeassistant.core import HomeAssistant",
        "from homeassistant.core import HomeAssistantRenamed",
    )
    sources["coordinator.py"] = sources["coordinator.py"].replace(
        "ir.async_create_issue(", "ir.async_create_issue_renamed(", 1
    )
    missing = {(u.module, u.name) for u in installed.missing(uses(sources))}
    assert missing == {
        ("homeassistant.core", "HomeAssistantRenamed"),
        ("homeassistant.helpers.issue_registry", "async_create_issue_renamed"),
    }


def test_every_name_the_integration_uses_exists_in_the_newest_release() -> None:
    wheels = sorted(FORWARD_WHEELS.glob(f"homeassistant-{FORWARD_VERSION}-*.whl"))
    if not wheels:
        pytest.skip(
            f"no homeassistant {FORWARD_VERSION} wheel in {FORWARD_WHEELS.name}/: `make"
            " forward-wheel` downloads it from the package registry (this machine's registry"
            " does not serve it)"
        )
    newest = HomeAssistantSource.from_wheel(wheels[0])
    assert newest.version == FORWARD_VERSION
    assert newest.missing(uses(integration_sources())) == []
