"""Plain-float versions of the per-subgroup statistics, bit for bit equal to the numpy ones.

The one-subgroup-at-a-time stream must report exactly what the batch code reports, so every
float here is produced by the same IEEE operations in the same order as in ``charts``:
the mean sums left to right (``charts.subgroup_mean``) up to 16 values and pairwise beyond
(``ndarray.mean``); the standard deviation follows ``ndarray.std(ddof=1)``, whose sums are
numpy's pairwise summation. Property tests compare these with the numpy functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from operator import add

# numpy sums runs of up to 128 values with 8 interleaved accumulators and splits longer ones.
_PAIRWISE_BLOCK = 128
# ``charts.subgroup_mean`` sums column by column up to this width, pairwise above it.
COLUMN_SUM_MAX = 16


def pairwise_sum(values: Sequence[float]) -> float:
    """``numpy.add.reduce`` of a contiguous float64 row, in numpy's order of additions."""
    n = len(values)
    if n < 8:
        # Not builtin ``sum``: from Python 3.12 it compensates, and numpy does not.
        return reduce(add, values, -0.0)
    if n <= _PAIRWISE_BLOCK:
        r0, r1, r2, r3, r4, r5, r6, r7 = values[:8]
        end = n - n % 8
        for i in range(8, end, 8):
            r0 += values[i]
            r1 += values[i + 1]
            r2 += values[i + 2]
            r3 += values[i + 3]
            r4 += values[i + 4]
            r5 += values[i + 5]
            r6 += values[i + 6]
            r7 += values[i + 7]
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(end, n):
            res += values[i]
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(values[:half]) + pairwise_sum(values[half:])


def row_mean(values: Sequence[float]) -> float:
    """``charts.subgroup_mean`` of one row."""
    n = len(values)
    if n > COLUMN_SUM_MAX:
        return pairwise_sum(values) / n
    return reduce(add, values) / n


def row_std(values: Sequence[float]) -> float:
    """``charts.subgroup_std`` of one row: ``std(ddof=1)``, exactly 0 for a constant row."""
    if max(values) - min(values) == 0:
        return 0.0
    n = len(values)
    mean = pairwise_sum(values) / n
    squares = [(v - mean) * (v - mean) for v in values]
    return math.sqrt(pairwise_sum(squares) / (n - 1))


def safe_sqrt(value: float) -> float:
    """``numpy.sqrt`` of a scalar: NaN, not an exception, below zero."""
    return math.sqrt(value) if value >= 0.0 else math.nan


def standardize_one(point: float, center: float, sigma: float) -> float:
    """``charts.standardize`` of one point (same zero-sigma convention)."""
    if sigma == 0.0:
        dev = point - center
        scale = max(abs(point), abs(center))
        if math.isnan(point) or math.isnan(center):
            scale = math.nan  # as numpy.maximum, which propagates NaN from either side
        if abs(dev) <= 1e-9 * scale:
            return math.nan
        return math.copysign(math.inf, dev)
    return (point - center) / sigma
