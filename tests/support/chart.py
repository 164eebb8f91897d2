"""`helm template` of the chart with the helm binary `make helm` fetched (tools/helm/fetch.py:
pinned, integrity-checked, cached in .cache/helm), for tests that need the chart's objects.
Missing helm fails the test in CI and skips it elsewhere, as in tests/integration/test_helm.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.controlplane import in_ci

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "lineops"
RELEASE = "lineops"
NAMESPACE = "lineops-system"
# The monitoring objects of the chart (docs/install.md, option "monitoring").
MONITORING = {"metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}}


def helm_binary() -> Path:
    key = "lineops_helm_fetch"
    module = sys.modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(key, REPO / "tools" / "helm" / "fetch.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    try:
        folder: Path = module.fetch()
    except (module.FetchError, OSError) as exc:
        if in_ci():
            pytest.fail(f"helm is required in CI (make helm fetches it): {exc}")
        pytest.skip(f"no helm: {exc}")
    return folder / "helm"


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of ``helm template`` with ``values``."""
    with tempfile.TemporaryDirectory(prefix="lineops-helm-") as home:
        path = Path(home) / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        env = {
            f"HELM_{kind}_HOME": f"{home}/{kind.lower()}" for kind in ("CONFIG", "CACHE", "DATA")
        }
        proc = subprocess.run(
            [str(helm_binary()), "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
             "--values", str(path)],
            capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", **env},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]
