"""Run the real operator (kopf's KopfRunner) as the ServiceAccount the Helm chart ships."""

from __future__ import annotations

import os
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from tests.support.kube import wait_for

REPO = Path(__file__).resolve().parents[2]
RBAC_DIR = REPO / "helm" / "lineops" / "files" / "rbac"
OPERATOR_NAMESPACE = "lineops-system"
OPERATOR_SA = "lineops-operator"


def chart_rules() -> list[dict[str, Any]]:
    """The ClusterRole rules exactly as the Helm chart renders them."""
    rules: list[dict[str, Any]] = []
    for name in ("framework.yaml", "application.yaml"):
        rules += yaml.safe_load((RBAC_DIR / name).read_text())
    return rules


@dataclass(frozen=True)
class OperatorIdentity:
    namespace: str
    service_account: str
    kubeconfig: str

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def create_operator_identity(
    api: client.ApiClient, server: str, ca_file: str, out_dir: Path
) -> OperatorIdentity:
    """ServiceAccount + the chart's ClusterRole/Binding, and a kubeconfig holding a real
    ServiceAccount token (TokenRequest), so the API server authenticates the operator as
    that account and RBAC judges every request it makes."""
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=OPERATOR_NAMESPACE)))
    core.create_namespaced_service_account(
        OPERATOR_NAMESPACE, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=OPERATOR_SA))
    )
    rbac.create_cluster_role(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "lineops"},
            "rules": chart_rules(),
        }
    )
    rbac.create_cluster_role_binding(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "lineops"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "lineops",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": OPERATOR_SA, "namespace": OPERATOR_NAMESPACE}
            ],
        }
    )
    token = core.create_namespaced_service_account_token(
        OPERATOR_SA,
        OPERATOR_NAMESPACE,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=6 * 3600)
        ),
    ).status.token
    kubeconfig = out_dir / "operator.kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "test",
                        "cluster": {"server": server, "certificate-authority": ca_file},
                    }
                ],
                "users": [{"name": OPERATOR_SA, "user": {"token": token}}],
                "contexts": [
                    {"name": "operator", "context": {"cluster": "test", "user": OPERATOR_SA}}
                ],
                "current-context": "operator",
            }
        )
    )
    return OperatorIdentity(OPERATOR_NAMESPACE, OPERATOR_SA, str(kubeconfig))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningOperator:
    runner: Any
    namespace: str
    metrics_url: str
    data_url: str  # readings and MES records
    data_dir: str

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            return str(resp.read().decode())


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200 and resp.read() == b"ok")
    except OSError:
        return False


@contextmanager
def run_operator(
    identity: OperatorIdentity, namespace: str, extra_env: dict[str, str] | None = None
) -> Iterator[RunningOperator]:
    """The operator in a background thread of this process, watching ``namespace``."""
    from kopf.testing import KopfRunner

    port, data_port = free_port(), free_port()
    # Each run gets its own data directory unless the test shares one across restarts.
    data_dir = (extra_env or {}).get("LINEOPS_DATA_DIR") or tempfile.mkdtemp(prefix="lineops-")
    env = {
        "KUBECONFIG": identity.kubeconfig,
        "LINEOPS_METRICS_PORT": str(port),
        "LINEOPS_INGEST_PORT": str(data_port),
        "LINEOPS_PROFILE": "embedded",
        **(extra_env or {}),
        "LINEOPS_DATA_DIR": data_dir,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        args = ["run", "--standalone", "-n", namespace, "-m", "lineops.handlers.main"]
        with KopfRunner(args, timeout=120) as runner:
            base = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: _healthy(f"{base}/healthz"), timeout=60, what="the operator's /healthz"
            )
            yield RunningOperator(
                runner, namespace, f"{base}/metrics", f"http://127.0.0.1:{data_port}", data_dir
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert runner.exception is None, runner.exception
    assert "Traceback" not in runner.output, runner.output[-5000:]
