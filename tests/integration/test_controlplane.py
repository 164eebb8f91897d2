"""The test control plane itself: a real kube-apiserver with RBAC, reached by real clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.controlplane import REPO, load_cplane
from tests.support.kube import impersonating, wait_for

pytestmark = pytest.mark.integration


def test_version_is_the_pinned_kubernetes(api_client: client.ApiClient) -> None:
    pinned = load_cplane().versions()["KUBERNETES_VERSION"]
    info = client.VersionApi(api_client).get_code()
    assert info.git_version == pinned
    assert info.minor == pinned.split(".")[1]


def test_namespace_and_configmap_round_trip(api_client: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="settings"), data={"line": "press-line-1"}
    )
    core.create_namespaced_config_map(namespace, body)
    read = core.read_namespaced_config_map("settings", namespace)
    assert read.data == {"line": "press-line-1"}
    assert read.metadata.uid  # stored by etcd, not echoed back by a fake


def test_namespace_deletion_is_finished_by_the_controller_manager(
    api_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(api_client)
    name = f"t-del-{os.getpid()}-{time.monotonic_ns() % 100000}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"), data={"a": "b"})
    )
    core.delete_namespace(name)

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except client.ApiException as exc:
            return exc.status == 404
        return False

    wait_for(gone, timeout=60, what=f"namespace {name} to be deleted")


def test_rbac_denies_a_service_account_what_it_was_not_granted(
    api_client: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(api_client)
    rbac = client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="reader"))
    )
    rbac.create_namespaced_role(
        namespace,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="configmap-reader"),
            rules=[
                client.V1PolicyRule(
                    api_groups=[""], resources=["configmaps"], verbs=["get", "list"]
                )
            ],
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="reader"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name="configmap-reader"
            ),
            subjects=[
                client.RbacV1Subject(kind="ServiceAccount", name="reader", namespace=namespace)
            ],
        ),
    )
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"k": "v"})
    )

    as_reader = client.CoreV1Api(
        impersonating(api_client, f"system:serviceaccount:{namespace}:reader")
    )
    # Granted: reading works.
    assert as_reader.read_namespaced_config_map("c", namespace).data == {"k": "v"}
    # Not granted: deleting and reading secrets are forbidden.
    with pytest.raises(client.ApiException) as denied:
        as_reader.delete_namespaced_config_map("c", namespace)
    assert denied.value.status == 403
    assert 'cannot delete resource "configmaps"' in json.loads(denied.value.body)["message"]
    with pytest.raises(client.ApiException) as secrets:
        as_reader.list_namespaced_secret(namespace)
    assert secrets.value.status == 403


def test_up_and_down_scripts_leave_no_process(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = dict(os.environ)
    up = subprocess.run(
        [str(REPO / "tools/controlplane/up"), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    kubeconfig = up.stdout.strip().splitlines()[-1]
    assert Path(kubeconfig).is_file()
    state: dict[str, Any] = json.loads((run_dir / "state.json").read_text())
    pids = state["pids"]
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}

    cfg = json.loads(Path(kubeconfig).read_text())
    assert cfg["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")

    down = subprocess.run(
        [str(REPO / "tools/controlplane/down"), str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    cplane = load_cplane()
    assert not any(cplane._pid_alive(pid) for pid in pids.values())
    # And a second down is a clear no-op, not a crash.
    again = subprocess.run(
        [sys.executable, str(REPO / "tools/controlplane/cplane.py"), "down", str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0


@pytest.mark.parametrize(
    ("binary", "version_key", "expected_prefix"),
    [
        ("etcd", "ETCD_VERSION", "etcd Version: "),
        ("kube-apiserver", "KUBERNETES_VERSION", "Kubernetes "),
        ("kube-controller-manager", "KUBERNETES_VERSION", "Kubernetes "),
        ("kube-scheduler", "KUBERNETES_VERSION", "Kubernetes "),
        ("kwok", "KWOK_VERSION", "kwok version "),
    ],
)
def test_binaries_report_their_pinned_version(
    binary: str, version_key: str, expected_prefix: str
) -> None:
    cplane = load_cplane()
    bins = cplane.build(tuple(cplane.BINARIES))  # reuses what `make controlplane` built
    out = subprocess.run(
        [str(bins / binary), "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    pinned = cplane.versions()[version_key]
    expected = pinned.lstrip("v") if binary == "etcd" else pinned
    assert out.splitlines()[0].startswith(expected_prefix + expected), out
