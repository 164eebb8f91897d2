"""Wake a line's models when a retrain signal starts to hold for them.

A QualityModel checks its ``retrainOn`` triggers (SPC alert, drift PSI) when it reconciles;
without a nudge that is the next resync, up to ``LINEOPS_RESYNC_SECONDS`` after the line's
monitor saw the alert. The line knows the moment its status (or its drift annotation) changes,
so it touches every model whose own trigger now holds, on the rising edge only: one patch per
alert, not one per monitoring tick. The model's reconcile still decides (cooldown, run in
flight); the annotation only makes it look now. Edges are remembered in memory, so a restarted
operator may touch a model once more, which a level-based reconcile shrugs off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lineops.api.constants import ANNOTATION_RETRAIN_SIGNAL, QUALITY_MODEL_PLURAL
from lineops.backends.kube import KubeBackend
from lineops.services.training import line_signals
from lineops.services.training_policy import LineSignals


@dataclass(frozen=True)
class Watcher:
    """A model's ``retrainOn`` as its line sees it (from the operator's model index)."""

    model: str
    spc_alert: bool = False
    drift_limit: float | None = None

    def reason(self, signals: LineSignals) -> str:
        """Which of this model's triggers holds: "spc", "drift" or ""."""
        if self.spc_alert and signals.out_of_control:
            return "spc"
        if (
            self.drift_limit is not None
            and signals.drift_psi is not None
            and signals.drift_psi > self.drift_limit
        ):
            return "drift"
        return ""


class RetrainWaker:
    def __init__(self, kube: KubeBackend) -> None:
        self._kube = kube
        self._holding: dict[tuple[str, str], str] = {}  # (namespace, model) -> reason

    async def wake(
        self,
        namespace: str,
        line: dict[str, Any],
        watchers: Iterable[Watcher],
        now: datetime | None = None,
    ) -> list[str]:
        """Touch the models whose trigger started to hold; returns their names."""
        signals = line_signals(line)
        moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        woken = []
        for watcher in sorted(set(watchers), key=lambda w: w.model):
            key = (namespace, watcher.model)
            reason = watcher.reason(signals)
            if reason and self._holding.get(key) != reason:
                annotation = {ANNOTATION_RETRAIN_SIGNAL: f"{reason} {moment}"}
                touched = await self._kube.patch_custom(
                    QUALITY_MODEL_PLURAL,
                    namespace,
                    watcher.model,
                    {"metadata": {"annotations": annotation}},
                    missing_ok=True,  # deleted since the index saw it
                )
                if not touched:
                    # Deleted since the index saw it: remembering it would bring back what
                    # forget() dropped (an entry per deleted model, for good).
                    self._holding.pop(key, None)
                    continue
                woken.append(watcher.model)
            self._holding[key] = reason
        return woken

    def forget(self, namespace: str, model: str) -> None:
        self._holding.pop((namespace, model), None)
