"""Live control chart of one quality characteristic: Phase I once, then streaming Phase II.

Pure (like the rest of ``lineops.mes``): the operator's line monitor runs one per
characteristic, and the data plane replays one to tell which training rows were taken while
the process was out of statistical control.

Measurements arrive one by one; subgroups are formed in arrival order (n consecutive values
for X-bar charts, one per point for I-MR and attribute charts). The first ``phase1``
subgroups estimate the limits; from then on the O(1)-per-point stream evaluator judges every
new subgroup against those fixed limits, so the chart's history never shifts under the
operator's feet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lineops.api.productionline import QualityCharacteristic
from lineops.mes.capability import Capability, capability
from lineops.mes.charts import ChartKind, ChartSeries, apply, chart_data
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.phases import phase_one
from lineops.mes.rules import Violation
from lineops.mes.streaming import SpcStream


class Measurement(Protocol):
    """What a chart needs of a stored measurement (the data plane's record has it)."""

    @property
    def value(self) -> float: ...

    @property
    def sample_size(self) -> int | None: ...


PHASE1_SUBGROUPS = 25  # Montgomery's rule of thumb: 20-25 subgroups for trial limits
OPEN_WINDOW = 25  # violations among the last this many points count as "open"


@dataclass
class ChartSnapshot:
    """What the monitor reports for one characteristic after an update."""

    characteristic: str
    chart: str
    subgroups: int
    phase1_needed: int
    established: bool
    series: dict[str, ChartSeries] = field(default_factory=dict)
    new_violations: list[Violation] = field(default_factory=list)
    open_violations: list[Violation] = field(default_factory=list)
    capability: Capability | None = None

    @property
    def in_control(self) -> bool | None:
        return None if not self.established else not self.open_violations


class ChartTracker:
    def __init__(self, qc: QualityCharacteristic, phase1: int = PHASE1_SUBGROUPS) -> None:
        self.qc = qc
        self.kind = qc.chart
        self.n = self.kind.values_per_point(qc.subgroup_size)
        self.phase1 = phase1
        self._pending: list[float] = []  # values of the subgroup being filled
        self._rows: list[list[float]] = []  # complete subgroups (variables charts)
        self._counts: list[float] = []  # attribute charts: count and sample size per point
        self._sizes: list[float] = []
        self._stream: SpcStream | None = None
        self._violations: list[Violation] = []
        self.last_id = 0

    @property
    def subgroups(self) -> int:
        return len(self._counts) if self.kind.is_attribute else len(self._rows)

    def add(self, rows: Sequence[tuple[int, Measurement]]) -> ChartSnapshot:
        """Take measurements stored after ``last_id``; returns the chart as it now stands."""
        before = self.subgroups
        for row_id, m in rows:
            if row_id <= self.last_id:
                continue  # taken already (rows read twice must not be charted twice)
            self.last_id = row_id
            if self.kind.is_attribute:
                self._counts.append(m.value)
                self._sizes.append(float(m.sample_size or self.qc.subgroup_size))
            else:
                self._pending.append(m.value)
                if len(self._pending) == self.n:
                    self._rows.append(self._pending)
                    self._pending = []
        new: list[Violation] = []
        if self._stream is None and self.subgroups >= self.phase1:
            new = self._establish()
        elif self._stream is not None and self.subgroups > before:
            new = self._stream.update(self._data(before, self.subgroups))
        self._violations.extend(new)
        return self.snapshot(new)

    def _data(self, start: int, stop: int) -> ChartData:
        return chart_data(
            self.kind,
            rows=self._rows[start:stop],
            counts=self._counts[start:stop],
            sizes=self._sizes[start:stop],
            subgroup_size=self.n,
        )

    def _establish(self) -> list[Violation]:
        reference = self._data(0, self.phase1)
        params = phase_one(self.kind, reference).params
        self._stream = SpcStream(params, [r.value for r in self.qc.rules])
        # The reference period is charted too, against its own limits, as in the batch CLI.
        return self._stream.update(self._data(0, self.subgroups))

    def snapshot(self, new: list[Violation] | None = None) -> ChartSnapshot:
        snap = ChartSnapshot(
            characteristic=self.qc.name,
            chart=self.kind.value,
            subgroups=self.subgroups,
            phase1_needed=self.phase1,
            established=self._stream is not None,
            new_violations=list(new or []),
        )
        if self._stream is None:
            return snap
        horizon = self.subgroups - OPEN_WINDOW
        snap.open_violations = [v for v in self._violations if v.index >= horizon]
        last = self._data(self.subgroups - 1, self.subgroups)
        if self.kind is ChartKind.IMR and self.subgroups >= 2:
            last = self._data(self.subgroups - 2, self.subgroups)
        snap.series = {s.name: s for s in apply(self._stream.params, last)}
        snap.capability = self._capability()
        return snap

    def _capability(self) -> Capability | None:
        lsl, usl = self.qc.lsl_value, self.qc.usl_value
        if self.kind.is_attribute or (lsl is None and usl is None):
            return None
        values = np.asarray(self._rows, dtype=np.float64)
        data = values[:, 0] if self.kind is ChartKind.IMR else values
        try:
            return capability(data, lsl, usl, within="s" if self.kind is ChartKind.XBAR_S else "r")
        except MesInputError:
            return None  # e.g. no variation yet: capability is undefined, not an error
