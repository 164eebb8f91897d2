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
from typing import Final

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
# Rules that read the 1- and 2-sigma zones: they assume normally distributed points.
ZONE_KINDS: Final = frozenset({"count", "within", "outside"})
# The dispersion charts (ranges, standard deviations, moving ranges): skewed, and a moving
# range is correlated with its neighbours (Montgomery, section 6.4), so only the 3-sigma rule.
DISPERSION: Final = frozenset({"r", "s", "mr"})


def applies(attribute: bool, statistic: str, rule: str) -> bool:
    """Whether ``rule`` is evaluated on ``statistic`` of a chart: only the 3-sigma rule on a
    dispersion chart; no zone rule on an attribute chart (p, np, c, u: counts near a small
    centre fall below 1 sigma at every other point; Minitab runs tests 1-4 only there).
    On an in-control p chart (p 0.02, n 50) weco-3 fired 66 times per 1,000 points (4.4 on
    normal data), and on an MR chart weco-4 27 times (7.4 on the individuals)."""
    kind = RULES[rule].kind
    if statistic in DISPERSION:
        return kind == "beyond"
    return not (attribute and kind in ZONE_KINDS)


def not_applicable(attribute: bool, rules: Iterable[str]) -> tuple[str, ...]:
    """The zone rules among ``rules`` that an attribute chart does not evaluate."""
    return tuple(r for r in rules if attribute and RULES[r].kind in ZONE_KINDS)


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


def _shift(flag: BoolArray, by: int) -> BoolArray:
    """``flag`` moved ``by`` points later; the first ``by`` points see no history (False)."""
    out = np.zeros_like(flag)
    if by < flag.size:
        out[by:] = flag[: flag.size - by]
    return out


def _run_at_least(flag: BoolArray, length: int) -> BoolArray:
    """True where ``flag`` holds for the last ``length`` points, by doubling (log passes)."""
    acc = flag
    have = 1  # acc[i] is True when flag holds on the ``have`` points ending at i
    while have < length:
        step = min(have, length - have)
        acc = acc & _shift(acc, step)
        have += step
    return acc


def _window_count(flag: BoolArray, width: int) -> NDArray[np.uint8]:
    """How many of the last ``width`` points (fewer at the start) have ``flag``."""
    count = flag.astype(np.uint8)
    for k in range(1, width):
        count += _shift(flag, k)
    return count


class _Flags:
    """Comparisons shared by several rules, each computed once per evaluation."""

    def __init__(self, x: FloatArray, z: FloatArray) -> None:
        self.x, self.z = x, z
        self._cache: dict[tuple[str, float], BoolArray] = {}
        self._abs: FloatArray | None = None

    def _get(self, key: tuple[str, float], make: Callable[[], BoolArray]) -> BoolArray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def abs_z(self) -> FloatArray:
        if self._abs is None:
            self._abs = np.abs(self.z)
        return self._abs

    def above(self, t: float) -> BoolArray:
        return self._get(("above", t), lambda: self.z > t)

    def below(self, t: float) -> BoolArray:
        return self._get(("below", t), lambda: self.z < -t)

    def within(self, t: float) -> BoolArray:
        return self._get(("within", t), lambda: self.abs_z() < t)

    def outside(self, t: float) -> BoolArray:
        return self._get(("outside", t), lambda: self.abs_z() > t)

    def steps(self) -> tuple[BoolArray, BoolArray]:
        """Rises and falls: entry j compares point j + 1 with point j."""
        up = self._get(("up", 0.0), lambda: self.x[1:] > self.x[:-1])
        down = self._get(("down", 0.0), lambda: self.x[1:] < self.x[:-1])
        return up, down


def _count_rule(f: _Flags, spec: RuleSpec) -> BoolArray:
    fired = np.zeros(f.z.size, dtype=np.bool_)
    for side in (f.above(spec.threshold), f.below(spec.threshold)):
        fired |= side & (_window_count(side, spec.length) >= spec.needed)
    return fired


def _trend(f: _Flags, length: int) -> BoolArray:
    fired = np.zeros(f.x.size, dtype=np.bool_)
    if f.x.size < length:
        return fired
    up, down = f.steps()
    fired[1:] = _run_at_least(up, length - 1) | _run_at_least(down, length - 1)
    return fired


def _alternate(f: _Flags, length: int) -> BoolArray:
    fired = np.zeros(f.x.size, dtype=np.bool_)
    if f.x.size < length:
        return fired
    up, down = f.steps()
    flips = (up[1:] & down[:-1]) | (down[1:] & up[:-1])
    fired[2:] = _run_at_least(flips, length - 2)
    return fired


def _same_side_run(f: _Flags, length: int) -> BoolArray:
    return _run_at_least(f.above(0.0), length) | _run_at_least(f.below(0.0), length)


_EVALUATORS: dict[str, Callable[[_Flags, RuleSpec], BoolArray]] = {
    "beyond": lambda f, s: f.outside(s.threshold),
    "run": lambda f, s: _same_side_run(f, s.length),
    "count": _count_rule,
    "trend": lambda f, s: _trend(f, s.length),
    "alternate": lambda f, s: _alternate(f, s.length),
    "within": lambda f, s: _run_at_least(f.within(s.threshold), s.length),
    "outside": lambda f, s: _run_at_least(f.outside(s.threshold), s.length),
}


def rule_mask(rule: str, x: FloatArray, z: FloatArray) -> BoolArray:
    """Where ``rule`` fires, as a boolean array over the points."""
    spec = RULES[rule]
    return _EVALUATORS[spec.kind](_Flags(x, z), spec)


def evaluate(x: FloatArray, z: FloatArray, rules: Iterable[str]) -> dict[str, IndexArray]:
    """0-based indices at which each rule fires."""
    xs = np.asarray(x, dtype=np.float64)
    zs = np.asarray(z, dtype=np.float64)
    if xs.shape != zs.shape or xs.ndim != 1:
        raise MesInputError(f"points {xs.shape} and z {zs.shape} must be equal 1-d arrays")
    flags = _Flags(xs, zs)
    return {
        rule: np.flatnonzero(_EVALUATORS[RULES[rule].kind](flags, RULES[rule])) for rule in rules
    }


@dataclass(frozen=True, order=True)
class Violation:
    """Rule ``rule`` fired on point ``index`` (0-based) of the plotted statistic ``chart``."""

    index: int
    chart: str
    rule: str


def violations(
    charts: Iterable[tuple[str, FloatArray, FloatArray]],
    rules: Iterable[str],
    offset: int = 0,
    *,
    attribute: bool = False,
) -> list[Violation]:
    """Violations over several plotted statistics ``(name, x, z)``, ordered by point; each
    statistic with the rules that apply to it (``applies``; ``attribute``: the chart is a
    p, np, c or u chart)."""
    rule_ids = tuple(rules)
    names: list[str] = []
    parts: list[tuple[IndexArray, int, int]] = []
    for c, (name, x, z) in enumerate(charts):
        names.append(name)
        found = evaluate(x, z, [r for r in rule_ids if applies(attribute, name, r)])
        for rule_id, idx in found.items():
            parts.append((idx, c, rule_ids.index(rule_id)))
    if not parts:
        return []
    index = np.concatenate([p[0] for p in parts])
    chart = np.concatenate([np.full(p[0].size, p[1]) for p in parts])
    rule = np.concatenate([np.full(p[0].size, p[2]) for p in parts])
    # Sort with numpy, not Python: the order Violation defines (index, chart name, rule id).
    chart_rank = np.argsort(np.argsort(np.array(names, dtype=object)))
    rule_rank = np.argsort(np.argsort(np.array(rule_ids, dtype=object)))
    order = np.lexsort((rule_rank[rule], chart_rank[chart], index))
    return [
        Violation(i + offset, names[c], rule_ids[r])
        for i, c, r in zip(
            index[order].tolist(), chart[order].tolist(), rule[order].tolist(), strict=True
        )
    ]
