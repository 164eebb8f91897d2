"""Feature drift: population stability index (PSI) and the two-sample Kolmogorov-Smirnov test.

PSI = sum over bins of (actual% - expected%) x ln(actual% / expected%), with bins cut at
quantiles of the reference sample. Conventional reading (Siddiqi, Credit Risk Scorecards,
2006): below 0.10 stable, 0.10 to 0.25 moderate shift, 0.25 and above significant shift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lineops.mes.data import FloatArray
from lineops.mes.errors import MesInputError

PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25
PsiBand = Literal["stable", "moderate", "significant"]
# Empty bins would make the log infinite; a small floor is the usual remedy.
_FLOOR = 1e-4


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    band: PsiBand
    ks_statistic: float
    ks_pvalue: float


def psi_band(psi: float) -> PsiBand:
    if psi >= PSI_SIGNIFICANT:
        return "significant"
    if psi >= PSI_MODERATE:
        return "moderate"
    return "stable"


def _clean(values: Sequence[float] | FloatArray, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise MesInputError(f"value {arr[bad[0]]} is not finite", row=int(bad[0]), field=name)
    if arr.size == 0:
        raise MesInputError("no values", field=name)
    return arr


def psi(
    expected: Sequence[float] | FloatArray,
    actual: Sequence[float] | FloatArray,
    bins: int = 10,
) -> float:
    """PSI of ``actual`` against the reference ``expected``, over ``bins`` quantile bins."""
    if bins < 2:
        raise MesInputError(f"bins must be at least 2, got {bins}", field="bins")
    ref = _clean(expected, "expected")
    cur = _clean(actual, "actual")
    # Interior edges only; ties in the reference collapse duplicate quantiles into one bin.
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1)
    a = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1)
    e_pct = np.maximum(e / ref.size, _FLOOR)
    a_pct = np.maximum(a / cur.size, _FLOOR)
    return float(np.sum((a_pct - e_pct) * np.log(a_pct / e_pct)))


def feature_drift(
    reference: Mapping[str, Sequence[float] | FloatArray],
    current: Mapping[str, Sequence[float] | FloatArray],
    bins: int = 10,
) -> list[FeatureDrift]:
    """PSI and KS per feature present in ``reference``; each must also be in ``current``."""
    results: list[FeatureDrift] = []
    for name, ref_values in reference.items():
        if name not in current:
            raise MesInputError("feature missing from the current sample", field=name)
        ref = _clean(ref_values, name)
        cur = _clean(current[name], name)
        value = psi(ref, cur, bins)
        from scipy import stats  # on first use: the operator starts without scipy

        ks = stats.ks_2samp(ref, cur)
        results.append(
            FeatureDrift(name, value, psi_band(value), float(ks.statistic), float(ks.pvalue))
        )
    return results
