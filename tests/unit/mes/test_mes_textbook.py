"""Worked examples from public sources, checked to the sources' rounding.

Montgomery = D. C. Montgomery, Introduction to Statistical Quality Control (6th ed., Wiley).
"""

from __future__ import annotations

import numpy as np
import pytest
from lineops.mes.capability import capability
from lineops.mes.charts import ChartKind, apply, estimate
from lineops.mes.data import ChartData
from lineops.mes.oee import oee_from_totals
from lineops.mes.phases import analyze, phase_one

from .conftest import (
    CIRCUIT_BOARDS,
    MORTGAGE_COSTS,
    ORANGE_JUICE,
    PERSONAL_COMPUTERS,
    PISTON_R,
    PISTON_XBAR,
    piston_ring_array,
)


def test_piston_ring_data_matches_printed_subgroup_statistics() -> None:
    # Guards the typed-in data: every subgroup reproduces the book's x-bar and R.
    rings = piston_ring_array()
    assert rings.shape == (25, 5)
    assert np.round(rings.mean(axis=1), 3).tolist() == pytest.approx(PISTON_XBAR, abs=1e-9)
    assert np.round(np.ptp(rings, axis=1), 3).tolist() == pytest.approx(PISTON_R, abs=1e-9)


def test_piston_rings_xbar_r_chart() -> None:
    # Montgomery: x-double-bar = 74.001, R-bar = 0.023; x-bar chart 73.988 .. 74.014,
    # R chart 0 .. 0.049; the process is in control.
    one, result = analyze("xbar-r", ChartData.subgroups(piston_ring_array()), ["nelson-1"])
    assert one.params.center == pytest.approx(74.001, abs=5e-4)
    assert one.params.spread == pytest.approx(0.023, abs=5e-4)
    xbar, r = result.series
    # The book rounds x-double-bar and R-bar before multiplying by A2, hence 1e-3.
    assert xbar.ucl[0] == pytest.approx(74.014, abs=1e-3)
    assert xbar.lcl[0] == pytest.approx(73.988, abs=1e-3)
    assert r.center == pytest.approx(0.023, abs=5e-4)
    assert r.ucl[0] == pytest.approx(0.049, abs=5e-4)
    assert r.lcl[0] == 0.0
    assert result.in_control
    # sigma-hat = R-bar / d2 = 0.023 / 2.326 = 0.0099 with the rounded R-bar; the unrounded
    # R-bar (0.02324) gives 0.00999.
    assert one.params.sigma == pytest.approx(0.0099, abs=2e-4)


def test_piston_rings_xbar_s_chart() -> None:
    # Montgomery: s-bar = 0.0094; x-bar chart 73.988 .. 74.014; s chart 0 .. 0.0196.
    one, result = analyze("xbar-s", ChartData.subgroups(piston_ring_array()), ["nelson-1"])
    assert one.params.spread == pytest.approx(0.0094, abs=5e-5)
    xbar, s = result.series
    assert xbar.ucl[0] == pytest.approx(74.014, abs=1e-3)
    assert xbar.lcl[0] == pytest.approx(73.988, abs=1e-3)
    assert s.ucl[0] == pytest.approx(0.0196, abs=1e-4)
    assert s.lcl[0] == 0.0
    assert result.in_control


def test_piston_rings_capability() -> None:
    # Montgomery: specs 74.000 +/- 0.05, sigma-hat = R-bar/d2 = 0.0099, PCR (Cp) = 1.68.
    cap = capability(piston_ring_array(), lsl=73.95, usl=74.05)
    # The book divides by the rounded sigma 0.0099; the unrounded 0.00999 gives Cp = 1.668.
    assert cap.sigma_within == pytest.approx(0.0099, abs=2e-4)
    assert cap.cp == pytest.approx(1.68, abs=0.015)
    assert cap.cpk is not None and cap.cpk <= cap.cp
    assert cap.within_method == "rbar/d2"


def test_orange_juice_p_chart_and_revised_limits() -> None:
    # Montgomery: p-bar = 0.2313, UCL = 0.4102, LCL = 0.0524; samples 15 and 23 plot above
    # the UCL. Without them (assignable causes found): p-bar = 0.2150, UCL = 0.3893,
    # LCL = 0.0407.
    data = ChartData.attributes(ORANGE_JUICE, 50, defectives=True)
    _, result = analyze("p", data, ["nelson-1"])
    (p,) = result.series
    assert p.center == pytest.approx(0.2313, abs=5e-5)
    assert p.ucl[0] == pytest.approx(0.4102, abs=1e-4)
    assert p.lcl[0] == pytest.approx(0.0524, abs=1e-4)
    assert [v.index for v in result.violations] == [14, 22]  # samples 15 and 23
    revised = phase_one("p", data, exclude=[14, 22])
    (p2,) = apply(revised.params, data)
    assert revised.params.center == pytest.approx(0.2150, abs=5e-5)
    assert p2.ucl[0] == pytest.approx(0.3893, abs=1e-4)
    assert p2.lcl[0] == pytest.approx(0.0407, abs=1e-4)


def test_orange_juice_iterative_removal() -> None:
    # Not a book figure: iterating "drop points beyond the limits" also drops sample 21
    # (p = 0.40), which lies above the revised UCL of 0.3893.
    data = ChartData.attributes(ORANGE_JUICE, 50, defectives=True)
    one = phase_one("p", data, remove_out_of_control=True)
    assert one.removed == (14, 20, 22)
    assert one.params.center == pytest.approx(281 / 1350)


def test_orange_juice_np_chart_is_the_p_chart_times_n() -> None:
    data = ChartData.attributes(ORANGE_JUICE, 50, defectives=True)
    (np_series,) = apply(estimate(ChartKind.NP, data), data)
    assert np_series.center == pytest.approx(50 * 0.23133, abs=1e-3)
    assert np_series.ucl[0] == pytest.approx(50 * 0.41024, abs=1e-3)
    assert np_series.lcl[0] == pytest.approx(50 * 0.05243, abs=1e-3)


def test_circuit_boards_c_chart() -> None:
    # Montgomery: c-bar = 19.85, UCL = 33.22, LCL = 6.48; samples 6 and 20 are outside.
    _, result = analyze("c", ChartData.attributes(CIRCUIT_BOARDS), ["nelson-1"])
    (c,) = result.series
    assert c.center == pytest.approx(19.85, abs=5e-3)
    assert c.ucl[0] == pytest.approx(33.22, abs=1e-2)
    assert c.lcl[0] == pytest.approx(6.48, abs=1e-2)
    assert [v.index for v in result.violations] == [5, 19]


def test_personal_computers_u_chart() -> None:
    # Montgomery: u-bar = 1.93, UCL = 3.79, LCL = 0.07; in control.
    data = ChartData.attributes(PERSONAL_COMPUTERS, 5)
    _, result = analyze("u", data, ["nelson-1"])
    (u,) = result.series
    assert u.center == pytest.approx(1.93, abs=5e-3)
    assert u.ucl[0] == pytest.approx(3.79, abs=5e-3)
    assert u.lcl[0] == pytest.approx(0.07, abs=5e-3)
    assert result.in_control


def test_mortgage_costs_individuals_chart() -> None:
    # Montgomery: x-bar = 300.5, MR-bar = 7.79; I chart 279.78 .. 321.22, MR chart 0 .. 25.45.
    _, result = analyze("imr", ChartData.individuals(MORTGAGE_COSTS), ["nelson-1"])
    i_chart, mr = result.series
    assert i_chart.center == pytest.approx(300.5)
    assert mr.center == pytest.approx(7.79, abs=5e-3)
    # The book uses 3 / d2 = 2.66 and the rounded MR-bar, hence 0.02.
    assert i_chart.ucl[0] == pytest.approx(321.22, abs=2e-2)
    assert i_chart.lcl[0] == pytest.approx(279.78, abs=2e-2)
    assert mr.ucl[0] == pytest.approx(25.45, abs=1e-2)
    assert mr.points.size == len(MORTGAGE_COSTS) - 1
    assert result.in_control


def test_oee_worked_example() -> None:
    # oee.com (Vorne) worked example: 420 min planned, 47 min down, 1.0 s ideal cycle,
    # 19,271 total and 18,848 good pieces -> A 88.81%, P 86.11%, Q 97.80%, OEE 74.79%.
    o = oee_from_totals(420 * 60, 47 * 60, 1.0, 19271, 18848)
    assert o.availability == pytest.approx(0.8881, abs=5e-5)
    assert o.performance == pytest.approx(0.8611, abs=5e-5)
    assert o.quality == pytest.approx(0.9780, abs=5e-5)
    assert o.oee == pytest.approx(0.7479, abs=5e-5)
