"""The cluster profile's per-line ingestion workload and its data plane decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.kube import KubeBackend
from lineops.services.data_plane import ClusterDataPlane
from lineops.services.data_plane_workload import MANIFEST_KEY, endpoint_url, ingestion_workload

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "productionline.yaml"


def _body() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"].update(namespace="plant-a", uid="uid-7", generation=1)
    return doc


def test_deployment_and_service_are_owned_selected_and_hardened() -> None:
    dep, svc = ingestion_workload(_body(), "press-line-1-lineops", "manifest-v1", "img:1")
    for obj in (dep, svc):
        assert obj["metadata"]["ownerReferences"][0]["uid"] == "uid-7"
        assert obj["metadata"]["namespace"] == "plant-a"
    pod = dep["spec"]["template"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == "img:1"
    assert f"/etc/lineops/{MANIFEST_KEY}" in container["args"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert dep["spec"]["strategy"]["type"] == "Recreate"  # one writer per offline store


def test_a_new_manifest_rolls_the_pods() -> None:
    a, _ = ingestion_workload(_body(), "cm", "manifest-v1")
    b, _ = ingestion_workload(_body(), "cm", "manifest-v2")
    key = "lineops.io/line-checksum"
    assert (
        a["spec"]["template"]["metadata"]["annotations"][key]
        != b["spec"]["template"]["metadata"]["annotations"][key]
    )


def test_endpoint_is_the_service_dns_name() -> None:
    assert endpoint_url("plant-a", "press-line-1") == (
        "http://press-line-1-ingest.plant-a.svc:8081/v1/namespaces/plant-a/lines/press-line-1/readings"
    )


class _Kube:
    def __init__(self, replicas: tuple[int, int] | None) -> None:
        self.applied: list[tuple[str, str]] = []
        self.replicas = replicas

    async def server_side_apply(self, body: dict[str, Any], plural: str) -> None:
        self.applied.append((body["kind"], plural))

    async def deployment_replicas(self, namespace: str, name: str) -> tuple[int, int] | None:
        return self.replicas


def _configure(replicas: tuple[int, int] | None) -> Any:
    body = _body()
    spec = ProductionLineSpec.model_validate(body["spec"])
    kube = _Kube(replicas)
    cm = {"metadata": {"name": "press-line-1-lineops"}, "data": {MANIFEST_KEY: "m"}}
    plane = ClusterDataPlane(cast(KubeBackend, kube))
    return kube, asyncio.run(plane.configure(body, spec, cm))


def test_not_available_keeps_the_line_waiting_and_says_why() -> None:
    kube, verdict = _configure((0, 1))
    assert kube.applied == [("Deployment", "deployments"), ("Service", "services")]
    assert verdict.ingestion == (
        "False",
        "Pending",
        "Deployment press-line-1-ingest: 0/1 replicas available",
    )
    assert verdict.features[0] == "Unknown"
    assert verdict.problem is not None


def test_available_reports_the_in_cluster_endpoint() -> None:
    _, verdict = _configure((1, 1))
    assert verdict.problem is None
    assert verdict.ingestion[0] == "True"
    assert (
        "http://press-line-1-ingest.plant-a.svc:8081/v1/namespaces/plant-a/lines/press-line-1/readings"
        in (verdict.ingestion[2])
    )
