"""Compare the candidate's metrics with the current champion's (given as a parameter)."""

from typing import NamedTuple

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def compare_with_champion(
    task: str,
    candidate_metrics: str,
    champion_metrics: str,
    metric: str,
    minimum: float,
    must_beat_by: float,
) -> NamedTuple("Decision", [("promote", bool), ("reason", str), ("value", float)]):
    """Promote when the metric reaches ``minimum`` and beats the champion by ``must_beat_by``.

    ``metric`` empty selects the task's primary metric; ``champion_metrics`` "{}" means there
    is no champion yet. A ``champion_<metric>`` among the candidate's metrics (the champion
    scored on the same held-out rows) wins over the champion's stored figure. ``rmse`` and
    ``mae`` are lower-is-better, as the operator's gate reads them: ``minimum`` is then a
    maximum, and beating means being lower. ``minimum`` 0.0 (the input's default) is no
    bound where no model could reach it (a lower-is-better metric, a ``neg_`` one). A metric
    that is not a finite number is never promoted (NaN passed every comparison).
    """
    import json
    import math
    from collections import namedtuple

    from lineops_pipelines import training

    decision = namedtuple("Decision", ["promote", "reason", "value"])
    name = metric or training.PRIMARY_METRIC[task]
    lower = name in ("rmse", "mae")
    candidate = json.loads(candidate_metrics)
    if name not in candidate:
        raise ValueError(f"metric {name!r} not among the candidate's metrics: {sorted(candidate)}")
    value = float(candidate[name])
    if not math.isfinite(value):
        return decision(False, f"{name}={value} is not a finite number", value)
    unbounded = minimum == 0.0 and (lower or name.startswith("neg_"))
    if not unbounded and (value > minimum if lower else value < minimum):
        side = "above the maximum" if lower else "below the minimum"
        return decision(False, f"{name}={value:.4f} {side} {minimum:.4f}", value)
    champion = json.loads(champion_metrics or "{}")
    if f"champion_{name}" in candidate:
        champion = {name: candidate[f"champion_{name}"]}
    if name in champion and math.isfinite(float(champion[name])):
        bar = float(champion[name]) + (-must_beat_by if lower else must_beat_by)
        if value > bar if lower else value < bar:
            return decision(
                False, f"{name}={value:.4f} does not beat the champion's {bar:.4f}", value
            )
        return decision(True, f"{name}={value:.4f} beats the champion's {bar:.4f}", value)
    return decision(True, f"{name}={value:.4f}; no champion yet", value)
