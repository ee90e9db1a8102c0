"""JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of the wire models' ``to_dict`` form.

A schema is derived from a model's dataclass fields and their type hints; where the wire
form differs from the fields, the model says so itself, and this module only reads what it
says:

- ``_WIRE_NAMES`` (class level): field name → wire key (``Setpoint.minimum`` → ``min``).
- ``_WIRE_EXTRA`` (class level): wire keys that are no field, with their schema
  (``Snapshot``'s ``type`` and schema versions, ``BridgeEvent``'s ``stored``).
- ``_WIRE_OPTIONAL`` (class level): wire keys that may be absent (every other one is
  always written, if need be as null).
- field metadata, built with :func:`wire`: the enum of a ``str`` field; ``flatten`` (a
  nested model whose keys are written into the parent, ``Device.state``); ``additional``
  (the field of unknown keys, ``extra``: the object takes any other key, as a newer bridge
  may add some); ``nullable`` (written as null when empty); or a whole ``schema`` for a
  field whose wire shape is special (``BridgeStatus.buses``); and a ``description``.

Nested models are referenced as ``#/components/schemas/<class name>``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

#: Where a nested model's schema is found.
REF_PREFIX = "#/components/schemas/"
#: The dialect of every generated schema.
DIALECT = "https://json-schema.org/draft/2020-12/schema"

_META = "wire"


def wire(
    *,
    enum: type[Enum] | None = None,
    flatten: bool = False,
    additional: bool = False,
    nullable: bool = False,
    schema: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Field metadata that says how a field appears on the wire (see the module's doc)."""
    return {
        _META: {
            "enum": enum,
            "flatten": flatten,
            "additional": additional,
            "nullable": nullable,
            "schema": schema,
            "description": description,
        }
    }


def ref(name: str) -> dict[str, Any]:
    """A reference to the component schema ``name``."""
    return {"$ref": REF_PREFIX + name}


def _declared(field: dataclasses.Field[Any]) -> Mapping[str, Any]:
    declared = field.metadata.get(_META)
    return declared if isinstance(declared, Mapping) else {}


def _json_type(schema: Mapping[str, Any]) -> list[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return list(kind)
    return None


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also takes null."""
    kinds = _json_type(schema)
    if schema == {}:
        return schema
    if kinds is not None and set(schema) <= {"type", "enum", "items", "additionalProperties"}:
        out = dict(schema)
        if "null" not in kinds:
            out["type"] = [*kinds, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


def type_schema(hint: Any, enum: type[Enum] | None = None) -> dict[str, Any]:
    """The JSON Schema of values of the type ``hint``; ``enum`` is the enum of its strings."""
    if isinstance(hint, typing.TypeAliasType):
        return type_schema(hint.__value__, enum)
    if hint is Any:
        return {}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            inner = type_schema(members[0], enum)
            return _nullable(inner) if len(members) < len(args) else inner
        schemas = [type_schema(a, enum) for a in members]
        kinds = [_json_type(s) for s in schemas]
        if all(k is not None and set(s) == {"type"} for k, s in zip(kinds, schemas, strict=True)):
            names: list[str] = []
            for k in kinds:
                assert k is not None
                names.extend(n for n in k if n not in names)
            if "number" in names and "integer" in names:
                names.remove("integer")  # a JSON number takes integers too
            if len(members) < len(args):
                names.append("null")
            return {"type": names if len(names) > 1 else names[0]}
        if len(members) < len(args):
            schemas.append({"type": "null"})
        return {"anyOf": schemas}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": type_schema(args[0], enum)}
    if origin in (frozenset, set):
        return {"type": "array", "items": type_schema(args[0], enum), "uniqueItems": True}
    if origin is list:
        return {"type": "array", "items": type_schema(args[0], enum)}
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        if args and args[0] is not str:
            raise TypeError(f"a JSON object's keys are strings, not {args[0]!r}")
        values = type_schema(args[1], enum) if args else {}
        return (
            {"type": "object"}
            if values == {}
            else {"type": "object", "additionalProperties": values}
        )
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        if enum is not None:
            return {"type": "string", "enum": [member.value for member in enum]}
        return {"type": "string"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return ref(hint.__name__)
    raise TypeError(f"no JSON Schema for the type {hint!r}")


def _parts(model: type[Any]) -> tuple[dict[str, Any], list[str], bool]:
    """The properties, required keys and openness (unknown keys taken) of ``model``."""
    if not dataclasses.is_dataclass(model):
        raise TypeError(f"{model!r} is not a dataclass")
    hints = typing.get_type_hints(model)
    names: Mapping[str, str] = getattr(model, "_WIRE_NAMES", {})
    optional: frozenset[str] = getattr(model, "_WIRE_OPTIONAL", frozenset())
    properties: dict[str, Any] = {}
    required: list[str] = []
    open_ = False
    flattened: list[tuple[dict[str, Any], list[str]]] = []
    for field in dataclasses.fields(model):
        declared = _declared(field)
        hint = hints[field.name]
        if declared.get("additional"):
            open_ = True
            continue
        if declared.get("flatten"):
            nested = hint
            if not (isinstance(nested, type) and dataclasses.is_dataclass(nested)):
                raise TypeError(f"{model.__name__}.{field.name}: only a model can be flattened")
            nested_properties, nested_required, nested_open = _parts(nested)
            flattened.append((nested_properties, nested_required))
            open_ = open_ or nested_open
            continue
        key = names.get(field.name, field.name)
        special = declared.get("schema")
        if special is not None:
            schema = dict(special)
        else:
            schema = type_schema(hint, declared.get("enum"))
            if declared.get("nullable"):
                schema = _nullable(schema)
        if declared.get("description"):
            schema = {"description": declared["description"], **schema}
        properties[key] = schema
        if key not in optional:
            required.append(key)
    extra_keys: Mapping[str, Mapping[str, Any]] = getattr(model, "_WIRE_EXTRA", {})
    for key, extra_schema in extra_keys.items():
        properties[key] = dict(extra_schema)
        if key not in optional:
            required.append(key)
    # The model's own keys win over a flattened model's (``Device.id`` over its state's).
    for nested_properties, nested_required in flattened:
        for key, schema in nested_properties.items():
            if key not in properties:
                properties[key] = schema
                if key in nested_required:
                    required.append(key)
    return properties, required, open_


def model_schema(model: type[Any]) -> dict[str, Any]:
    """The JSON Schema of ``model().to_dict()``."""
    properties, required, open_ = _parts(model)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        schema = {"description": " ".join(doc.split()), **schema}
    schema["additionalProperties"] = open_
    return schema


def component_schemas(models: Iterable[type[Any]]) -> dict[str, dict[str, Any]]:
    """``components.schemas`` of ``models``, each under its class name."""
    return {model.__name__: model_schema(model) for model in models}
