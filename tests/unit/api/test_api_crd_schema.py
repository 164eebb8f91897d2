"""The generated CRDs are structural and carry what the API server needs from the models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lineops.api.crd import KINDS, crd_manifests
from lineops.api.schema import SchemaError, structural_schema
from pydantic import BaseModel

MANIFESTS = crd_manifests()
FORBIDDEN_KEYS = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "const", "propertyNames"}


def walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


def root_schema(manifest: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def nodes(part: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for manifest in MANIFESTS:
        kind = manifest["spec"]["names"]["kind"]
        schema = root_schema(manifest)
        start = schema if part is None else schema["properties"][part]
        found += [(kind, path, node) for path, node in walk(start, part or "")]
    return found


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda m: m["metadata"]["name"])
def test_crd_identity(manifest: dict[str, Any]) -> None:
    spec = manifest["spec"]
    assert manifest["apiVersion"] == "apiextensions.k8s.io/v1"
    assert spec["group"] == "lineops.io" and spec["scope"] == "Namespaced"
    assert manifest["metadata"]["name"] == f"{spec['names']['plural']}.lineops.io"
    assert spec["names"]["categories"] == ["lineops"]
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}


def test_names() -> None:
    names = {m["spec"]["names"]["kind"]: m["spec"]["names"] for m in MANIFESTS}
    assert names["ProductionLine"]["shortNames"] == ["pl"]
    assert names["QualityModel"]["shortNames"] == ["qm"]
    assert names["QualityModel"]["plural"] == "qualitymodels"


def test_printer_columns() -> None:
    columns = {
        m["spec"]["names"]["kind"]: {
            c["name"]: c for c in m["spec"]["versions"][0]["additionalPrinterColumns"]
        }
        for m in MANIFESTS
    }
    line, model = columns["ProductionLine"], columns["QualityModel"]
    ready = '.status.conditions[?(@.type=="Ready")]'
    assert line["Ready"]["jsonPath"] == f"{ready}.status"
    assert line["Reason"]["jsonPath"] == f"{ready}.reason"
    assert line["OEE"]["jsonPath"] == ".status.kpis.oee"
    assert model["Champion"]["jsonPath"] == ".status.champion.version"
    assert model["Metric"]["jsonPath"] == ".status.champion.score"
    for kind in (line, model):
        assert list(kind)[:2] == ["Ready", "Reason"]
        assert kind["Age"] == {
            "name": "Age",
            "type": "date",
            "jsonPath": ".metadata.creationTimestamp",
        }


@pytest.mark.parametrize(
    ("kind", "path", "node"), nodes(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_node_is_structural(kind: str, path: str, node: dict[str, Any]) -> None:
    if path == ".metadata":
        assert node == {"type": "object"}
        return
    assert not FORBIDDEN_KEYS & node.keys(), f"{kind}{path}"
    assert node.get("type") in {"object", "array", "string", "integer", "boolean"}, f"{kind}{path}"
    assert "additionalProperties" not in node or isinstance(node["additionalProperties"], dict)
    assert not ("properties" in node and "additionalProperties" in node)
    assert "nullable" not in node and "x-kubernetes-preserve-unknown-fields" not in node
    assert "exclusiveMinimum" not in node and "exclusiveMaximum" not in node
    assert not node.get("uniqueItems"), f"{kind}{path}"
    for name in node.get("required", ()):
        assert "default" not in node["properties"][name], f"{kind}{path}.{name}"


@pytest.mark.parametrize(
    ("kind", "path", "node"), nodes(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_string_list_and_map_is_bounded(kind: str, path: str, node: dict[str, Any]) -> None:
    """The CEL cost estimate needs bounds; unbounded lists also invite huge objects."""
    if path in {".apiVersion", ".kind"}:
        return
    if node["type"] == "string":
        assert "maxLength" in node or "enum" in node, f"{kind}{path}"
    if node["type"] == "array":
        assert "maxItems" in node, f"{kind}{path}"
    if isinstance(node.get("additionalProperties"), dict):
        assert "maxProperties" in node, f"{kind}{path}"


def test_every_spec_and_status_field_has_a_description() -> None:
    for kind, path, node in nodes("spec") + nodes("status"):
        if path.endswith(("[]", "{}")):
            continue
        assert node.get("description"), f"{kind}.{path}"


def test_name_keyed_lists_are_maps() -> None:
    keyed = {
        (kind, path) for kind, path, node in nodes() if node.get("x-kubernetes-list-type") == "map"
    }
    assert keyed == {
        ("ProductionLine", ".spec.workUnits"),
        ("ProductionLine", ".spec.workUnits[].sensors"),
        ("ProductionLine", ".spec.qualityCharacteristics"),
        ("ProductionLine", ".spec.schedule.shifts"),
        ("ProductionLine", ".status.conditions"),
        ("QualityModel", ".status.conditions"),
    }
    for kind, path, node in nodes():
        if node.get("x-kubernetes-list-type") == "map":
            (key,) = node["x-kubernetes-list-map-keys"]
            assert key in node["items"]["required"], f"{kind}{path}"


def _rules(kind: str, path: str) -> dict[str, dict[str, Any]]:
    for k, p, node in nodes():
        if (k, p) == (kind, path):
            return {r["message"]: r for r in node.get("x-kubernetes-validations", ())}
    raise AssertionError(f"{kind}{path} not found")


def test_cel_rules_come_from_the_models() -> None:
    qc = _rules("ProductionLine", ".spec.qualityCharacteristics[]")
    assert qc["lsl must be below usl"]["rule"] == (
        "!has(self.lsl) || !has(self.usl) || double(self.lsl) < double(self.usl)"
    )
    assert qc["lsl must be below usl"]["fieldPath"] == ".lsl"
    assert {
        "at least one of lsl and usl is required",
        "target must be above lsl",
        "target must be below usl",
        "xbar-r and xbar-s charts need subgroupSize between 2 and 25",
        "imr charts need subgroupSize 1",
    } <= qc.keys()
    valid_range = _rules("ProductionLine", ".spec.workUnits[].sensors[].validRange")
    assert valid_range["min must be below max"]["rule"] == "double(self[0]) < double(self[1])"
    spec = _rules("QualityModel", ".spec")
    label = spec["label is required when task is fault-classification"]
    assert (label["fieldPath"], label["reason"]) == (".label", "FieldValueRequired")


def test_defaults_match_the_models() -> None:
    spec = root_schema(MANIFESTS[0])["properties"]["spec"]["properties"]
    qc = spec["qualityCharacteristics"]["items"]["properties"]
    assert (qc["subgroupSize"]["default"], qc["chart"]["default"]) == (5, "xbar-r")
    assert qc["rules"]["default"] == ["nelson-1"]
    assert spec["monitoring"]["default"] == {}
    assert spec["monitoring"]["properties"]["oeeTarget"]["default"] == "0.85"
    assert "default" not in spec["schedule"]  # optional: absent means around the clock


def test_status_has_no_defaults() -> None:
    for kind, path, node in nodes("status"):
        assert "default" not in node, f"{kind}.{path}"


def test_bounds_from_the_brief() -> None:
    spec = root_schema(MANIFESTS[0])["properties"]["spec"]["properties"]
    assert (spec["workUnits"]["minItems"], spec["workUnits"]["maxItems"]) == (1, 100)
    assert spec["workUnits"]["items"]["properties"]["sensors"]["maxItems"] == 200
    assert spec["qualityCharacteristics"]["maxItems"] == 100
    qm = root_schema(MANIFESTS[1])["properties"]["spec"]["properties"]
    serving = qm["serving"]["properties"]
    assert (serving["replicas"]["minimum"], serving["replicas"]["maximum"]) == (0, 20)
    assert (serving["canaryPercent"]["minimum"], serving["canaryPercent"]["maximum"]) == (0, 100)
    assert qm["task"]["enum"] == ["fault-classification", "anomaly-detection", "failure-prediction"]


def test_kinds_cover_both_resources() -> None:
    assert [k.info.kind for k in KINDS] == ["ProductionLine", "QualityModel"]


def test_generation_is_deterministic() -> None:
    assert crd_manifests() == MANIFESTS


def test_unions_other_than_optional_are_refused() -> None:
    class Bad(BaseModel):
        value: int | str

    with pytest.raises(SchemaError, match="unions"):
        structural_schema(Bad)
