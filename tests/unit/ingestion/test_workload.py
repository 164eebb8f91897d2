"""The cluster profile's per-line ingestion workload and its data plane decisions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.kube import KubeBackend
from lineops.services.data_plane import ClusterDataPlane
from lineops.services.data_plane_workload import (
    MANIFEST_KEY,
    WorkloadConfig,
    endpoint_url,
    ingestion_workload,
)
from lineops.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "productionline.yaml"


def _body() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"].update(namespace="plant-a", uid="uid-7", generation=1)
    return doc


def test_deployment_and_service_are_owned_selected_and_hardened() -> None:
    dep, svc = ingestion_workload(
        _body(), "press-line-1-lineops", "manifest-v1", WorkloadConfig(image="img:1")
    )
    for obj in (dep, svc):
        assert obj["metadata"]["ownerReferences"][0]["uid"] == "uid-7"
        assert obj["metadata"]["namespace"] == "plant-a"
    pod = dep["spec"]["template"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == "img:1"
    assert f"/etc/lineops/{MANIFEST_KEY}" in container["args"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    pod_security = pod["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] == 10001
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    # LINEOPS_POD_USER_IDS=false: the platform picks them (OpenShift's SCCs).
    open_shift = WorkloadConfig(image="img:1", user_ids=False)
    other, _ = ingestion_workload(_body(), "press-line-1-lineops", "manifest-v1", open_shift)
    assert other["spec"]["template"]["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["spec"]["automountServiceAccountToken"] is False
    # Every writable path is an emptyDir (the root filesystem is read-only).
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    for mount in container["volumeMounts"]:
        if not mount.get("readOnly"):
            assert "emptyDir" in volumes[mount["name"]], mount
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/tmp", "/var/lib/lineops"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert dep["spec"]["strategy"]["type"] == "Recreate"  # one writer per offline store


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_without_cluster_settings_no_secret_is_referenced() -> None:
    dep, _ = ingestion_workload(_body(), "cm", "m")
    pod = dep["spec"]["template"]["spec"]
    env = _env(pod["containers"][0])
    assert env == {"LINEOPS_LOG_FORMAT": "text", "HOME": "/tmp"}
    assert not [v for v in pod["volumes"] if "secret" in v]


def test_cluster_settings_reach_the_pod_as_secret_references() -> None:
    config = WorkloadConfig(
        image="img:2",
        db_secret="lineops-db",
        feast_secret="lineops-feast",
        api_token_secret="lineops-api-token",
        log_format="json",
    )
    dep, _ = ingestion_workload(_body(), "cm", "m", config)
    pod = dep["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = _env(container)
    ref = "secretKeyRef"
    assert env["LINEOPS_DB_URL"] == {ref: {"name": "lineops-db", "key": "url"}}
    assert env["LINEOPS_FEAST_REDIS"] == {ref: {"name": "lineops-feast", "key": "redis"}}
    assert env["LINEOPS_FEAST_REGISTRY_URL"] == {
        ref: {"name": "lineops-feast", "key": "registry-url"}
    }
    assert env["LINEOPS_LOG_FORMAT"] == "json"
    # The token is a file from the Secret, mounted read-only where the setting points.
    token_file = env["LINEOPS_API_TOKEN_FILE"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "api-token")
    assert mount["readOnly"] is True and token_file == f"{mount['mountPath']}/token"
    volume = next(v for v in pod["volumes"] if v["name"] == "api-token")
    assert volume["secret"] == {
        "secretName": "lineops-api-token",
        "items": [{"key": "token", "path": "token"}],
    }
    # The data plane reads every value it needs from the settings: all are real settings.
    names = {n for n in env if n.startswith("LINEOPS_")}
    known = {f"LINEOPS_{field.upper()}" for field in Settings.model_fields}
    assert names <= known


def test_the_operator_settings_become_the_workload_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "LINEOPS_PROFILE": "cluster",
        "LINEOPS_IMAGE": "img:3",
        "LINEOPS_DB_SECRET": "db",
        "LINEOPS_FEAST_SECRET": "feast",
        "LINEOPS_API_TOKEN_SECRET": "token",
        "LINEOPS_LOG_FORMAT": "json",
        "LINEOPS_IMAGE_PULL_POLICY": "Always",
        "LINEOPS_IMAGE_PULL_SECRETS": "regcred, mirror.creds",
    }.items():
        monkeypatch.setenv(name, value)
    assert WorkloadConfig.from_settings(load_settings()) == WorkloadConfig(
        image="img:3",
        pull_policy="Always",
        pull_secrets=("regcred", "mirror.creds"),
        db_secret="db",
        feast_secret="feast",
        api_token_secret="token",
        log_format="json",
    )


def test_pull_policy_and_secrets_reach_the_pod_only_when_set() -> None:
    plain, _ = ingestion_workload(_body(), "cm", "m")
    pod = plain["spec"]["template"]["spec"]
    assert "imagePullSecrets" not in pod and "imagePullPolicy" not in pod["containers"][0]
    config = WorkloadConfig(pull_policy="Never", pull_secrets=("regcred", "mirror"))
    dep, _ = ingestion_workload(_body(), "cm", "m", config)
    pod = dep["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}]
    assert pod["containers"][0]["imagePullPolicy"] == "Never"


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


def _configure(replicas: tuple[int, int] | None, ingestion: Any = None) -> Any:
    body = _body()
    if ingestion is not None:
        body["spec"]["ingestion"] = ingestion
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


def test_a_line_without_any_ingestion_says_so_instead_of_started() -> None:
    off = {"http": {"enabled": False}, "mqtt": {"enabled": False}}
    _, verdict = _configure((1, 1), off)
    assert verdict.problem is None  # the line itself is fine: records, lots, plans
    status, reason, message = verdict.ingestion
    assert (status, reason) == ("False", "Disabled")
    assert "neither http nor mqtt" in message
