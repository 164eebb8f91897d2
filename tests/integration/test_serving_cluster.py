"""Cluster-profile serving on the real kube-apiserver (RBAC on, the operator as the chart's
ServiceAccount), with kube-controller-manager and kwok's simulated node so Deployments become
Available: a champion gets a Deployment + Service + HorizontalPodAutoscaler; a new champion
with canaryPercent 50 is held for its analysis period, measured (its promoted record and the
Events say so) and promoted; a canary whose error rate is over the limit is rolled back with
the reason in status; deleting the model removes its workloads.

Stand-ins, because nothing runs in kwok's Pods (no container runtime, no bento image): the
champions are written into status.champion by the test instead of by training
(LINEOPS_TRAINING=off), and the canary's metrics come from a stand-in of Prometheus's HTTP
API (``/api/v1/query``) that answers the operator's real queries with values the test sets.
The Prometheus queries themselves run against a real Prometheus in
tests/integration/serving/test_canary_prometheus.py. Every wait polls with a deadline.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.loopback_http import serving_get
from tests.support.operator import OperatorIdentity, run_operator

pytestmark = pytest.mark.integration

MODEL = "inspector"
STABLE, CANARY = f"{MODEL}-serving", f"{MODEL}-serving-canary"


@contextmanager
def prometheus_stand_in(error_rate: dict[str, float]) -> Iterator[str]:
    """Answers instant queries like Prometheus: the error-rate query gets
    ``error_rate["value"]``, the latency query 0.05 s."""

    def answer(path: str) -> tuple[str, bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)["query"][0]
        value = 0.05 if "histogram_quantile" in query else error_rate["value"]
        body = {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, str(value)]}]},
        }
        return "application/json", json.dumps(body).encode()

    with serving_get(answer, "prometheus-stand-in") as address:
        yield f"http://{address}"


def _line() -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "ProductionLine",
        "metadata": {"name": "cell-line"},
        "spec": {
            "site": "test",
            "area": "cells",
            "workUnits": [
                {
                    "name": "cell-01",
                    "idealCycleTime": "10s",
                    "sensors": [{"name": "temp", "unit": "C", "validRange": ["-100", "100"]}],
                }
            ],
        },
    }


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
                "replicas": 1,
                "maxReplicas": 3,
                "canaryPercent": 50,
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                "canaryAnalysis": {
                    "period": "4s",
                    "maxErrorRate": "0.05",
                    "maxLatencyP99Seconds": "0.5",
                },
            },
        },
    }


def _champion(api: client.ApiClient, ns: str, tag: str) -> None:
    """What a promotion writes (status.champion), then a touch so the model reconciles now
    (kopf does not react to status changes)."""
    client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        "lineops.io",
        "v1alpha1",
        ns,
        "qualitymodels",
        MODEL,
        {"status": {"champion": {"version": tag}}},
    )
    res.patch(
        api,
        ns,
        "QualityModel",
        MODEL,
        {"metadata": {"annotations": {"test.lineops.io/champion": tag}}},
    )


def _serving(api: client.ApiClient, ns: str) -> dict[str, Any]:
    obj = res.get(api, ns, "QualityModel", MODEL) or {}
    return dict((obj.get("status") or {}).get("serving") or {})


def _events(api: client.ApiClient, ns: str) -> list[tuple[str, str, str]]:
    items = (
        client.CoreV1Api(api)
        .list_namespaced_event(ns, field_selector=f"involvedObject.name={MODEL}")
        .items
    )
    return [(e.type, e.reason, e.message or "") for e in items]


def _deployment(api: client.ApiClient, ns: str, name: str) -> Any:
    try:
        return client.AppsV1Api(api).read_namespaced_deployment(name, ns)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_cluster_serving_canary_promotion_rollback_and_deletion(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
) -> None:
    errors = {"value": 0.0}
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    with prometheus_stand_in(errors) as prometheus:
        env = {
            "LINEOPS_PROFILE": "cluster",
            "LINEOPS_TRAINING": "off",
            "LINEOPS_BENTO_IMAGE_REPOSITORY": "registry.example/bentos",
            "LINEOPS_PROMETHEUS_URL": prometheus,
        }
        with run_operator(operator_identity, namespace, env):
            res.create(api_client, namespace, _line())
            model = res.create(api_client, namespace, _model())

            # 1. A champion: a Deployment that becomes Available, a Service, Serving=True.
            _champion(api_client, namespace, f"{MODEL}:v1")

            def served(tag: str) -> dict[str, Any] | None:
                obj = res.get(api_client, namespace, "QualityModel", MODEL)
                serving = ((obj or {}).get("status") or {}).get("serving") or {}
                ok = (
                    serving.get("state") == "Serving"
                    and serving.get("champion") == tag
                    and res.has_condition(obj, "Serving", "True", "Deployed")
                )
                return obj if ok else None

            obj = wait_for(
                lambda: served(f"{MODEL}:v1"), timeout=60, interval=0.5, what="v1 served"
            )
            endpoint = f"http://{STABLE}.{namespace}.svc:3000"
            assert obj["status"]["serving"]["endpoint"] == endpoint == obj["status"]["endpoint"]
            dep = apps.read_namespaced_deployment(STABLE, namespace)
            assert dep.status.available_replicas == 1
            container = dep.spec.template.spec.containers[0]
            assert container.image == "registry.example/bentos/inspector:v1"
            assert container.readiness_probe.http_get.path == "/readyz"
            assert container.liveness_probe.http_get.path == "/livez"
            assert container.resources.requests == {"cpu": "100m", "memory": "256Mi"}
            env_vars = {e.name: e.value for e in container.env}
            assert env_vars["LINEOPS_SERVING_MODEL_TAG"] == f"{MODEL}:v1"
            assert env_vars["LINEOPS_SERVING_DATAPLANE_URL"] == (
                f"http://cell-line-ingest.{namespace}.svc:8081"
            )
            hpa = client.AutoscalingV2Api(api_client).read_namespaced_horizontal_pod_autoscaler(
                STABLE, namespace
            )
            assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (1, 3)
            assert hpa.spec.scale_target_ref.name == STABLE
            svc = core.read_namespaced_service(STABLE, namespace)
            assert svc.spec.ports[0].name == "http"
            assert svc.spec.selector["app.kubernetes.io/component"] == "serving"
            for child in (dep, svc, hpa):
                owner = child.metadata.owner_references[0]
                assert (owner.kind, owner.uid) == ("QualityModel", model["metadata"]["uid"])
                assert child.metadata.labels["app.kubernetes.io/name"] == "lineops"
                assert child.metadata.labels["lineops.io/model"] == MODEL

            # 2. A new champion with canaryPercent 50: a canary, held and measured, then promoted.
            def promoted() -> dict[str, Any] | None:
                serving = _serving(api_client, namespace)
                canary = serving.get("canary") or {}
                done = (
                    canary.get("state") == "Promoted" and serving.get("champion") == f"{MODEL}:v2"
                )
                return serving if done and serving.get("state") == "Serving" else None

            _champion(api_client, namespace, f"{MODEL}:v2")
            wait_for(
                lambda: _deployment(api_client, namespace, CANARY),
                timeout=30,
                interval=0.2,
                what="the canary",
            )
            canary_dep = apps.read_namespaced_deployment(CANARY, namespace)
            assert canary_dep.spec.replicas == 1  # beside 1 stable Pod: 50 %
            assert canary_dep.spec.template.spec.containers[0].image.endswith("/inspector:v2")
            serving = wait_for(promoted, timeout=90, interval=0.3, what="the canary promoted")
            # The Analysing step itself may pass between two polls (a 4 s period can be
            # decided within one reconcile on a loaded machine); the promoted record's reason
            # is the durable proof that the canary was held and measured.
            assert serving["canary"].get("step") is None, serving["canary"]
            reason = serving["canary"]["reason"]
            assert reason.startswith("held 4 s Available; error rate 0"), serving["canary"]
            stable = apps.read_namespaced_deployment(STABLE, namespace)
            assert stable.spec.template.spec.containers[0].image.endswith("/inspector:v2")
            wait_for(
                lambda: _deployment(api_client, namespace, CANARY) is None,
                timeout=30,
                interval=0.3,
                what="the canary Deployment removed",
            )
            reasons = [reason for _, reason, _ in _events(api_client, namespace)]
            for step in ("CanaryStarted", "CanaryPromoted"):
                assert step in reasons, reasons

            # 3. A canary over its error-rate limit is rolled back; v2 keeps serving.
            errors["value"] = 0.5

            def rolled_back() -> dict[str, Any] | None:
                obj = res.get(api_client, namespace, "QualityModel", MODEL)
                serving = ((obj or {}).get("status") or {}).get("serving") or {}
                canary = serving.get("canary") or {}
                ok = (
                    canary.get("tag") == f"{MODEL}:v3"
                    and canary.get("state") == "RolledBack"
                    and res.has_condition(obj, "Serving", "False", "CanaryRolledBack")
                )
                return obj if ok else None

            _champion(api_client, namespace, f"{MODEL}:v3")
            obj = wait_for(rolled_back, timeout=90, interval=0.3, what="the canary rolled back")
            serving = obj["status"]["serving"]
            assert "error rate 0.5 above maxErrorRate 0.05" in serving["canary"]["reason"]
            assert serving["champion"] == f"{MODEL}:v2" and serving["state"] == "Serving"
            assert "rolled back" in res.condition(obj, "Serving")["message"]  # type: ignore[index]
            wait_for(
                lambda: _deployment(api_client, namespace, CANARY) is None,
                timeout=30,
                interval=0.3,
                what="the failed canary removed",
            )
            stable = apps.read_namespaced_deployment(STABLE, namespace)
            assert stable.spec.template.spec.containers[0].image.endswith("/inspector:v2")
            warnings = [(t, r) for t, r, _ in _events(api_client, namespace)]
            assert ("Warning", "CanaryRolledBack") in warnings, warnings

            # 4. Scaled to 0 and back: v3 was rolled back, so v2 serves again (the stable
            # Deployment is kept at 0 Pods with its record; deleted, v3 was rolled out).
            res.patch(
                api_client,
                namespace,
                "QualityModel",
                MODEL,
                {"spec": {"serving": {"replicas": 0, "maxReplicas": None, "canaryPercent": 0}}},
            )

            def suspended() -> Any:
                obj = res.get(api_client, namespace, "QualityModel", MODEL)
                dep = _deployment(api_client, namespace, STABLE)
                ok = res.has_condition(obj, "Serving", "False", "Disabled")
                return dep if ok and dep is not None and dep.spec.replicas == 0 else None

            dep = wait_for(suspended, timeout=60, interval=0.3, what="serving suspended")
            assert dep.spec.template.spec.containers[0].image.endswith("/inspector:v2")
            hpas = client.AutoscalingV2Api(api_client).list_namespaced_horizontal_pod_autoscaler
            assert not hpas(namespace, label_selector=f"lineops.io/model={MODEL}").items
            res.patch(
                api_client,
                namespace,
                "QualityModel",
                MODEL,
                {"spec": {"serving": {"replicas": 2, "canaryPercent": 50}}},
            )

            def back() -> Any:
                serving = _serving(api_client, namespace)
                dep = _deployment(api_client, namespace, STABLE)
                ok = serving.get("champion") == f"{MODEL}:v2" and serving.get("state") == "Serving"
                up = dep is not None and (dep.status.available_replicas or 0) == 2
                return dep if ok and up else None

            dep = wait_for(back, timeout=60, interval=0.3, what="v2 serving again")
            assert dep.spec.template.spec.containers[0].image.endswith("/inspector:v2")
            assert _serving(api_client, namespace)["canary"]["state"] == "RolledBack"
            assert _deployment(api_client, namespace, CANARY) is None

            # 5. Handing replicas to an HPA keeps them: applied without spec.replicas, the
            # field was reset to 1 before the HPA scaled again.
            res.patch(
                api_client,
                namespace,
                "QualityModel",
                MODEL,
                {"spec": {"serving": {"maxReplicas": 3}}},
            )
            wait_for(
                lambda: hpas(namespace, label_selector=f"lineops.io/model={MODEL}").items,
                timeout=60,
                interval=0.3,
                what="the HPA",
            )
            assert apps.read_namespaced_deployment(STABLE, namespace).spec.replicas == 2

            # 6. Deleting the model removes its workloads.
            res.delete(api_client, namespace, "QualityModel", MODEL)

            def gone() -> bool:
                services = core.list_namespaced_service(
                    namespace, label_selector=f"lineops.io/model={MODEL}"
                ).items
                deployments = apps.list_namespaced_deployment(
                    namespace, label_selector=f"lineops.io/model={MODEL}"
                ).items
                autoscalers = (
                    client.AutoscalingV2Api(api_client)
                    .list_namespaced_horizontal_pod_autoscaler(
                        namespace, label_selector=f"lineops.io/model={MODEL}"
                    )
                    .items
                )
                return not services and not deployments and not autoscalers

            wait_for(gone, timeout=60, interval=0.3, what="the serving workloads removed")
