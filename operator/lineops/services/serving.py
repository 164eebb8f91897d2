"""Serve a QualityModel's champion: what should answer, and the ``Serving`` condition.

Called from the model reconcile after training and the promotion gate, so a champion promoted
in this very reconcile is served at once. The decisions live here; the processes (and the
stable endpoint in front of them) live in the profile's serving backend
(``lineops.backends.serving``):

* ``spec.serving.replicas`` 0: nothing is served (``Serving=False Disabled``);
* no champion yet: nothing is served (``Serving=False NoChampion``);
* otherwise the backend is asked to serve ``status.champion.version``; a new champion replaces
  the old one only once it is ready, so the old one answers meanwhile. ``Serving`` is True
  only when the champion itself answers.

The backend tells the service when a model's state changed on its own (a process became ready,
died, is tried again); the service then touches the model's ``serving.lineops.io/changed``
annotation, which wakes its reconcile at once, so status follows the processes without polling.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Final, Literal

from lineops.api import reasons as R
from lineops.api.conditions import clip_message, now_rfc3339
from lineops.api.constants import QUALITY_MODEL_PLURAL
from lineops.api.qualitymodel import (
    CanaryStatus,
    ChampionStatus,
    QualityModelSpec,
    QualityModelStatus,
    ServingStatus,
)
from lineops.backends.errors import BackendError, TransientBackendError
from lineops.backends.kube import KubeBackend
from lineops.backends.serving.protocol import ServeRequest, ServingBackend, ServingState
from lineops.services.conditions import ConditionSet
from lineops.services.outcome import Event, Outcome, backend_error
from lineops.services.status import read_status

ANNOTATION_SERVING_CHANGED: Final = "serving.lineops.io/changed"
DISABLED: Final = "Disabled"
NO_CHAMPION: Final = "NoChampion"
log = logging.getLogger(__name__)


class ServingService:
    def __init__(self, backend: ServingBackend, kube: KubeBackend) -> None:
        self.backend = backend
        self._kube = kube
        self._wakes: set[asyncio.Task[None]] = set()
        self._seq = itertools.count(1)
        backend.subscribe(self._changed)

    async def reconcile(
        self,
        body: dict[str, Any],
        spec: QualityModelSpec,
        champion: ChampionStatus | None,
        conds: ConditionSet,
        out: Outcome[QualityModelStatus],
    ) -> None:
        meta = body["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        before = read_status(QualityModelStatus, body.get("status"))
        try:
            if spec.serving.replicas == 0:
                await self.backend.suspend(namespace, name)
                self._idle(
                    before,
                    conds,
                    out,
                    DISABLED,
                    R.DISABLED,
                    "spec.serving.replicas is 0: the champion is not served",
                )
                return
            if champion is None or not champion.version:
                await self.backend.stop(namespace, name)
                self._idle(
                    before, conds, out, NO_CHAMPION, R.NO_CHAMPION, "no champion yet to serve"
                )
                return
            state = await self.backend.ensure(
                ServeRequest(namespace, name, champion.version, owner=body, spec=spec)
            )
        except TransientBackendError as exc:
            # The backend did not answer (throttled, restarting): what is served is not
            # known, not failed. ServingFailed means a champion's process died; a 429 said
            # so, moved lastTransitionTime, and contradicted status.serving and Ready.
            conds.set(R.SERVING, "Unknown", R.BACKEND_ERROR, f"serving backend unreachable: {exc}")
            out.error = backend_error(exc)
            return
        except BackendError as exc:
            conds.set(R.SERVING, "False", R.BACKEND_REJECTED, f"serving backend refused: {exc}")
            out.error = backend_error(exc)
            return
        self._report(champion.version, state, conds, out)
        _canary_events(before.serving, state, out)

    async def retire(self, namespace: str, name: str) -> None:
        """The model is gone: stop serving it (waits until its processes are gone)."""
        await self.backend.stop(namespace, name)

    @staticmethod
    def _idle(
        before: QualityModelStatus,
        conds: ConditionSet,
        out: Outcome[QualityModelStatus],
        state: str,
        reason: str,
        message: str,
    ) -> None:
        previous = before.serving
        since = previous.since if previous is not None and previous.state == state else None
        out.update.serving = ServingStatus(
            state=state, since=since or now_rfc3339(), message=clip_message(message)
        )
        if before.endpoint is not None:
            out.update.endpoint = None
        conds.set(R.SERVING, "False", reason, message)

    @staticmethod
    def _report(
        tag: str, state: ServingState, conds: ConditionSet, out: Outcome[QualityModelStatus]
    ) -> None:
        canary = state.canary
        out.update.serving = ServingStatus(
            endpoint=state.endpoint,
            champion=state.serving,
            challenger=state.pending,
            state=state.phase,
            since=state.since or None,
            # A backend's message can carry a process log's tail: past the schema's 32 KiB
            # the whole status was refused.
            message=clip_message(state.message) or None,
            canary=None
            if canary is None
            else CanaryStatus(
                state=canary.state,
                step=canary.step,
                tag=canary.tag,
                since=canary.since,
                reason=canary.reason,
            ),
        )
        out.update.endpoint = state.endpoint
        meanwhile = f"; {state.serving} answers meanwhile" if state.serving else ""
        if state.phase == "Serving" and state.serving == tag:
            conds.set(R.SERVING, "True", R.DEPLOYED, f"{tag} answers on {state.endpoint}")
        elif state.phase == "Canary":
            conds.set(R.SERVING, "False", R.CANARY, state.message or f"canary {tag}")
        elif state.phase == "Serving" and canary is not None and canary.tag == tag:
            # The new champion's canary was rolled back: the old tag answers.
            conds.set(R.SERVING, "False", R.CANARY_ROLLED_BACK, state.message or canary.reason)
        elif state.phase in ("Restarting", "Failed"):
            reason = R.SERVING_RESTARTING if state.phase == "Restarting" else R.SERVING_FAILED
            conds.set(
                R.SERVING,
                "False",
                reason,
                f"{tag}: {state.failures} failure(s) in a row, last: {state.last_exit}; "
                f"next attempt at {state.next_attempt}{meanwhile}",
            )
        else:  # Starting (or Stopped for an instant while a slot is replaced)
            conds.set(
                R.SERVING,
                "False",
                R.SERVING_STARTING,
                f"{tag} starting; waiting for {state.waiting or '/readyz'}{meanwhile}",
            )

    def _changed(self, namespace: str, name: str) -> None:
        """The backend's state changed: touch the model so it reconciles now."""
        value = f"{now_rfc3339()}/{next(self._seq)}"
        task = asyncio.get_running_loop().create_task(self._touch(namespace, name, value))
        self._wakes.add(task)
        task.add_done_callback(self._wakes.discard)

    async def _touch(self, namespace: str, name: str, value: str) -> None:
        try:
            await self._kube.patch_custom(
                QUALITY_MODEL_PLURAL,
                namespace,
                name,
                {"metadata": {"annotations": {ANNOTATION_SERVING_CHANGED: value}}},
                missing_ok=True,
            )
        except BackendError as exc:  # the resync timer looks again
            log.warning("cannot wake model %s/%s after a serving change: %s", namespace, name, exc)


_CANARY_EVENTS: Final[dict[tuple[str, str | None], tuple[Literal["Normal", "Warning"], str]]] = {
    ("Progressing", "WaitingForAvailable"): ("Normal", R.CANARY_STARTED),
    ("Progressing", "Analysing"): ("Normal", R.CANARY_ANALYSING),
    ("Progressing", "Promoting"): ("Normal", R.CANARY_PROMOTED),
    ("RolledBack", None): ("Warning", R.CANARY_ROLLED_BACK),
}


def _canary_events(
    before: ServingStatus | None, state: ServingState, out: Outcome[QualityModelStatus]
) -> None:
    """An Event for each canary step the model enters (once: the step is compared with the
    one in its status)."""
    canary = state.canary
    if canary is None:
        return
    old = before.canary if before is not None else None
    if old is not None and (old.tag, old.state, old.step) == (
        canary.tag,
        canary.state,
        canary.step,
    ):
        return
    if canary.state == "Promoted" and old is not None and old.step == "Promoting":
        return  # announced when promotion began
    kind = _CANARY_EVENTS.get((canary.state, canary.step))
    if kind is None and canary.state == "Promoted":
        kind = ("Normal", R.CANARY_PROMOTED)
    if (
        kind is not None
        and kind[1] == R.CANARY_PROMOTED
        and "no requests measured" in canary.reason
    ):
        # Promoted on readiness and the period alone: the traffic split is by connection,
        # and keep-alive clients may never have reached the canary. Worth a look.
        kind = ("Warning", R.CANARY_PROMOTED)
    if kind is not None:
        out.events.append(Event(kind[0], kind[1], f"{canary.tag}: {canary.reason}"[:1024]))
