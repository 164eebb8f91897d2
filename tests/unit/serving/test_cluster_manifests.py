"""The cluster profile's serving manifests (lineops.backends.serving.manifests): image scheme,
labels and owner, probes, resources and env from the spec, the token mount, the HPA only when
asked for, and the canary's Pod count for a share of the Service's Pods."""

from __future__ import annotations

from typing import Any

import pytest
from lineops.api.errors import SpecProblem
from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.serving import manifests as m
from pydantic import ValidationError

OWNER: dict[str, Any] = {
    "apiVersion": "lineops.io/v1alpha1",
    "kind": "QualityModel",
    "metadata": {"name": "press-fault", "namespace": "plant-a", "uid": "u-1"},
}
TAG = "press-fault:rn3ghuxmf2myuax4"
URL = "http://press-line-1-ingest.plant-a.svc:8081"


def _spec(**serving: Any) -> QualityModelSpec:
    return QualityModelSpec.model_validate(
        {
            "lineRef": "press-line-1",
            "task": "anomaly-detection",
            "featureService": "sensor_window_v1",
            "serving": serving,
        }
    )


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


def test_the_stable_deployment_serves_the_tag_from_its_bento_image() -> None:
    spec = _spec(
        replicas=3,
        resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "3Gi"}},
    )
    settings = m.WorkloadSettings("registry.example/bentos/")
    dep = m.deployment(OWNER, spec, TAG, settings, URL, replicas=3)
    meta = dep["metadata"]
    assert meta["name"] == "press-fault-serving" and meta["namespace"] == "plant-a"
    assert meta["labels"]["app.kubernetes.io/name"] == "lineops"
    assert meta["labels"]["app.kubernetes.io/component"] == "serving"
    assert meta["labels"]["lineops.io/model"] == "press-fault"
    assert meta["ownerReferences"][0]["uid"] == "u-1" and meta["ownerReferences"][0]["controller"]
    assert meta["annotations"][m.ANNOTATION_TAG] == TAG
    assert dep["spec"]["replicas"] == 3
    pod = dep["spec"]["template"]
    # The Deployment selects its own track; the Service selects both tracks.
    assert dep["spec"]["selector"]["matchLabels"]["lineops.io/track"] == "stable"
    assert set(m.selector("press-fault").items()) <= set(pod["metadata"]["labels"].items())
    assert pod["metadata"]["labels"][m.LABEL_VERSION] == "rn3ghuxmf2myuax4"
    container = pod["spec"]["containers"][0]
    assert container["image"] == "registry.example/bentos/press-fault:rn3ghuxmf2myuax4"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["ports"] == [{"name": "http", "containerPort": 3000}]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "3Gi"},
    }
    env = _env(container)
    assert env["LINEOPS_SERVING_MODEL_TAG"] == TAG
    assert env["LINEOPS_SERVING_MODEL_NAME"] == "press-fault"
    assert env["LINEOPS_SERVING_LINE"] == "press-line-1"
    assert env["LINEOPS_SERVING_NAMESPACE"] == "plant-a"
    assert env["LINEOPS_SERVING_FEATURE_SERVICE"] == "sensor_window_v1"
    assert env["LINEOPS_SERVING_DATAPLANE_URL"] == URL
    assert env["LINEOPS_SERVING_FEAST_REPO"] == m.FEAST_REPO_DIR
    assert "LINEOPS_SERVING_DATAPLANE_TOKEN_FILE" not in env
    assert not any(v.get("secret") for v in pod["spec"]["volumes"])


def test_a_configured_token_is_mounted_from_its_secret() -> None:
    settings = m.WorkloadSettings("r", token_secret="lineops-api-token")
    dep = m.deployment(OWNER, _spec(), TAG, settings, URL, replicas=1)
    pod = dep["spec"]["template"]["spec"]
    env = _env(pod["containers"][0])
    assert env["LINEOPS_SERVING_DATAPLANE_TOKEN_FILE"] == f"{m.TOKEN_DIR}/token"
    secrets = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
    assert secrets == ["lineops-api-token"]
    mounts = {v["mountPath"] for v in pod["containers"][0]["volumeMounts"]}
    assert m.TOKEN_DIR in mounts


def test_pull_secrets_reach_the_serving_pods() -> None:
    plain = m.deployment(OWNER, _spec(), TAG, m.WorkloadSettings("r"), URL, replicas=1)
    assert "imagePullSecrets" not in plain["spec"]["template"]["spec"]
    settings = m.WorkloadSettings("r", pull_secrets=("regcred",))
    dep = m.deployment(OWNER, _spec(), TAG, settings, URL, replicas=1)
    assert dep["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


def test_user_ids_are_left_to_the_platform_when_asked() -> None:
    # OpenShift's restricted-v2 SCC refuses a runAsUser outside the namespace's range.
    plain = m.deployment(OWNER, _spec(), TAG, m.WorkloadSettings("r"), URL, replicas=1)
    security = plain["spec"]["template"]["spec"]["securityContext"]
    assert (security["runAsUser"], security["fsGroup"]) == (1034, 1034)
    settings = m.WorkloadSettings("r", user_ids=False)
    dep = m.deployment(OWNER, _spec(), TAG, settings, URL, replicas=1)
    assert dep["spec"]["template"]["spec"]["securityContext"] == {"runAsNonRoot": True}


def test_canary_deployment_is_its_own_track_and_records_ride_on_the_stable_one() -> None:
    settings = m.WorkloadSettings("r")
    canary = m.deployment(OWNER, _spec(), "press-fault:v2", settings, URL, canary=True, replicas=2)
    assert canary["metadata"]["name"] == "press-fault-serving-canary"
    assert canary["spec"]["selector"]["matchLabels"]["lineops.io/track"] == "canary"
    assert canary["spec"]["replicas"] == 2
    stable = m.deployment(
        OWNER, _spec(), TAG, settings, URL, replicas=None, record={"state": "RolledBack"}
    )
    assert "replicas" not in stable["spec"]  # left to the HPA
    assert '"RolledBack"' in stable["metadata"]["annotations"][m.ANNOTATION_CANARY]


def test_service_and_endpoint() -> None:
    svc = m.service(OWNER)
    assert svc["metadata"]["name"] == "press-fault-serving"
    assert svc["spec"]["selector"] == m.selector("press-fault")
    assert svc["spec"]["ports"] == [{"name": "http", "port": 3000, "targetPort": "http"}]
    assert svc["metadata"]["labels"]["app.kubernetes.io/component"] == "serving"
    assert m.endpoint("plant-a", "press-fault") == "http://press-fault-serving.plant-a.svc:3000"


def test_an_autoscaler_only_when_max_replicas_is_above_replicas() -> None:
    assert m.autoscaler(OWNER, _spec(replicas=2)) is None
    assert m.autoscaler(OWNER, _spec(replicas=2, maxReplicas=2)) is None
    hpa = m.autoscaler(OWNER, _spec(replicas=2, maxReplicas=6, targetCpuUtilizationPercent=60))
    assert hpa is not None and hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["scaleTargetRef"]["name"] == "press-fault-serving"
    target = hpa["spec"]["metrics"][0]["resource"]["target"]
    assert target == {"type": "Utilization", "averageUtilization": 60}


def test_bad_serving_specs_name_the_field() -> None:
    with pytest.raises((SpecProblem, ValidationError), match="maxReplicas"):
        _spec(replicas=3, maxReplicas=2)
    with pytest.raises(ValidationError, match="maxErrorRate"):
        _spec(canaryAnalysis={"maxErrorRate": "1.5"})
    with pytest.raises(ValidationError, match="cpu"):
        _spec(resources={"requests": {"cpu": "lots"}})
    with pytest.raises(ValueError, match="not <name>:<version>"):
        m.image("r", "no-version")


@pytest.mark.parametrize(
    ("stable", "percent", "pods", "share"),
    [
        (1, 50, 1, 0.5),
        (3, 25, 1, 0.25),
        (9, 10, 1, 0.1),
        (4, 50, 4, 0.5),
        (1, 10, 1, 0.5),  # at least one Pod: a small share of few Pods is larger than asked
        (2, 100, 2, 0.5),
    ],
)
def test_canary_pods_approximate_the_share(
    stable: int, percent: int, pods: int, share: float
) -> None:
    assert m.canary_replicas(stable, percent) == pods
    assert m.canary_share(stable, pods) == pytest.approx(share)
