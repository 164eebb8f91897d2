"""One chart-kind vocabulary (the CRD field, the charts, the CLI) and one kind -> input
mapping (the CLI, the operator's live charts, the reports)."""

from __future__ import annotations

import numpy as np
import pytest
from lineops.api import ChartKind as ApiChartKind
from lineops.api.productionline import QualityCharacteristic
from lineops.mes.charts import ChartKind, chart_data
from lineops.mes.errors import MesInputError


def test_the_crd_field_is_the_charts_enum() -> None:
    assert ApiChartKind is ChartKind
    assert QualityCharacteristic.model_fields["chart"].annotation is ChartKind


def test_kind_properties() -> None:
    assert {k for k in ChartKind if k.is_attribute} == {"p", "np", "c", "u"}
    assert {k for k in ChartKind if k.is_subgrouped} == {"xbar-r", "xbar-s"}
    assert {k for k in ChartKind if k.counts_defectives} == {"p", "np"}
    assert [ChartKind(k).values_per_point(5) for k in ("xbar-s", "imr", "u")] == [5, 1, 1]
    assert ChartKind.IMR.statistics == ("i", "mr")


def test_variables_charts_take_rows() -> None:
    rows = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]
    data = chart_data(ChartKind.XBAR_R, rows=rows, subgroup_size=3)
    assert data.values is not None and data.values.shape == (2, 3)
    with pytest.raises(MesInputError, match="expected 2"):
        chart_data(ChartKind.XBAR_S, rows=rows, subgroup_size=2)
    individuals = chart_data(ChartKind.IMR, rows=[[1.5], [2.5]])
    assert individuals.values is not None
    np.testing.assert_array_equal(individuals.values, [1.5, 2.5])


def test_attribute_charts_take_counts_and_sizes() -> None:
    c = chart_data(ChartKind.C, counts=[3, 4], sizes=[1, 1])
    assert c.sizes is None  # c charts count defects per unit: sizes play no part
    u = chart_data(ChartKind.U, counts=[3, 4], sizes=[1, 1])
    assert u.sizes is not None  # defects per unit may exceed the sample size
    with pytest.raises(MesInputError, match="exceeds sample size"):
        chart_data(ChartKind.P, counts=[3, 4], sizes=[1, 1])
    np_chart = chart_data(ChartKind.NP, counts=[1, 2], sizes=5.0)
    assert np_chart.sizes is not None
    np.testing.assert_array_equal(np_chart.sizes, [5.0, 5.0])
