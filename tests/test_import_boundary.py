"""The import boundary of design.md: the bridge never imports Home Assistant, and the
integration never imports pymodbus (pymodbus pins break Home Assistant upgrades)."""

from __future__ import annotations

import ast
import functools
import sys
from enum import StrEnum
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


# ---------------------------------------------------------------- layers of the bridge server

PACKAGE = "electrical_safety_bridge"
#: Only these parts of the bridge talk Modbus through pymodbus (and pyserial): modbus/ is the
#: bridge's edge, simulator/ stands in for the devices.
MODBUS_FOLDERS = ("modbus", "simulator")
#: Parts that must load without pymodbus, not even through what they import.
WITHOUT_PYMODBUS = ("config", "profiles", "safety", "storage", "api")
#: Single modules that must load without pymodbus too: what the configuration reads.
PURE_MODULES = (
    "modbus",  # the package itself: its __init__
    "modbus.lines",
    "modbus.timing",
    "bus",
    "bus.bus_settings",
    "gateway",
    "gateway.gateway_settings",
)


def _is_type_checking(node: ast.AST) -> bool:
    """Whether ``node`` is ``if TYPE_CHECKING:`` (or ``if typing.TYPE_CHECKING:``)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, functions included, except those under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif _is_type_checking(node):
            assert isinstance(node, ast.If)
            pending.extend(node.orelse)  # the else branch runs
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name of every Python file of the package folder ``root``."""
    names: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(root: Path, package: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The runtime import graph of a package, and the outside top-level modules each module
    imports. Relative imports are resolved; ``from X import y`` points at the module X.y when
    there is one, else at X; an import of a module that is not a file points at its nearest
    enclosing package. Imports under ``if TYPE_CHECKING:`` are left out."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    outside: dict[str, set[str]] = {name: set() for name in modules}

    def within(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                submodules = [f"{source}.{alias.name}" for alias in node.names]
                targets = [t for t in submodules if t in modules] or [source]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    found = within(target)
                    if found is not None and found != name:
                        graph[name].add(found)
                else:
                    outside[name].add(target.split(".")[0])
    return graph, outside


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done.add(path.pop())
            elif following in path:
                return [*path[path.index(following) :], following]
            elif following not in done and following in graph:
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return None


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules importing ``start`` loads: what it imports, and what those import, with
    the packages around each (Python runs a package's __init__ before its modules)."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        pending.extend(graph[name])
        parent = name.rpartition(".")[0]
        if parent:
            pending.append(parent)
    return seen


@functools.cache
def bridge_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph(BRIDGE, PACKAGE)


def test_only_the_modbus_edge_and_the_simulator_import_pymodbus_or_serial() -> None:
    files = imported_top_level_modules(BRIDGE)
    offenders = sorted(
        path
        for path, names in files.items()
        if names & {"pymodbus", "serial"} and path.split("/")[0] not in MODBUS_FOLDERS
    )
    assert offenders == [], (
        f"pymodbus or serial imported outside modbus/ and simulator/: {offenders}"
    )


@pytest.mark.parametrize(
    ("part", "folder"),
    [(part, True) for part in WITHOUT_PYMODBUS] + [(part, False) for part in PURE_MODULES],
)
def test_part_loads_without_pymodbus_even_indirectly(part: str, folder: bool) -> None:
    graph, outside = bridge_graph()
    name = f"{PACKAGE}.{part}"
    starts = [m for m in graph if m == name or (folder and m.startswith(name + "."))]
    assert starts, f"no module {part}"
    offenders = sorted(
        loaded
        for start in starts
        for loaded in _reaches(graph, start)
        if outside[loaded] & {"pymodbus", "serial"}
    )
    assert offenders == [], f"{part} loads pymodbus through {offenders}"


def test_the_bridge_has_no_import_cycle() -> None:
    graph, _ = bridge_graph()
    assert len(graph) > 50, "the scanner found too few modules"
    assert find_cycle(graph) is None


def test_the_api_never_imports_the_service() -> None:
    """api/ is written against api/backend.BridgeBackend, not even a TYPE_CHECKING import
    of the service that runs it."""
    offenders = []
    for path in (BRIDGE / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
                if node.level and not node.module:
                    names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(n.split(".")[-1] == "service" or ".service." in n for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from .sub import b\n")
    (root / "sub" / "b.py").write_text("from ..c import thing\n")
    (root / "c.py").write_text("import pkg.a\nthing = 1\n")
    (root / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import e\n"
    )
    (root / "e.py").write_text("from . import d\n")
    graph, _ = import_graph(root, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.d"] == set()  # under TYPE_CHECKING: not a runtime import
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    (root / "c.py").write_text("thing = 1\n")
    assert find_cycle(import_graph(root, "pkg")[0]) is None


# ---------------------------------------------------------------- the contract and the client

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def test_common_is_the_standard_library_and_itself() -> None:
    graph, outside = bridge_graph()
    for name in (n for n in graph if n.startswith(f"{PACKAGE}.common")):
        assert outside[name] <= STDLIB, f"{name} imports {sorted(outside[name] - STDLIB)}"
        project = {t for t in graph[name] if t != PACKAGE}
        assert all(t.startswith(f"{PACKAGE}.common") for t in project), (name, project)


def test_the_client_is_aiohttp_the_contract_and_itself() -> None:
    graph, outside = bridge_graph()
    for name in (n for n in graph if n.startswith(f"{PACKAGE}.client")):
        assert outside[name] <= STDLIB | {"aiohttp"}, (name, outside[name])
        project = {t for t in graph[name] if t != PACKAGE}
        assert all(t.startswith((f"{PACKAGE}.common", f"{PACKAGE}.client")) for t in project), (
            name,
            project,
        )


def test_the_integration_imports_only_the_contract_and_the_client_of_the_bridge() -> None:
    offenders = {}
    for path in INTEGRATION.rglob("*.py"):
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if not node.level
                else []
            )
            for name in names:
                if name.split(".")[0] == PACKAGE and not name.startswith(
                    (f"{PACKAGE}.common", f"{PACKAGE}.client")
                ):
                    offenders[path.name] = name
    assert offenders == {}, f"the integration reaches into the bridge server: {offenders}"


def copied_wire_enums(folder: Path) -> dict[str, str]:
    """Enums under ``folder`` that copy a wire enum: its name, or a subset of its values."""
    from electrical_safety_bridge.common import enums

    wire = {
        name: {member.value for member in enum}
        for name, enum in vars(enums).items()
        if isinstance(enum, type) and issubclass(enum, StrEnum) and enum is not StrEnum
    }
    copies = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            if not {ast.unparse(b) for b in node.bases} & {"StrEnum", "Enum", "IntEnum"}:
                continue
            values = {
                stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
            }
            if node.name in wire or any(values <= known for known in wire.values()):
                copies[node.name] = path.name
    return copies


def test_the_integration_holds_home_assistant_glue_only() -> None:
    """No wire model, enum or protocol code of its own: those live in common/ and client/.
    An enum of its own is presentation (how a channel is shown), never a copy of a wire enum
    under the same name or with a subset of its values."""
    assert copied_wire_enums(INTEGRATION) == {}
    assert not (INTEGRATION / "models.py").exists()
    assert not (INTEGRATION / "client.py").exists()


def test_the_glue_check_finds_a_copied_enum(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "class Shape(StrEnum):\n    GAUGE = 'gauge'\n    STATUS = 'status'\n"
        "class Events(StrEnum):\n    UP = 'bus_up'\n    DOWN = 'bus_down'\n"
        "class EventType(StrEnum):\n    X = 'x'\n"
    )
    assert copied_wire_enums(tmp_path) == {"Events": "a.py", "EventType": "a.py"}
