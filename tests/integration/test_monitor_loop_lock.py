"""The monitoring loop writes a line's status only onto the version it read, on the real
kube-apiserver: a reconcile that wrote its own conditions meanwhile keeps them.

The line reconciler here is a stand-in that returns a fixed outcome (the loop's patching is
what is tested; the evaluation itself is covered by test_monitoring)."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes import client
from lineops.api.productionline import ProductionLineStatus
from lineops.backends.kube import KubeBackend
from lineops.backends.metrics import OperatorMetrics
from lineops.handlers.monitor_loop import MonitorLoop
from lineops.services.outcome import Outcome

from tests.support.resources import create, example, get

PLURAL = "productionlines"
GROUP, VERSION = "lineops.io", "v1alpha1"


def _condition(type_: str, status: str, reason: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": reason,
        "lastTransitionTime": "2026-12-01T00:00:00Z",
    }


class _StandInLines:
    """Answers every tick with MonitoringReady=True on top of the conditions it was given."""

    def __init__(self) -> None:
        self.ticks = 0

    async def monitor(self, body: dict[str, Any], watchers: Any = ()) -> Outcome[Any]:
        self.ticks += 1
        conditions = [
            c
            for c in (body.get("status") or {}).get("conditions", [])
            if c["type"] != "MonitoringReady"
        ]
        conditions.append(_condition("MonitoringReady", "True", "MonitoringConfigured"))
        status = ProductionLineStatus.model_validate({"conditions": conditions})
        return Outcome(update=status)


class _Monitors:
    """The loop asks its monitors only to forget a line deleted during a tick."""

    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget(self, namespace: str, name: str) -> None:
        self.forgotten.append(f"{namespace}/{name}")


def _set_status(api: client.ApiClient, namespace: str, name: str, status: dict[str, Any]) -> Any:
    return client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": status}
    )


def _loop(
    api: client.ApiClient, bodies: dict[Any, list[dict[str, Any]]]
) -> tuple[MonitorLoop, _StandInLines, OperatorMetrics]:
    lines, metrics = _StandInLines(), OperatorMetrics()
    monitors = _Monitors()
    loop = MonitorLoop(
        lines,  # type: ignore[arg-type]
        monitors,  # type: ignore[arg-type]
        KubeBackend(api),
        metrics,
        bodies,
        {},
        period=3600.0,
    )
    return loop, lines, metrics, monitors


def test_a_tick_on_a_stale_read_does_not_put_back_a_reconciles_conditions(
    api_client: client.ApiClient, namespace: str
) -> None:
    line = example("productionline.yaml")
    name = line["metadata"]["name"]
    create(api_client, namespace, line)
    _set_status(
        api_client,
        namespace,
        name,
        {"observedGeneration": 1, "conditions": [_condition("Ready", "False", "Reconciling")]},
    )
    stale = get(api_client, namespace, "ProductionLine", name)
    assert stale is not None
    # A reconcile writes Ready=True after the loop's index saw the version above.
    _set_status(
        api_client, namespace, name, {"conditions": [_condition("Ready", "True", "Reconciled")]}
    )
    loop, lines, metrics, _ = _loop(api_client, {(namespace, name): [stale]})

    asyncio.run(loop.run_once())

    assert lines.ticks == 1
    now = get(api_client, namespace, "ProductionLine", name)
    assert now is not None
    assert [(c["type"], c["status"]) for c in now["status"]["conditions"]] == [("Ready", "True")]
    assert metrics.monitor_conflicts._value.get() == 1

    # The next pass, on the version the watch now holds, writes its condition next to Ready.
    loop, lines, metrics, _ = _loop(api_client, {(namespace, name): [now]})
    asyncio.run(loop.run_once())

    after = get(api_client, namespace, "ProductionLine", name)
    assert after is not None
    assert [(c["type"], c["status"]) for c in after["status"]["conditions"]] == [
        ("Ready", "True"),
        ("MonitoringReady", "True"),
    ]
    assert metrics.monitor_conflicts._value.get() == 0


def test_a_line_deleted_during_its_tick_leaves_no_series_behind(
    api_client: client.ApiClient, namespace: str
) -> None:
    """Between the delete handler (which forgets the line's series) and the watch's DELETED
    event the index still holds the line: a tick ending then exported its series again, and
    nothing forgot them after."""
    line = example("productionline.yaml")
    name = line["metadata"]["name"]
    create(api_client, namespace, line)
    _set_status(api_client, namespace, name, {"observedGeneration": 1})
    body = get(api_client, namespace, "ProductionLine", name)
    assert body is not None
    bodies = {(namespace, name): [body]}
    loop, lines, metrics, monitors = _loop(api_client, bodies)
    real = lines.monitor

    async def deleted_meanwhile(body: dict[str, Any], watchers: Any = ()) -> Outcome[Any]:
        outcome = await real(body, watchers)
        marked = {
            **body,
            "metadata": {**body["metadata"], "deletionTimestamp": "2026-12-01T03:00:00Z"},
        }
        bodies[(namespace, name)] = [marked]
        return outcome

    lines.monitor = deleted_meanwhile  # type: ignore[method-assign]

    asyncio.run(loop.run_once())

    assert lines.ticks == 1
    assert monitors.forgotten == [f"{namespace}/{name}"]
    exported = [
        s
        for m in metrics.registry.collect()
        for s in m.samples
        if s.labels.get("name") == name and s.labels.get("kind") == "ProductionLine"
    ]
    assert exported == []
