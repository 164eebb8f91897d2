"""A line's stored MES records as report input: the subgroups the operator charts.

Measurements become subgroups exactly as :class:`lineops.mes.chart_tracker.ChartTracker`
forms them, so a report from the store shows the chart the operator judges:
``n`` consecutive values in arrival order for X-bar charts (the values of a subgroup still
being filled wait), one point per measurement for I-MR, and count plus sample size (the
measurement's own, else the characteristic's subgroup size) for attribute charts. Machine
events and production counts become the CSV-like records :mod:`lineops.mes.oee` reads.
Pure (protocols, not the data plane's record classes), so reports and the data plane's live
line page share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lineops.api.productionline import QualityCharacteristic
from lineops.mes.chart_tracker import Measurement
from lineops.mes.charts import ChartKind, chart_data
from lineops.mes.data import ChartData

Record = dict[str, str | None]


class MachineEvent(Protocol):
    """What OEE needs of a stored machine event."""

    @property
    def work_unit(self) -> str: ...
    @property
    def timestamp(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str | None: ...


class ProductionCount(Protocol):
    """What OEE needs of a stored production count."""

    @property
    def work_unit(self) -> str: ...
    @property
    def timestamp(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def good(self) -> int: ...


@dataclass(frozen=True)
class StoredSubgroups:
    """One characteristic's measurements grouped for its chart."""

    kind: ChartKind
    size: int  # values per subgroup (1 for I-MR and attribute charts)
    rows: list[list[float]]  # variables charts: complete subgroups
    counts: list[float]  # attribute charts: one count per point ...
    sizes: list[float]  # ... and the sample it was taken from
    pending: int  # values of an incomplete last subgroup, not charted yet

    @property
    def count(self) -> int:
        return len(self.counts) if self.kind.is_attribute else len(self.rows)

    def chart_data(self) -> ChartData:
        """The chart input; raises :class:`lineops.mes.errors.MesInputError` if unusable."""
        return chart_data(
            self.kind, rows=self.rows, counts=self.counts, sizes=self.sizes, subgroup_size=self.size
        )


def stored_subgroups(
    qc: QualityCharacteristic, measurements: Sequence[Measurement]
) -> StoredSubgroups:
    """Subgroups of ``measurements`` (in arrival order) for ``qc``'s chart."""
    kind = qc.chart
    if kind.is_attribute:
        return StoredSubgroups(
            kind=kind,
            size=1,
            rows=[],
            counts=[m.value for m in measurements],
            sizes=[float(m.sample_size or qc.subgroup_size) for m in measurements],
            pending=0,
        )
    size = kind.values_per_point(qc.subgroup_size)
    values = [m.value for m in measurements]
    complete = len(values) - len(values) % size
    rows = [values[i : i + size] for i in range(0, complete, size)]
    return StoredSubgroups(kind, size, rows, [], [], pending=len(values) - complete)


def event_records(events: Sequence[MachineEvent]) -> list[Record]:
    """Machine events as rows for :func:`lineops.mes.oee.events_from_records`."""
    return [
        {"timestamp": e.timestamp, "work_unit": e.work_unit, "state": e.state, "reason": e.reason}
        for e in events
    ]


def count_records(counts: Sequence[ProductionCount]) -> list[Record]:
    """Production counts as rows for :func:`lineops.mes.oee.counts_from_records`."""
    return [
        {
            "timestamp": c.timestamp,
            "work_unit": c.work_unit,
            "total": str(c.total),
            "good": str(c.good),
        }
        for c in counts
    ]
