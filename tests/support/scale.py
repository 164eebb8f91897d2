"""The objects of the operator scale benchmark and its regression test (issue 24): N
simple ProductionLines (one work unit, two sensors, one characteristic) and one
QualityModel per line, created at once, and when each counts as reconciled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client

GROUP, VERSION = "lineops.io", "v1alpha1"
PLURALS = {"ProductionLine": "productionlines", "QualityModel": "qualitymodels"}


def line_body(name: str, target: str = "10.000") -> dict[str, Any]:
    """One work unit, two sensors, one characteristic."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ProductionLine",
        "metadata": {"name": name},
        "spec": {
            "site": "plant-a",
            "area": "bench",
            "workUnits": [
                {
                    "name": "press-01",
                    "idealCycleTime": "1.2s",
                    "sensors": [
                        {"name": "vibration_rms", "unit": "mm/s", "validRange": ["0", "50"]},
                        {"name": "ram_force", "unit": "kN", "validRange": ["0", "2500"]},
                    ],
                }
            ],
            "qualityCharacteristics": [
                {
                    "name": "ring_diameter",
                    "unit": "mm",
                    "target": target,
                    "lsl": "9.950",
                    "usl": "10.050",
                    "subgroupSize": 5,
                    "chart": "xbar-r",
                    "rules": ["nelson-1"],
                }
            ],
        },
    }


def model_body(name: str, line: str, epochs: str = "10") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "QualityModel",
        "metadata": {"name": name},
        "spec": {
            "lineRef": line,
            "task": "anomaly-detection",
            "featureService": "sensor_window_v1",
            "training": {"window": "30d", "parameters": {"epochs": epochs}},
        },
    }


def names(n: int) -> list[tuple[str, str]]:
    return [(f"line-{i:04d}", f"model-{i:04d}") for i in range(n)]


def settled(obj: dict[str, Any]) -> int | None:
    """The generation the operator has reconciled, if its Ready condition says so."""
    gen = int(obj["metadata"].get("generation") or 0)
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") != "Ready" or cond.get("observedGeneration") != gen:
            continue
        if obj["kind"] == "ProductionLine" and cond.get("status") == "True":
            return gen
        if obj["kind"] == "QualityModel" and cond.get("reason") in ("NotTrained", "Ready"):
            return gen
    return None


def create_all(api: client.ApiClient, namespace: str, n: int) -> int:
    """Every line and model at once (8 client threads, as `kubectl apply` of one file)."""
    objs = [line_body(line) for line, _ in names(n)]
    objs += [model_body(model, line) for line, model in names(n)]
    custom = client.CustomObjectsApi(api)

    def create(body: dict[str, Any]) -> None:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURALS[body["kind"]], body
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, objs))
    return len(objs)
