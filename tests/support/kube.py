"""Kubernetes helpers for tests: clients, CRD installation, impersonation, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, config
from lineops.backends import crds

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "config" / "crd"
T = TypeVar("T")


def admin_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def impersonating(api: client.ApiClient, user: str) -> client.ApiClient:
    """A client that acts as ``user``; for a ServiceAccount pass
    ``system:serviceaccount:<ns>:<name>`` and the API server adds its groups."""
    return client.ApiClient(
        configuration=api.configuration, header_name="Impersonate-User", header_value=user
    )


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def install_crds(
    api: client.ApiClient, crd_dir: Path = CRD_DIR, pattern: str = "*.yaml"
) -> list[str]:
    """Create (or replace) every CRD in ``crd_dir`` and wait until each is Established."""
    docs = [
        d for p in sorted(crd_dir.glob(pattern)) for d in yaml.safe_load_all(p.read_text()) if d
    ]
    return crds.install_crds(api, docs)
