"""``status.conditions`` entries (the shape of metav1.Condition) and how to update them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints

from lineops.api.base import LongText, StatusModel, keyed_list

ConditionStatus = Literal["True", "False", "Unknown"]

# The patterns of metav1.Condition, so these conditions read like built-in ones.
CONDITION_TYPE_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
REASON_PATTERN: Final = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
RFC3339_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
MAX_CONDITIONS: Final = 16
MAX_MESSAGE: Final = 4096  # a condition message kubectl describe can still show

Timestamp = Annotated[str, StringConstraints(pattern=RFC3339_PATTERN, max_length=64)]


class Condition(StatusModel):
    """One aspect of the resource's state, as Kubernetes API conventions define it."""

    type: Annotated[str, StringConstraints(pattern=CONDITION_TYPE_PATTERN, max_length=316)] = Field(
        description="Condition type, e.g. Ready; see lineops.api.reasons."
    )
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: Annotated[str, StringConstraints(pattern=REASON_PATTERN, max_length=1024)] = Field(
        description="CamelCase, machine-readable cause of the last transition."
    )
    message: LongText = Field(default="", description="Human-readable details; may be empty.")
    last_transition_time: Timestamp = Field(
        description="RFC 3339 time at which status last changed."
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation the condition was computed from."
    )


Conditions = Annotated[
    list[Condition],
    Field(max_length=MAX_CONDITIONS, json_schema_extra=keyed_list("type")),
]


def clip_message(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters, saying how much was cut. A backend's error
    text (a Feast exception, a log tail) can be of any length: past the schema's 32 KiB the
    Condition itself was refused and the reconcile wrote no status at all."""
    if len(message) <= limit:
        return message
    cut = f" … ({len(message) - limit} more characters)"
    return message[: limit - len(cut)] + cut


def now_rfc3339() -> str:
    """The current time in the second-precision form the API server itself writes."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    """The condition of that type, if present."""
    return next((c for c in conditions if c.type == type_), None)


def set_condition(
    conditions: Sequence[Condition],
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str = "",
    *,
    observed_generation: int | None = None,
    now: str | None = None,
) -> list[Condition]:
    """A new list with that condition set; other conditions keep their order.

    ``lastTransitionTime`` only moves when ``status`` changes, so a resync that finds
    nothing new produces an identical list and therefore no status patch.
    """
    message = clip_message(message)
    previous = find_condition(conditions, type_)
    if previous is not None and previous.status == status:
        transition = previous.last_transition_time
    else:
        transition = now or now_rfc3339()
    updated = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=transition,
        observed_generation=observed_generation,
    )
    if previous is None:
        return [*conditions, updated]
    return [updated if c.type == type_ else c for c in conditions]
