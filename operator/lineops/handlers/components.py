"""The operator's components as one typed object: what start-up builds, what the handlers
use and what shutdown closes. kopf's memo holds it under one key (``components``), so a
renamed component is a type error rather than a KeyError at run time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import kopf

from lineops.backends.kube import KubeBackend
from lineops.backends.metrics import OperatorMetrics
from lineops.backends.probes import ProbeServer
from lineops.backends.serving.protocol import ServingBackend
from lineops.backends.training.runs import TrainingBackend
from lineops.dataplane.app import DataPlaneApp
from lineops.handlers.monitor_loop import MonitorLoop
from lineops.services.data_plane import DataPlane
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.settings import Settings

KEY = "components"
T = TypeVar("T")
# Shutdown's budget for closing everything: kopf needs about a second before (stopping
# watches and timers) and after (its own tasks) within a 10 s termination grace period.
CLOSE_SECONDS: Final = 7.0
log = logging.getLogger(__name__)


@dataclass
class Components:
    settings: Settings
    metrics: OperatorMetrics
    kube: KubeBackend
    probes: ProbeServer
    monitors: LineMonitors
    data_plane: DataPlane
    lines: LineReconciler
    models: ModelReconciler
    training: TrainingBackend | None
    # LINEOPS_WORKER_LIMIT reconciles at once (see ``limited``); start-up sizes it from the
    # settings, so there is no second default here to drift from theirs.
    slots: asyncio.Semaphore
    app: DataPlaneApp | None = None  # embedded profile: the data plane in this process
    serving: ServingBackend | None = None  # embedded profile: bentoml serve per champion
    monitor_loop: MonitorLoop | None = None  # every line's monitoring, one task

    async def limited(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` once a reconcile slot is free. The limit is ours, not kopf's
        ``queueing.worker_limit``: kopf's limit also caps the workers that index objects at
        start-up, and each of those waits for every object to be indexed before it handles
        one, so more objects of an indexed kind than the limit hang the operator for good
        (kopf issue #1243; seen here with 100 lines and models listed at start-up)."""
        try:
            await self.slots.acquire()
        except BaseException:
            work.close()  # cancelled while waiting: the reconcile never started
            raise
        try:
            return await work
        finally:
            self.slots.release()

    async def close(self, timeout: float = CLOSE_SECONDS) -> None:
        if self.monitor_loop is not None:
            # First: a monitoring pass reads the stores that are closed next.
            await self.monitor_loop.stop()
        await close_all(
            self.probes, self.app, self.training, self.kube, self.serving, timeout=timeout
        )


async def close_all(
    probes: ProbeServer | None,
    app: DataPlaneApp | None,
    training: TrainingBackend | None,
    kube: KubeBackend | None,
    serving: ServingBackend | None = None,
    *,
    timeout: float = CLOSE_SECONDS,
) -> None:
    """In dependency order, each only if it was built (start-up may have failed half-way).
    Serving stops before the data plane its processes log predictions to.

    Bounded by ``timeout`` overall: each step gets what is left of it (a step that overruns
    is cancelled and logged, and the next still runs), and a failing step does not keep the
    others open. Serving is given half of it (cancelled, the local backend kills its process
    groups rather than leave them); the data plane takes what is left as its own deadline,
    so its stores are closed rather than abandoned."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(deadline - time.monotonic(), 0.0)

    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if probes is not None:
        steps.append(("probe server", probes.stop))
    if serving is not None:
        steps.append(("serving", serving.close))
    if app is not None:
        steps.append(("data plane", lambda: app.stop(timeout=left())))
    if training is not None:
        steps.append(("training backend", training.close))
    for name, step in steps:
        budget = left() * 0.5 if name == "serving" else left()
        try:
            # A small floor: a step that takes its own deadline finishes its last act.
            async with asyncio.timeout(budget + 0.5):
                await step()
        except TimeoutError:
            log.warning("shutdown: closing the %s overran the %.0f s deadline", name, timeout)
        except Exception:
            log.exception("shutdown: closing the %s failed", name)
    if kube is not None:
        kube.close()


def components(memo: kopf.Memo) -> Components:
    found = memo.get(KEY)
    if not isinstance(found, Components):
        # A handler ran before start-up finished (or after it failed): retry later.
        raise kopf.TemporaryError("operator components are not ready yet", delay=5)
    return found
