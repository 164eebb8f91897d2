"""Shewhart control-chart constants (d2, d3, c4 and the factors built from them).

d2 and d3 are the mean and standard deviation of the range of n independent standard normal
values; c4 is the mean of the sample standard deviation of n standard normals. They are
computed here instead of copied from a table so that any n is exact to double precision;
the tests compare them with the published table (Montgomery, Introduction to Statistical
Quality Control, Appendix VI) to its rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from lineops.mes.errors import MesInputError

MIN_SUBGROUP = 2
MAX_SUBGROUP = 100

# Gauss-Legendre nodes on finite boxes: the normal density and the range tail are below
# 1e-20 outside them for n <= 100, so truncating the infinite integrals costs nothing.
_X_LO, _X_HI, _R_HI, _NODES = -9.0, 9.0, 16.0, 256


@dataclass(frozen=True)
class Constants:
    n: int
    d2: float
    d3: float
    c4: float

    @property
    def a2(self) -> float:
        return 3.0 / (self.d2 * math.sqrt(self.n))

    @property
    def a3(self) -> float:
        return 3.0 / (self.c4 * math.sqrt(self.n))

    @property
    def d3_factor(self) -> float:
        """D3 (lower R-chart factor), clamped at 0 because a range cannot be negative."""
        return max(0.0, 1.0 - 3.0 * self.d3 / self.d2)

    @property
    def d4_factor(self) -> float:
        return 1.0 + 3.0 * self.d3 / self.d2

    @property
    def b3(self) -> float:
        return max(0.0, 1.0 - 3.0 * math.sqrt(1.0 - self.c4**2) / self.c4)

    @property
    def b4(self) -> float:
        return 1.0 + 3.0 * math.sqrt(1.0 - self.c4**2) / self.c4


def _gauss(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.legendre.leggauss(_NODES)
    half = 0.5 * (hi - lo)
    return lo + half * (t + 1.0), half * w


def _range_moments(n: int) -> tuple[float, float]:
    # P(R > r) = 1 - n * integral phi(x) (Phi(x + r) - Phi(x))^(n-1) dx, then
    # E[R] = integral P(R > r) dr and E[R^2] = integral 2 r P(R > r) dr.
    from scipy.special import ndtr  # on first use: the operator starts without scipy

    x, wx = _gauss(_X_LO, _X_HI)
    r, wr = _gauss(0.0, _R_HI)
    phi = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    inner = ndtr(x[None, :] + r[:, None]) - ndtr(x)[None, :]
    cdf_r = n * (np.clip(inner, 0.0, 1.0) ** (n - 1) * phi[None, :]) @ wx
    tail = 1.0 - cdf_r
    mean = float(tail @ wr)
    second = float((2.0 * r * tail) @ wr)
    return mean, math.sqrt(max(second - mean * mean, 0.0))


def _c4(n: int) -> float:
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@cache
def constants(n: int) -> Constants:
    """Constants for subgroup size ``n`` (2..100)."""
    if not MIN_SUBGROUP <= n <= MAX_SUBGROUP:
        raise MesInputError(
            f"subgroup size must be between {MIN_SUBGROUP} and {MAX_SUBGROUP}, got {n}",
            field="subgroup_size",
        )
    d2, d3 = _range_moments(n)
    return Constants(n=n, d2=d2, d3=d3, c4=_c4(n))
