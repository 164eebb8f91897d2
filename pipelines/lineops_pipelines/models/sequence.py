"""Along-the-series filters for per-row class probabilities, and the rule that decides which
classes a model reports as normal.

Shared by the lineops classifier and every baseline the benchmark compares it with, so that a
baseline gets exactly the post-processing our model gets.

The HMM prior (``transition_matrix``) is the one a plant can live with: a normal row turns
into some fault with probability ``onset`` per row, a fault is repaired (turns back into normal)
with ``repair`` per row, and turns into another fault with ``switch``. The belief starts
uniform over the classes, so a series is not assumed to start normal, nor to hold one fault.

Classes that cannot be told apart from normal on held-out training rows (``normal_like``) are
one state with normal in the filter, and are reported as normal; which member of that group a
row looks most like is kept as its raw class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PROBA_FLOOR = 1e-4  # a forest's zero vote must not veto a class for good
# A class is normal-like when held-out rows of it and of normal are told apart (by the model's
# own probabilities of the two classes) with a balanced accuracy below this: halfway between
# chance (0.5) and a perfect split (1.0). Set a priori, not tuned.
NORMAL_LIKE_ACCURACY = 0.75


def transition_matrix(
    n_classes: int, onset: float, repair: float, switch: float | None = None
) -> np.ndarray:
    """Row-stochastic class transitions; class 0 is normal.

    Normal -> each fault ``onset / (C - 1)``; a fault -> normal ``repair``, -> each other
    fault ``switch / (C - 2)`` (``switch`` defaults to ``repair``)."""
    k = n_classes
    if k == 1:
        return np.ones((1, 1))
    switch = repair if switch is None else switch
    a = np.full((k, k), switch / max(1, k - 2))
    a[:, 0] = repair
    a[0, 1:] = onset / (k - 1)
    np.fill_diagonal(a, 0.0)
    a[np.arange(k), np.arange(k)] = 1.0 - a.sum(axis=1)
    return a


def filter_sequence(proba: np.ndarray, config: Any) -> np.ndarray:
    """(n, C) per-row probabilities of consecutive rows -> (n, C) causally filtered ones.

    ``config`` carries ``sequence`` ("hmm" | "ewma" | "none") and its settings
    (``switch_onset``, ``switch_repair``, ``switch_fault``, ``evidence_weight``, ``smoothing``).
    """
    if config.sequence == "none" or len(proba) == 0:
        return np.asarray(proba / proba.sum(axis=1, keepdims=True))
    if config.sequence == "ewma":
        lp = np.log(proba + PROBA_FLOOR)
        lam = float(config.smoothing)
        acc = lp[0].copy()
        for i in range(len(lp)):
            acc = lam * lp[i] + (1.0 - lam) * acc
            lp[i] = acc
        lp -= lp.max(axis=1, keepdims=True)
        p = np.exp(lp)
        return np.asarray(p / p.sum(axis=1, keepdims=True))
    k = proba.shape[1]
    trans = transition_matrix(k, config.switch_onset, config.switch_repair, config.switch_fault)
    # Floor >= 1e-4 and exponent <= 1 keep evidence above 1e-4, so renormalising each row is
    # enough to stay clear of underflow.
    evidence = (proba + PROBA_FLOOR) ** config.evidence_weight
    out = np.empty_like(proba)
    belief = np.full(k, 1.0 / k)  # no assumption that the series starts normal
    for i in range(len(proba)):
        belief = (belief @ trans) * evidence[i]
        belief /= belief.sum()
        out[i] = belief
    return out


def filter_grouped(proba: np.ndarray, config: Any, normal_like: Sequence[int]) -> np.ndarray:
    """``filter_sequence`` with the ``normal_like`` classes and class 0 as ONE state.

    The group's filtered probability is spread over its members in proportion to each row's
    own (unfiltered) probabilities, so every row still sums to 1 and the raw class within the
    group stays visible; ``report`` decides the label on the group's total."""
    group = sorted({int(c) for c in normal_like} - {0})
    if not group or len(proba) == 0:
        return filter_sequence(proba, config)
    keep = [i for i in range(proba.shape[1]) if i not in group]
    reduced = proba[:, keep].copy()
    reduced[:, 0] += proba[:, group].sum(axis=1)
    filtered = filter_sequence(reduced, config)
    out = np.zeros_like(proba, dtype=float)
    out[:, keep] = filtered
    members = [0, *group]
    own = proba[:, members] + PROBA_FLOOR
    out[:, members] = filtered[:, [0]] * own / own.sum(axis=1, keepdims=True)
    return out


def filter_rows(row_proba: np.ndarray, config: Any, normal_like: Sequence[int]) -> np.ndarray:
    """``filter_grouped`` over one series whose first rows are NaN (window not full yet): they
    pass through as NaN. The filter every classifier and baseline applies."""
    out = np.full_like(row_proba, np.nan)
    full = ~np.isnan(row_proba).any(axis=1)
    out[full] = filter_grouped(row_proba[full], config, normal_like)
    return out


def padded_proba(forest: Any, feats: np.ndarray, n_rows: int, n_classes: int) -> np.ndarray:
    """(n_rows, n_classes) probabilities of a scikit-learn forest for the LAST ``len(feats)``
    rows of a series (NaN before them); its columns are mapped through ``forest.classes_``, so
    a class without training rows gets 0, not another class's share."""
    out = np.full((n_rows, n_classes), np.nan)
    if len(feats):
        out[n_rows - len(feats) :] = 0.0
        out[n_rows - len(feats) :, forest.classes_] = forest.predict_proba(feats)
    return out


def report(proba: np.ndarray, normal_like: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(n, C) probabilities -> (reported, raw) class ids per row.

    ``raw`` is the most probable class; ``reported`` is 0 (normal) when the normal group
    (class 0 and ``normal_like``) holds more probability than any single other class, else that
    class. Rows of NaN get -1 in both."""
    n = len(proba)
    raw = np.full(n, -1, dtype=np.int64)
    reported = np.full(n, -1, dtype=np.int64)
    full = ~np.isnan(proba).any(axis=1) if n else np.zeros(0, bool)
    if not full.any():
        return reported, raw
    p = proba[full]
    raw[full] = p.argmax(axis=1)
    members = sorted({0, *(int(c) for c in normal_like)})
    grouped = p.copy()
    grouped[:, 0] = p[:, members].sum(axis=1)
    grouped[:, [m for m in members if m != 0]] = -1.0
    reported[full] = grouped.argmax(axis=1)
    return reported, raw


def normal_like_classes(
    proba: np.ndarray, truth: np.ndarray, threshold: float = NORMAL_LIKE_ACCURACY
) -> tuple[list[int], dict[int, float]]:
    """The classes a model cannot tell apart from normal (class 0) on held-out rows.

    ``proba`` are the model's per-row probabilities on rows it was not fitted on, ``truth``
    their classes. For every class c with held-out rows, the rows of c and of class 0 are
    split by ``P(c) > P(0)``; c is normal-like when the balanced accuracy of that split is
    below ``threshold``. Each class is tested against normal alone, so one class joining the
    group never pulls in another. Returns (sorted class ids, balanced accuracy per class)."""
    normal = truth == 0
    if not normal.any():
        return [], {}
    scores: dict[int, float] = {}
    for c in sorted({int(v) for v in truth} - {0}):
        rows = truth == c
        says_c = proba[:, c] > proba[:, 0]
        recall_c = float(says_c[rows].mean())
        recall_0 = float((~says_c[normal]).mean())
        scores[c] = (recall_c + recall_0) / 2.0
    return sorted(c for c, acc in scores.items() if acc < threshold), scores


HOLDOUT_FRACTION = 0.3


def holdout_normal_like(
    runs: Sequence[tuple[np.ndarray, np.ndarray]],
    fit_proba: Any,
    history: int,
    fraction: float = HOLDOUT_FRACTION,
    threshold: float = NORMAL_LIKE_ACCURACY,
) -> dict[str, Any]:
    """Run ``normal_like_classes`` on the last ``fraction`` of every training run.

    ``fit_proba(parts)`` fits a per-row model on (x, y) parts and returns a function mapping
    one series to its (n, C) probabilities (NaN rows until its window is full). The model is
    fitted on the first rows of every run; the held-out rows start ``history - 1`` rows later,
    and their features are computed from held-out rows only, so nothing fitted is scored."""
    fit_parts, held = [], []
    for x, y in runs:
        cut = round(len(x) * (1.0 - fraction))
        start = min(len(x), cut + history - 1)
        if cut >= history:
            fit_parts.append((x[:cut], y[:cut]))
        if len(x) - start >= history:
            held.append((x[start:], y[start:]))
    if not fit_parts or not held:
        return {"normal_like": [], "balanced_accuracy": {}, "held_out_rows": 0}
    predict = fit_proba(fit_parts)
    probas, truths = [], []
    for x, y in held:
        p = predict(x)
        keep = ~np.isnan(p).any(axis=1)
        probas.append(p[keep])
        truths.append(y[keep])
    proba, truth = np.concatenate(probas), np.concatenate(truths)
    classes, scores = normal_like_classes(proba, truth, threshold)
    return {
        "normal_like": classes,
        "balanced_accuracy": {str(c): round(v, 4) for c, v in scores.items()},
        "held_out_rows": len(truth),
        "threshold": threshold,
        "fraction": fraction,
    }
