"""One monitoring loop for all lines, instead of a kopf timer per line.

A kopf timer is a task per object whose every tick goes through kopf's handler machinery
(progress bookkeeping, a "succeeded" log line, the patch) and queues its evaluation in the
shared thread pool whether or not the line has news. At a thousand lines every ten seconds
that was the operator's largest cost and it grew with the line count regardless of work
(docs/benchmarks.md, "Operator scale"). Here one task walks the lines the ``line_bodies``
index holds (kept current by kopf's watch, no API reads), a few at a time, and starts the
next pass a period after the last one started, or at once when a pass took longer: the
monitoring period stretches under load instead of piling ticks up, and the last pass's
duration is exported (``lineops_monitor_pass_seconds``) so a stretched period shows.

What a tick does is unchanged: ``LineReconciler.monitor`` evaluates the line's charts, OEE
and plan; the status fields that changed are merge-patched on the status subresource (the
loop holds no kopf patch object), and the outcome's Events and condition series are
published as a handler's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from lineops.api.constants import PRODUCTION_LINE_KIND, PRODUCTION_LINE_PLURAL
from lineops.backends.kube import KubeBackend
from lineops.backends.metrics import OperatorMetrics
from lineops.handlers.glue import publish
from lineops.services.line import LineReconciler
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.services.retrain_signals import Watcher
from lineops.services.status import changed_fields

# Lines evaluated at once: enough to overlap one line's data-plane wait with another's
# numpy work, few enough that the monitor never takes the whole default thread pool from
# reconciles and Kubernetes calls.
CONCURRENCY: Final = 2
log = logging.getLogger(__name__)

LineKey = tuple[str | None, str | None]
# What the loop reads kopf's indices through (kopf.Index is such a mapping, kept live).
Bodies = Mapping[LineKey, Iterable[dict[str, Any]]]
Watchers = Mapping[LineKey, Iterable[Watcher]]


class MonitorLoop:
    def __init__(
        self,
        lines: LineReconciler,
        monitors: LineMonitors,
        kube: KubeBackend,
        metrics: OperatorMetrics,
        bodies: Bodies,
        watchers: Watchers,
        period: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lines, self._monitors, self._kube = lines, monitors, kube
        self._metrics = metrics
        self._bodies, self._watchers = bodies, watchers
        self._period = period
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.passes = 0  # completed passes, for tests and logs

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lineops-monitor-loop")

    async def stop(self) -> None:
        """Cancel the loop and wait for it: an evaluation in flight is abandoned (its thread
        finishes its reads; nothing is patched after this returns)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        next_start = self._clock() + self._period
        while True:
            await asyncio.sleep(max(next_start - self._clock(), 0.0))
            started = self._clock()
            await self.run_once()
            self._metrics.monitor_pass_seconds.set(self._clock() - started)
            next_start = started + self._period

    async def run_once(self) -> None:
        """One pass over every line that has been reconciled at least once."""
        due = [body for bodies in list(self._bodies.values()) for body in bodies if _due(body)]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(body: dict[str, Any]) -> None:
            async with gate:
                await self._tick(body)

        await asyncio.gather(*(one(body) for body in due))
        self.passes += 1

    async def _tick(self, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        namespace, name = meta.get("namespace") or "", meta.get("name") or ""
        key = (meta.get("namespace"), meta.get("name"))
        try:
            with self._metrics.track(PRODUCTION_LINE_KIND):
                outcome = await self._lines.monitor(body, watchers=self._watchers.get(key, []))
                changes = changed_fields(body.get("status") or {}, outcome.status)
                written = "patched"
                if changes:
                    # Only onto the version this tick read: a reconcile that wrote its own
                    # conditions meanwhile (a model's Ready, a new Trained) would otherwise
                    # have them put back to what they were, as the list is replaced whole.
                    written = await self._kube.patch_custom_status(
                        PRODUCTION_LINE_PLURAL,
                        namespace,
                        name,
                        changes,
                        resource_version=meta.get("resourceVersion"),
                    )
                if written == "conflict":
                    # The next pass evaluates the line again on the newer version; its
                    # Events would be posted from the older one now.
                    log.debug("%s/%s changed while it was monitored", namespace, name)
                    self._metrics.monitor_conflicts.inc()
                else:
                    publish(PRODUCTION_LINE_KIND, body, self._metrics, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One line's failure must not stop the others' monitoring; the next pass retries.
            log.exception("monitoring %s/%s failed", namespace, name)
        current = next(iter(self._bodies.get(key, ())), None)
        if current is None or (current.get("metadata") or {}).get("deletionTimestamp"):
            # Deleted (or being deleted) while it was being evaluated: the delete handler may
            # have dropped its monitor and series already, which this tick created again;
            # between that handler and the watch's DELETED event the index still holds it.
            self._monitors.forget(namespace, name)
            self._metrics.forget(PRODUCTION_LINE_KIND, namespace, name)


def _due(body: Mapping[str, Any]) -> bool:
    # Not before its first reconcile (its data plane is not configured yet) and not while
    # it is being deleted (its stores are being removed).
    meta = body.get("metadata") or {}
    status = body.get("status") or {}
    return "observedGeneration" in status and not meta.get("deletionTimestamp")
