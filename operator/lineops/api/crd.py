"""CustomResourceDefinitions built from the models (``lineops crd generate`` writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from lineops.api.base import cel, validations
from lineops.api.kinds import (
    CATEGORY,
    DNS_1035_PATTERN,
    PRODUCTION_LINE,
    QUALITY_MODEL,
    ResourceInfo,
    name_rule,
)
from lineops.api.productionline import ProductionLine, ProductionLineSpec, ProductionLineStatus
from lineops.api.qualitymodel import QualityModel, QualityModelSpec, QualityModelStatus
from lineops.api.schema import Schema, structural_schema


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0

    def manifest(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            column["description"] = self.description
        if self.priority:
            column["priority"] = self.priority
        return column


_READY: Final = '.status.conditions[?(@.type=="Ready")]'
READY_COLUMN: Final = PrinterColumn("Ready", f"{_READY}.status", description="Ready condition.")
REASON_COLUMN: Final = PrinterColumn(
    "Reason", f"{_READY}.reason", description="Reason of the Ready condition."
)
AGE_COLUMN: Final = PrinterColumn("Age", ".metadata.creationTimestamp", type="date")


@dataclass(frozen=True)
class KindDefinition:
    """Everything a CRD is generated from for one kind."""

    info: ResourceInfo
    resource: type[BaseModel]
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[PrinterColumn, ...]


KINDS: Final = (
    KindDefinition(
        info=PRODUCTION_LINE,
        resource=ProductionLine,
        spec=ProductionLineSpec,
        status=ProductionLineStatus,
        columns=(
            READY_COLUMN,
            REASON_COLUMN,
            PrinterColumn("OEE", ".status.kpis.oee", description="Latest OEE (0..1)."),
            PrinterColumn(
                "In-Control",
                ".status.spc.inControl",
                type="boolean",
                description="No run rule fires.",
                priority=1,
            ),
            PrinterColumn("Site", ".spec.site", description="ISA-95 site.", priority=1),
            PrinterColumn("Area", ".spec.area", description="ISA-95 area.", priority=1),
            AGE_COLUMN,
        ),
    ),
    KindDefinition(
        info=QUALITY_MODEL,
        resource=QualityModel,
        spec=QualityModelSpec,
        status=QualityModelStatus,
        columns=(
            READY_COLUMN,
            REASON_COLUMN,
            PrinterColumn(
                "Champion", ".status.champion.version", description="Served model version."
            ),
            PrinterColumn(
                "Metric",
                ".status.champion.score",
                description="Champion's value of spec.promotion.metric.",
            ),
            PrinterColumn("Line", ".spec.lineRef", description="ProductionLine.", priority=1),
            PrinterColumn("Task", ".spec.task", description="Prediction task.", priority=1),
            AGE_COLUMN,
        ),
    ),
)


def _description(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def object_schema(kind: KindDefinition) -> Schema:
    """The ``openAPIV3Schema`` of one kind."""
    # No x-kubernetes-preserve-unknown-fields on status: the API server refuses an explicit
    # `false` ("must be true or undefined"), and undefined already means unknown fields are
    # pruned, which keeps status to what the models define.
    status = structural_schema(kind.status, keep_defaults=False)
    info = kind.info
    return {
        "type": "object",
        "description": _description(kind.resource),
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "Versioned schema of this representation of an object.",
            },
            "kind": {"type": "string", "description": "REST resource this object represents."},
            "metadata": {"type": "object"},
            "spec": structural_schema(kind.spec),
            "status": status,
        },
        # At apply time rather than as a failed reconcile: the operator checks the same
        # (kinds.name_problem) for objects made before this rule or without it.
        **validations(
            cel(
                f"self.metadata.name.matches('{DNS_1035_PATTERN}') && "
                f"self.metadata.name.size() <= {info.max_name}",
                f"metadata.name: {name_rule(info)}",
                reason="FieldValueInvalid",
            )
        ),
    }


def crd_manifest(kind: KindDefinition) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    info = kind.info
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": info.group,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": info.version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": object_schema(kind)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [c.manifest() for c in kind.columns],
                }
            ],
        },
    }


def crd_manifests() -> list[dict[str, Any]]:
    """Both CRDs, ProductionLine first."""
    return [crd_manifest(kind) for kind in KINDS]
