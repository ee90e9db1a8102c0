"""The import boundary of design.md: the bridge never imports Home Assistant, and the
integration never imports pymodbus (pymodbus pins break Home Assistant upgrades)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BRIDGE = ROOT / "addon" / "electrical_safety_bridge"
INTEGRATION = ROOT / "custom_components" / "electrical_safety"


def imported_top_level_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level module names each Python file imports, absolute imports only."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[path.relative_to(folder).as_posix()] = names
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [(BRIDGE, "homeassistant"), (INTEGRATION, "pymodbus"), (INTEGRATION, "serial")],
)
def test_package_does_not_import_the_other_side(folder: Path, forbidden: str) -> None:
    files = imported_top_level_modules(folder)
    assert files, f"no Python files found under {folder}"
    offenders = sorted(path for path, names in files.items() if forbidden in names)
    assert offenders == [], f"{forbidden} imported by {offenders}"


def test_the_boundary_scanner_sees_absolute_imports_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import homeassistant.core\nfrom pymodbus.client import X\n")
    (tmp_path / "b.py").write_text("from . import pymodbus\n")
    assert imported_top_level_modules(tmp_path) == {
        "a.py": {"homeassistant", "pymodbus"},
        "b.py": set(),
    }
