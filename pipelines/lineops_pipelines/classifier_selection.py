"""Choosing the fault classifier's settings from TRAINING runs only (never the test files).

* ``classifier_stream_validation`` (run by every ``benchmarks/te.py``) chooses the
  along-the-series filter, for the lineops classifier and for the ExtraTrees baseline alike,
  on streams with repairs built from the training runs: held-out normal rows, an unseen
  fault, normal again, the next fault, ... scored as one series;
* ``classifier_validation`` scores the per-row classifier (features, forest settings) on
  held-out rows of the training runs and on held-out normal realisations;
* ``classifier_onset_validation`` (the previous round's filter selection, one onset per
  series and no repair) stays reproducible with ``benchmarks/te.py --select-classifier``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from lineops_pipelines import streams
from lineops_pipelines.models.classifier import ClassifierConfig, FaultClassifier
from lineops_pipelines.models.sequence import filter_sequence, report


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


def training_stream(
    normal: np.ndarray,
    faults: list[tuple[np.ndarray, int]],
    normal_rows: int,
    order_seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One stream from TRAINING rows: normal, fault, normal (a repair), next fault, ..., normal.

    Faults come in a random order; every normal stretch is the next ``normal_rows`` rows of
    the held-out ``normal`` run (wrapping around), so repairs return to unseen normal rows."""
    order = np.random.default_rng(order_seed).permutation(len(faults))
    span = max(1, len(normal) - normal_rows)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for i, k in enumerate([*order, None]):
        start = (i * normal_rows) % span
        chunk = normal[start : start + normal_rows]
        parts.append((chunk, np.zeros(len(chunk), np.int64)))
        if k is not None:
            x, f = faults[int(k)]
            parts.append((x, np.full(len(x), f)))
    return np.vstack([x for x, _ in parts]), np.concatenate([t for _, t in parts])


def classifier_stream_validation(
    runs: dict[int, np.ndarray],
    normal_like: tuple[int, ...],
    fit: Any,
    candidates: dict[str, dict[str, Any]],
    base: ClassifierConfig | None = None,
    seeds: tuple[int, ...] = (0,),
    cut: int = 240,
    normal_rows: int = 160,
    grace: int = streams.GRACE,
) -> dict[str, Any]:
    """Choose an along-the-series filter on streams WITH REPAIRS built from training runs.

    ``fit(parts, n_classes, seed)`` fits the per-row model (lineops or a baseline) on (rows,
    class id) parts and returns an object with ``row_proba(x)``, ``filter(row_proba, config)``
    and ``normal_like``; every
    candidate filter (``{name: ClassifierConfig overrides}``) is applied to the same per-row
    probabilities, with the model's normal-like classes as one state with normal.

    For each seed, each half (``late``: fit on rows ``< cut`` of the fault runs, stream the rows
    ``>= cut``; ``early``: the reverse) and each held-out normal-like run: the model learns
    normal from the other normal-like runs; the stream alternates ``normal_rows`` rows of the
    held-out run with the unseen half of every fault run, in a random order, and ends normal.
    Scored as ONE series per stream (``streams.classifier_stream_metrics``, pooled); the
    candidate with the best macro-F1 wins."""
    base = base or ClassifierConfig()
    n_classes = max(runs) + 1
    faults = [f for f in runs if f not in normal_like]
    truths: list[np.ndarray] = []
    reported: dict[str, list[np.ndarray]] = {name: [] for name in candidates}
    for seed in seeds:
        for half in ("late", "early"):
            for held in normal_like:
                parts = []
                for f, x in runs.items():
                    if f in normal_like:
                        if f != held:
                            parts.append((x, np.zeros(len(x), np.int64)))
                        continue
                    seen = x[:cut] if half == "late" else x[cut:]
                    parts.append((seen, np.full(len(seen), f)))
                model = fit(parts, n_classes, seed)
                unseen = [((runs[f][cut:] if half == "late" else runs[f][:cut]), f) for f in faults]
                x, truth = training_stream(runs[held], unseen, normal_rows, seed * 100 + held)
                raw = model.row_proba(x)
                full = ~np.isnan(raw).any(axis=1)
                truths.append(truth[full])
                for name, overrides in candidates.items():
                    proba = model.filter(raw, replace(base, **overrides))
                    reported[name].append(report(proba, model.normal_like)[0][full])
    truth = np.concatenate(truths)
    table = {}
    for name, preds in reported.items():
        m = streams.classifier_stream_metrics(truth, np.concatenate(preds), (), grace)
        table[name] = {k: m[k] for k in ("macro_f1", "post_repair_normal", "mean_delay")}
    best = max(table, key=lambda name: table[name]["macro_f1"])
    return {
        "best": best,
        "table": table,
        "cut": cut,
        "normal_rows": normal_rows,
        "grace": grace,
        "seeds": list(seeds),
    }
