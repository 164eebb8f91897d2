"""Check a status merge patch against what the API server keeps: the ``lineops.api`` status
model (unknown fields forbidden, camelCase only) and the generated CRD schema (what is not in
it is pruned without an error)."""

from __future__ import annotations

from typing import Any

import pytest
from lineops.api.base import StatusModel
from lineops.api.crd import crd_manifests
from lineops.api.productionline import ProductionLineStatus
from lineops.api.qualitymodel import QualityModelStatus
from lineops.services.outcome import Outcome

_KIND_OF = {ProductionLineStatus: "ProductionLine", QualityModelStatus: "QualityModel"}


def _status_schema(kind: str) -> dict[str, Any]:
    for manifest in crd_manifests():
        if manifest["spec"]["names"]["kind"] == kind:
            schema: dict[str, Any] = manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            return dict(schema["properties"]["status"])
    raise LookupError(kind)


def pruned(value: Any, schema: dict[str, Any], path: str = "status") -> list[str]:
    """Paths in ``value`` that the API server would prune (not in ``schema``)."""
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        found = []
        for key, item in value.items():
            if properties is not None and key in properties:
                found += pruned(item, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                found += pruned(item, extra, f"{path}.{key}")
            elif not schema.get("x-kubernetes-preserve-unknown-fields"):
                found.append(f"{path}.{key}")
        return found
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        return [p for i, item in enumerate(value) for p in pruned(item, items, f"{path}[{i}]")]
    return []


def check_status_patch(model: type[StatusModel], patch: dict[str, Any]) -> None:
    """Raise unless every key of ``patch`` is a camelCase field of ``model`` with a value the
    model accepts (``null`` only where the field may be absent), and none is pruned by the
    CRD schema generated from it."""
    model.model_validate(patch, extra="forbid", by_alias=True, by_name=False)
    lost = pruned(patch, _status_schema(_KIND_OF[model]))
    if lost:
        raise AssertionError(f"the API server would prune {', '.join(lost)}")


@pytest.fixture
def checked_status_patches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``Outcome.status`` read while the test runs is checked first, so each reconcile
    test also proves that the status it writes survives the API server unchanged."""
    dump = Outcome.status.fget
    assert dump is not None

    def checked(outcome: Outcome[Any]) -> dict[str, Any]:
        patch: dict[str, Any] = dump(outcome)
        check_status_patch(type(outcome.update), patch)
        return patch

    monkeypatch.setattr(Outcome, "status", property(checked))
