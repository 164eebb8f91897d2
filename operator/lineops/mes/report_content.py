"""What a report or the live line page shows, computed once from the MES analytics and drawn by
the renderers (PNG, interactive HTML, the data plane's line page).

Everything here is plain numbers in Python lists: the renderers stay free of statistics, and
the interactive pages carry readable JSON numbers rather than binary-encoded arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from lineops.mes.capability import Capability, WithinMethod, capability
from lineops.mes.charts import ChartKind, ChartSeries, index_of_subgroup
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.oee import Oee
from lineops.mes.phases import analyze
from lineops.mes.rules import RULES

# Axis titles of each plotted statistic.
STATISTIC_LABELS: Final = {
    "xbar": "Subgroup mean (X̄)",
    "r": "Subgroup range (R)",
    "s": "Subgroup std. deviation (s)",
    "i": "Individual value (I)",
    "mr": "Moving range (MR)",
    "p": "Fraction nonconforming (p)",
    "np": "Number nonconforming (np)",
    "c": "Nonconformities (c)",
    "u": "Nonconformities per unit (u)",
}
ZONES: Final = (1, 2)  # sigma bands drawn inside the 3-sigma limits (Western Electric zones)


@dataclass(frozen=True)
class Panel:
    """One plotted statistic: points against 1-based subgroup numbers, lines and bands."""

    name: str
    label: str
    x: list[int]
    points: list[float]
    center: float
    ucl: list[float]
    lcl: list[float]
    # sigma multiple -> (lower, upper) edge of the band, clamped to the control limits.
    zones: dict[int, tuple[list[float], list[float]]]
    # point position (0-based, into ``points``) -> rules that fired there
    violations: dict[int, list[str]]

    @property
    def varying_limits(self) -> bool:
        return len(set(self.ucl)) > 1 or len(set(self.lcl)) > 1


@dataclass(frozen=True)
class ControlChartContent:
    title: str
    kind: ChartKind
    unit: str
    subgroups: int
    phase1: int | None  # limits estimated from the first N subgroups (None: all)
    rules: tuple[str, ...]
    panels: tuple[Panel, ...]

    @property
    def violation_count(self) -> int:
        return sum(len(rules) for p in self.panels for rules in p.violations.values())

    @property
    def in_control(self) -> bool:
        return self.violation_count == 0


def _floats(values: np.ndarray[tuple[int], np.dtype[np.float64]]) -> list[float]:
    return [float(v) for v in values]


def _panel(kind: ChartKind, series: ChartSeries, fired: dict[int, list[str]]) -> Panel:
    zones = {
        k: (
            _floats(np.clip(series.center - k * series.sigma, series.lcl, series.ucl)),
            _floats(np.clip(series.center + k * series.sigma, series.lcl, series.ucl)),
        )
        for k in ZONES
    }
    return Panel(
        name=series.name,
        label=STATISTIC_LABELS.get(series.name, series.name),
        x=[index_of_subgroup(kind, series.name, i) + 1 for i in range(series.points.size)],
        points=_floats(series.points),
        center=float(series.center),
        ucl=_floats(series.ucl),
        lcl=_floats(series.lcl),
        zones=zones,
        violations=fired,
    )


def control_chart_content(
    kind: ChartKind | str,
    data: ChartData,
    rules: Sequence[str],
    *,
    title: str,
    unit: str = "",
    phase1: int | None = None,
) -> ControlChartContent:
    """Limits from the first ``phase1`` subgroups (all by default), run rules on every point.

    Raises :class:`lineops.mes.errors.MesInputError` for data the chart cannot use.
    """
    kind = ChartKind(kind)
    _, result = analyze(kind, data, rules, phase1=phase1)
    panels = []
    for series in result.series:
        fired: dict[int, list[str]] = {}
        for v in result.violations:
            if v.chart == series.name:
                fired.setdefault(v.index, []).append(v.rule)
        panels.append(_panel(kind, series, fired))
    return ControlChartContent(
        title=title,
        kind=kind,
        unit=unit,
        subgroups=len(data),
        phase1=phase1,
        rules=tuple(rules),
        panels=tuple(panels),
    )


def rule_legend(rules: Sequence[str]) -> list[str]:
    """``"nelson-1: one point beyond 3 sigma"`` for each rule, for captions."""
    return [f"{r}: {RULES[r].description}" for r in rules if r in RULES]


# ------------------------------------------------------------------------------ capability


@dataclass(frozen=True)
class CapabilityContent:
    title: str
    unit: str
    values: list[float]  # every individual measurement
    target: float | None
    result: Capability

    @property
    def lsl(self) -> float | None:
        return self.result.lsl

    @property
    def usl(self) -> float | None:
        return self.result.usl


def capability_content(
    data: ChartData,
    lsl: float | None,
    usl: float | None,
    *,
    title: str,
    unit: str = "",
    target: float | None = None,
    within: WithinMethod = "r",
) -> CapabilityContent:
    """Capability of variables data (subgroups or individuals); MesInputError otherwise."""
    if data.values is None:
        raise MesInputError("capability needs measurements, not counts", field="values")
    result = capability(data.values, lsl, usl, within=within)
    return CapabilityContent(
        title=title,
        unit=unit,
        values=_floats(data.values.reshape(-1)),
        target=target,
        result=result,
    )


def normal_pdf(x: Sequence[float], mean: float, sigma: float) -> list[float]:
    arr = np.asarray(x, dtype=np.float64)
    pdf = np.exp(-0.5 * ((arr - mean) / sigma) ** 2) / (sigma * np.sqrt(2.0 * np.pi))
    return _floats(pdf)


def curve_x(content: CapabilityContent, points: int = 200) -> list[float]:
    """x values spanning the data, the specification limits and +/-4 overall sigma."""
    r = content.result
    edges = [min(content.values), max(content.values), r.mean - 4 * r.sigma_overall]
    edges += [r.mean + 4 * r.sigma_overall]
    edges += [v for v in (r.lsl, r.usl) if v is not None]
    lo, hi = min(edges), max(edges)
    pad = 0.05 * (hi - lo)
    return _floats(np.linspace(lo - pad, hi + pad, points))


# ------------------------------------------------------------------------------------- OEE


AVAILABILITY: Final = "availability"
PERFORMANCE: Final = "performance"
QUALITY: Final = "quality"


@dataclass(frozen=True)
class WaterfallStep:
    """A bar of the OEE waterfall: a time (``total``) or a loss subtracted from the last one.

    ``factor`` names the OEE factor a loss lowers (availability, performance, quality).
    """

    label: str
    seconds: float
    total: bool
    factor: str = ""


@dataclass(frozen=True)
class OeeContent:
    title: str
    oee: Oee
    steps: tuple[WaterfallStep, ...]
    work_units: dict[str, Oee]

    @property
    def time_unit(self) -> tuple[str, float]:
        """Unit name and seconds per unit that keep the planned time readable."""
        planned = self.oee.planned_production_time
        if planned >= 2 * 3600:
            return "h", 3600.0
        if planned >= 120:
            return "min", 60.0
        return "s", 1.0


def oee_steps(oee: Oee) -> tuple[WaterfallStep, ...]:
    """The ISO 22400-2 time model from planned production time to fully productive time.

    Availability loses unplanned down time, changeovers and idle time (planned minus run
    time); performance loses run time not backed by ideal cycle time x total count (the net
    run time); quality loses the ideal time spent on bad parts. What is left,
    planned time x OEE, is the fully productive time.
    """
    net_run = oee.ideal_production_time
    quality = oee.quality if oee.quality is not None else 1.0
    productive = net_run * quality
    return (
        WaterfallStep("Planned production time", oee.planned_production_time, total=True),
        WaterfallStep("Down time", oee.down_time, total=False, factor=AVAILABILITY),
        WaterfallStep("Changeover", oee.changeover_time, total=False, factor=AVAILABILITY),
        WaterfallStep("Idle", oee.idle_time, total=False, factor=AVAILABILITY),
        WaterfallStep("Run time", oee.run_time, total=True),
        WaterfallStep("Speed loss", oee.run_time - net_run, total=False, factor=PERFORMANCE),
        WaterfallStep("Net run time", net_run, total=True),
        WaterfallStep("Quality loss", net_run - productive, total=False, factor=QUALITY),
        WaterfallStep("Fully productive time", productive, total=True),
    )


@dataclass(frozen=True)
class Bar:
    """Where a waterfall step is drawn, in the display time unit."""

    label: str
    bottom: float
    height: float  # a negative loss (faster than ideal) rises instead of falling
    share: float  # of planned production time
    total: bool
    factor: str


def waterfall_bars(content: OeeContent) -> list[Bar]:
    """Totals stand on the axis; each loss hangs from the level the previous bar left."""
    _, scale = content.time_unit
    planned = content.oee.planned_production_time or 1.0
    bars: list[Bar] = []
    level = 0.0
    for step in content.steps:
        value = step.seconds / scale
        if step.total:
            level = value
            bottom = 0.0
        else:
            level -= value
            bottom = level
        bars.append(Bar(step.label, bottom, value, step.seconds / planned, step.total, step.factor))
    return bars


def oee_content(title: str, oee: Oee, work_units: dict[str, Oee] | None = None) -> OeeContent:
    return OeeContent(title, oee, oee_steps(oee), dict(work_units or {}))


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
