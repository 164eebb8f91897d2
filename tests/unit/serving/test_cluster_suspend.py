"""spec.serving.replicas 0 in the cluster profile: the stable Deployment is kept at 0 Pods
(suspend), which serves nothing, and a later stop (no champion, the model deleted) still
removes the workloads. The Kubernetes calls go to a recording stand-in here; the real API
server runs the whole path in tests/integration/test_serving_cluster.py."""

from __future__ import annotations

import asyncio
from typing import Any

from lineops.backends.serving import manifests as m
from lineops.backends.serving.cluster import (
    SUSPEND_MANAGER,
    ClusterServingBackend,
    ClusterServingConfig,
    workload,
)


class RecordingKube:
    """The three calls the backend makes on its own objects, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def get_object(self, api: str, plural: str, ns: str, name: str) -> dict[str, Any]:
        self.calls.append(("get", plural, name))
        return {"metadata": {"name": name, "namespace": ns}, "spec": {"replicas": 2}}

    async def delete_object(self, api: str, plural: str, ns: str, name: str) -> bool:
        self.calls.append(("delete", plural, name))
        return True

    async def server_side_apply(
        self, body: dict[str, Any], plural: str, manager: str = "lineops"
    ) -> None:
        self.calls.append(("apply", plural, body["metadata"]["name"], manager))


def _backend(kube: RecordingKube) -> ClusterServingBackend:
    config = ClusterServingConfig(m.WorkloadSettings("r"), lambda ns, line: "http://x")
    return ClusterServingBackend(kube, config, None)  # type: ignore[arg-type]


def test_a_deployment_at_zero_pods_is_not_available() -> None:
    at_zero = {
        "metadata": {"generation": 3, "annotations": {m.ANNOTATION_TAG: "qm:v1"}},
        "spec": {"replicas": 0},
        "status": {"observedGeneration": 3},
    }
    found = workload(at_zero)
    assert found is not None and found.available is False  # was True: "Serving", 0 Pods


def test_stop_after_suspend_still_removes_the_workloads() -> None:
    kube = RecordingKube()
    backend = _backend(kube)
    asyncio.run(backend.suspend("ns", "qm"))
    assert ("apply", "deployments", "qm-serving", SUSPEND_MANAGER) in kube.calls
    assert ("delete", "deployments", "qm-serving") not in kube.calls
    kube.calls.clear()
    asyncio.run(backend.suspend("ns", "qm"))  # idempotent: nothing again
    assert kube.calls == []
    asyncio.run(backend.stop("ns", "qm"))
    deleted = {(c[1], c[2]) for c in kube.calls if c[0] == "delete"}
    assert {("deployments", "qm-serving"), ("services", "qm-serving")} <= deleted
