"""Reconcile a ProductionLine: validate, write its configuration child, wake its models."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from lineops.api import reasons as R
from lineops.api.constants import (
    ANNOTATION_LINE_SEEN,
    LABEL_COMPONENT,
    LABEL_LINE,
    QUALITY_MODEL_PLURAL,
)
from lineops.api.kinds import PRODUCTION_LINE, name_problem
from lineops.api.productionline import ProductionLineSpec, ProductionLineStatus
from lineops.backends.errors import BackendError, TransientBackendError
from lineops.backends.kube import KubeBackend
from lineops.services.children import child_metadata
from lineops.services.conditions import ConditionSet
from lineops.services.data_plane import DataPlane
from lineops.services.data_plane_workload import MANIFEST_KEY
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.services.monitoring.summary import apply_report
from lineops.services.outcome import (
    DependencyUnavailable,
    Event,
    Outcome,
    backend_error,
    backend_failed,
    begin,
    finish,
    start,
)
from lineops.services.prometheus_rules import prometheus_rule_for_line
from lineops.services.retrain_signals import RetrainWaker, Watcher
from lineops.services.spec_hash import canonical_json

PROMETHEUS_RULE = ("monitoring.coreos.com", "v1", "prometheusrules")


def config_map_name(line: str) -> str:
    return f"{line}-lineops"


class LineReconciler:
    def __init__(
        self,
        kube: KubeBackend,
        monitors: LineMonitors | None = None,
        data_plane: DataPlane | None = None,
        rule_labels: Mapping[str, str] | None = None,
    ) -> None:
        self._kube = kube
        self._monitors = monitors
        self._data_plane = data_plane
        # Added to each line's PrometheusRule (a Prometheus selects rules by such labels).
        self._rule_labels = dict(rule_labels or {})
        self._waker = RetrainWaker(kube)
        # (namespace, model) -> uid of the line that last woke it: a line wakes each waiting
        # model once, not on every reconcile (that was a GET of every model each time).
        self._woke: dict[tuple[str, str], str] = {}

    async def reconcile(
        self,
        body: dict[str, Any],
        models: Iterable[str] = (),
        watchers: Iterable[Watcher] = (),
        analytics: bool = True,
    ) -> Outcome[ProductionLineStatus]:
        """``models`` wait for this line; ``watchers`` are the models with retrainOn triggers.
        Without ``analytics`` (a periodic resync) the charts, OEE and plan are left to the
        monitoring loop, which evaluates them anyway."""
        meta = body["metadata"]
        conds, out, spec = begin(body, PRODUCTION_LINE, ProductionLineSpec, ProductionLineStatus)
        if spec is None:
            return finish(body, conds, out)

        try:
            config_map = self._config(body, spec)
            result = await self._kube.apply_config_map(meta["namespace"], config_map)
            await self._wake_models(meta["namespace"], meta["uid"], models)
            alerts = await self._alerts(body, spec, out)
        except BackendError as exc:
            backend_failed(conds, out, exc)
            return finish(body, conds, out)
        if result != "unchanged":
            out.events.append(
                Event(
                    "Normal", "ConfigApplied", f"ConfigMap {config_map_name(meta['name'])} {result}"
                )
            )
        try:
            data_problem = await self._data(body, spec, conds, config_map)
        except TransientBackendError as exc:
            data_problem = str(exc)
        except BackendError as exc:
            backend_failed(conds, out, exc)
            return finish(body, conds, out)
        if data_problem is not None:
            conds.set(R.READY, "False", R.DEPENDENCY_NOT_READY, data_problem)
            out.error = DependencyUnavailable(data_problem, delay=10)
            return finish(body, conds, out)

        sensors = sum(len(w.sensors) for w in spec.work_units)
        conds.set(
            R.READY,
            "True",
            R.RECONCILED,
            f"{len(spec.work_units)} work units, {sensors} sensors, "
            f"{len(spec.quality_characteristics)} quality characteristics configured; {alerts}",
        )
        if analytics:
            await self._monitor(body, spec, conds, out)
        try:
            await self._wake_retrain(body, out, watchers)
        except BackendError as exc:
            out.error = backend_error(exc)  # Ready stays: the line itself is reconciled
        return finish(body, conds, out)

    async def monitor(
        self, body: dict[str, Any], watchers: Iterable[Watcher] = ()
    ) -> Outcome[ProductionLineStatus]:
        """Only the analytics part, for the frequent monitoring timer: charts, KPIs and
        the MonitoringReady/InControl conditions. A spec that does not validate is left to
        the full reconcile, which reports it; so is a name that cannot be used."""
        conds, out = start(body, ProductionLineStatus)
        if name_problem(PRODUCTION_LINE, body["metadata"]["name"]):
            return out
        try:
            spec = ProductionLineSpec.model_validate(body.get("spec") or {})
        except ValidationError:
            return out
        await self._monitor(body, spec, conds, out)
        await self._wake_retrain(body, out, watchers)
        return finish(body, conds, out, observe=False)

    def forget_model(self, namespace: str, model: str) -> None:
        """A deleted model: drop what the retrain waker remembers of it."""
        self._waker.forget(namespace, model)
        self._woke.pop((namespace, model), None)

    async def _wake_retrain(
        self, body: dict[str, Any], out: Outcome[ProductionLineStatus], watchers: Iterable[Watcher]
    ) -> None:
        """Touch the models whose retrainOn trigger started to hold with this status."""
        line = {**body, "status": {**(body.get("status") or {}), **out.status}}
        await self._waker.wake(body["metadata"]["namespace"], line, watchers)

    async def _monitor(
        self,
        body: dict[str, Any],
        spec: ProductionLineSpec,
        conds: ConditionSet,
        out: Outcome[ProductionLineStatus],
    ) -> None:
        if self._monitors is None:
            return
        meta = body["metadata"]
        spc = ((body.get("status") or {}).get("spc")) or {}
        monitor = self._monitors.for_line(
            meta["namespace"],
            meta["name"],
            int(meta.get("generation") or 0),
            spec,
            spc.get("counted") if isinstance(spc.get("counted"), dict) else None,
        )
        # Data-plane reads and numpy work: off the event loop.
        try:
            report = await asyncio.to_thread(monitor.evaluate)
        except BackendError as exc:
            # The line itself is fine; its analytics wait for the data plane (the Pods of
            # its Deployment may still be starting). The next monitor tick asks again.
            conds.set(R.MONITORING_READY, "False", R.BACKEND_ERROR, str(exc))
            return
        before = conds.get(R.IN_CONTROL)
        apply_report(report, spec, conds, out.update)
        after = conds.get(R.IN_CONTROL)
        if (
            after is not None
            and after.status == "False"
            and (before is None or before.status != "False")
        ):
            out.events.append(Event("Warning", R.RULE_VIOLATION, after.message))

    async def _data(
        self,
        body: dict[str, Any],
        spec: ProductionLineSpec,
        conds: ConditionSet,
        config_map: dict[str, Any],
    ) -> str | None:
        """Ingestion endpoint, MQTT subscription and Feast objects for the line; returns a
        problem that keeps the line from being Ready, or None."""
        if self._data_plane is None:
            return None
        verdict = await self._data_plane.configure(body, spec, config_map)
        conds.set(R.FEATURES_READY, *verdict.features)
        conds.set(R.INGESTION_READY, *verdict.ingestion)
        return verdict.problem

    async def _alerts(
        self, body: dict[str, Any], spec: ProductionLineSpec, out: Outcome[ProductionLineStatus]
    ) -> str:
        """Apply the line's PrometheusRule where the Prometheus Operator is installed."""
        meta = body["metadata"]
        if not spec.monitoring.prometheus_rule:
            return "alert rules off (spec.monitoring.prometheusRule)"
        if not await self._kube.served(*PROMETHEUS_RULE, meta["namespace"]):
            return (
                "no PrometheusRule CRD in the cluster: export the alert rules with "
                "`lineops rules export`"
            )
        rule = prometheus_rule_for_line(
            meta["namespace"], meta["name"], spec, labels=self._rule_labels
        )
        rule["metadata"] = {
            **rule["metadata"],
            **child_metadata(body, rule["metadata"]["name"], rule["metadata"].get("labels", {})),
        }
        result = await self._kube.apply_custom_object(*PROMETHEUS_RULE, meta["namespace"], rule)
        count = sum(len(g["rules"]) for g in rule["spec"]["groups"])
        if result != "unchanged":
            out.events.append(
                Event(
                    "Normal",
                    "AlertRulesApplied",
                    f"PrometheusRule {rule['metadata']['name']} {result} ({count} rules)",
                )
            )
        return f"PrometheusRule {rule['metadata']['name']} ({count} rules)"

    def _config(self, body: dict[str, Any], spec: ProductionLineSpec) -> dict[str, Any]:
        """The line's normalised configuration, for the components that serve the line."""
        name = body["metadata"]["name"]
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": child_metadata(
                body, config_map_name(name), {LABEL_LINE: name, LABEL_COMPONENT: "line-config"}
            ),
            "data": {
                "line.json": canonical_json(spec.model_dump(mode="json", by_alias=True)),
                # The whole manifest, for `lineops dataplane serve --line-file` in the cluster.
                MANIFEST_KEY: canonical_json(
                    {
                        "apiVersion": body["apiVersion"],
                        "kind": body["kind"],
                        "metadata": {"name": name, "namespace": body["metadata"]["namespace"]},
                        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                    }
                ),
            },
        }

    async def _wake_models(self, namespace: str, line_uid: str, models: Iterable[str]) -> None:
        """Touch the models that wait for this line, so they reconcile now rather than at
        the next resync: once per model and line object (uid). The annotation only changes
        when the line object is new to the model, so the API server sends no watch event
        for a repeated touch (after a restart, which forgets who was woken)."""
        for model in sorted(set(models)):
            if self._woke.get((namespace, model)) == line_uid:
                continue
            touched = await self._kube.patch_custom(
                QUALITY_MODEL_PLURAL,
                namespace,
                model,
                {"metadata": {"annotations": {ANNOTATION_LINE_SEEN: line_uid}}},
                missing_ok=True,  # deleted since the index saw it
            )
            if touched:
                self._woke[(namespace, model)] = line_uid
