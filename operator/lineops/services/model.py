"""Reconcile a QualityModel: validate, find its line, record one training request per spec hash,
then drive its training runs and the promotion gate (``lineops.services.training``).

The request exists exactly once for each distinct training spec; runs are named after it, so
neither a resync nor a restart starts a duplicate. Without a training backend (unit tests of
this step alone) the reconcile stops at the request.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from lineops.api import reasons as R
from lineops.api.conditions import now_rfc3339
from lineops.api.constants import (
    ANNOTATION_PIPELINE_SEEN,
    LABEL_COMPONENT,
    LABEL_LINE,
    LABEL_MODEL,
    LABEL_SPEC_HASH,
    PRODUCTION_LINE_PLURAL,
    QUALITY_MODEL_PLURAL,
)
from lineops.api.kinds import QUALITY_MODEL
from lineops.api.qualitymodel import QualityModelSpec, QualityModelStatus, TrainingStatus
from lineops.backends.errors import BackendError
from lineops.backends.kube import KubeBackend
from lineops.backends.training.runs import IN_FLIGHT
from lineops.services.children import child_metadata
from lineops.services.conditions import ConditionSet
from lineops.services.outcome import Event, Outcome, backend_failed, begin, finish
from lineops.services.pipeline_ref import PipelineProblem, ResolvedPipeline, resolve
from lineops.services.serving import ServingService
from lineops.services.spec_hash import canonical_json, training_spec_hash
from lineops.services.status import read_status
from lineops.services.training import DRIFT_ANNOTATION, Context, TrainingService

REQUESTED = "Requested"
# (namespace, name) -> the line as ``line_view`` keeps it, or None when there is no such line.
LineLookup = Callable[[str, str], dict[str, Any] | None]

log = logging.getLogger(__name__)
CANCEL_SECONDS: Final = 10.0  # a deletion waits this long for the run's cancel at most


def line_view(line: Mapping[str, Any]) -> dict[str, Any]:
    """What a model's reconcile reads of its ProductionLine (existence, the retrain signals
    of ``training.line_signals`` and the schedule's timezone), projected from the line the
    operator's line index holds, so a reconcile need not read the line; copied, so nothing a
    reconcile does to it reaches the index."""
    meta = line.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    status = line.get("status") or {}
    spec = line.get("spec") or {}
    view: dict[str, Any] = {
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "annotations": {k: annotations[k] for k in (DRIFT_ANNOTATION,) if k in annotations},
            **{k: meta[k] for k in ("deletionTimestamp",) if k in meta},
        },
        "spec": {k: copy.deepcopy(spec[k]) for k in ("schedule",) if k in spec},
        "status": {k: copy.deepcopy(status[k]) for k in ("spc", "drift") if k in status},
    }
    return view


def training_request_name(model: str, spec_hash: str) -> str:
    return f"{model}-train-{spec_hash[:12]}"


class ModelReconciler:
    def __init__(
        self,
        kube: KubeBackend,
        training: TrainingService | None = None,
        serving: ServingService | None = None,
    ) -> None:
        self._kube = kube
        self._training = training
        self._serving = serving  # None: no serving backend (the champion is only recorded)
        # kopf runs the resync/poll timers beside the change handlers: one reconcile per object
        # at a time keeps "one run per trigger" and the transition Events free of races.
        self._locks: dict[str, asyncio.Lock] = {}

    async def reconcile(
        self, body: dict[str, Any], lines: LineLookup | None = None
    ) -> Outcome[QualityModelStatus]:
        """``lines``: the operator's index of ProductionLines (``line_view`` of each), so a
        reconcile does not GET its line; None asks the API server."""
        key = str(body["metadata"].get("uid") or body["metadata"]["name"])
        async with self._locks.setdefault(key, asyncio.Lock()):
            return await self._reconcile(body, lines)

    def forget(self, uid: str) -> None:
        self._locks.pop(uid, None)

    async def retire(self, namespace: str, name: str, body: dict[str, Any] | None = None) -> None:
        """The model is being deleted: stop serving it (its processes are gone on return),
        and cancel its training run in flight (from ``body``'s status), at best: a run kept
        training for hours after its model was gone."""
        if self._serving is not None:
            await self._serving.retire(namespace, name)
        if self._training is None or body is None:
            return
        training = read_status(QualityModelStatus, body.get("status")).training
        if training is None or not training.run_id or training.state not in IN_FLIGHT:
            return
        try:
            await asyncio.wait_for(
                self._training.backend.cancel(training.run_id, "model deleted"), CANCEL_SECONDS
            )
        except (TimeoutError, BackendError) as exc:
            # Never blocks the deletion: the run may finish on its own; said where it shows.
            log.warning(
                "model %s/%s deleted; run %s not canceled: %s",
                namespace,
                name,
                training.run_id,
                exc,
            )

    async def _serve(
        self,
        body: dict[str, Any],
        spec: QualityModelSpec,
        conds: ConditionSet,
        out: Outcome[QualityModelStatus],
    ) -> None:
        """Serve the champion after this reconcile (a promotion in it wins)."""
        if self._serving is None:
            return
        champion = (
            out.update.champion or read_status(QualityModelStatus, body.get("status")).champion
        )
        await self._serving.reconcile(body, spec, champion, conds, out)

    async def wake_for_pipeline(self, namespace: str, models: list[str], seen: str) -> None:
        """Touch the models whose pipelineRef names a ConfigMap that changed (``seen``: its
        uid and resourceVersion), so they re-read it now rather than at the next resync."""
        for model in sorted(set(models)):
            current = await self._kube.get_custom(QUALITY_MODEL_PLURAL, namespace, model)
            if current is None:
                continue
            annotations = current["metadata"].get("annotations") or {}
            if annotations.get(ANNOTATION_PIPELINE_SEEN) != seen:
                await self._kube.patch_custom(
                    QUALITY_MODEL_PLURAL,
                    namespace,
                    model,
                    {"metadata": {"annotations": {ANNOTATION_PIPELINE_SEEN: seen}}},
                    missing_ok=True,
                )

    async def _reconcile(
        self, body: dict[str, Any], lines: LineLookup | None
    ) -> Outcome[QualityModelStatus]:
        meta = body["metadata"]
        conds, out, spec = begin(body, QUALITY_MODEL, QualityModelSpec, QualityModelStatus)
        if spec is None:
            return finish(body, conds, out)

        try:
            if lines is not None:
                line = lines(meta["namespace"], spec.line_ref)
            else:
                line = await self._kube.get_custom(
                    PRODUCTION_LINE_PLURAL, meta["namespace"], spec.line_ref
                )
            if line is None:
                conds.set(
                    R.READY,
                    "False",
                    R.LINE_NOT_FOUND,
                    f"spec.lineRef: ProductionLine {spec.line_ref!r} not found in namespace "
                    f"{meta['namespace']!r}; waiting for it to be created",
                )
                return finish(body, conds, out)
            if (line.get("metadata") or {}).get("deletionTimestamp"):
                # Runs against a data plane that is going away failed and spent the
                # retries; the champion keeps serving while it can.
                conds.set(
                    R.READY,
                    "False",
                    R.LINE_NOT_READY,
                    f"spec.lineRef: ProductionLine {spec.line_ref!r} is being deleted; "
                    "nothing is trained against it",
                )
                await self._serve(body, spec, conds, out)
                return finish(body, conds, out)
            backend = self._training.backend if self._training is not None else None
            pipeline = await resolve(self._kube, meta["namespace"], spec, backend)
            if isinstance(pipeline, PipelineProblem):
                self._refuse(body, conds, out, pipeline)
                await self._serve(body, spec, conds, out)
                return finish(body, conds, out)
            normalised = spec.model_dump(mode="json", by_alias=True)
            spec_hash = training_spec_hash(normalised, pipeline.identity if pipeline else None)
            request = training_request_name(meta["name"], spec_hash)
            created = await self._kube.create_config_map(
                meta["namespace"],
                self._request(body, normalised, spec_hash, request, pipeline),
            )
        except BackendError as exc:
            backend_failed(conds, out, exc)
            return finish(body, conds, out)

        if created:
            out.events.append(
                Event(
                    "Normal",
                    R.TRAINING_REQUESTED,
                    f"training request {request} for spec hash {spec_hash}",
                )
            )
        if self._training is not None:
            ctx = Context(body, spec, spec_hash, request, line, conds, out, pipeline)
            try:
                await self._training.reconcile(ctx)
            except BackendError as exc:
                backend_failed(conds, out, exc, "training backend")
            await self._serve(body, spec, conds, out)
            return finish(body, conds, out)
        status = read_status(QualityModelStatus, body.get("status"))
        training = status.training or TrainingStatus()
        if training.spec_hash != spec_hash:
            training = TrainingStatus(spec_hash=spec_hash, request_name=request, state=REQUESTED)
        out.update.training = training
        if not (status.champion is not None and status.champion.version):
            conds.set(
                R.TRAINED,
                "False",
                R.TRAINING_REQUESTED,
                f"training request {request} recorded; no model trained yet",
            )
            conds.set(
                R.READY,
                "False",
                R.NOT_TRAINED,
                f"line {spec.line_ref!r} found; waiting for the first trained model",
            )
        await self._serve(body, spec, conds, out)
        return finish(body, conds, out)

    @staticmethod
    def _refuse(
        body: dict[str, Any],
        conds: ConditionSet,
        out: Outcome[QualityModelStatus],
        problem: PipelineProblem,
    ) -> None:
        """No run for a pipeline that cannot be used: say why. A run already in flight is
        left alone; the fixed reference is a new spec hash, which supersedes it."""
        before = conds.get(R.TRAINED)
        conds.set(R.TRAINED, "False", problem.reason, problem.message)
        status = read_status(QualityModelStatus, body.get("status"))
        champion = status.champion
        if champion is not None and champion.version:
            # The champion still serves, so Ready stays True (docs/operator.md); it kept
            # whatever it said before (a BackendError, LineNotFound) next to this problem.
            conds.set(
                R.READY,
                "True",
                R.RECONCILED,
                f"champion {champion.version}; no new training: {problem.message}"[:4096],
            )
        else:
            conds.set(R.READY, "False", problem.reason, problem.message)
        if before is None or (before.reason, before.message) != (problem.reason, problem.message):
            out.events.append(Event("Warning", problem.reason, problem.message[:1024]))

    @staticmethod
    def _request(
        body: dict[str, Any],
        spec: dict[str, Any],
        spec_hash: str,
        name: str,
        pipeline: ResolvedPipeline | None,
    ) -> dict[str, Any]:
        model = body["metadata"]["name"]
        request: dict[str, Any] = {
            "model": model,
            "specHash": spec_hash,
            "requestedAt": now_rfc3339(),
            "spec": spec,
        }
        if pipeline is not None:  # which IR (digest) or KFP version the request was made for
            request["pipeline"] = {"name": pipeline.name, **pipeline.identity}
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": child_metadata(
                body,
                name,
                {
                    LABEL_MODEL: model,
                    LABEL_LINE: spec["lineRef"],
                    LABEL_SPEC_HASH: spec_hash,
                    LABEL_COMPONENT: "training-request",
                },
            ),
            "data": {"request.json": canonical_json(request)},
        }
