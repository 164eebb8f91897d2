"""What every reconcile handler does around its service: time it, patch status, post Events,
and turn the outcome into kopf's retry semantics: a ``kopf.TemporaryError`` (a transient
backend error) is a requeue after its delay, a ``kopf.PermanentError`` (an invalid spec, a
permanent backend error) is not retried until the object changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from lineops.backends.metrics import OperatorMetrics
from lineops.services.outcome import Outcome
from lineops.services.status import changed_fields


def apply_outcome(
    kind: str,
    body: kopf.Body,
    patch: kopf.Patch,
    metrics: OperatorMetrics,
    outcome: Outcome[Any],
    result: dict[str, str],
) -> None:
    # Only the fields that differ from the object's (as the API server applies a merge
    # patch, RFC 7386): a monitor tick or a resync that changes nothing sends no request
    # (kopf patches whenever the patch is not empty).
    for key, value in changed_fields(body.status, outcome.status).items():
        patch.status[key] = value
    publish(kind, body, metrics, outcome)
    if outcome.error is not None:
        result["result"] = "requeue" if isinstance(outcome.error, kopf.TemporaryError) else "error"
        raise outcome.error


def publish(
    kind: str, body: Mapping[str, Any], metrics: OperatorMetrics, outcome: Outcome[Any]
) -> None:
    """The outcome's condition series and Events."""
    meta = body["metadata"]
    metrics.set_conditions(
        kind,
        meta.get("namespace") or "",
        meta.get("name") or "",
        outcome.status.get("conditions", []),
    )
    # kopf builds the Event's object reference from apiVersion, kind and metadata, which a
    # plain dict (the monitor loop's) has as well as a kopf.Body.
    target = cast(kopf.Body, body)
    for event in outcome.events:
        kopf.event(target, type=event.type, reason=event.reason, message=event.message)


def plain(body: kopf.Body) -> dict[str, Any]:
    """The object as plain dicts, which services take (they do not know kopf's views)."""
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": dict(body.metadata),
        "spec": dict(body.spec),
        "status": dict(body.status),
    }
