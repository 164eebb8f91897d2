"""Each chart type: a Phase II point beyond its limits is caught, in-control data are not."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from lineops.mes.charts import ChartKind, apply, estimate
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.phases import monitor, phase_one

from .conftest import (
    CIRCUIT_BOARDS,
    MORTGAGE_COSTS,
    ORANGE_JUICE,
    PERSONAL_COMPUTERS,
    piston_ring_array,
)


def _reference(kind: ChartKind) -> ChartData:
    if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        return ChartData.subgroups(piston_ring_array())
    if kind is ChartKind.IMR:
        return ChartData.individuals(MORTGAGE_COSTS)
    if kind in (ChartKind.P, ChartKind.NP):
        # Without samples 15, 21 and 23, which plot above the (revised) limits.
        juice = [c for i, c in enumerate(ORANGE_JUICE) if i not in (14, 20, 22)]
        return ChartData.attributes(juice, 50, defectives=True)
    if kind is ChartKind.C:
        return ChartData.attributes([c for c in CIRCUIT_BOARDS if c not in (5, 39)])
    return ChartData.attributes(PERSONAL_COMPUTERS, 5)


def _shifted(kind: ChartKind) -> tuple[ChartData, str, int]:
    """New data whose point 2 is far outside; the chart statistic that shows it."""
    if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        rows = piston_ring_array()[:5].copy()
        rows[2] += 0.03
        return ChartData.subgroups(rows), "xbar", 2
    if kind is ChartKind.IMR:
        return ChartData.individuals([300, 301, 340, 299, 302]), "i", 2
    if kind in (ChartKind.P, ChartKind.NP):
        return ChartData.attributes([10, 11, 30, 9], 50, defectives=True), kind.value, 2
    if kind is ChartKind.C:
        return ChartData.attributes([20, 18, 45, 19]), "c", 2
    return ChartData.attributes([10, 9, 25, 8], 5), "u", 2


@pytest.mark.parametrize("kind", list(ChartKind))
def test_out_of_control_point_is_flagged(kind: ChartKind) -> None:
    params = phase_one(kind, _reference(kind)).params
    data, chart, index = _shifted(kind)
    result = monitor(params, data, ["nelson-1"])
    hits = {(v.chart, v.index) for v in result.violations}
    assert (chart, index) in hits
    assert all(i == index or c == "mr" for c, i in hits)


@pytest.mark.parametrize("kind", list(ChartKind))
def test_in_control_reference_is_quiet(kind: ChartKind) -> None:
    data = _reference(kind)
    params = phase_one(kind, data).params
    assert monitor(params, data, ["nelson-1"]).in_control
    assert [s.name for s in apply(params, data)] == list(kind.statistics)


def test_p_chart_limits_vary_with_sample_size() -> None:
    data = ChartData.attributes([5, 10, 40, 4], [50, 100, 200, 25], defectives=True)
    (p,) = apply(estimate(ChartKind.P, data), data)
    assert p.varying_limits
    pbar = 59 / 375
    expected = pbar + 3 * np.sqrt(pbar * (1 - pbar) / np.array([50, 100, 200, 25]))
    assert p.ucl == pytest.approx(expected)


def test_moving_range_point_maps_to_later_observation() -> None:
    from lineops.mes.charts import index_of_subgroup

    assert index_of_subgroup(ChartKind.IMR, "mr", 0) == 1
    assert index_of_subgroup(ChartKind.IMR, "i", 0) == 0


# ---------------------------------------------------------------------------- bad input


def test_too_few_subgroups() -> None:
    with pytest.raises(MesInputError, match="need at least 2 subgroups to estimate limits, got 1"):
        estimate(ChartKind.XBAR_R, ChartData.subgroups([[1.0, 2.0, 3.0]]))


def test_ragged_subgroups_name_the_row() -> None:
    with pytest.raises(MesInputError, match=r"^row 1: subgroup has 4 values, expected 5$"):
        ChartData.subgroups([[1, 2, 3, 4, 5], [1, 2, 3, 4]])


def test_non_numeric_value_names_the_row() -> None:
    with pytest.raises(MesInputError, match=r"^row 2: value 1 \('x'\) is not a number"):
        ChartData.subgroups([[1, 2], [3, 4], [5, "x"]])  # type: ignore[list-item]


def test_negative_count_names_row_and_column() -> None:
    with pytest.raises(MesInputError, match=r"row 1, column 'count': count -2 is negative"):
        ChartData.attributes([3, -2, 4])


def test_defectives_cannot_exceed_sample_size() -> None:
    with pytest.raises(MesInputError, match=r"row 0, column 'count': count 60 exceeds sample"):
        ChartData.attributes([60, 2], 50, defectives=True)


def test_np_chart_needs_constant_sample_size() -> None:
    data = ChartData.attributes([1, 2, 3], [50, 50, 40], defectives=True)
    with pytest.raises(MesInputError, match=r"row 2, column 'n'"):
        estimate(ChartKind.NP, data)


def test_phase_two_subgroup_size_must_match() -> None:
    params = estimate(ChartKind.XBAR_R, ChartData.subgroups(piston_ring_array()))
    with pytest.raises(MesInputError, match="expected 5"):
        apply(params, ChartData.subgroups([[1.0, 2.0, 3.0]]))


def test_subgroup_of_one_is_not_an_xbar_chart() -> None:
    with pytest.raises(MesInputError, match="at least 2 values"):
        estimate(ChartKind.XBAR_R, ChartData.subgroups([[1.0], [2.0]]))


def test_values_beyond_the_cap_are_refused_naming_the_row() -> None:
    """As the CLI and the data plane refuse them: 1e200 made the limits inf and NaN."""
    from lineops.mes.data import as_subgroups, finite_row
    from lineops.mes.errors import MesInputError

    with pytest.raises(MesInputError, match=r"beyond ±1e\+100") as listed:
        as_subgroups([[1.0, 2.0], [1e200, -1e200]])
    assert listed.value.row == 1
    with pytest.raises(MesInputError, match=r"beyond ±1e\+100") as array:
        as_subgroups(np.array([[1.0, 2.0], [3.0, 4.0], [-2e100, 1.0]]))
    assert array.value.row == 2
    with pytest.raises(MesInputError, match="beyond"):
        finite_row(["1e101"], 7)


def test_imr_phase_one_drops_the_moving_ranges_of_a_removed_value() -> None:
    """Removing x[5] joined x[4] and x[6] into a moving range that never happened."""
    from lineops.mes.data import ChartData
    from lineops.mes.kinds import ChartKind
    from lineops.mes.phases import phase_one

    x = [10.0, 11.0, 10.0, 12.0, 11.0, 30.0, 11.5, 10.0, 11.0, 10.5]
    one = phase_one(ChartKind.IMR, ChartData.individuals(x), exclude=[5])
    pairs = enumerate(itertools.pairwise(x))
    ranges = [abs(b - a) for i, (a, b) in pairs if 5 not in (i, i + 1)]
    assert one.params.spread == pytest.approx(sum(ranges) / len(ranges))
    assert one.params.center == pytest.approx(sum(v for i, v in enumerate(x) if i != 5) / 9)
