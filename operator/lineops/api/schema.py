"""Turn a pydantic JSON schema into a Kubernetes structural schema.

The API server accepts a subset of OpenAPI v3 (a "structural" schema): no ``$ref``, no
``anyOf`` of types, a ``type`` on every node, no ``title``, no ``additionalProperties: false``,
no ``propertyNames``. Pydantic emits JSON Schema 2020-12 with all of these, so this module
inlines and prunes; everything it keeps comes from the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

Schema = dict[str, Any]

# Keywords pydantic emits that a structural schema rejects or that only add noise there.
_DROPPED: Final = frozenset({"title", "propertyNames", "examples", "$schema"})
_VALIDATIONS: Final = "x-kubernetes-validations"


class SchemaError(ValueError):
    """The model produced something that has no structural equivalent."""


def structural_schema(model: type[BaseModel], *, keep_defaults: bool = True) -> Schema:
    """The model's validation schema (camelCase keys) as a structural schema.

    ``keep_defaults=False`` drops every ``default``: status is written by the operator, and
    server-side defaults there would only make objects differ from what it wrote.
    """
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: Mapping[str, Schema] = raw.pop("$defs", {})
    schema = _convert(raw, defs, path=model.__name__)
    if not keep_defaults:
        _strip_defaults(schema)
    return schema


def _resolve(ref: str, defs: Mapping[str, Schema]) -> Schema:
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise SchemaError(f"unresolvable $ref {ref!r}")
    return defs[ref[len(prefix) :]]


def _merge(base: Schema, overlay: Schema) -> Schema:
    """``overlay`` (keywords beside a $ref, or around an anyOf) wins, except CEL rules add up."""
    merged = {**base, **overlay}
    if _VALIDATIONS in base and _VALIDATIONS in overlay:
        merged[_VALIDATIONS] = [*base[_VALIDATIONS], *overlay[_VALIDATIONS]]
    return merged


def _convert(node: Schema, defs: Mapping[str, Schema], path: str) -> Schema:
    node = {k: v for k, v in node.items() if k not in _DROPPED}

    if "$ref" in node:
        target = _resolve(node.pop("$ref"), defs)
        return _convert(_merge(target, node), defs, path)

    if "anyOf" in node:
        branches = [b for b in node.pop("anyOf") if b.get("type") != "null"]
        if len(branches) != 1:
            raise SchemaError(f"{path}: unions other than Optional[X] are not structural")
        # An Optional field is simply left out of `required`; its None default means "absent".
        if node.get("default", ...) is None:
            del node["default"]
        return _convert(_merge(branches[0], node), defs, path)

    if "const" in node:
        node["enum"] = [node.pop("const")]

    if node.get("additionalProperties") is False:
        # Pruning drops unknown fields, and `kubectl --validate=strict` reports them.
        del node["additionalProperties"]

    if "type" not in node:
        raise SchemaError(f"{path}: no type")

    if "properties" in node:
        required = set(node.get("required", ()))
        properties: Schema = {}
        for name, child in node["properties"].items():
            converted = _convert(child, defs, f"{path}.{name}")
            if name not in required and _defaults_to_empty_object(child, converted):
                # Python fills these with default_factory; `{}` makes the API server apply
                # the nested defaults too, so stored objects match what the models read.
                converted["default"] = {}
            properties[name] = converted
        node["properties"] = properties
        if required:
            node["required"] = sorted(required)

    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs, f"{path}[*]")

    if "items" in node:
        node["items"] = _convert(node["items"], defs, f"{path}[]")

    return node


def _defaults_to_empty_object(original: Schema, converted: Schema) -> bool:
    """A non-Optional nested model with no default of its own and no required fields."""
    return (
        "$ref" in original
        and "default" not in converted
        and converted.get("type") == "object"
        and "properties" in converted
        and not converted.get("required")
    )


def _strip_defaults(node: Schema) -> None:
    node.pop("default", None)
    for child in node.get("properties", {}).values():
        _strip_defaults(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _strip_defaults(node[key])
