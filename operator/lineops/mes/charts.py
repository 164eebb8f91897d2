"""Shewhart control charts: statistics, centre lines, limits and per-point sigma.

Every chart here is "centre +/- 3 sigma of the plotted statistic", clamped where the
statistic cannot go (ranges, counts and proportions are never negative; proportions never
exceed 1). Keeping the per-point sigma lets the run rules work on one standardised scale for
all charts, including p and u charts whose limits vary with the sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lineops.mes.constants import constants
from lineops.mes.data import ChartData, FloatArray
from lineops.mes.errors import MesInputError
from lineops.mes.kinds import ChartKind

MIN_SUBGROUPS = 2


@dataclass(frozen=True)
class ChartParams:
    """Estimated process parameters from which every limit follows.

    ``center`` is x-double-bar, x-bar, p-bar, c-bar or u-bar; ``spread`` is R-bar, s-bar or
    MR-bar (0 for attribute charts); ``n`` is the subgroup size (1 for I-MR, the fixed sample
    size for np, 0 where sample sizes vary per point).
    """

    kind: ChartKind
    center: float
    spread: float
    n: int

    @property
    def sigma(self) -> float:
        """Within-subgroup process sigma (variables charts only)."""
        if self.kind is ChartKind.XBAR_R:
            return self.spread / constants(self.n).d2
        if self.kind is ChartKind.XBAR_S:
            return self.spread / constants(self.n).c4
        if self.kind is ChartKind.IMR:
            return self.spread / constants(2).d2
        raise MesInputError(f"{self.kind} chart has no process sigma", field="chart")


@dataclass(frozen=True)
class ChartSeries:
    """One plotted statistic with its centre line and per-point sigma and limits."""

    name: str
    points: FloatArray
    center: float
    sigma: FloatArray
    ucl: FloatArray
    lcl: FloatArray

    @property
    def varying_limits(self) -> bool:
        return bool(self.ucl.size) and not (
            np.all(self.ucl == self.ucl[0]) and np.all(self.lcl == self.lcl[0])
        )

    def z(self) -> FloatArray:
        return standardize(self.points, self.center, self.sigma)


def standardize(points: FloatArray, center: float, sigma: FloatArray) -> FloatArray:
    """Distance from the centre in sigmas.

    With zero sigma (a constant Phase I series) a point off the centre is infinitely far
    away (a process that never varied has varied), and a point on it, up to the rounding of
    the mean, has no defined distance: z is NaN (0/0), which no zone rule counts as above,
    below, within or beyond anything. So a constant series breaks no rule, not even the
    "15 points hugging the centre" one, whose premise (a sigma to hug) does not hold.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (points - center) / sigma
    flat = sigma == 0
    if np.any(flat):
        dev = points - center
        same = np.abs(dev) <= 1e-9 * np.maximum(np.abs(points), abs(center))
        z = np.where(flat, np.where(same, np.nan, np.copysign(np.inf, dev)), z)
    return z


def _series(
    name: str,
    points: FloatArray,
    center: float,
    sigma: FloatArray | float,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
) -> ChartSeries:
    sig = np.broadcast_to(np.asarray(sigma, dtype=np.float64), points.shape)
    ucl = center + 3.0 * sig
    lcl = center - 3.0 * sig
    if floor is not None:
        lcl = np.maximum(lcl, floor)
    if ceiling is not None:
        ucl = np.minimum(ucl, ceiling)
    return ChartSeries(name, points, float(center), sig, ucl, lcl)


def _need(data: ChartData, kind: ChartKind) -> None:
    if kind.is_attribute:
        if data.counts is None:
            raise MesInputError(f"{kind} chart needs counts", field="count")
        if kind in (ChartKind.P, ChartKind.NP, ChartKind.U) and data.sizes is None:
            raise MesInputError(f"{kind} chart needs sample sizes", field="n")
        return
    if data.values is None:
        raise MesInputError(f"{kind} chart needs measurements", field="values")
    if kind is ChartKind.IMR:
        if data.values.ndim != 1:
            raise MesInputError("I-MR chart needs one value per row", field="values")
    elif data.values.ndim != 2 or data.values.shape[1] < 2:
        got = data.values.shape[1] if data.values.ndim == 2 else 1
        raise MesInputError(
            f"{kind} chart needs subgroups of at least 2 values, got {got}", field="values"
        )


def _fixed_size(data: ChartData) -> int:
    assert data.sizes is not None
    n = data.sizes[0] if data.sizes.size else 0.0
    for i in np.flatnonzero(data.sizes != n):
        raise MesInputError(
            f"np chart needs one sample size, got {data.sizes[i]:g} after {n:g}",
            row=int(i),
            field="n",
        )
    return int(n)


def _columns_reduce(values: FloatArray, op: np.ufunc) -> FloatArray:
    # Reducing along a short row axis costs numpy a loop setup per row; combining whole
    # columns is a few passes over contiguous-enough memory and several times faster.
    acc: FloatArray = values[:, 0].copy()
    for j in range(1, values.shape[1]):
        op(acc, values[:, j], out=acc)
    return acc


def subgroup_mean(values: FloatArray) -> FloatArray:
    """Mean per row, summing left to right (the same in batch and streaming)."""
    if values.shape[1] > 16:
        mean: FloatArray = values.mean(axis=1)
        return mean
    summed = _columns_reduce(values, np.add)
    summed /= values.shape[1]
    return summed


def subgroup_range(values: FloatArray) -> FloatArray:
    if values.shape[1] > 16:
        spread: FloatArray = np.ptp(values, axis=1)
        return spread
    high = _columns_reduce(values, np.maximum)
    high -= _columns_reduce(values, np.minimum)
    return high


def subgroup_std(values: FloatArray) -> FloatArray:
    """Sample standard deviation per row; exactly 0 for a constant row.

    numpy's two-pass std leaves ~1e-17 on constant rows whose mean does not round back to
    the value (0.1, 0.1, 0.1), which would turn "no variation" into a tiny, meaningless
    sigma.
    """
    s: FloatArray = values.std(axis=1, ddof=1)
    s[subgroup_range(values) == 0] = 0.0
    return s


def statistics(kind: ChartKind, data: ChartData) -> dict[str, FloatArray]:
    """The plotted statistics of each subgroup, before any limits."""
    _need(data, kind)
    v, c, n = data.values, data.counts, data.sizes
    if kind is ChartKind.XBAR_R:
        assert v is not None
        return {"xbar": subgroup_mean(v), "r": subgroup_range(v)}
    if kind is ChartKind.XBAR_S:
        assert v is not None
        return {"xbar": subgroup_mean(v), "s": subgroup_std(v)}
    if kind is ChartKind.IMR:
        assert v is not None
        return {"i": v.copy(), "mr": np.abs(np.diff(v))}
    assert c is not None
    if kind is ChartKind.P:
        assert n is not None
        return {"p": c / n}
    if kind is ChartKind.U:
        assert n is not None
        return {"u": c / n}
    if kind is ChartKind.NP:
        return {"np": c.copy()}
    return {"c": c.copy()}


def estimate(kind: ChartKind, data: ChartData) -> ChartParams:
    """Phase I parameters from all of ``data`` (see ``phases`` for iterative removal)."""
    stats = statistics(kind, data)
    k = len(data)
    if k < MIN_SUBGROUPS:
        raise MesInputError(f"need at least {MIN_SUBGROUPS} subgroups to estimate limits, got {k}")
    if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        assert data.values is not None
        spread = stats["r" if kind is ChartKind.XBAR_R else "s"]
        n = int(data.values.shape[1])
        constants(n)  # validates the subgroup size
        return ChartParams(kind, float(stats["xbar"].mean()), float(spread.mean()), n)
    if kind is ChartKind.IMR:
        return ChartParams(kind, float(stats["i"].mean()), float(stats["mr"].mean()), 1)
    assert data.counts is not None
    if kind is ChartKind.C:
        return ChartParams(kind, float(data.counts.mean()), 0.0, 0)
    assert data.sizes is not None
    # Pooled, not the mean of the proportions: unequal samples weigh by their size.
    pooled = float(data.counts.sum() / data.sizes.sum())
    n = _fixed_size(data) if kind is ChartKind.NP else 0
    return ChartParams(kind, pooled, 0.0, n)


def apply(params: ChartParams, data: ChartData) -> tuple[ChartSeries, ...]:
    """Plot ``data`` against fixed limits derived from ``params`` (Phase I or Phase II)."""
    kind = params.kind
    stats = statistics(kind, data)
    if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        assert data.values is not None
        if data.values.shape[1] != params.n:
            raise MesInputError(
                f"subgroup has {data.values.shape[1]} values, expected {params.n}", row=0
            )
        k = constants(params.n)
        sigma = params.sigma
        xbar = _series("xbar", stats["xbar"], params.center, sigma / math.sqrt(params.n))
        if kind is ChartKind.XBAR_R:
            spread = _series("r", stats["r"], params.spread, k.d3 * sigma, floor=0.0)
        else:
            s_sigma = params.spread * math.sqrt(1.0 - k.c4**2) / k.c4
            spread = _series("s", stats["s"], params.spread, s_sigma, floor=0.0)
        return xbar, spread
    if kind is ChartKind.IMR:
        sigma = params.sigma
        i_chart = _series("i", stats["i"], params.center, sigma)
        mr = _series("mr", stats["mr"], params.spread, constants(2).d3 * sigma, floor=0.0)
        return i_chart, mr
    center = params.center
    if kind is ChartKind.C:
        return (_series("c", stats["c"], center, math.sqrt(center), floor=0.0),)
    assert data.sizes is not None
    if kind is ChartKind.NP:
        n = _fixed_size(data)
        if n != params.n:
            raise MesInputError(f"sample size {n} differs from Phase I size {params.n}", field="n")
        sig = math.sqrt(n * center * (1.0 - center))
        return (_series("np", stats["np"], n * center, sig, floor=0.0, ceiling=float(n)),)
    if kind is ChartKind.P:
        sig_p = np.sqrt(center * (1.0 - center) / data.sizes)
        return (_series("p", stats["p"], center, sig_p, floor=0.0, ceiling=1.0),)
    return (_series("u", stats["u"], center, np.sqrt(center / data.sizes), floor=0.0),)


def chart_data(
    kind: ChartKind,
    rows: Sequence[Sequence[float]] | FloatArray = (),
    counts: Sequence[float] | FloatArray = (),
    sizes: Sequence[float] | FloatArray | float | None = None,
    subgroup_size: int | None = None,
) -> ChartData:
    """What a chart of ``kind`` plots, from measured ``rows`` or attribute ``counts``: the one
    kind -> input mapping of the CLI, the operator's live charts and the reports.

    X-bar charts take the rows as subgroups (of ``subgroup_size`` values, else as many as the
    first row has), I-MR the first value of each row; attribute charts take the counts with
    their sample ``sizes`` (one per count, or one for all), which c charts ignore and p and np
    charts check (no count above its size). Raises :class:`MesInputError` on unusable input.
    """
    if kind is ChartKind.C:
        return ChartData.attributes(counts)
    if kind.is_attribute:
        return ChartData.attributes(counts, sizes, defectives=kind.counts_defectives)
    if kind is ChartKind.IMR:
        return ChartData.individuals([row[0] for row in rows])
    return ChartData.subgroups(rows, subgroup_size)


def index_of_subgroup(kind: ChartKind, name: str, index: int) -> int:
    """The subgroup a plotted point belongs to (a moving range ends at its later value)."""
    return index + 1 if (kind is ChartKind.IMR and name == "mr") else index


__all__ = [
    "ChartKind",
    "ChartParams",
    "ChartSeries",
    "apply",
    "chart_data",
    "estimate",
    "index_of_subgroup",
    "standardize",
    "statistics",
]
