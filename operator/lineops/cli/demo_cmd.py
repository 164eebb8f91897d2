"""`lineops demo`: the main job on the embedded profile, end to end, with progress output.

It starts the project's own control plane (etcd + kube-apiserver + controller manager,
built from Go modules), installs the CRDs, runs the operator as a child process, applies
the example line and model, waits for the operator's conditions, and prints what kubectl
would show. Each step says what it did; the run directory keeps every log.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from lineops.cli.errors import CliError

REPO = Path(__file__).resolve().parents[3]


def register(sub: Any) -> None:
    parser = sub.add_parser("demo", help="run a whole line on the embedded profile")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for logs and reports (default: demo-out)",
    )
    parser.add_argument("--namespace", default="plant-a")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the control plane and operator running at the end",
    )
    parser.set_defaults(func=_run)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _load_cplane() -> ModuleType:
    script = REPO / "tools" / "controlplane" / "cplane.py"
    if not script.exists():
        raise CliError(f"the demo needs a source checkout: {script} not found")
    spec = importlib.util.spec_from_file_location("lineops_cplane", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lineops_cplane"] = module
    spec.loader.exec_module(module)
    return module


def _poll(what: str, fn: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise CliError(f"timed out after {timeout:.0f}s waiting for {what}")


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   " + "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _run(args: argparse.Namespace) -> int:
    from kubernetes import client

    from lineops.api.crd import crd_manifests
    from lineops.backends.crds import install_crds, server_table
    from lineops.backends.kube import new_api_client

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cplane = _load_cplane()
    started = time.monotonic()

    step("control plane: building or reusing etcd, kube-apiserver, kube-controller-manager")
    try:
        cp = cplane.up(out / "controlplane")
    except cplane.ControlPlaneError as exc:
        raise CliError(str(exc)) from exc
    operator: subprocess.Popen[bytes] | None = None
    try:
        print(f"   API server {cp.server}; kubeconfig {cp.kubeconfig}")
        api = new_api_client(cp.kubeconfig)
        step("installing the ProductionLine and QualityModel CRDs")
        names = install_crds(api, crd_manifests())
        print(f"   established: {', '.join(names)}")

        ns = args.namespace
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
        )
        step(f"starting the operator (embedded profile) on namespace {ns}")
        log = open(out / "operator.log", "wb")  # noqa: SIM115 - owned by the child
        env = dict(os.environ, KUBECONFIG=cp.kubeconfig, LINEOPS_PROFILE="embedded")
        operator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lineops.cli.main",
                "operator",
                "run",
                "--namespace",
                ns,
                "--metrics-port",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        print(f"   pid {operator.pid}, log {out / 'operator.log'}")

        custom = client.CustomObjectsApi(api)
        applied = []
        for name in ("productionline.yaml", "qualitymodel.yaml", "qualitymodel-anomaly.yaml"):
            doc = yaml.safe_load((REPO / "examples" / name).read_text())
            plural = {"ProductionLine": "productionlines", "QualityModel": "qualitymodels"}[
                doc["kind"]
            ]
            custom.create_namespaced_custom_object("lineops.io", "v1alpha1", ns, plural, doc)
            applied.append((plural, doc["metadata"]["name"]))
            step(f"applied examples/{name}: {doc['kind']} {doc['metadata']['name']}")

        for plural, name in applied:

            def reconciled(plural: str = plural, name: str = name) -> dict[str, Any] | None:
                obj: dict[str, Any] = custom.get_namespaced_custom_object(
                    "lineops.io", "v1alpha1", ns, plural, name
                )
                ready = _condition(obj, "Ready")
                fresh = ready.get("observedGeneration") == obj["metadata"]["generation"]
                return obj if ready and fresh and ready["reason"] != "LineNotFound" else None

            obj = _poll(f"{plural}/{name} to be reconciled", reconciled)
            ready = _condition(obj, "Ready")
            print(
                f"   {plural}/{name}: Ready={ready['status']} ({ready['reason']}): "
                f"{ready.get('message', '')}"
            )
            if plural == "qualitymodels":
                training = obj["status"].get("training", {})
                print(
                    f"   training request {training.get('requestName')} "
                    f"(spec hash {training.get('specHash')})"
                )

        step(f"kubectl get pl,qm -n {ns}")
        base = f"/apis/lineops.io/v1alpha1/namespaces/{ns}"
        _print_table(server_table(api, f"{base}/productionlines"))
        print()
        _print_table(server_table(api, f"{base}/qualitymodels"))
        step(f"done in {time.monotonic() - started:.0f}s; logs and state in {out}")
        if args.keep:
            print(
                f"   left running: operator pid {operator.pid}; stop the control plane with "
                f"tools/controlplane/down {cp.run_dir}"
            )
            operator = None
            return 0
    finally:
        if operator is not None:
            operator.send_signal(signal.SIGINT)
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
        if not args.keep:
            cp.stop()
    return 0
