"""Every Home Assistant name the integration uses, and whether a Home Assistant has it.

A forward check without running that Home Assistant: the integration's sources are read with
``ast`` for ``from homeassistant.x import Y``, ``import homeassistant.x`` and, for a module
imported under an alias (``from homeassistant.helpers import device_registry as dr``), each
attribute used on it (``dr.async_get``); attributes of imported classes (``NumberMode.BOX``)
are not followed. A Home Assistant is then read the same way, from an
installed package folder or from a wheel file (which needs no Python able to import it): a
name exists when its module defines, imports or re-exports it at top level, or it is a
submodule. Standard library only.
"""

from __future__ import annotations

import ast
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True, slots=True)
class Use:
    """One name of Home Assistant used by the integration, and where."""

    module: str  # "homeassistant.helpers.device_registry"
    name: str | None  # "DeviceInfo"; None: the module itself
    where: str  # "entity.py:14"


def uses(sources: Mapping[str, str]) -> list[Use]:
    """The Home Assistant names used by these sources (file name → text)."""
    found: set[Use] = set()
    for file_name, text in sources.items():
        tree = ast.parse(text, file_name)
        aliases: dict[str, str] = {}  # local name → module it stands for
        for node in ast.walk(tree):
            where = f"{file_name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] != "homeassistant":
                    continue
                for alias in node.names:
                    found.add(Use(node.module, alias.name, where))
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "homeassistant":
                        found.add(Use(alias.name, None, where))
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                module = aliases.get(node.value.id)
                if module is not None:
                    found.add(Use(module, node.attr, f"{file_name}:{node.lineno}"))
    return sorted(found)


class HomeAssistantSource:
    """The modules of one Home Assistant, as text: a package folder or a wheel."""

    def __init__(self, files: Mapping[str, str], version: str) -> None:
        self._files = files  # "homeassistant/helpers/device_registry.py" → text
        self.version = version
        self._defined: dict[str, set[str] | None] = {}

    @classmethod
    def from_folder(cls, package: Path) -> HomeAssistantSource:
        """An installed ``homeassistant`` package folder."""
        files = {
            "homeassistant/" + str(path.relative_to(package)): path.read_text(encoding="utf-8")
            for path in package.rglob("*.py")
        }
        return cls(files, _version(files))

    @classmethod
    def from_wheel(cls, wheel: Path) -> HomeAssistantSource:
        """A ``homeassistant-*.whl`` file, read without installing it."""
        with zipfile.ZipFile(wheel) as archive:
            files = {
                name: archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.startswith("homeassistant/") and name.endswith(".py")
            }
        return cls(files, _version(files))

    def _module_file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._files:
                return candidate
        return None

    def has_module(self, module: str) -> bool:
        """Whether the module exists."""
        return self._module_file(module) is not None

    def _names(self, module: str) -> set[str] | None:
        """Top-level names of a module; None if it can answer any (``__getattr__``, ``*``)."""
        if module not in self._defined:
            path = self._module_file(module)
            self._defined[module] = None if path is None else _top_level(self._files[path])
        return self._defined[module]

    def has(self, use: Use) -> bool:
        """Whether this Home Assistant has what ``use`` asks for."""
        if use.name is None:
            return self.has_module(use.module)
        if self.has_module(f"{use.module}.{use.name}"):
            return True
        if not self.has_module(use.module):
            # ``NumberMode.BOX``: an attribute of a class, not of a module. Only the import
            # of the class is checked (its own Use); a module that is gone is missing.
            parent = use.module.rpartition(".")[0]
            return self.has_module(parent)
        names = self._names(use.module)
        return names is None or use.name in names

    def missing(self, wanted: Iterable[Use]) -> list[Use]:
        """What this Home Assistant lacks."""
        return [use for use in wanted if not self.has(use)]


def _top_level(text: str) -> set[str] | None:
    names: set[str] = set()
    open_ended = False
    for node in ast.parse(text).body:
        for name in _bound(node):
            if name == "*":
                return None
            if name == "__getattr__" and not _deprecated_constants_only(node):
                open_ended = True
            names.add(name)
    if open_ended:
        return None
    # Home Assistant's ``__getattr__ = partial(check_if_deprecated_constant, ...)`` answers
    # only the names it keeps as ``_DEPRECATED_<name>``.
    prefix = "_DEPRECATED_"
    return names | {n.removeprefix(prefix) for n in names if n.startswith(prefix)}


def _deprecated_constants_only(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and "check_if_deprecated_constant" in ast.unparse(
        node.value
    )


def _bound(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            yield alias.asname or alias.name.split(".")[0]
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    yield leaf.id
    elif isinstance(node, ast.TypeAlias) and isinstance(node.name, ast.Name):
        yield node.name.id
    elif isinstance(node, (ast.If, ast.Try)):
        # Names bound under TYPE_CHECKING, version checks or try/except imports.
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _bound(child)
            elif isinstance(child, ast.ExceptHandler):
                for inner in child.body:
                    yield from _bound(inner)


def _version(files: Mapping[str, str]) -> str:
    const = files.get("homeassistant/const.py", "")
    parts = {}
    for node in ast.parse(const).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if (
                isinstance(target, ast.Name)
                and target.id in ("MAJOR_VERSION", "MINOR_VERSION", "PATCH_VERSION")
                and isinstance(node.value, ast.Constant)
            ):
                parts[target.id] = str(node.value.value)
    return ".".join(parts.get(k, "?") for k in ("MAJOR_VERSION", "MINOR_VERSION", "PATCH_VERSION"))
