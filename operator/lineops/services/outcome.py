"""What a reconcile decided: the status to write, the Events to post, and how it ended.

Services return an Outcome instead of patching and raising themselves, so the kopf glue in
``lineops.handlers`` stays thin and the decision logic is testable without an API server.
The status is the kind's ``lineops.api`` status model (see ``lineops.services.status``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import kopf
from pydantic import BaseModel, ValidationError

from lineops.api import reasons as R
from lineops.api.errors import describe_validation_error
from lineops.api.kinds import ResourceInfo, name_problem
from lineops.api.productionline import ProductionLineStatus
from lineops.api.qualitymodel import QualityModelStatus
from lineops.backends.errors import BackendError, TransientBackendError
from lineops.services.conditions import ConditionSet
from lineops.services.status import merge_patch

StatusT = TypeVar("StatusT", ProductionLineStatus, QualityModelStatus)


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass
class Outcome(Generic[StatusT]):
    # The status fields this reconcile writes: set a field to write it, set a top-level field
    # to None to remove it; fields never set are left as they are on the object.
    update: StatusT
    events: list[Event] = field(default_factory=list)
    # Raised by the handler after the status is written, so the user sees why first.
    error: kopf.PermanentError | kopf.TemporaryError | None = None

    @property
    def status(self) -> dict[str, Any]:
        """``update`` as the JSON merge patch for ``.status`` (camelCase, what kopf sends)."""
        return merge_patch(self.update)


class InvalidSpec(kopf.PermanentError):
    """The spec cannot be reconciled as written; retrying will not help until it changes."""


class DependencyUnavailable(kopf.TemporaryError):
    """A backend is down or throttling; kopf retries with the given delay."""

    def __init__(self, message: str, delay: float = 10.0) -> None:
        super().__init__(message, delay=delay)


class BackendRejected(kopf.PermanentError):
    """A backend rejected what the reconcile asked for; retrying the same request cannot help
    until the spec changes."""


def backend_error(exc: BackendError) -> DependencyUnavailable | BackendRejected:
    """The kopf error for a backend error: a requeue after ``retry_after`` for a transient
    one, no retry for a permanent one."""
    if isinstance(exc, TransientBackendError):
        return DependencyUnavailable(str(exc), delay=exc.retry_after)
    return BackendRejected(str(exc))


def backend_failed(
    conds: ConditionSet, out: Outcome[Any], exc: BackendError, what: str = ""
) -> None:
    """Record a backend error that stops the reconcile: ``Ready=False`` (``BackendError``,
    retried, or ``BackendRejected``, not retried) with the cause, and the matching error."""
    message = f"{what}: {exc}" if what else str(exc)
    error = backend_error(exc)
    reason = R.BACKEND_ERROR if isinstance(error, DependencyUnavailable) else R.BACKEND_REJECTED
    conds.set(R.READY, "False", reason, message)
    out.error = error


def finish(
    body: dict[str, Any], conds: ConditionSet, out: Outcome[StatusT], *, observe: bool = True
) -> Outcome[StatusT]:
    """Write generation and conditions into the outcome; announce a change of Ready.

    ``observe=False``: only the full reconcile may claim a generation as observed."""
    if observe:
        out.update.observed_generation = body["metadata"].get("generation")
    out.update.conditions = conds.current
    if conds.transitioned(R.READY):
        ready = conds.get(R.READY)
        assert ready is not None
        out.events.append(
            Event(
                "Normal" if ready.status == "True" else "Warning",
                ready.reason,
                ready.message or ready.reason,
            )
        )
    return out


SpecT = TypeVar("SpecT", bound=BaseModel)


def validate_spec(
    model: type[SpecT],
    body: dict[str, Any],
    conds: ConditionSet,
    out: Outcome[Any],
    kind: ResourceInfo | None = None,
) -> SpecT | None:
    """The parsed spec, or None after recording why it is invalid (SpecValid and Ready
    False with the field named, and a permanent error: retrying cannot fix a spec). With
    ``kind``, the object's name is checked too (the CRD's rule, for objects made before it)."""
    message = name_problem(kind, body["metadata"]["name"]) if kind else None
    if message is None:
        try:
            return _accepted(model.model_validate(body.get("spec") or {}), conds)
        except ValidationError as exc:
            message = describe_validation_error(exc)
    conds.set(R.SPEC_VALID, "False", R.INVALID_SPEC, message)
    conds.set(R.READY, "False", R.INVALID_SPEC, message)
    out.error = InvalidSpec(message)
    return None


def _accepted(spec: SpecT, conds: ConditionSet) -> SpecT:
    conds.set(R.SPEC_VALID, "True", R.RECONCILED, "spec accepted")
    return spec


def start(body: dict[str, Any], status: type[StatusT]) -> tuple[ConditionSet, Outcome[StatusT]]:
    """The object's conditions and an empty outcome writing a ``status``."""
    meta = body["metadata"]
    conds = ConditionSet((body.get("status") or {}).get("conditions"), meta.get("generation"))
    return conds, Outcome(status())


def begin(
    body: dict[str, Any], kind: ResourceInfo, model: type[SpecT], status: type[StatusT]
) -> tuple[ConditionSet, Outcome[StatusT], SpecT | None]:
    """Every reconcile starts here: the object's conditions, an empty outcome, and its spec
    (None when it or the object's name is invalid, with the reason already recorded in the
    outcome)."""
    conds, out = start(body, status)
    return conds, out, validate_spec(model, body, conds, out, kind)
