"""The numbers behind the figures: limits, zones, flagged points and the OEE waterfall."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.oee import oee_from_totals
from lineops.services.reports.content import (
    capability_content,
    control_chart_content,
    curve_x,
    normal_pdf,
    oee_content,
    waterfall_bars,
)

from tests.unit.reports.conftest import SHIFT, piston_rows


def rings(shifted: int = 12) -> ChartData:
    rows = [[float(v) for v in row] for row in piston_rows()]
    return ChartData.subgroups(rows + [[v + SHIFT for v in row] for row in rows[:shifted]])


def test_control_chart_panels_limits_zones_and_violations() -> None:
    content = control_chart_content("xbar-r", rings(), ["nelson-1"], title="d", phase1=25)
    xbar, r = content.panels
    assert (xbar.name, r.name) == ("xbar", "r")
    assert xbar.x == list(range(1, 38))
    # Montgomery's piston rings: x-double-bar 74.001, UCL 74.014, LCL 73.988 (Phase I).
    assert xbar.center == pytest.approx(74.00118, abs=1e-5)
    assert xbar.ucl[0] == pytest.approx(74.0146, abs=1e-3)
    assert xbar.lcl[0] == pytest.approx(73.9877, abs=1e-3)
    for k in (1, 2):
        lower, upper = xbar.zones[k]
        assert xbar.lcl[0] < lower[0] < xbar.center < upper[0] < xbar.ucl[0]
        assert upper[0] - xbar.center == pytest.approx(k * (xbar.ucl[0] - xbar.center) / 3)
    # The range chart's lower zones are clamped at its LCL of 0, never below.
    assert min(r.zones[2][0]) >= 0.0
    # Only shifted (Phase II) subgroups are flagged, each with the rule that fired.
    assert xbar.violations and all(i >= 25 for i in xbar.violations)
    assert all(rules == ["nelson-1"] for rules in xbar.violations.values())
    assert content.violation_count == sum(len(v) for v in xbar.violations.values())
    assert not content.in_control


def test_moving_range_points_sit_at_their_later_subgroup() -> None:
    content = control_chart_content(
        "imr", ChartData.individuals([1.0, 3.0, 2.0, 4.0]), ["weco-1"], title="i"
    )
    i_panel, mr_panel = content.panels
    assert i_panel.x == [1, 2, 3, 4]
    assert mr_panel.x == [2, 3, 4]


def test_varying_limits_are_kept_per_point() -> None:
    data = ChartData.attributes([5, 6, 4, 7], [50, 100, 40, 60], defectives=True)
    (p,) = control_chart_content("p", data, ["nelson-1"], title="p").panels
    assert p.varying_limits
    assert len(set(p.ucl)) == 4


def test_bad_phase1_is_reported_by_the_analytics() -> None:
    with pytest.raises(MesInputError, match="phase1"):
        control_chart_content("xbar-r", rings(0), ["nelson-1"], title="d", phase1=99)


def test_capability_content_and_fitted_normal() -> None:
    content = capability_content(rings(0), 73.95, 74.05, title="d", target=74.0)
    assert len(content.values) == 125
    # Montgomery: sigma = R-bar / d2 = 0.02324 / 2.326, Cp = 0.10 / 6 sigma = 1.67.
    assert content.result.cp == pytest.approx(1.67, abs=0.01)
    assert content.result.cpk == pytest.approx(1.63, abs=0.01)
    xs = curve_x(content)
    assert xs[0] < 73.95 and xs[-1] > 74.05  # the curve spans both spec limits
    pdf = normal_pdf(xs, content.result.mean, content.result.sigma_within)
    area = float(np.trapezoid(pdf, xs))
    assert area == pytest.approx(1.0, abs=1e-3)


def test_capability_needs_measurements() -> None:
    with pytest.raises(MesInputError, match="measurements"):
        capability_content(ChartData.attributes([1, 2], [10, 10]), 0.0, 1.0, title="p")


def test_waterfall_walks_from_planned_time_down_to_oee() -> None:
    # 8 h planned, 1 h down, 1.2 s ideal cycle, 18000 made, 17640 good.
    oee = oee_from_totals(8 * 3600, 3600, 1.2, 18000, 17640)
    content = oee_content("line", oee)
    steps = {s.label: s for s in content.steps}
    planned = steps["Planned production time"].seconds
    losses = sum(s.seconds for s in content.steps if not s.total)
    productive = steps["Fully productive time"].seconds
    assert planned - losses == pytest.approx(productive)
    assert productive == pytest.approx(oee.oee * planned)  # type: ignore[operator]
    assert steps["Run time"].seconds == 7 * 3600
    assert steps["Net run time"].seconds == pytest.approx(1.2 * 18000)
    assert {s.factor for s in content.steps if not s.total} == {
        "availability",
        "performance",
        "quality",
    }
    assert content.time_unit == ("h", 3600.0)
    bars = waterfall_bars(content)
    # Each loss hangs from where the bar before it left the level.
    for before, bar in itertools.pairwise(bars):
        if not bar.total:
            top = before.height if before.total else before.bottom
            assert bar.bottom + bar.height == pytest.approx(top)
    assert bars[-1].share == pytest.approx(oee.oee)  # type: ignore[arg-type]
    assert math.isclose(bars[0].share, 1.0)
