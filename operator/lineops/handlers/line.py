"""kopf glue for ProductionLine: one level-based reconcile from every trigger."""

from __future__ import annotations

from typing import Any

import kopf

from lineops.api.constants import GROUP, PRODUCTION_LINE_KIND, PRODUCTION_LINE_PLURAL, VERSION
from lineops.handlers.components import Components, components
from lineops.handlers.config import RESYNC_SECONDS, resync_delay
from lineops.handlers.glue import apply_outcome, plain
from lineops.handlers.stopping import until_stopped
from lineops.services.retrain_signals import Watcher

RESOURCE = (GROUP, VERSION, PRODUCTION_LINE_PLURAL)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
@kopf.timer(*RESOURCE, id="resync", interval=RESYNC_SECONDS, initial_delay=resync_delay)
async def reconcile_line(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    parts = components(memo)
    if parts.monitor_loop is not None:
        # Started from a resource handler, not at start-up: its task inherits kopf's
        # per-object context, which kopf.event needs to queue Events (start-up lacks it).
        parts.monitor_loop.start()
    # kopf passes every index by its name; this one maps (namespace, line) -> models.
    waiting: kopf.Index[tuple[str | None, str | None], str] = kwargs["qm_by_line"]
    models = list(waiting.get((body.metadata.namespace, body.metadata.name), []))
    # As the resync timer: a stop (shutdown, deletion) cancels the reconcile, or its wait
    # for a slot.
    # Only timers get a stop flag: a resync leaves the analytics to the monitoring loop.
    resync = kwargs.get("stopped") is not None
    await until_stopped(
        kwargs.get("stopped"),
        parts.limited(
            _reconcile_line(parts, body, patch, models, _watchers(body, kwargs), not resync)
        ),
    )


async def _reconcile_line(
    parts: Components,
    body: kopf.Body,
    patch: kopf.Patch,
    models: list[str],
    watchers: list[Watcher],
    analytics: bool,
) -> None:
    # Timed from when it holds a slot: the duration histogram is the work, not the queue.
    with parts.metrics.track(PRODUCTION_LINE_KIND) as result:
        outcome = await parts.lines.reconcile(
            plain(body), models=models, watchers=watchers, analytics=analytics
        )
        apply_outcome(PRODUCTION_LINE_KIND, body, patch, parts.metrics, outcome, result)


def _watchers(body: kopf.Body, kwargs: dict[str, Any]) -> list[Watcher]:
    # kopf passes every index by its name; this one maps (namespace, line) -> Watcher.
    index: kopf.Index[tuple[str | None, str | None], Watcher] = kwargs["qm_retrain_by_line"]
    return list(index.get((body.metadata.namespace, body.metadata.name), []))


@kopf.index(*RESOURCE)
def line_bodies(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, Any]:
    """Every line as last seen on the watch, for the shared monitoring loop
    (``handlers.monitor_loop``), which has no handler of its own to receive it, and for the
    models' reconciles (``line_view``, instead of a GET of their line). Without
    ``managedFields``: nobody here reads them, and they are ~45 % of a body."""
    line = plain(body)
    line["metadata"].pop("managedFields", None)
    return {(namespace, name): line}


@kopf.on.delete(*RESOURCE)
async def line_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    # Children go with the owner references; only our own bookkeeping is left to drop.
    components(memo).metrics.forget(
        PRODUCTION_LINE_KIND, body.metadata.namespace or "", body.metadata.name or ""
    )
    parts = components(memo)
    parts.monitors.forget(body.metadata.namespace or "", body.metadata.name or "")
    await parts.data_plane.remove(body.metadata.namespace or "", body.metadata.name or "")
