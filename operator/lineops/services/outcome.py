"""What a reconcile decided: the status to write, the Events to post, and how it ended.

Services return an Outcome instead of patching and raising themselves, so the kopf glue in
``lineops.handlers`` stays thin and the decision logic is testable without an API server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import kopf
from pydantic import BaseModel, ValidationError

from lineops.api import reasons as R
from lineops.api.errors import describe_validation_error
from lineops.services.conditions import ConditionSet


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass
class Outcome:
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # Raised by the handler after the status is written, so the user sees why first.
    error: kopf.PermanentError | kopf.TemporaryError | None = None


class InvalidSpec(kopf.PermanentError):
    """The spec cannot be reconciled as written; retrying will not help until it changes."""


class DependencyUnavailable(kopf.TemporaryError):
    """A backend is down or throttling; kopf retries with the given delay."""

    def __init__(self, message: str, delay: float = 10.0) -> None:
        super().__init__(message, delay=delay)


def finish(body: dict[str, Any], conds: ConditionSet, out: Outcome) -> Outcome:
    """Write generation and conditions into the outcome; announce a change of Ready."""
    out.status["observedGeneration"] = body["metadata"].get("generation")
    out.status["conditions"] = conds.dump()
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
    model: type[SpecT], body: dict[str, Any], conds: ConditionSet, out: Outcome
) -> SpecT | None:
    """The parsed spec, or None after recording why it is invalid (SpecValid and Ready
    False with the field named, and a permanent error: retrying cannot fix a spec)."""
    try:
        spec = model.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        message = describe_validation_error(exc)
        conds.set(R.SPEC_VALID, "False", R.INVALID_SPEC, message)
        conds.set(R.READY, "False", R.INVALID_SPEC, message)
        out.error = InvalidSpec(message)
        return None
    conds.set(R.SPEC_VALID, "True", R.RECONCILED, "spec accepted")
    return spec


def begin(body: dict[str, Any], model: type[SpecT]) -> tuple[ConditionSet, Outcome, SpecT | None]:
    """Every reconcile starts here: the object's conditions, an empty outcome, and its spec
    (None when invalid, with the reason already recorded in the outcome)."""
    meta = body["metadata"]
    conds = ConditionSet((body.get("status") or {}).get("conditions"), meta.get("generation"))
    out = Outcome()
    return conds, out, validate_spec(model, body, conds, out)
