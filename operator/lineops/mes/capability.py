"""Process capability (Cp, Cpk) and performance (Pp, Ppk) indices, Montgomery ch. 8.

Cp and Cpk use the within-subgroup sigma (R-bar/d2, s-bar/c4, or MR-bar/d2 for individual
values), the short-term variation a control chart sees; Pp and Ppk use the overall sample
standard deviation, which also holds any drift between subgroups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lineops.mes.charts import subgroup_std
from lineops.mes.constants import constants
from lineops.mes.data import FloatArray, as_subgroups
from lineops.mes.errors import MesInputError

WithinMethod = Literal["r", "s"]


@dataclass(frozen=True)
class Capability:
    mean: float
    sigma_within: float
    sigma_overall: float
    lsl: float | None
    usl: float | None
    cp: float | None  # None with a one-sided specification
    cpk: float
    cpl: float | None
    cpu: float | None
    pp: float | None
    ppk: float
    ppl: float | None
    ppu: float | None
    count: int
    subgroup_size: int
    within_method: str  # "rbar/d2", "sbar/c4" or "mrbar/d2"


def _within_sigma(values: FloatArray, method: WithinMethod) -> tuple[float, str]:
    n = values.shape[1]
    if n == 1:
        mr = np.abs(np.diff(values[:, 0]))
        return float(mr.mean()) / constants(2).d2, "mrbar/d2"
    k = constants(n)
    if method == "s":
        return float(subgroup_std(values).mean()) / k.c4, "sbar/c4"
    return float(np.ptp(values, axis=1).mean()) / k.d2, "rbar/d2"


def _indices(
    mean: float, sigma: float, lsl: float | None, usl: float | None
) -> tuple[float | None, float, float | None, float | None]:
    lower = (mean - lsl) / (3.0 * sigma) if lsl is not None else None
    upper = (usl - mean) / (3.0 * sigma) if usl is not None else None
    both = (usl - lsl) / (6.0 * sigma) if lsl is not None and usl is not None else None
    k = min(v for v in (lower, upper) if v is not None)
    return both, k, lower, upper


def capability(
    data: Sequence[Sequence[float]] | Sequence[float] | FloatArray,
    lsl: float | None = None,
    usl: float | None = None,
    *,
    within: WithinMethod = "r",
) -> Capability:
    """Capability of measurements given as subgroups (rows) or individual values (1-d)."""
    if lsl is None and usl is None:
        raise MesInputError("give at least one specification limit (lsl or usl)", field="lsl")
    if lsl is not None and usl is not None and not lsl < usl:
        raise MesInputError(f"lsl ({lsl:g}) must be below usl ({usl:g})", field="lsl")
    if within not in ("r", "s"):
        raise MesInputError(f"within must be 'r' or 's', got {within!r}", field="within")
    arr = np.asarray(data, dtype=object)
    rows = [[v] for v in arr] if arr.ndim == 1 else data
    values = as_subgroups(rows)  # type: ignore[arg-type]
    count = int(values.size)
    if values.shape[0] < 2:
        raise MesInputError(
            f"need at least 2 subgroups to estimate sigma, got {values.shape[0]}", field="values"
        )
    sigma_within, method = _within_sigma(values, within)
    sigma_overall = float(subgroup_std(values.reshape(1, -1))[0])
    if sigma_overall == 0.0:
        raise MesInputError("the data do not vary (sigma is 0); capability is undefined")
    if sigma_within == 0.0:
        # Overall variation without any within: every subgroup holds equal values.
        raise MesInputError(
            f"the values do not vary within subgroups (within sigma is 0, overall sigma "
            f"{sigma_overall:g}); Cp and Cpk are undefined: are the subgroups laid out as rows?",
            field="values",
        )
    mean = float(values.mean())
    cp, cpk, cpl, cpu = _indices(mean, sigma_within, lsl, usl)
    pp, ppk, ppl, ppu = _indices(mean, sigma_overall, lsl, usl)
    return Capability(
        mean=mean,
        sigma_within=sigma_within,
        sigma_overall=sigma_overall,
        lsl=lsl,
        usl=usl,
        cp=cp,
        cpk=cpk,
        cpl=cpl,
        cpu=cpu,
        pp=pp,
        ppk=ppk,
        ppl=ppl,
        ppu=ppu,
        count=count,
        subgroup_size=int(values.shape[1]),
        within_method=method,
    )
