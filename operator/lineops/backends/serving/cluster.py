"""Cluster-profile serving: per QualityModel a stable Deployment of the champion's bento
image, a Service, an optional HorizontalPodAutoscaler and, while a new champion is tried, a
canary Deployment (manifests in ``manifests.py``, decisions in ``canary.py``).

Level-based like the rest of the operator: each ``ensure`` reads the model's Deployments,
decides the next step from them (and, while a canary is analysed, from its metrics), applies
it by server-side apply, and returns the state at once. What a later step waits for (Pods
becoming Available, the analysis period) is looked at again by waking the model's reconcile
after a short delay through the change listener, so no task runs per model between calls.
Everything the decisions need lives in the cluster (the tag and the last canary's outcome as
annotations of the stable Deployment, the canary's age and its Available condition), so an
operator restart picks a canary up where it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.kube import KubeBackend
from lineops.backends.serving import manifests as m
from lineops.backends.serving.canary import (
    MetricsFailed,
    NoMetrics,
    Plan,
    Record,
    Verdict,
    Want,
    Workload,
    decide,
    parse_time,
    rfc3339,
    window,
)
from lineops.backends.serving.canary_metrics import CanaryMetrics, MetricsUnavailable
from lineops.backends.serving.protocol import (
    ChangeListener,
    ServeRequest,
    ServingBackendError,
    ServingState,
)

APPS: Final = "apps/v1"
HPA: Final = "autoscaling/v2"
# Field managers owning only a Deployment's spec.replicas (see suspend and _apply).
SUSPEND_MANAGER: Final = "lineops-suspend"
HANDOVER_MANAGER: Final = "lineops-handover-to-hpa"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterServingConfig:
    workload: m.WorkloadSettings
    dataplane_url: Callable[[str, str], str]  # (namespace, line) -> the line's data plane
    poll_seconds: float = 2.0  # while Pods start or roll
    check_seconds: float = 10.0  # between two measurements of a canary
    start_timeout: float = 600.0  # a canary not Available by then is rolled back


def workload(obj: Mapping[str, Any] | None) -> Workload | None:
    """A Deployment as the decisions see it."""
    if obj is None:
        return None
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    current = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
    available = int(status.get("availableReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    since = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Available" and cond.get("status") == "True":
            since = parse_time(cond.get("lastTransitionTime"))
    return Workload(
        tag=(meta.get("annotations") or {}).get(m.ANNOTATION_TAG, ""),
        replicas=replicas,
        available_replicas=available,
        # Rolled out completely: every Pod of the current template, and all available.
        # Not at 0 Pods (kept by suspend): that Deployment serves nothing yet.
        available=replicas > 0
        and current
        and updated >= replicas
        and available >= replicas
        and total == updated,
        available_since=since,
        created=parse_time(meta.get("creationTimestamp")),
    )


def record(obj: Mapping[str, Any] | None) -> Record | None:
    """The last canary's outcome as recorded on the stable Deployment."""
    raw = ((obj or {}).get("metadata", {}).get("annotations") or {}).get(m.ANNOTATION_CANARY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Record(str(data["state"]), str(data["tag"]), str(data["since"]), str(data["reason"]))
    except (ValueError, KeyError, TypeError):
        return None  # a hand-edited annotation: forgotten, as if no canary had run


class ClusterServingBackend:
    def __init__(
        self, kube: KubeBackend, config: ClusterServingConfig, metrics: CanaryMetrics | None
    ) -> None:
        self._kube = kube
        self.config = config
        self._metrics = metrics
        self._listeners: list[ChangeListener] = []
        self._states: dict[tuple[str, str], ServingState] = {}
        self._wakes: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._hpa: dict[tuple[str, str], bool] = {}  # whether we know one exists
        self._stopped: set[tuple[str, str]] = set()
        self._suspended: set[tuple[str, str]] = set()  # at 0 Pods: stop still removes them

    # --- the protocol ---------------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    async def ensure(self, request: ServeRequest) -> ServingState:
        if request.owner is None or request.spec is None:
            raise ServingBackendError(
                f"serving {request.namespace}/{request.model}: the cluster backend needs the "
                "QualityModel and its spec"
            )
        key = (request.namespace, request.model)
        self._stopped.discard(key)
        self._suspended.discard(key)
        ns, model, spec = request.namespace, request.model, request.spec
        stable_obj = await self._kube.get_object(APPS, "deployments", ns, m.stable_name(model))
        canary_obj = await self._kube.get_object(APPS, "deployments", ns, m.canary_name(model))
        stable, canary = workload(stable_obj), workload(canary_obj)
        analysis = spec.serving.canary_analysis
        want = Want(
            request.tag,
            spec.serving.replicas,
            spec.serving.canary_percent,
            analysis.period_seconds,
            analysis.max_error_rate_value,
            analysis.max_latency_p99_value,
        )
        now = time.time()

        def plan_for(verdict: Verdict | None = None) -> Plan:
            return decide(
                want,
                stable,
                canary,
                record(stable_obj),
                now,
                verdict,
                poll=self.config.poll_seconds,
                check_every=self.config.check_seconds,
                start_timeout=self.config.start_timeout,
            )

        plan = plan_for()
        if plan.measure and canary is not None:
            plan = plan_for(await self._measure(ns, model, request.tag, window(canary, now)))
        try:
            await self._apply(request.owner, spec, plan, stable, canary)
        except ValueError as exc:  # a tag that names no image
            raise ServingBackendError(f"serving {ns}/{model}: {exc}") from exc
        state = self._state(key, plan, now)
        self._wake(key, plan.wake_after)
        return state

    def state(self, namespace: str, model: str) -> ServingState | None:
        return self._states.get((namespace, model))

    async def stop(self, namespace: str, model: str) -> None:
        key = (namespace, model)
        if key in self._stopped:
            return
        self._cancel(key)
        for api_version, plural, name in (
            (HPA, "horizontalpodautoscalers", m.stable_name(model)),
            (APPS, "deployments", m.canary_name(model)),
            (APPS, "deployments", m.stable_name(model)),
            ("v1", "services", m.stable_name(model)),
        ):
            await self._kube.delete_object(api_version, plural, namespace, name)
        self._states.pop(key, None)
        self._hpa.pop(key, None)
        self._suspended.discard(key)
        self._stopped.add(key)

    async def suspend(self, namespace: str, model: str) -> None:
        key = (namespace, model)
        if key in self._stopped or key in self._suspended:
            return
        self._cancel(key)
        # The HPA would scale the Deployment back up; a canary has nothing to compare with.
        await self._kube.delete_object(
            HPA, "horizontalpodautoscalers", namespace, m.stable_name(model)
        )
        await self._kube.delete_object(APPS, "deployments", namespace, m.canary_name(model))
        if await self._kube.get_object(APPS, "deployments", namespace, m.stable_name(model)):
            # Only spec.replicas, as a manager of its own: the tag and the canary record stay
            # (deleted, a tag rolled back was rolled out directly when scaled up again).
            # lineops' next apply with replicas takes the field back (force).
            await self._kube.server_side_apply(
                _replicas_only(namespace, m.stable_name(model), 0),
                "deployments",
                manager=SUSPEND_MANAGER,
            )
        self._states.pop(key, None)
        self._hpa[key] = False
        self._suspended.add(key)

    async def close(self) -> None:
        for key in list(self._wakes):
            self._cancel(key)
        if self._metrics is not None:
            await self._metrics.close()

    # --- steps ----------------------------------------------------------------------------

    async def _measure(self, namespace: str, model: str, tag: str, seconds: float) -> Verdict:
        if self._metrics is None:
            return NoMetrics("LINEOPS_PROMETHEUS_URL unset")
        try:
            return await self._metrics.measure(namespace, m.canary_name(model), tag, seconds)
        except MetricsUnavailable as exc:
            return MetricsFailed(str(exc))

    async def _apply(
        self,
        owner: Mapping[str, Any],
        spec: QualityModelSpec,
        plan: Plan,
        stable_now: Workload | None,
        canary_now: Workload | None,
    ) -> None:
        namespace, model = owner["metadata"]["namespace"], owner["metadata"]["name"]
        key = (namespace, model)
        canary_tag = None if canary_now is None else canary_now.tag
        url = self.config.dataplane_url(namespace, spec.line_ref)
        settings = self.config.workload
        hpa = m.autoscaler(owner, spec)
        if hpa is not None and stable_now is not None and not self._hpa.get(key):
            # Handing spec.replicas to the HPA: applied without it, the field lineops owned
            # is reset to its default, 1, and the HPA scales up again from there (the
            # Kubernetes docs' "transferring ownership"). A manager of its own keeps it at
            # least at minReplicas (an HPA leaves a Deployment at 0 alone) until the HPA
            # writes it.
            await self._kube.server_side_apply(
                _replicas_only(
                    namespace,
                    m.stable_name(model),
                    max(stable_now.replicas, spec.serving.replicas),
                ),
                "deployments",
                manager=HANDOVER_MANAGER,
            )
        stable = m.deployment(
            owner,
            spec,
            plan.stable_tag,
            settings,
            url,
            replicas=None if hpa is not None else spec.serving.replicas,
            record=None if plan.record is None else plan.record.as_dict(),
        )
        await self._kube.server_side_apply(stable, "deployments")
        await self._kube.server_side_apply(m.service(owner), "services")
        if hpa is not None:
            await self._kube.server_side_apply(hpa, "horizontalpodautoscalers")
            self._hpa[key] = True
        elif self._hpa.get(key, True):  # unknown after a restart: make sure
            await self._kube.delete_object(
                HPA, "horizontalpodautoscalers", namespace, m.stable_name(model)
            )
            self._hpa[key] = False
        if plan.canary is not None:
            tag, pods = plan.canary
            if canary_tag is not None and canary_tag != tag:
                # A newer champion while a canary runs: a canary of its own, not the old one
                # updated in place. That kept the old one's creation time and Available
                # condition, so the new tag was rolled back as "not Available within 600 s"
                # while its Pods started, or promoted on the old one's time.
                await self._kube.delete_object(APPS, "deployments", namespace, m.canary_name(model))
            body = m.deployment(owner, spec, tag, settings, url, canary=True, replicas=pods)
            await self._kube.server_side_apply(body, "deployments")
        elif canary_tag is not None:
            await self._kube.delete_object(APPS, "deployments", namespace, m.canary_name(model))

    def _state(self, key: tuple[str, str], plan: Plan, now: float) -> ServingState:
        before = self._states.get(key)
        since = rfc3339(now)
        if before is not None and (before.phase, before.serving) == (plan.phase, plan.serving):
            since = before.since
        state = ServingState(
            phase=plan.phase,
            endpoint=m.endpoint(*key),
            serving=plan.serving,
            pending=plan.pending,
            since=since,
            message=plan.message,
            waiting=plan.waiting,
            canary=plan.canary_state,
        )
        self._states[key] = state
        return state

    # --- waking the model's reconcile -----------------------------------------------------

    def _wake(self, key: tuple[str, str], delay: float | None) -> None:
        self._cancel(key)
        if delay is None:
            return
        loop = asyncio.get_running_loop()
        self._wakes[key] = loop.call_later(delay, self._notify, key)

    def _cancel(self, key: tuple[str, str]) -> None:
        handle = self._wakes.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _notify(self, key: tuple[str, str]) -> None:
        self._wakes.pop(key, None)
        for listener in self._listeners:
            try:
                listener(*key)
            except Exception:  # a listener's bug must not stop the others
                log.exception("serving change listener failed")


def _replicas_only(namespace: str, name: str, replicas: int) -> dict[str, Any]:
    """A partial Deployment for another field manager: spec.replicas alone."""
    return {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": replicas},
    }
