"""When was the line out of statistical control? Intervals from its SPC charts.

An anomaly detector learns what normal operation looks like, so its training rows must be
normal in both senses: no fault announced by a machine event, and the process in statistical
control. The charts are those the operator's monitor draws (:class:`ChartTracker`: Phase I on
the first subgroups, then the line's run rules on every later one), replayed over the stored
measurements. A subgroup that breaks a rule marks the time from its last measurement until
the next subgroup is complete (until now, for the newest one) as out of control.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import pandas as pd

from lineops.api.productionline import ProductionLineSpec, QualityCharacteristic
from lineops.dataplane.repositories.mes import Measurement
from lineops.mes.chart_tracker import ChartTracker

FOREVER: Final = np.iinfo(np.int64).max

Reader = Callable[[str], Sequence[tuple[int, Measurement]]]


def chart_intervals(
    qc: QualityCharacteristic, rows: Sequence[tuple[int, Measurement]]
) -> list[tuple[int, int]]:
    """``[start, end)`` in epoch ns of every out-of-control stretch of one characteristic."""
    if not rows:
        return []
    tracker = ChartTracker(qc)
    snapshot = tracker.add(rows)
    if not snapshot.new_violations:
        return []
    stamps = pd.to_datetime([m.timestamp for _, m in rows], utc=True, format="ISO8601")
    ns = np.asarray(stamps.astype("int64"), dtype=np.int64)
    ends = ns[tracker.n - 1 :: tracker.n][: tracker.subgroups]  # each subgroup's last value
    out = []
    for index in sorted({v.index for v in snapshot.new_violations}):
        stop = int(ends[index + 1]) if index + 1 < len(ends) else int(FOREVER)
        out.append((int(ends[index]), stop))
    return out


def out_of_control(spec: ProductionLineSpec, read: Reader) -> list[tuple[int, int]]:
    """Out-of-control stretches of every characteristic of the line (``read(name)`` gives
    its stored measurements in arrival order)."""
    return [
        interval
        for qc in spec.quality_characteristics
        for interval in chart_intervals(qc, read(qc.name))
    ]


def in_control(stamps: pd.Series, intervals: list[tuple[int, int]]) -> np.ndarray:
    """False for the times inside any interval."""
    ns = stamps.astype("int64").to_numpy()
    inside = np.zeros(len(ns), dtype=bool)
    for start, stop in intervals:
        inside |= (ns >= start) & (ns < stop)
    return ~inside
