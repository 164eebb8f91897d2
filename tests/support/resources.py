"""Reading, applying and inspecting lineops custom resources in tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from lineops.api.constants import LABEL_COMPONENT, LABEL_MODEL

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GROUP, VERSION = "lineops.io", "v1alpha1"
PLURALS = {"ProductionLine": "productionlines", "QualityModel": "qualitymodels"}


def example(name: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
    return copy.deepcopy(docs[0])


def create(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[body["kind"]], body
    )
    return result


def get(api: client.ApiClient, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
    try:
        obj: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURALS[kind], name
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return obj


def patch(
    api: client.ApiClient, namespace: str, kind: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind], name, body
    )
    return result


def delete(api: client.ApiClient, namespace: str, kind: str, name: str) -> None:
    client.CustomObjectsApi(api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind], name
    )


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def has_condition(
    obj: dict[str, Any] | None, type_: str, status: str, reason: str | None = None
) -> bool:
    cond = condition(obj, type_)
    return bool(
        cond
        and cond["status"] == status
        and (reason is None or cond["reason"] == reason)
        and cond.get("observedGeneration") == obj["metadata"]["generation"]
    )  # type: ignore[index]


def training_requests(api: client.ApiClient, namespace: str, model: str) -> list[Any]:
    items = (
        client.CoreV1Api(api)
        .list_namespaced_config_map(
            namespace,
            label_selector=f"{LABEL_MODEL}={model},{LABEL_COMPONENT}=training-request",
        )
        .items
    )
    return list(items)
