"""Base classes and schema helpers shared by the custom-resource models.

The models are the single source of truth for the CRDs, so the pieces of an OpenAPI schema
that pydantic cannot express itself (CEL rules, list types) are attached here as
``json_schema_extra`` and carried into the CRD by :mod:`lineops.api.crd`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Self

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Sensor, feature and Feast object names end up as column and Prometheus label values.
IDENTIFIER_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

DnsLabel = Annotated[str, StringConstraints(pattern=DNS_LABEL_PATTERN, max_length=63)]
DnsSubdomain = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=63)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=32768)]


# Lists keyed by ``name`` become map lists: the API server then rejects duplicate names and
# server-side apply merges items by name instead of replacing the whole list.
def keyed_list(*keys: str) -> JsonDict:
    """``json_schema_extra`` for a list whose items are unique by ``keys``."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


NAME_KEYED_LIST: Final = keyed_list("name")


def cel(
    rule: str, message: str, *, field_path: str | None = None, reason: str | None = None
) -> JsonDict:
    """One ``x-kubernetes-validations`` entry.

    ``field_path`` (e.g. ``".usl"``) makes the API server report the error on that field
    rather than on the object holding the rule; ``reason`` is one of FieldValueInvalid,
    FieldValueRequired, FieldValueForbidden, FieldValueDuplicate.
    """
    entry: JsonDict = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    if reason is not None:
        entry["reason"] = reason
    return entry


def validations(*rules: JsonDict) -> JsonDict:
    """``json_schema_extra`` carrying CEL rules for a model or field."""
    return {"x-kubernetes-validations": list(rules)}


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; tolerant of fields it does not know.

    Object wrappers read what the cluster returns, which may come from a newer operator, so
    they ignore unknown fields.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
    )


class SpecModel(ApiModel):
    """Spec parts: unknown fields are errors, as they are for the API server."""

    model_config = ConfigDict(extra="forbid")


class StatusModel(ApiModel):
    """Status parts, which the operator builds and writes: a field name the model does not
    have is an error, for mypy (the pydantic plugin gives these models no ``**kwargs``) and at
    run time, so a renamed field cannot be written under its old name and then pruned by the
    API server without a word. Status read back from the cluster may come from a newer
    operator: :meth:`read` ignores the fields it does not know.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def read(cls, raw: Any) -> Self:
        """``raw`` as returned by the cluster, unknown fields (at any depth) ignored."""
        return cls.model_validate(raw, extra="ignore")
