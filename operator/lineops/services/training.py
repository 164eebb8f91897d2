"""One QualityModel's training loop: exactly one run per trigger, polled to its end, gated.

Called by ``ModelReconciler`` once the training request for the current spec hash exists.
Level-based like the rest: everything is recomputed from the object's status and the backend's
answer, and every run id is deterministic (``training_policy``), so a resync, a concurrent
timer or a restarted operator can only find the run that exists, never start a second one.

At most one run is in flight per model: a schedule slot or a line event waits for the running
run to end first. A new spec does not wait: the run of the previous spec is canceled (its result
was trained for a spec that no longer exists, so it is never gated) and the new spec's run
starts in the same reconcile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from lineops.api import reasons as R
from lineops.api.constants import PREFIX
from lineops.api.productionline import ProductionLineStatus
from lineops.api.qualitymodel import (
    ChallengerStatus,
    ChampionStatus,
    QualityModelSpec,
    QualityModelStatus,
    TrainingStatus,
)
from lineops.backends.training.runs import RunRequest, RunState, TrainingBackend
from lineops.services.conditions import ConditionSet
from lineops.services.outcome import Event, Outcome
from lineops.services.pipeline_ref import ResolvedPipeline
from lineops.services.status import read_status
from lineops.services.training_gate import decide, status_metrics
from lineops.services.training_policy import (
    LineSignals,
    TrainingPolicy,
    Trigger,
    next_trigger,
    parse_time,
    retry_at,
    retry_due,
    split_attempt,
)

DRIFT_ANNOTATION = f"{PREFIX}/drift-psi"
# Without a data plane to ask (a unit test, a tool), the run has no line path to train from.
NO_DATA_PLANE = "line"
DataPlaneUrl = Callable[[str, str], str]  # (namespace, line) -> the line's data plane base URL


def training_set_uri(
    base: str, namespace: str, line: str, spec: QualityModelSpec, until: datetime
) -> str:
    """The data plane's training-set URL for a model: what the pipeline's load step reads.
    ``until`` (the trigger time) pins the window, so a resubmitted run reads the same rows."""
    query = {
        "featureService": spec.feature_service,
        "task": spec.task.value,
        "window": spec.training.window,
        "sampleEvery": spec.training.sample_every,
        "until": until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if spec.label is not None:
        query["label"] = spec.label
    path = f"/v1/namespaces/{quote(namespace)}/lines/{quote(line)}/training-set"
    return f"{base.rstrip('/')}{path}?{urlencode(query)}"


def line_signals(line: dict[str, Any]) -> LineSignals:
    """SPC from ``status.spc.inControl``; drift from ``status.drift.maxPsi`` (measured by
    the line's monitor), or from a ``lineops.io/drift-psi`` annotation, which lets an
    external drift detector trigger retraining too."""
    status = read_status(ProductionLineStatus, line.get("status"))
    text = status.drift.max_psi if status.drift is not None else None
    if text is None:
        text = ((line.get("metadata") or {}).get("annotations") or {}).get(DRIFT_ANNOTATION)
    try:
        drift = float(text) if text is not None else None
    except ValueError:
        drift = None
    out_of_control = status.spc is not None and status.spc.in_control is False
    return LineSignals(out_of_control=out_of_control, drift_psi=drift)


def line_timezone(line: dict[str, Any]) -> str | None:
    """``spec.schedule.timezone`` of the line (None when unset: UTC)."""
    return ((line.get("spec") or {}).get("schedule") or {}).get("timezone")


@dataclass
class Context:
    """One reconcile's inputs and the status/conditions/events it accumulates."""

    body: dict[str, Any]
    spec: QualityModelSpec
    spec_hash: str
    request: str
    line: dict[str, Any]
    conds: ConditionSet
    out: Outcome[QualityModelStatus]
    # spec.training.pipelineRef resolved and checked (services.pipeline_ref); None: shipped.
    pipeline: ResolvedPipeline | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: QualityModelStatus = field(init=False)  # as the object has it, before this reconcile

    def __post_init__(self) -> None:
        self.status = read_status(QualityModelStatus, self.body.get("status"))

    @property
    def champion(self) -> ChampionStatus | None:
        """The champion after this reconcile so far: a promotion in it wins."""
        return self.out.update.champion or self.status.champion

    def timestamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


class TrainingService:
    def __init__(
        self,
        backend: TrainingBackend,
        policy: TrainingPolicy | None = None,
        data_plane_url: DataPlaneUrl | None = None,
    ) -> None:
        self.backend = backend
        self.policy = policy or TrainingPolicy()
        self.data_plane_url = data_plane_url

    async def reconcile(self, ctx: Context) -> None:
        """Raises the backend's ``BackendError`` (transient or permanent, see
        ``lineops.backends.errors``) when it cannot be asked or refuses."""
        training = (ctx.status.training or TrainingStatus()).model_copy()
        run_id = training.run_id or ""
        in_flight = bool(run_id) and training.state in ("Pending", "Running")
        if in_flight and training.request_name != ctx.request:
            # The spec changed: stop the old run; the spec trigger below starts the new one.
            training = await self._supersede(ctx, training, run_id)
        elif in_flight:
            state = await self.backend.status(run_id)
            if state is None:
                # The backend lost it (data dir wiped, KFP DB reset): submit it again.
                state = await self.backend.submit(run_id, self._run_request(ctx, run_id))
            training = self._observe(ctx, training, state)
            if state.in_flight:
                return self._conditions(ctx, training)

        trigger = self._next(ctx, training)
        if trigger is not None:
            request = self._run_request(ctx, trigger.run_id)
            state = await self.backend.submit(trigger.run_id, request)
            training = TrainingStatus(request_name=ctx.request, spec_hash=ctx.spec_hash)
            ctx.out.events.append(
                Event("Normal", R.TRAINING_RUNNING, f"run {trigger.run_id} started: {trigger.why}")
            )
            training = self._observe(ctx, training, state)
        self._conditions(ctx, training)

    async def _supersede(
        self, ctx: Context, training: TrainingStatus, run_id: str
    ) -> TrainingStatus:
        """Cancel the in-flight run of a previous spec and record how it ended. Never gated;
        recorded as Failed (unless it had already succeeded) under the previous request's
        name, so it is not retried either: ``_next`` sees a new request and starts its run."""
        reason = f"superseded by spec hash {ctx.spec_hash}"
        state = await self.backend.cancel(run_id, reason)
        if state is None:
            state = RunState(run_id, "Failed", message="the backend no longer knows this run")
        if state.state == "Succeeded":
            # It finished before the cancel reached it: keep its record, skip the gate.
            return self._observe(ctx, training, state)
        message = f"canceled: {reason}"
        if state.in_flight:  # a cluster backend may still be stopping it (CANCELING)
            message += f"; the backend is still stopping it ({state.message or state.state})"
        elif reason not in state.message:  # it ended on its own before the cancel
            message += f"; it had already ended: {_describe(state)}"
        after = TrainingStatus(
            request_name=training.request_name or ctx.request,
            spec_hash=training.spec_hash or ctx.spec_hash,
            run_id=run_id,
            state="Failed",
            started_at=state.started_at or training.started_at,
            finished_at=state.finished_at or ctx.timestamp(),
            metrics=status_metrics(state.metrics, ctx.spec.promotion.chosen_metric.value),
            message=message[:32000],
        )
        ctx.out.update.training = after
        ctx.out.events.append(Event("Normal", R.TRAINING_CANCELED, f"run {run_id} {message}"))
        return after

    # --- decisions ------------------------------------------------------------------------

    def _next(self, ctx: Context, training: TrainingStatus) -> Trigger | None:
        run_id, state = training.run_id, training.state
        if not run_id or training.request_name != ctx.request:
            return Trigger("spec", ctx.request, f"spec hash {ctx.spec_hash}")
        if state == "Failed":
            due = retry_due(run_id, training.finished_at, self.policy, ctx.now)
            if due is not None:
                if due[1] > 0:
                    return None  # the backoff has not elapsed (the poll timer returns)
                _, attempt = split_attempt(due[0])
                return Trigger("spec", due[0], f"attempt {attempt} of {self.policy.max_attempts}")
            # Attempts spent: the spec's run is given up, but a later schedule slot or line
            # event still starts a run of its own (one outage ended scheduled retraining).
        elif state != "Succeeded":
            return None
        policy = ctx.spec.training
        trigger, waiting = next_trigger(
            ctx.request,
            parse_time(training.started_at),
            policy.schedule,
            policy.retrain_on.spc_alert,
            policy.retrain_on.drift_psi_value,
            policy.cooldown_seconds,
            line_signals(ctx.line),
            ctx.now,
            line_timezone(ctx.line),
        )
        if trigger is not None and trigger.run_id == split_attempt(run_id)[0]:
            # The slot or event window of the run just recorded (a KFP clock behind ours
            # made the slot look later than the run's start): it ran, whatever it came to.
            return None
        if waiting:  # the run's own outcome (model, metrics) stays in the message
            training.message = f"{training.message}; {waiting}" if training.message else waiting
        return trigger

    def _observe(self, ctx: Context, before: TrainingStatus, state: RunState) -> TrainingStatus:
        """Record ``state`` in status.training; announce and gate a run that just ended."""
        metric = ctx.spec.promotion.chosen_metric.value
        request_name = before.request_name or ctx.request
        spec_hash = before.spec_hash or ctx.spec_hash
        message = _describe(state)
        # A run of a previous spec (it ended before it could be canceled) was trained for a
        # task, parameters or features that no longer apply: never a champion.
        stale = request_name != ctx.request
        if stale and state.state == "Succeeded":
            message = (
                f"{message}; not gated: trained for spec hash {spec_hash}, "
                f"superseded by spec hash {ctx.spec_hash}"
            )[:32000]
        # Only a registered model can be served: a run that ended without a model tag (the
        # pipeline registered nothing, or the store that holds its model is not configured)
        # was promoted as "run:<id>", a tag serving could never load.
        unregistered = state.state == "Succeeded" and not stale and not state.model_tag
        if unregistered:
            message = f"{message}; not gated: the run registered no model to serve"[:32000]
        after = TrainingStatus(
            request_name=request_name,
            spec_hash=spec_hash,
            run_id=state.run_id,
            state=state.state,
            started_at=state.started_at,
            finished_at=state.finished_at,
            metrics=status_metrics(state.metrics, metric),
            message=message,
        )
        ctx.out.update.training = after
        changed = (before.run_id, before.state) != (state.run_id, state.state)
        if changed and state.state == "Failed":
            ctx.out.events.append(Event("Warning", R.TRAINING_FAILED, message))
        if changed and state.state == "Succeeded":
            ctx.out.events.append(Event("Normal", R.TRAINING_SUCCEEDED, message))
            if not stale and state.model_tag:
                self._gate(ctx, state.model_tag, after.metrics, state.finished_at, spec_hash)
            elif unregistered:
                blocked = f"run {state.run_id} registered no model to serve: {_describe(state)}"
                ctx.conds.set(R.PROMOTION_BLOCKED, "True", R.NO_MODEL_REGISTERED, blocked)
                ctx.out.events.append(Event("Warning", R.NO_MODEL_REGISTERED, blocked))
        return after

    def gate_challenger(self, ctx: Context) -> None:
        """Re-judge a blocked challenger: a changed spec.promotion may let it through now."""
        challenger = ctx.status.challenger
        if (
            challenger is None
            or not challenger.version
            or "challenger" in ctx.out.update.model_fields_set
        ):
            return
        if challenger.spec_hash is not None and challenger.spec_hash != ctx.spec_hash:
            # Trained on what the spec no longer names (features, label, pipeline): a later
            # change of spec.promotion promoted it in the same reconcile.
            ctx.out.update.challenger = None
            ctx.conds.set(
                R.PROMOTION_BLOCKED,
                "False",
                R.CHALLENGER_SUPERSEDED,
                f"{challenger.version} was trained for spec hash {challenger.spec_hash}, "
                f"superseded by {ctx.spec_hash}: dropped, not judged",
            )
            return
        self._gate(ctx, challenger.version, dict(challenger.metrics), None, challenger.spec_hash)

    def _gate(
        self,
        ctx: Context,
        version: str,
        metrics: dict[str, str],
        finished: str | None,
        spec_hash: str | None,
    ) -> None:
        champion = ctx.champion
        if champion is not None and champion.version == version:
            return
        against = (champion.metrics if champion else None) or None
        metric = ctx.spec.promotion.chosen_metric.value
        if champion is not None and f"champion_{metric}" in metrics:
            # The run scored the champion on its own held-out rows: compare like with like.
            against = {metric: metrics[f"champion_{metric}"]}
        verdict = decide(metrics, against, ctx.spec.promotion)
        score = None if verdict.score is None else str(verdict.score)
        before = ctx.conds.get(R.PROMOTION_BLOCKED)
        if verdict.promote:
            ctx.out.update.champion = ChampionStatus(
                version=version,
                metrics=metrics,
                score=score,
                served_since=finished or ctx.timestamp(),
            )
            ctx.out.update.challenger = None  # a merge patch: removes the field
            ctx.conds.set(R.PROMOTION_BLOCKED, "False", R.PROMOTED, f"{version}: {verdict.message}")
            ctx.out.events.append(
                Event("Normal", R.PROMOTED, f"{version} is the champion: {verdict.message}")
            )
            return
        ctx.out.update.challenger = ChallengerStatus(
            version=version, metrics=metrics, score=score, spec_hash=spec_hash
        )
        message = f"{version} not promoted: {verdict.message}"
        ctx.conds.set(R.PROMOTION_BLOCKED, "True", verdict.reason, message)
        if before is None or before.message != message:
            ctx.out.events.append(Event("Warning", verdict.reason, message))

    def _conditions(self, ctx: Context, training: TrainingStatus) -> None:
        self.gate_challenger(ctx)
        state, run_id = training.state, training.run_id or ""
        message = training.message or ""
        if state == "Succeeded":
            ctx.conds.set(R.TRAINED, "True", R.TRAINING_SUCCEEDED, f"run {run_id}: {message}")
        elif state == "Failed":
            due = retry_due(run_id, training.finished_at, self.policy, ctx.now)
            # When, not how long: "in 29s", "in 28s" rewrote the status on every poll.
            at = retry_at(run_id, training.finished_at, self.policy)
            then = (
                f"retrying as {due[0]} " + (f"at {at}" if at and due[1] > 0 else "now")
                if due
                else f"gave up after {split_attempt(run_id)[1]} attempt(s); change the spec "
                "to try again"
                + (
                    ", or the next schedule slot starts a new run"
                    if ctx.spec.training.schedule
                    else ""
                )
            )
            ctx.conds.set(R.TRAINED, "False", R.TRAINING_FAILED, f"run {run_id}: {message}; {then}")
        elif state == "Running":
            ctx.conds.set(R.TRAINED, "False", R.TRAINING_RUNNING, f"run {run_id} is running")
        else:
            ctx.conds.set(R.TRAINED, "False", R.TRAINING_REQUESTED, f"run {run_id} is queued")
        champion = ctx.champion
        if champion is not None and champion.version:
            score = champion.score
            ctx.conds.set(
                R.READY,
                "True",
                R.RECONCILED,
                f"champion {champion.version}"
                + (f" ({ctx.spec.promotion.chosen_metric.value} {score})" if score else ""),
            )
        else:
            ctx.conds.set(
                R.READY,
                "False",
                R.NOT_TRAINED,
                f"line {ctx.spec.line_ref!r} found; no model promoted yet "
                f"(training: {state or 'not started'})",
            )

    def _run_request(self, ctx: Context, run_id: str) -> RunRequest:
        spec = ctx.spec
        champion = ctx.status.champion.metrics if ctx.status.champion is not None else {}
        namespace = ctx.body["metadata"]["namespace"]
        dataset = spec.training.parameters.get("dataset")
        if dataset is None:
            # The line path: the pipeline reads the line's own training set from its data plane.
            dataset = NO_DATA_PLANE
            if self.data_plane_url is not None:
                base = self.data_plane_url(namespace, spec.line_ref)
                dataset = training_set_uri(base, namespace, spec.line_ref, spec, ctx.now)
        ref = ctx.pipeline or ResolvedPipeline("", {})
        return RunRequest(
            run_id=run_id,
            pipeline=spec.training.shipped_pipeline or ref.name,
            pipeline_ir=ref.ir,
            kfp_pipeline=ref.kfp_pipeline,
            kfp_version=ref.kfp_version,
            task=spec.task.value,
            dataset=dataset,
            parameters=dict(spec.training.parameters),
            label=spec.label,
            spec_hash=ctx.spec_hash,
            model=ctx.body["metadata"]["name"],
            namespace=ctx.body["metadata"]["namespace"],
            champion_metrics={k: float(v) for k, v in champion.items() if _is_number(v)},
            promotion_metric=spec.promotion.chosen_metric.value,
            promotion_minimum=spec.promotion.minimum_value,
            must_beat_by=spec.promotion.margin_value,
            feature_service=spec.feature_service,
            champion_tag=ctx.champion.version if ctx.champion and ctx.champion.version else "",
        )


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _describe(state: RunState) -> str:
    if state.state == "Failed":
        where = f"step {state.failing_step!r} failed" if state.failing_step else "failed"
        return f"{where}: {state.message}"[:32000]
    if state.state == "Succeeded":
        if state.model_tag is None and not state.metrics and state.message:
            # The cluster backend says why (no model store configured, no model for the run).
            return f"model not registered: {state.message}"[:32000]
        figures = ", ".join(f"{k}={v:.4g}" for k, v in sorted(state.metrics.items())[:6])
        return f"model {state.model_tag or 'not registered'}" + (f"; {figures}" if figures else "")
    return state.message or state.state.lower()
