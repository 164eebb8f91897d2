"""The promotion gate: does a freshly trained candidate replace the champion?

Scores are compared as decimals of the strings written into status (six significant digits),
so a decision recomputed from status after a restart is the decision made the first time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from lineops.api import reasons as R
from lineops.api.qualitymodel import Promotion

MAX_STATUS_METRICS: Final = 32  # QualityModelStatus' schema bound


def metric_text(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def status_metrics(metrics: dict[str, float], first: str) -> dict[str, str]:
    """Metrics as status strings: the promotion metric and summary figures first, per-class
    details (``f1_class_*``) only while they fit the schema's bound."""

    def rank(name: str) -> tuple[int, str]:
        return (0 if name == first else 2 if name.startswith("f1_class_") else 1, name)

    names = sorted(metrics, key=rank)[:MAX_STATUS_METRICS]
    return {name[:63]: metric_text(metrics[name]) for name in names}


def score_of(metrics: dict[str, str], metric: str) -> Decimal | None:
    text = metrics.get(metric)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str  # Promoted | BelowMinimum | ChampionNotBeaten
    message: str
    score: Decimal | None


def decide(
    candidate: dict[str, str], champion: dict[str, str] | None, promotion: Promotion
) -> Verdict:
    """``candidate``/``champion`` are status metric maps (name -> decimal string)."""
    metric = promotion.chosen_metric.value
    better = promotion.chosen_metric.higher_is_better
    word = "at least" if better else "at most"
    score = score_of(candidate, metric)
    if score is None:
        return Verdict(False, R.BELOW_MINIMUM, f"the run reported no {metric}", None)
    minimum = None if promotion.minimum is None else Decimal(promotion.minimum)
    if minimum is not None and (score < minimum if better else score > minimum):
        return Verdict(
            False,
            R.BELOW_MINIMUM,
            f"{metric} {score} of the challenger; spec.promotion.minimum needs {word} {minimum}",
            score,
        )
    best = score_of(champion or {}, metric)
    if best is not None:
        margin = Decimal(promotion.must_beat_champion_by)
        gain = score - best if better else best - score
        if gain < margin:
            return Verdict(
                False,
                R.CHAMPION_NOT_BEATEN,
                f"{metric} {score} of the challenger vs {best} of the champion: improvement "
                f"{gain} is below spec.promotion.mustBeatChampionBy {margin}",
                score,
            )
        why = f"beats the champion's {best} by {gain} (margin {margin})"
    else:
        why = "no champion yet"
    floor = f", minimum {minimum}" if minimum is not None else ""
    return Verdict(True, R.PROMOTED, f"{metric} {score}{floor}; {why}", score)
