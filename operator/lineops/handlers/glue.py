"""What every reconcile handler does around its service: time it, patch status, post Events,
and turn the outcome into kopf's retry semantics."""

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
    outcome: Outcome,
    result: dict[str, str],
) -> None:
    for key, value in outcome.status.items():
        patch.status[key] = value
    meta = body.metadata
    metrics.set_conditions(
        kind, meta.namespace or "", meta.name or "", outcome.status.get("conditions", [])
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
