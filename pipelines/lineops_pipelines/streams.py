"""Scoring models the way a line runs: one long series in which faults come, get repaired and
others follow, scored without resets.

A stream is built by joining runs end to end; every run keeps its own labels. On the TE test
files (160 normal rows, then the fault) joining the files in a random order gives exactly that:
each fault is followed by the next file's 160 normal rows (a repair, to another realisation of
normal operation) and then by the next fault. Selection streams are built the same way from
the training files only (``classifier_selection``).

Metrics (``classifier_stream_metrics``, ``detector_stream_metrics``) leave out a grace period
of ``grace`` rows after every change of the true state, because the first rows after a change
belong to no state a model could know yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

GRACE = 20  # rows (1 h of TE samples) after each change of the true state, left out
CONSECUTIVE = 3  # a detection is the first of this many consecutive correct rows


@dataclass
class Stream:
    """Rows of one series (n, F) and their true class per row (``segments_of`` splits it)."""

    x: np.ndarray
    truth: np.ndarray


def join(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> Stream:
    """One stream from (rows, class per row) parts, in order."""
    x = np.vstack([p for p, _ in parts])
    truth = np.concatenate([np.asarray(t, dtype=np.int64) for _, t in parts])
    return Stream(x, truth)


def segments_of(truth: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, class) of every maximal run of one class."""
    if len(truth) == 0:
        return []
    edges = np.flatnonzero(np.diff(truth)) + 1
    starts = np.r_[0, edges]
    ends = np.r_[edges, len(truth)]
    return [(int(s), int(e), int(truth[s])) for s, e in zip(starts, ends, strict=True)]


def te_runs_stream(tests: dict[int, np.ndarray], order: Sequence[int], onset: int) -> Stream:
    """TE test runs (fault ``f`` from row ``onset``, normal before) joined in ``order``."""
    parts = []
    for f in order:
        x = tests[int(f)]
        truth = np.zeros(len(x), dtype=np.int64)
        truth[onset:] = int(f)
        parts.append((x, truth))
    return join(parts)


def te_test_stream(tests: dict[int, np.ndarray], order_seed: int, onset: int) -> Stream:
    """Every TE test file joined in a random order."""
    order = np.random.default_rng(order_seed).permutation(sorted(tests))
    return te_runs_stream(tests, [int(f) for f in order], onset)


def merge_normal(truth: np.ndarray, normal_like: Sequence[int]) -> np.ndarray:
    """Class ids with ``normal_like`` classes counted as normal (0)."""
    return np.where(np.isin(truth, list(normal_like)), 0, truth)


def scored_rows(truth: np.ndarray, grace: int = GRACE) -> np.ndarray:
    """Mask of rows at least ``grace`` rows after the last change of ``truth``."""
    keep = np.ones(len(truth), dtype=bool)
    for start, _, _ in segments_of(truth)[1:]:
        keep[start : start + grace] = False
    return keep


def post_repair_rows(truth: np.ndarray, grace: int = GRACE) -> np.ndarray:
    """Mask of normal rows (0) after the grace in segments that follow a fault segment."""
    mask = np.zeros(len(truth), dtype=bool)
    previous = None
    for start, end, cls in segments_of(truth):
        if cls == 0 and previous not in (None, 0):
            mask[start + grace : end] = True
        previous = cls
    return mask


def first_run(hits: np.ndarray, consecutive: int = CONSECUTIVE) -> int | None:
    """Index of the first of ``consecutive`` True values in a row, or None."""
    run = 0
    for i, hit in enumerate(hits):
        run = run + 1 if hit else 0
        if run == consecutive:
            return i - consecutive + 1
    return None


def classifier_stream_metrics(
    truth: np.ndarray,
    reported: np.ndarray,
    normal_like: Sequence[int] = (),
    grace: int = GRACE,
) -> dict[str, Any]:
    """Scores of reported labels over one stream (or several concatenated, with their truth).

    Both truth and labels count ``normal_like`` classes as normal. ``macro_f1`` is over normal
    and the fault classes present, on rows past the grace; ``post_repair_normal`` is the share
    of post-repair rows (past the grace) reported normal; ``delay`` per fault is the number of
    rows from the segment's start to the first of ``CONSECUTIVE`` rows with the right label
    (the segment's length when never), averaged over the fault's segments."""
    t = merge_normal(truth, normal_like)
    p = merge_normal(reported, normal_like)
    keep = scored_rows(t, grace) & (p >= 0)
    labels = sorted({int(c) for c in t})
    out: dict[str, Any] = {
        "macro_f1": float(
            f1_score(t[keep], p[keep], labels=labels, average="macro", zero_division=0)
        ),
        "rows_scored": int(keep.sum()),
    }
    after = post_repair_rows(t, grace) & (p >= 0)
    out["post_repair_rows"] = int(after.sum())
    out["post_repair_normal"] = float(np.mean(p[after] == 0)) if after.any() else float("nan")
    out.update(_fault_delays(t, lambda start, end, cls: p[start:end] == cls))
    return out


def detector_stream_metrics(
    truth: np.ndarray, alarms: np.ndarray, normal_like: Sequence[int] = (), grace: int = GRACE
) -> dict[str, Any]:
    """Alarm scores over one stream: ``alarm_rate_after_repair`` (post-repair rows past the
    grace), ``false_alarm_rate`` (every normal row past the grace), ``detection`` (fault rows
    past the grace) and the mean delay (first of ``CONSECUTIVE`` alarms from each fault
    segment's start, the segment's length when never)."""
    t = merge_normal(truth, normal_like)
    keep = scored_rows(t, grace)
    after = post_repair_rows(t, grace)
    normal = keep & (t == 0)
    fault = keep & (t != 0)
    return {
        "alarm_rate_after_repair": float(np.mean(alarms[after])) if after.any() else float("nan"),
        "false_alarm_rate": float(np.mean(alarms[normal])) if normal.any() else float("nan"),
        "detection": float(np.mean(alarms[fault])) if fault.any() else float("nan"),
        **_fault_delays(t, lambda start, end, _cls: alarms[start:end]),
    }


def _fault_delays(truth: np.ndarray, hits: Callable[[int, int, int], np.ndarray]) -> dict[str, Any]:
    """``delay`` per fault class (mean over its segments) and ``mean_delay`` over the classes:
    rows from a fault segment's start to the first of ``CONSECUTIVE`` hits, where
    ``hits(start, end, cls)`` marks the segment's rows that count (the segment's length when
    there is no such run)."""
    delays: dict[int, list[int]] = {}
    for start, end, cls in segments_of(truth):
        if cls != 0:
            hit = first_run(hits(start, end, cls))
            delays.setdefault(cls, []).append(hit if hit is not None else end - start)
    return {
        "delay": {str(c): float(np.mean(v)) for c, v in sorted(delays.items())},
        "mean_delay": float(np.mean([np.mean(v) for v in delays.values()])) if delays else 0.0,
    }
