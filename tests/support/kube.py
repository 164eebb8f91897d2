"""Kubernetes helpers for tests: clients, CRD installation, impersonation, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, config

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "config" / "crd"
T = TypeVar("T")


def admin_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def impersonating(api: client.ApiClient, user: str) -> client.ApiClient:
    """A client that acts as ``user``; for a ServiceAccount pass
    ``system:serviceaccount:<ns>:<name>`` and the API server adds its groups."""
    return client.ApiClient(configuration=api.configuration, header_name="Impersonate-User",
                            header_value=user)


def wait_for(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1,
             what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def install_crds(api: client.ApiClient, crd_dir: Path = CRD_DIR) -> list[str]:
    """Create (or replace) every CRD in ``crd_dir`` and wait until each is Established."""
    ext = client.ApiextensionsV1Api(api)
    names = []
    for path in sorted(crd_dir.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            name = doc["metadata"]["name"]
            try:
                current = ext.read_custom_resource_definition(name)
                doc["metadata"]["resourceVersion"] = current.metadata.resource_version
                ext.replace_custom_resource_definition(name, doc)
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
                ext.create_custom_resource_definition(doc)
            names.append(name)

    def established() -> bool:
        for name in names:
            conds = ext.read_custom_resource_definition(name).status.conditions or []
            if not any(c.type == "Established" and c.status == "True" for c in conds):
                return False
        return True

    wait_for(established, timeout=30, what=f"CRDs {names} to be Established")
    return names
