"""Phase I (estimate limits from a reference period) and Phase II (monitor with them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lineops.mes.charts import (
    MIN_SUBGROUPS,
    ChartKind,
    ChartParams,
    ChartSeries,
    apply,
    estimate,
)
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.rules import Violation, violations


@dataclass(frozen=True)
class PhaseOne:
    """Limits estimated from a reference period and which subgroups were left out."""

    params: ChartParams
    removed: tuple[int, ...]  # 0-based subgroup indices excluded from the final estimate
    iterations: int


@dataclass(frozen=True)
class ChartResult:
    """A chart plotted against fixed limits, with the run-rule violations found on it."""

    params: ChartParams
    series: tuple[ChartSeries, ...]
    violations: tuple[Violation, ...]

    @property
    def in_control(self) -> bool:
        return not self.violations


def _out_of_limits(kind: ChartKind, series: Sequence[ChartSeries]) -> set[int]:
    flagged: set[int] = set()
    for s in series:
        # A moving range straddles two values; an I-MR reference is cleaned on the I chart.
        if kind is ChartKind.IMR and s.name == "mr":
            continue
        flagged.update(int(i) for i in np.flatnonzero(np.abs(s.z()) > 3.0))
    return flagged


def _estimate_kept(kind: ChartKind, data: ChartData, keep: NDArray[np.bool_]) -> ChartParams:
    """Phase I parameters from the kept subgroups. On I-MR only the moving ranges of two
    kept neighbours count: estimated from the kept values joined up, a removed value's
    neighbours made a moving range that never happened (Minitab drops every range that
    touches an omitted value)."""
    if kind is not ChartKind.IMR or keep.all():
        return estimate(kind, data.take(keep))
    assert data.values is not None
    joined = estimate(kind, data.take(keep))  # the checks, and the centre of the kept values
    both = keep[1:] & keep[:-1]
    if not both.any():
        raise MesInputError("no two neighbouring individuals kept: no moving range to estimate")
    ranges = np.abs(np.diff(data.values))[both]
    return ChartParams(kind, joined.center, float(ranges.mean()), 1)


def phase_one(
    kind: ChartKind | str,
    data: ChartData,
    *,
    remove_out_of_control: bool = False,
    max_iterations: int = 10,
    exclude: Iterable[int] = (),
) -> PhaseOne:
    """Estimate limits, optionally dropping subgroups beyond the limits and re-estimating.

    ``exclude`` drops subgroups known to have an assignable cause before the first pass
    (the textbook "revised limits"). Removal stops when no point is beyond the limits,
    after ``max_iterations`` passes, or before fewer than 2 subgroups would remain.
    """
    kind = ChartKind(kind)
    total = len(data)
    keep = np.ones(total, dtype=np.bool_)
    for i in exclude:
        if not 0 <= i < total:
            raise MesInputError(f"excluded subgroup {i} is outside 0..{total - 1}", row=i)
        keep[i] = False
    params = _estimate_kept(kind, data, keep)
    iterations = 1
    while remove_out_of_control and iterations <= max_iterations:
        kept_idx = np.flatnonzero(keep)
        flagged = _out_of_limits(kind, apply(params, data.take(keep)))
        if not flagged or kept_idx.size - len(flagged) < 2:
            break
        keep[kept_idx[sorted(flagged)]] = False
        params = _estimate_kept(kind, data, keep)
        iterations += 1
    removed = tuple(int(i) for i in np.flatnonzero(~keep))
    return PhaseOne(params, removed, iterations)


def monitor(params: ChartParams, data: ChartData, rules: Iterable[str]) -> ChartResult:
    """Plot ``data`` against fixed limits and evaluate ``rules`` on each statistic they
    apply to (``rules.applies``)."""
    series = apply(params, data)
    found = violations(
        ((s.name, s.points, s.z()) for s in series), rules, attribute=params.kind.is_attribute
    )
    return ChartResult(params, series, tuple(found))


def analyze(
    kind: ChartKind | str,
    data: ChartData,
    rules: Iterable[str],
    *,
    phase1: int | None = None,
    remove_out_of_control: bool = False,
) -> tuple[PhaseOne, ChartResult]:
    """Estimate from the first ``phase1`` subgroups (all if None) and chart every subgroup."""
    kind = ChartKind(kind)
    total = len(data)
    if phase1 is not None and not min(MIN_SUBGROUPS, total) <= phase1 <= total:
        # Fewer than MIN_SUBGROUPS estimate nothing; say so against phase1, not the data.
        raise MesInputError(
            f"phase1 ({phase1}) must be between {MIN_SUBGROUPS} and the number of subgroups "
            f"({total})",
            field="phase1",
        )
    reference = data if phase1 is None else data.take(np.arange(phase1))
    one = phase_one(kind, reference, remove_out_of_control=remove_out_of_control)
    return one, monitor(one.params, data, rules)
