"""kopf glue for QualityModel: one level-based reconcile from every trigger.

A ConfigMap watch wakes the models whose ``spec.training.pipelineRef`` names the ConfigMap
that changed (an engineer's new pipeline IR starts a new run at once). Besides the resync
timer, a short ``training-poll`` timer runs the same reconcile every
``LINEOPS_TRAINING_POLL_SECONDS`` (default 5) but only while a training run is in flight or a
retry is pending (kopf's ``when`` filter reads status.training), so an idle model costs nothing.
"""

from __future__ import annotations

from typing import Any

import kopf
from pydantic import ValidationError

from lineops.api import reasons as R
from lineops.api.constants import (
    GROUP,
    QUALITY_MODEL_KIND,
    QUALITY_MODEL_PLURAL,
    VERSION,
)
from lineops.api.qualitymodel import RetrainOn
from lineops.handlers.components import Components, components
from lineops.handlers.config import POLL_SECONDS, RESYNC_SECONDS, TRAINING_POLICY, resync_delay
from lineops.handlers.glue import apply_outcome, plain
from lineops.handlers.stopping import until_stopped
from lineops.services.model import LineLookup, line_view
from lineops.services.retrain_signals import Watcher
from lineops.services.training_policy import needs_polling

RESOURCE = (GROUP, VERSION, QUALITY_MODEL_PLURAL)


def _training_in_progress(status: kopf.Status, **_: Any) -> bool:
    return needs_polling(dict(status), TRAINING_POLICY)


@kopf.index(*RESOURCE)
def qm_by_line(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[Any, str]:
    """Which models wait on which line (their last reconcile found no such line), so a new
    line can wake them at once. Only those: a model that found its line needs no wake, and
    waking every model of every line cost a PATCH and a reconcile per model at the lines'
    first resync (2,000 requests at 1,000 lines)."""
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == R.READY), None)
    if ready is None or ready.get("reason") != R.LINE_NOT_FOUND:
        return {}
    return {(namespace, spec.get("lineRef")): name}


@kopf.index(*RESOURCE)
def qm_retrain_by_line(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[Any, Watcher]:
    """Which models want retraining on which line's signals, so the line can wake them."""
    raw = dict((spec.get("training") or {}).get("retrainOn") or {})
    try:
        on = RetrainOn.model_validate(raw)
    except ValidationError:
        return {}  # the model's own reconcile reports the invalid spec
    if not on.spc_alert and on.drift_psi_value is None:
        return {}
    return {(namespace, spec.get("lineRef")): Watcher(name, on.spc_alert, on.drift_psi_value)}


@kopf.index(*RESOURCE)
def qm_by_pipeline_config_map(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[Any, str]:
    """Which models train with which ConfigMap's pipeline (spec.training.pipelineRef)."""
    ref = ((spec.get("training") or {}).get("pipelineRef") or {}).get("configMap") or {}
    return {(namespace, ref["name"]): name} if ref.get("name") else {}


@kopf.on.event("", "v1", "configmaps")
async def pipeline_config_map_event(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """A ConfigMap changed: wake the models whose pipelineRef names it (no-op for others).
    An event handler stores nothing on the ConfigMap, which is the ML engineer's object."""
    # kopf passes every index by its name; this one maps (namespace, ConfigMap) -> models.
    index: kopf.Index[tuple[str | None, str], str] = kwargs["qm_by_pipeline_config_map"]
    namespace, name = body.metadata.namespace, body.metadata.name or ""
    models = list(index.get((namespace, name), []))
    if models and namespace:
        seen = f"{body.metadata.uid}/{body.metadata.get('resourceVersion')}"
        await components(memo).models.wake_for_pipeline(namespace, models, seen)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
@kopf.timer(*RESOURCE, id="resync", interval=RESYNC_SECONDS, initial_delay=resync_delay)
@kopf.timer(*RESOURCE, id="training-poll", interval=POLL_SECONDS, when=_training_in_progress)
async def reconcile_model(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **kwargs: Any
) -> None:
    parts = components(memo)
    # As a timer: a stop (shutdown, deletion) cancels the reconcile, or its wait for a slot.
    await until_stopped(
        kwargs.get("stopped"),
        parts.limited(_reconcile_model(parts, body, patch, _line_lookup(kwargs))),
    )


async def _reconcile_model(
    parts: Components, body: kopf.Body, patch: kopf.Patch, lookup: LineLookup
) -> None:
    # Timed from when it holds a slot: the duration histogram is the work, not the queue.
    with parts.metrics.track(QUALITY_MODEL_KIND) as result:
        outcome = await parts.models.reconcile(plain(body), lookup)
        requested = sum(e.reason == R.TRAINING_REQUESTED for e in outcome.events)
        if requested:
            parts.metrics.training_requests_total.labels(
                body.metadata.namespace or "", body.metadata.name or ""
            ).inc(requested)
        apply_outcome(QUALITY_MODEL_KIND, body, patch, parts.metrics, outcome, result)


def _line_lookup(kwargs: dict[str, Any]) -> LineLookup:
    # kopf passes every index by its name; handlers.line.line_bodies maps (namespace, line)
    # -> the line as last seen on the watch.
    index: kopf.Index[tuple[str, str], dict[str, Any]] = kwargs["line_bodies"]

    def lookup(namespace: str, name: str) -> dict[str, Any] | None:
        # kopf fills every index before the first handler runs and updates it from the
        # watch before the handlers of that event: no line in it is no line at all.
        line = next(iter(index.get((namespace, name), [])), None)
        return None if line is None else line_view(line)

    return lookup


@kopf.on.delete(*RESOURCE)
async def model_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    components(memo).metrics.forget(
        QUALITY_MODEL_KIND, body.metadata.namespace or "", body.metadata.name or ""
    )
    components(memo).metrics.forget_model(body.metadata.namespace or "", body.metadata.name or "")
    reconciler = components(memo).models
    # Its serving processes are gone before kopf removes the finalizer.
    await reconciler.retire(body.metadata.namespace or "", body.metadata.name or "", plain(body))
    reconciler.forget(body.metadata.uid or "")
    lines = components(memo).lines
    lines.forget_model(body.metadata.namespace or "", body.metadata.name or "")
