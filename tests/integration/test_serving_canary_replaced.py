"""A newer champion while a canary runs gets a canary Deployment of its own, on the real
kube-apiserver (with kube-controller-manager and kwok's simulated node, so the stable
Deployment becomes Available): updated in place, the canary kept the older champion's
creation time and Available condition, which the analysis measures from.

The cluster serving backend is driven directly (no operator process): the test is about what
it does to the Deployments. Nothing runs in kwok's Pods, so no canary metrics (promotion
would go on readiness and the period alone; the period here is long enough not to end)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes import client
from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.kube import KubeBackend
from lineops.backends.serving import manifests as m
from lineops.backends.serving.cluster import ClusterServingBackend, ClusterServingConfig
from lineops.backends.serving.protocol import ServeRequest

from tests.support import resources as res
from tests.support.kube import wait_for

pytestmark = pytest.mark.integration

MODEL = "inspector"


def _model() -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "QualityModel",
        "metadata": {"name": MODEL},
        "spec": {
            "lineRef": "cell-line",
            "task": "anomaly-detection",
            "featureService": "sensor_window_v1",
            "serving": {
                "replicas": 2,
                "canaryPercent": 50,
                "canaryAnalysis": {"period": "1h"},
            },
        },
    }


def test_a_newer_champion_during_a_canary_gets_a_new_canary_deployment(
    api_client: client.ApiClient, namespace: str
) -> None:
    owner = res.create(api_client, namespace, _model())
    spec = QualityModelSpec.model_validate(owner["spec"])
    apps = client.AppsV1Api(api_client)
    config = ClusterServingConfig(
        m.WorkloadSettings("registry.example/bentos"),
        lambda ns, line: f"http://{line}-ingest.{ns}.svc:8081",
    )

    async def ensure(tag: str) -> str:
        backend = ClusterServingBackend(KubeBackend(api_client), config, None)
        try:
            state = await backend.ensure(ServeRequest(namespace, MODEL, tag, owner, spec))
        finally:
            await backend.close()
        return state.phase

    def canary() -> Any:
        try:
            return apps.read_namespaced_deployment(m.canary_name(MODEL), namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    # v1 is the stable Deployment, Available on kwok's node.
    wait_for(
        lambda: asyncio.run(ensure(f"{MODEL}:v1")) == "Serving",
        timeout=90,
        interval=0.5,
        what="v1 served",
    )
    # v2's canary is created; before it is Available, v3 becomes the champion.
    assert asyncio.run(ensure(f"{MODEL}:v2")) == "Canary"
    first = canary()
    assert first is not None and first.metadata.annotations[m.ANNOTATION_TAG] == f"{MODEL}:v2"

    assert asyncio.run(ensure(f"{MODEL}:v3")) == "Canary"

    second = canary()
    assert second is not None and second.metadata.annotations[m.ANNOTATION_TAG] == f"{MODEL}:v3"
    assert second.metadata.uid != first.metadata.uid  # a new Deployment, not v2's updated
    assert second.metadata.creation_timestamp >= first.metadata.creation_timestamp
    # The stable Deployment still runs v1 meanwhile.
    stable = apps.read_namespaced_deployment(m.stable_name(MODEL), namespace)
    assert stable.metadata.annotations[m.ANNOTATION_TAG] == f"{MODEL}:v1"
