"""Western Electric (1956) and Nelson (1984) run rules, evaluated on whole arrays.

Rules read two arrays: the plotted points ``x`` (for trends and alternation, which are about
the values themselves) and their distance from the centre in sigmas ``z`` (for zones). A
violation is reported at the point that completes the pattern; a run longer than its rule
keeps firing at every further point, as in the usual charting packages. Windows at the very
start of a series are partial (the first two points beyond 2 sigma already are "2 of 3").

Every rule looks at most ``MAX_LOOKBACK`` points back, which is what lets the streaming
evaluator carry only that many points between chunks and still agree exactly with this
module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lineops.mes.data import FloatArray
from lineops.mes.errors import MesInputError

BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]

MAX_LOOKBACK = 14  # nelson-7 needs 15 points: the newest plus 14 before it


@dataclass(frozen=True)
class RuleSpec:
    id: str
    description: str
    kind: str  # "beyond" | "run" | "count" | "trend" | "alternate" | "within" | "outside"
    length: int = 1  # points in the pattern
    threshold: float = 0.0  # zone in sigmas
    needed: int = 0  # for "count" rules: how many of ``length`` points


RULES: dict[str, RuleSpec] = {
    r.id: r
    for r in (
        RuleSpec("nelson-1", "one point beyond 3 sigma", "beyond", 1, 3.0),
        RuleSpec("nelson-2", "9 points in a row on the same side of the centre", "run", 9),
        RuleSpec("nelson-3", "6 points in a row steadily increasing or decreasing", "trend", 6),
        RuleSpec("nelson-4", "14 points in a row alternating up and down", "alternate", 14),
        RuleSpec("nelson-5", "2 of 3 points beyond 2 sigma, same side", "count", 3, 2.0, 2),
        RuleSpec("nelson-6", "4 of 5 points beyond 1 sigma, same side", "count", 5, 1.0, 4),
        RuleSpec("nelson-7", "15 points in a row within 1 sigma", "within", 15, 1.0),
        RuleSpec("nelson-8", "8 points in a row beyond 1 sigma, either side", "outside", 8, 1.0),
        RuleSpec("weco-1", "one point beyond 3 sigma", "beyond", 1, 3.0),
        RuleSpec("weco-2", "2 of 3 points beyond 2 sigma, same side", "count", 3, 2.0, 2),
        RuleSpec("weco-3", "4 of 5 points beyond 1 sigma, same side", "count", 5, 1.0, 4),
        RuleSpec("weco-4", "8 points in a row on the same side of the centre", "run", 8),
    )
}

NELSON = tuple(f"nelson-{i}" for i in range(1, 9))
WECO = tuple(f"weco-{i}" for i in range(1, 5))


def parse_rules(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Expand "nelson", "weco", "all" or a comma-separated list of rule ids, keeping order."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: list[str] = []
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        expanded = {"nelson": NELSON, "weco": WECO, "all": NELSON + WECO}.get(item, (item,))
        for rule in expanded:
            if rule not in RULES:
                known = ", ".join(["nelson", "weco", *RULES])
                raise MesInputError(f"unknown rule {item!r}; known: {known}", field="rules")
            if rule not in chosen:
                chosen.append(rule)
    if not chosen:
        raise MesInputError("no rules selected", field="rules")
    return tuple(chosen)


def _window_count(flag: BoolArray, width: int) -> NDArray[np.int64]:
    """How many of the last ``width`` points (fewer at the start) have ``flag``."""
    csum = np.empty(flag.size + 1, dtype=np.int64)
    csum[0] = 0
    np.cumsum(flag, out=csum[1:])
    lo = np.maximum(np.arange(flag.size) - width + 1, 0) if width > 1 else None
    if lo is None:
        return flag.astype(np.int64)
    result: NDArray[np.int64] = csum[1:] - csum[lo]
    return result


def _run_at_least(flag: BoolArray, length: int) -> BoolArray:
    if length <= 1:
        return flag
    csum = np.empty(flag.size + 1, dtype=np.int32)
    csum[0] = 0
    np.cumsum(flag, out=csum[1:])
    out = np.zeros(flag.size, dtype=np.bool_)
    if flag.size >= length:
        out[length - 1 :] = (csum[length:] - csum[: flag.size - length + 1]) == length
    return out


def _count_rule(z: FloatArray, spec: RuleSpec) -> BoolArray:
    fired = np.zeros(z.size, dtype=np.bool_)
    for side in (z > spec.threshold, z < -spec.threshold):
        fired |= side & (_window_count(side, spec.length) >= spec.needed)
    return fired


def _trend(x: FloatArray, length: int) -> BoolArray:
    fired = np.zeros(x.size, dtype=np.bool_)
    if x.size < length:
        return fired
    d = np.diff(x)
    steps = length - 1
    fired[1:] = _run_at_least(d > 0, steps) | _run_at_least(d < 0, steps)
    return fired


def _alternate(x: FloatArray, length: int) -> BoolArray:
    fired = np.zeros(x.size, dtype=np.bool_)
    if x.size < length:
        return fired
    d = np.diff(x)
    flips = ((d[1:] > 0) & (d[:-1] < 0)) | ((d[1:] < 0) & (d[:-1] > 0))
    fired[2:] = _run_at_least(flips, length - 2)
    return fired


def rule_mask(rule: str, x: FloatArray, z: FloatArray) -> BoolArray:
    """Where ``rule`` fires, as a boolean array over the points."""
    spec = RULES[rule]
    return _EVALUATORS[spec.kind](x, z, spec)


_EVALUATORS: dict[str, Callable[[FloatArray, FloatArray, RuleSpec], BoolArray]] = {
    "beyond": lambda x, z, s: np.abs(z) > s.threshold,
    "run": lambda x, z, s: _run_at_least(z > 0, s.length) | _run_at_least(z < 0, s.length),
    "count": lambda x, z, s: _count_rule(z, s),
    "trend": lambda x, z, s: _trend(x, s.length),
    "alternate": lambda x, z, s: _alternate(x, s.length),
    "within": lambda x, z, s: _run_at_least(np.abs(z) < s.threshold, s.length),
    "outside": lambda x, z, s: _run_at_least(np.abs(z) > s.threshold, s.length),
}


def evaluate(x: FloatArray, z: FloatArray, rules: Iterable[str]) -> dict[str, IndexArray]:
    """0-based indices at which each rule fires."""
    xs = np.asarray(x, dtype=np.float64)
    zs = np.asarray(z, dtype=np.float64)
    if xs.shape != zs.shape or xs.ndim != 1:
        raise MesInputError(f"points {xs.shape} and z {zs.shape} must be equal 1-d arrays")
    return {rule: np.flatnonzero(rule_mask(rule, xs, zs)) for rule in rules}


@dataclass(frozen=True, order=True)
class Violation:
    """Rule ``rule`` fired on point ``index`` (0-based) of the plotted statistic ``chart``."""

    index: int
    chart: str
    rule: str


def violations(
    charts: Iterable[tuple[str, FloatArray, FloatArray]], rules: Iterable[str], offset: int = 0
) -> list[Violation]:
    """Violations over several plotted statistics ``(name, x, z)``, ordered by point."""
    rule_ids = tuple(rules)
    found = [
        Violation(int(i) + offset, name, rule)
        for name, x, z in charts
        for rule, idx in evaluate(x, z, rule_ids).items()
        for i in idx
    ]
    return sorted(found)
