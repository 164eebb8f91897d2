"""Choosing the fault classifier's settings from TRAINING runs only (never the test files).

Two protocols, both used by ``benchmarks/te.py --select-classifier`` (docs/benchmarks.md):

* ``classifier_validation`` scores the per-row classifier (features, forest settings) on
  held-out rows of the training runs and on held-out normal realisations;
* ``classifier_onset_validation`` builds fault *onsets* from the training runs (a held-out
  normal realisation followed by a fault run's rows the model was not fitted on) and scores
  candidate along-the-series filters on them: the only protocol here with an onset, so the
  only one that can weigh a filter's persistence against its delay.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from lineops_pipelines.models.classifier import ClassifierConfig, FaultClassifier, filter_sequence


def classifier_validation(
    runs: dict[int, np.ndarray],
    normal_like: tuple[int, ...],
    config: ClassifierConfig,
    seeds: tuple[int, ...] = (0, 1),
    cut: int = 288,
    start: int = 347,
) -> dict[str, float]:
    """Held-out scores of a classifier config from TRAINING runs only ({class id: run}).

    Every run is one class; ``normal_like`` runs (TE: 0, 3, 9, 15) count as class 0.

    * ``time``: fit on rows ``< cut`` of every run, score rows ``>= start`` with features (and
      the smoothing) computed from rows ``>= cut`` only, so no feature memory reaches back into
      fitted rows;
    * ``new_normal``: each normal-like run is held out in turn (the model learns normal from
      the others, fault runs from rows ``< cut``) and scored whole, together with the fault
      runs' ``time`` rows: normal rows of an unseen realisation, as in a test run.

    Macro-F1 over class 0 and the fault classes, pooled over seeds; ``mean`` averages both.
    """
    faults = [f for f in runs if f not in normal_like]
    labels = [0, *faults]

    def score(truth: list[np.ndarray], pred: list[np.ndarray]) -> float:
        t, p = np.concatenate(truth), np.concatenate(pred)
        p = np.where(np.isin(p, list(normal_like)), 0, p)
        return float(f1_score(t, p, labels=labels, average="macro", zero_division=0))

    def fit(parts: list[tuple[np.ndarray, int]], seed: int) -> tuple[FaultClassifier, list[int]]:
        return _fit_ids(parts, config, seed)

    def predict(model: FaultClassifier, ids: list[int], x: np.ndarray) -> np.ndarray:
        pred = model.predict(x)
        return np.array([ids[p] if p >= 0 else -1 for p in pred])

    results: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"time": [], "new_normal": []}
    for seed in seeds:
        model, ids = fit([(x[:cut], f) for f, x in runs.items()], seed)
        for f, x in runs.items():
            pred = predict(model, ids, x[cut:])[start - cut :]
            results["time"].append((np.full(len(pred), 0 if f in normal_like else f), pred))
        for held in normal_like:
            parts = [
                (x if f in normal_like else x[:cut], 0 if f in normal_like else f)
                for f, x in runs.items()
                if f != held
            ]
            model, ids = fit(parts, seed)
            pred = predict(model, ids, runs[held])
            keep = pred >= 0
            results["new_normal"].append((np.zeros(int(keep.sum()), int), pred[keep]))
            if held == normal_like[0]:
                for f in faults:
                    p = predict(model, ids, runs[f][cut:])[start - cut :]
                    results["new_normal"].append((np.full(len(p), f), p))
    out = {k: score([t for t, _ in v], [p for _, p in v]) for k, v in results.items()}
    out["mean"] = (out["time"] + out["new_normal"]) / 2
    return out


def _fit_ids(
    parts: list[tuple[np.ndarray, int]], config: ClassifierConfig, seed: int
) -> tuple[FaultClassifier, list[int]]:
    """A classifier over the class ids present in ``parts`` ((rows, class id) pairs)."""
    ids = sorted({c for _, c in parts})
    index = {c: i for i, c in enumerate(ids)}
    labelled = [(x, np.full(len(x), index[c])) for x, c in parts]
    names = [f"v{i}" for i in range(parts[0][0].shape[1])]
    return FaultClassifier.fit(labelled, names, [str(c) for c in ids], config, seed), ids


def classifier_onset_validation(
    runs: dict[int, np.ndarray],
    normal_like: tuple[int, ...],
    config: ClassifierConfig,
    candidates: dict[str, dict[str, Any]],
    seeds: tuple[int, ...] = (0, 1),
    cut: int = 240,
    onset: int = 160,
    first_scored: int = 39,
) -> dict[str, Any]:
    """Macro-F1 of each candidate filter (``{name: ClassifierConfig overrides}``) on spliced
    onsets built from TRAINING runs ({class id: run}); ``normal_like`` runs count as class 0.

    For each seed, each half (``late``: fit on rows ``< cut`` of the fault runs, score rows
    ``>= cut``; ``early``: the reverse, so the scored rows include the fault's first hours)
    and each held-out normal-like run: the model learns normal from the other normal-like
    runs, and is scored on the held-out run alone and on ``onset`` rows of it followed by the
    unseen rows of every fault run, rows ``>= first_scored`` (the test files' layout, shorter
    fault segments). Per-row probabilities are computed once per model; the candidates only
    change the filter. Pooled over everything; one figure per candidate and per seed.
    """
    faults = [f for f in runs if f not in normal_like]
    labels = [0, *faults]
    n_classes = max(runs) + 1
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    per_seed: dict[str, dict[int, list[tuple[np.ndarray, np.ndarray]]]] = {}
    for seed in seeds:
        for half in ("late", "early"):
            for held in normal_like:
                parts = [
                    (x, 0) if f in normal_like else (x[:cut] if half == "late" else x[cut:], f)
                    for f, x in runs.items()
                    if f != held
                ]
                model, ids = _fit_ids(parts, config, seed)
                w = model.config.window
                series = [(runs[held], np.zeros(len(runs[held]), np.int64))]
                for f in faults:
                    unseen = runs[f][cut:] if half == "late" else runs[f][:cut]
                    x = np.vstack([runs[held][:onset], unseen])
                    truth = np.full(len(x), f)
                    truth[:onset] = 0
                    series.append((x, truth))
                for x, truth in series:
                    raw = np.zeros((len(x) - w + 1, n_classes))
                    raw[:, ids] = model._row_proba(model._features(x)[w - 1 :])
                    for name, overrides in candidates.items():
                        smoothed = filter_sequence(raw, replace(config, **overrides))
                        pred = smoothed.argmax(axis=1)[first_scored - (w - 1) :]
                        pair = (truth[first_scored:], pred)
                        pooled.setdefault(name, []).append(pair)
                        per_seed.setdefault(name, {}).setdefault(seed, []).append(pair)

    def score(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
        t = np.concatenate([t for t, _ in pairs])
        p = np.concatenate([p for _, p in pairs])
        p = np.where(np.isin(p, list(normal_like)), 0, p)
        return float(f1_score(t, p, labels=labels, average="macro", zero_division=0))

    table = {
        name: {"mean": score(pairs), **{f"seed {s}": score(v) for s, v in per_seed[name].items()}}
        for name, pairs in pooled.items()
    }
    best = max(table, key=lambda name: table[name]["mean"])
    return {"best": best, "table": table, "cut": cut, "onset": onset, "seeds": list(seeds)}
