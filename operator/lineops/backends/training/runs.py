"""What the operator asks a training backend for, and what it gets back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, Protocol, cast

from lineops.backends.errors import TransientBackendError

RunPhase = Literal["Pending", "Running", "Succeeded", "Failed"]
PHASES: Final[tuple[RunPhase, ...]] = ("Pending", "Running", "Succeeded", "Failed")
IN_FLIGHT: Final[frozenset[str]] = frozenset({"Pending", "Running"})


class TrainingBackendError(TransientBackendError):
    """The backend could not be asked (API down, disk full): the caller retries later.

    What a backend can judge itself (an unknown pipeline, a parameter the pipeline does not
    declare, a failing step) is not an error but a Failed run, recorded in status.training."""


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs; written next to the run so it can be replayed or audited."""

    run_id: str
    pipeline: str
    task: str
    dataset: str
    parameters: dict[str, str] = field(default_factory=dict)
    label: str | None = None
    spec_hash: str = ""
    model: str = ""
    namespace: str = ""
    champion_metrics: dict[str, float] = field(default_factory=dict)
    # The operator's gate decides promotion; pipelines may use these for their own labels.
    promotion_metric: str = ""
    promotion_minimum: float | None = None
    must_beat_by: float = 0.0
    # The line path: the feature service the training set was built for, and the champion's
    # model tag so the pipeline can score it on the candidate's held-out rows.
    feature_service: str = ""
    champion_tag: str = ""
    # An ML engineer's pipeline (spec.training.pipelineRef) instead of a shipped one: the IR
    # YAML read from its ConfigMap, or a version uploaded to KFP (cluster profile).
    pipeline_ir: str = ""
    kfp_pipeline: str = ""
    kfp_version: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        raw = json.loads(text)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass(frozen=True)
class RunState:
    run_id: str
    state: RunPhase
    started_at: str | None = None  # RFC 3339, UTC
    finished_at: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    failing_step: str | None = None
    message: str = ""
    model_tag: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=2) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunState:
        state = raw.get("state")
        if state not in PHASES:
            raise ValueError(f"unknown run state {state!r}")
        return cls(
            run_id=str(raw["run_id"]),
            state=cast(RunPhase, state),
            started_at=raw.get("started_at"),
            finished_at=raw.get("finished_at"),
            metrics={str(k): float(v) for k, v in (raw.get("metrics") or {}).items()},
            failing_step=raw.get("failing_step"),
            message=str(raw.get("message") or ""),
            model_tag=raw.get("model_tag"),
        )


class TrainingBackend(Protocol):
    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        """Start the run unless a run with this id exists; either way return its state.

        Idempotent by ``run_id``: a second submit (a resync, a restarted operator) must never
        start a second run.
        """
        ...

    async def status(self, run_id: str) -> RunState | None:
        """The run's state, or None when the backend has never heard of it."""
        ...

    async def cancel(self, run_id: str, reason: str) -> RunState | None:
        """Stop the run if it is still in flight and return its final state.

        Idempotent: a run that already ended (on its own or by an earlier cancel) is returned
        unchanged. None when the backend has never heard of the run. A cluster backend may
        answer while the run is still stopping (in flight); the caller never gates it.
        """
        ...

    async def close(self) -> None: ...
