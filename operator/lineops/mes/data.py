"""Validated input containers for control charts: variables subgroups or attribute counts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lineops.mes.errors import MesInputError

FloatArray = NDArray[np.float64]

# The largest magnitude a measured value may have, everywhere values enter (CSV cells, the
# data plane's readings and records, model inputs): no measurement comes near it, and below
# it the sums of squares the statistics form stay finite; beyond it is a unit or parsing
# error, not data.
MAX_VALUE = 1e100


def decimal(text: str) -> float:
    """A number as a CSV cell writes it. Python's float() and int() also read digit groups
    ("1_000"), which no CSV writer produces: such a cell is a typo or another locale's
    thousands separator, so it is refused (ValueError) rather than read as 1000."""
    if "_" in text:
        raise ValueError(f"digit-group separator in {text!r}")
    return float(text)


def finite_row(row: Sequence[float], index: int) -> list[float]:
    out: list[float] = []
    for j, cell in enumerate(row):
        try:
            value = decimal(cell) if isinstance(cell, str) else float(cell)
        except (TypeError, ValueError):
            raise MesInputError(f"value {j} ({cell!r}) is not a number", row=index) from None
        if not math.isfinite(value):
            raise MesInputError(f"value {j} ({cell!r}) is not finite", row=index)
        if abs(value) > MAX_VALUE:
            # As the CLI and the data plane refuse it: squares of 1e200 overflow, and the
            # limits came out inf and NaN with only a RuntimeWarning.
            raise MesInputError(f"value {j} ({cell!r}) is beyond ±{MAX_VALUE:g}", row=index)
        out.append(value)
    return out


def as_subgroups(
    rows: Sequence[Sequence[float]] | FloatArray, subgroup_size: int | None = None
) -> FloatArray:
    """Rows of measurements as a (k, n) array; every row must hold ``subgroup_size`` values.

    Without ``subgroup_size`` the first row sets it.
    """
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.dtype.kind in "fiu":
        arr = np.asarray(rows, dtype=np.float64)
        if subgroup_size is not None and arr.shape[1] != subgroup_size:
            raise MesInputError(
                f"subgroup has {arr.shape[1]} values, expected {subgroup_size}", row=0
            )
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        if bad.size:
            raise MesInputError("value is not finite", row=int(bad[0]))
        beyond = np.flatnonzero((np.abs(arr) > MAX_VALUE).any(axis=1))
        if beyond.size:
            raise MesInputError(f"value is beyond ±{MAX_VALUE:g}", row=int(beyond[0]))
        return arr
    expected = subgroup_size
    parsed: list[list[float]] = []
    for i, row in enumerate(rows):
        values = finite_row(row, i)
        if expected is None:
            expected = len(values)
        if len(values) != expected:
            raise MesInputError(f"subgroup has {len(values)} values, expected {expected}", row=i)
        parsed.append(values)
    if not parsed:
        return np.empty((0, expected or 0), dtype=np.float64)
    return np.asarray(parsed, dtype=np.float64)


def as_counts(values: Sequence[float] | FloatArray, name: str) -> FloatArray:
    """Non-negative whole counts (defectives, defects) as floats."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    for i in np.flatnonzero(~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))):
        value = arr[i]
        problem = "is negative" if value < 0 else "is not a whole number"
        raise MesInputError(f"{name} {value:g} {problem}", row=int(i), field=name)
    return arr


def as_sizes(values: Sequence[float] | FloatArray, name: str = "n") -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    for i in np.flatnonzero(~np.isfinite(arr) | (arr <= 0)):
        raise MesInputError(f"sample size {arr[i]:g} must be positive", row=int(i), field=name)
    return arr


@dataclass(frozen=True)
class ChartData:
    """What a chart plots: subgroups (k, n), individuals (k,), or counts with sample sizes."""

    values: FloatArray | None = None
    counts: FloatArray | None = None
    sizes: FloatArray | None = None

    @classmethod
    def subgroups(
        cls, rows: Sequence[Sequence[float]] | FloatArray, subgroup_size: int | None = None
    ) -> ChartData:
        return cls(values=as_subgroups(rows, subgroup_size))

    @classmethod
    def individuals(cls, values: Sequence[float] | FloatArray) -> ChartData:
        arr = as_subgroups([[v] for v in np.asarray(values, dtype=object).reshape(-1)], 1)
        return cls(values=arr[:, 0].copy())

    @classmethod
    def attributes(
        cls,
        counts: Sequence[float] | FloatArray,
        sizes: Sequence[float] | FloatArray | float | None = None,
        *,
        defectives: bool = False,
    ) -> ChartData:
        """Counts per sample; ``defectives`` checks that no count exceeds its sample size."""
        c = as_counts(counts, "count")
        if sizes is None:
            return cls(counts=c)
        if isinstance(sizes, int | float):
            sizes = np.full(c.shape, float(sizes))
        n = as_sizes(sizes)
        if n.shape != c.shape:
            raise MesInputError(
                f"{c.size} counts but {n.size} sample sizes; give one size per count", field="n"
            )
        if defectives:
            for i in np.flatnonzero(c > n):
                raise MesInputError(
                    f"count {c[i]:g} exceeds sample size {n[i]:g}", row=int(i), field="count"
                )
        return cls(counts=c, sizes=n)

    def __len__(self) -> int:
        first = self.values if self.values is not None else self.counts
        return 0 if first is None else int(first.shape[0])

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> ChartData:
        def pick(a: FloatArray | None) -> FloatArray | None:
            return None if a is None else a[index]

        return ChartData(pick(self.values), pick(self.counts), pick(self.sizes))
