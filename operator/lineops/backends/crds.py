"""Install CustomResourceDefinitions and wait until the API server serves them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kubernetes import client


def install_crds(
    api: client.ApiClient, manifests: Iterable[dict[str, Any]], timeout: float = 30.0
) -> list[str]:
    """Create or replace each CRD, then poll until every one is Established."""
    ext = client.ApiextensionsV1Api(api)
    names = []
    for doc in manifests:
        name = doc["metadata"]["name"]
        try:
            current = ext.read_custom_resource_definition(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
            ext.create_custom_resource_definition(doc)
        else:
            doc = {
                **doc,
                "metadata": {
                    **doc["metadata"],
                    "resourceVersion": current.metadata.resource_version,
                },
            }
            ext.replace_custom_resource_definition(name, doc)
        names.append(name)

    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            conds = ext.read_custom_resource_definition(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conds):
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"CRDs not Established after {timeout:.0f}s: {sorted(pending)}")
        if pending:
            time.sleep(0.1)
    return names


def server_table(api: client.ApiClient, path: str) -> list[list[str]]:
    """Rows as ``kubectl get`` prints them: the API server renders the printer columns."""
    data, _, _ = api.call_api(
        path,
        "GET",
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        response_type="object",
        _return_http_data_only=False,
        auth_settings=["BearerToken"],
    )
    headers = [c["name"] for c in data["columnDefinitions"] if c.get("priority", 0) == 0]
    keep = [i for i, c in enumerate(data["columnDefinitions"]) if c.get("priority", 0) == 0]
    rows = [[_cell(row["cells"][i]) for i in keep] for row in data.get("rows", [])]
    return [[h.upper() for h in headers], *rows]


def _cell(value: Any) -> str:
    return "<none>" if value is None or value == "" else str(value)
