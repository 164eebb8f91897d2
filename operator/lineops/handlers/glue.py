"""What every reconcile handler does around its service: time it, patch status, post Events,
and turn the outcome into kopf's retry semantics: a ``kopf.TemporaryError`` (a transient
backend error) is a requeue after its delay, a ``kopf.PermanentError`` (an invalid spec, a
permanent backend error) is not retried until the object changes."""

from __future__ import annotations

from typing import Any

import kopf

from lineops.backends.metrics import OperatorMetrics
from lineops.services.outcome import Outcome


def apply_outcome(
    kind: str,
    body: kopf.Body,
    patch: kopf.Patch,
    metrics: OperatorMetrics,
    outcome: Outcome[Any],
    result: dict[str, str],
) -> None:
    status = outcome.status  # the api status model as a merge patch
    current = body.status
    for key, value in status.items():
        # Only what changed: a monitor tick or a resync that changes nothing sends no
        # request (kopf patches whenever the patch is not empty; N lines ticking each
        # MONITOR_SECONDS made that N status PATCHes per period).
        if current.get(key) != value:
            patch.status[key] = value
    meta = body.metadata
    metrics.set_conditions(
        kind, meta.namespace or "", meta.name or "", status.get("conditions", [])
    )
    for event in outcome.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    if outcome.error is not None:
        result["result"] = "requeue" if isinstance(outcome.error, kopf.TemporaryError) else "error"
        raise outcome.error


def plain(body: kopf.Body) -> dict[str, Any]:
    """The object as plain dicts, which services take (they do not know kopf's views)."""
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": dict(body.metadata),
        "spec": dict(body.spec),
        "status": dict(body.status),
    }
