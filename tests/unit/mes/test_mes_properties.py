"""Properties of the charts and rules over generated data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from lineops.mes.charts import ChartKind, apply, estimate
from lineops.mes.data import ChartData
from lineops.mes.phases import monitor, phase_one
from lineops.mes.rules import NELSON, WECO, violations
from lineops.mes.streaming import VECTOR_MIN, RuleStream, SpcStream

ALL_RULES = NELSON + WECO
FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
# Small integers make ties, runs and trends common, which is where rules are fragile.
STEPS = st.integers(-3, 3).map(float)


def subgroups(n_min: int = 2, n_max: int = 6, elements: st.SearchStrategy[float] = FINITE):
    return st.integers(n_min, n_max).flatmap(
        lambda n: arrays(np.float64, st.tuples(st.integers(2, 40), st.just(n)), elements=elements)
    )


@settings(deadline=None)
@given(subgroups())
def test_variables_limits_are_symmetric_about_the_centre(rows: np.ndarray) -> None:
    for kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        data = ChartData.subgroups(rows)
        xbar, spread = apply(estimate(kind, data), data)
        assert xbar.ucl - xbar.center == pytest.approx(xbar.center - xbar.lcl, abs=1e-9)
        # The range/s chart is symmetric until its lower limit is clamped at 0.
        assert np.all(spread.lcl >= 0.0)
        assert np.all(spread.ucl >= spread.center)


@settings(deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=30), st.integers(50, 200))
def test_attribute_limits_are_symmetric_unless_clamped(counts: list[int], n: int) -> None:
    data = ChartData.attributes(counts, n, defectives=True)
    for kind in (ChartKind.P, ChartKind.NP, ChartKind.C):
        params = estimate(kind, data)
        (s,) = apply(params, data if kind is not ChartKind.C else ChartData.attributes(counts))
        upper, lower = s.ucl - s.center, s.center - s.lcl
        # Clamped at 0 below, and at 1 (p) or n (np) above.
        ceiling = {ChartKind.P: 1.0, ChartKind.NP: float(n)}.get(kind, np.inf)
        unclamped = (s.lcl > 0) & (s.ucl < ceiling)
        assert upper[unclamped] == pytest.approx(lower[unclamped])
        assert np.all(s.lcl >= 0) and np.all(s.ucl <= ceiling)


@settings(deadline=None)
@given(
    subgroups(),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.floats(0.01, 100.0, allow_nan=False),
)
def test_shift_and_scale_equivariance(rows: np.ndarray, shift: float, scale: float) -> None:
    base = estimate(ChartKind.XBAR_R, ChartData.subgroups(rows))
    moved = estimate(ChartKind.XBAR_R, ChartData.subgroups(rows * scale + shift))
    tol = 1e-9 * (1.0 + abs(shift) + scale * float(np.abs(rows).max(initial=1.0)))
    assert moved.center == pytest.approx(base.center * scale + shift, abs=tol * 10)
    assert moved.spread == pytest.approx(base.spread * scale, abs=tol * 10)


@settings(deadline=None)
@given(subgroups(elements=STEPS), st.sampled_from([0.5, 2.0, 4.0, 1024.0]))
def test_power_of_two_scaling_keeps_violations(rows: np.ndarray, scale: float) -> None:
    # Scaling by a power of two is exact in binary floating point, so every z is unchanged.
    def found(r: np.ndarray) -> list[tuple[int, str, str]]:
        data = ChartData.subgroups(r)
        result = monitor(phase_one(ChartKind.XBAR_R, data).params, data, ALL_RULES)
        return [(v.index, v.chart, v.rule) for v in result.violations]

    assert found(rows * scale) == found(rows)


@settings(deadline=None)
@given(
    st.sampled_from([0.0, 0.1, 1.0, 74.001, -3.3, 1e6 + 0.1]),
    st.integers(2, 60),
    st.integers(2, 6),
)
def test_constant_series_is_in_control_and_any_change_is_not(value: float, k: int, n: int) -> None:
    # Zero sigma: limits collapse onto the centre; points on it (up to the rounding of the
    # mean) break no rule, and a later point off it is beyond every limit.
    rows = np.full((k, n), value)
    for kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        data = ChartData.subgroups(rows)
        params = phase_one(kind, data).params
        assert monitor(params, data, ALL_RULES).in_control
        bumped = rows.copy()
        bumped[-1, 0] += 1.0
        later = monitor(params, ChartData.subgroups(bumped), ["nelson-1"])
        assert {(v.chart, v.index) for v in later.violations} >= {("xbar", k - 1)}
    individuals = ChartData.individuals(rows[:, 0])
    params = phase_one(ChartKind.IMR, individuals).params
    assert monitor(params, individuals, ALL_RULES).in_control


def _batch(kind: ChartKind, params, data: ChartData) -> list[tuple[int, str, str]]:
    found = violations(
        ((s.name, s.points, s.z()) for s in apply(params, data)),
        ALL_RULES,
        attribute=kind.is_attribute,
    )
    return [(v.index, v.chart, v.rule) for v in found]


def _chunks(total: int, sizes: list[int]) -> list[tuple[int, int]]:
    out, start, i = [], 0, 0
    while start < total:
        size = sizes[i % len(sizes)] if sizes else total
        out.append((start, min(total, start + size)))
        start += size
        i += 1
    return out


@settings(max_examples=150, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(3, 200), st.just(3)), elements=STEPS),
    st.lists(st.integers(1, 2 * VECTOR_MIN), min_size=1, max_size=6),
)
def test_streaming_equals_batch_xbar_r(rows: np.ndarray, sizes: list[int]) -> None:
    rows = rows + np.arange(rows.shape[0])[:, None] % 5  # add drifts and runs
    params = phase_one(ChartKind.XBAR_R, ChartData.subgroups(rows[:20])).params
    stream = SpcStream(params, ALL_RULES)
    got = []
    for a, b in _chunks(rows.shape[0], sizes):
        got += [(v.index, v.chart, v.rule) for v in stream.update(ChartData.subgroups(rows[a:b]))]
    assert sorted(got) == _batch(ChartKind.XBAR_R, params, ChartData.subgroups(rows))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(STEPS, min_size=3, max_size=150),
    st.lists(st.integers(1, 2 * VECTOR_MIN), min_size=1, max_size=6),
)
def test_streaming_equals_batch_individuals(values: list[float], sizes: list[int]) -> None:
    data = ChartData.individuals(values)
    params = phase_one(ChartKind.IMR, data).params
    stream = SpcStream(params, ALL_RULES)
    got = []
    for a, b in _chunks(len(values), sizes):
        got += [(v.index, v.chart, v.rule) for v in stream.update(data.take(np.arange(a, b)))]
    assert sorted(got) == _batch(ChartKind.IMR, params, data)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(20, 60)), min_size=3, max_size=120),
    st.lists(st.integers(1, 2 * VECTOR_MIN), min_size=1, max_size=6),
)
def test_streaming_equals_batch_p_chart(samples: list[tuple[int, int]], sizes: list[int]) -> None:
    data = ChartData.attributes([c for c, _ in samples], [n for _, n in samples])
    params = phase_one(ChartKind.P, data).params
    stream = SpcStream(params, ALL_RULES)
    got = []
    for a, b in _chunks(len(samples), sizes):
        got += [(v.index, v.chart, v.rule) for v in stream.update(data.take(np.arange(a, b)))]
    assert sorted(got) == _batch(ChartKind.P, params, data)


@settings(deadline=None)
@given(st.lists(STEPS, min_size=1, max_size=80))
def test_point_by_point_equals_batch(values: list[float]) -> None:
    x = np.asarray(values)
    stream = RuleStream(ALL_RULES)
    got = sorted((i, rule) for i, v in enumerate(values) for rule in stream.push(v, v / 1.5))
    batch = violations([("x", x, x / 1.5)], ALL_RULES)
    assert got == sorted((v.index, v.rule) for v in batch)
