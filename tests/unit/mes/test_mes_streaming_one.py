"""The one-subgroup-per-call stream (``SpcStream.update_one``) against batch and chunks.

Small integers and short Phase I references make ties, runs, constant stretches and zero
sigma common, which is where a second implementation of the statistics or rules would part
ways with the numpy one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from lineops.mes.charts import ChartKind, ChartParams, subgroup_mean, subgroup_std
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.phases import monitor, phase_one
from lineops.mes.rules import NELSON, WECO, Violation
from lineops.mes.streaming import VECTOR_MIN, SpcStream
from lineops.mes.streaming_scalar import pairwise_sum, row_mean, row_std, standardize_one

ALL_RULES = NELSON + WECO
STEPS = st.integers(-3, 3).map(float)
FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
CHUNKS = st.lists(st.integers(1, 2 * VECTOR_MIN), min_size=1, max_size=6)
RULE_SETS = st.sampled_from([ALL_RULES, NELSON, WECO, ("nelson-7",), ("nelson-4", "weco-2")])


def _one_by_one(params: ChartParams, rules: tuple[str, ...], rows: list[list[float]]):
    stream = SpcStream(params, rules)
    return [v for row in rows for v in stream.update_one(row)]


def _chunked(params: ChartParams, rules: tuple[str, ...], data: ChartData, sizes: list[int]):
    stream = SpcStream(params, rules)
    found: list[Violation] = []
    start, i = 0, 0
    while start < len(data):
        stop = min(len(data), start + sizes[i % len(sizes)])
        found += stream.update(data.take(np.arange(start, stop)))
        start, i = stop, i + 1
    return found


def _mixed(params: ChartParams, rules: tuple[str, ...], data: ChartData, rows, sizes):
    # Alternate single rows and vectorised chunks on one stream: they share the state.
    stream = SpcStream(params, rules)
    found: list[Violation] = []
    start, i = 0, 0
    while start < len(data):
        if i % 2:
            found += stream.update_one(rows[start])
            start += 1
        else:
            stop = min(len(data), start + VECTOR_MIN + sizes[i % len(sizes)])
            found += stream.update(data.take(np.arange(start, stop)))
            start = stop
        i += 1
    return found


def _check(kind, data: ChartData, rows, reference: int, rules, sizes) -> None:
    params = phase_one(kind, data.take(np.arange(reference))).params
    batch = list(monitor(params, data, rules).violations)
    assert _one_by_one(params, rules, rows) == batch  # same violations, same order
    assert _chunked(params, rules, data, sizes) == batch
    assert _mixed(params, rules, data, rows, sizes) == batch


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([ChartKind.XBAR_R, ChartKind.XBAR_S]),
    st.integers(2, 6).flatmap(
        lambda n: arrays(np.float64, st.tuples(st.integers(2, 120), st.just(n)), elements=STEPS)
    ),
    st.integers(2, 20),
    RULE_SETS,
    CHUNKS,
)
def test_variables_one_by_one_equals_batch(kind, rows, reference, rules, sizes) -> None:
    rows = rows + np.arange(rows.shape[0])[:, None] % 7 * 0.25  # drifts, runs and trends
    data = ChartData.subgroups(rows)
    _check(kind, data, rows.tolist(), min(reference, len(data)), rules, sizes)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([ChartKind.XBAR_R, ChartKind.XBAR_S]),
    st.integers(2, 25).flatmap(
        lambda n: arrays(np.float64, st.tuples(st.integers(2, 60), st.just(n)), elements=FINITE)
    ),
    CHUNKS,
)
def test_variables_one_by_one_equals_batch_any_floats(kind, rows, sizes) -> None:
    # Wide subgroups: above 16 values the mean is numpy's pairwise sum, not left to right.
    data = ChartData.subgroups(rows)
    _check(kind, data, rows.tolist(), len(data), ALL_RULES, sizes)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEPS, min_size=2, max_size=150), st.integers(2, 20), RULE_SETS, CHUNKS)
def test_individuals_one_by_one_equals_batch(values, reference, rules, sizes) -> None:
    data = ChartData.individuals(values)
    rows = [[v] for v in values]
    _check(ChartKind.IMR, data, rows, min(reference, len(data)), rules, sizes)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([ChartKind.P, ChartKind.U, ChartKind.NP, ChartKind.C]),
    st.lists(st.tuples(st.integers(0, 12), st.integers(12, 40)), min_size=2, max_size=120),
    st.integers(2, 20),
    RULE_SETS,
    CHUNKS,
)
def test_attributes_one_by_one_equals_batch(kind, samples, reference, rules, sizes) -> None:
    counts = [float(c) for c, _ in samples]
    if kind is ChartKind.NP:
        samples = [(c, 40) for c, _ in samples]
    sample_sizes = [float(n) for _, n in samples]
    if kind is ChartKind.C:
        data = ChartData.attributes(counts)
        rows = [[c] for c in counts]
    else:
        data = ChartData.attributes(counts, sample_sizes)
        rows = [[c, n] for c, n in zip(counts, sample_sizes, strict=True)]
    _check(kind, data, rows, min(reference, len(data)), rules, sizes)


@settings(deadline=None)
@given(
    st.sampled_from([0.0, 0.1, 74.001, -3.3, 1e6 + 0.1]),
    st.integers(2, 40),
    st.integers(2, 6),
    st.integers(0, 39),
)
def test_zero_sigma_matches_batch(value: float, k: int, n: int, bump: int) -> None:
    # Limits estimated from a constant reference collapse onto the centre: points on it give
    # NaN z (no rule), any change is infinitely far out.
    rows = np.full((k, n), value)
    rows[bump % k, 0] += 0.5
    for kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
        params = phase_one(kind, ChartData.subgroups(np.full((3, n), value))).params
        batch = list(monitor(params, ChartData.subgroups(rows), ALL_RULES).violations)
        assert _one_by_one(params, ALL_RULES, rows.tolist()) == batch
    params = phase_one(ChartKind.IMR, ChartData.individuals([value] * 3)).params
    batch = list(monitor(params, ChartData.individuals(rows[:, 0]), ALL_RULES).violations)
    assert _one_by_one(params, ALL_RULES, [[v] for v in rows[:, 0].tolist()]) == batch


@settings(deadline=None)
@given(
    st.integers(1, 300).flatmap(
        lambda n: arrays(np.float64, st.tuples(st.integers(1, 4), st.just(n)), elements=FINITE)
    )
)
def test_scalar_statistics_are_numpys_floats(rows: np.ndarray) -> None:
    sums = rows.sum(axis=1).tolist()
    assert [pairwise_sum(r) for r in rows.tolist()] == sums
    if rows.shape[1] >= 2:
        assert [row_mean(r) for r in rows.tolist()] == subgroup_mean(rows).tolist()
        assert [row_std(r) for r in rows.tolist()] == subgroup_std(rows).tolist()


def test_standardize_one_follows_the_zero_sigma_convention() -> None:
    assert standardize_one(74.0, 74.0, 0.0) != standardize_one(74.0, 74.0, 0.0)  # NaN
    assert standardize_one(74.5, 74.0, 0.0) == np.inf
    assert standardize_one(73.5, 74.0, 0.0) == -np.inf
    assert standardize_one(75.0, 74.0, 0.5) == 2.0


def test_update_one_accepts_other_numbers_and_checks_input() -> None:
    rows = np.array([[74.0, 74.1, 73.9], [74.2, 73.8, 74.0], [74.1, 74.0, 73.9]])
    params = phase_one(ChartKind.XBAR_R, ChartData.subgroups(rows)).params
    stream = SpcStream(params, ALL_RULES)
    assert stream.update_one([np.float64(74.0), 74.1, "73.9"]) == []  # type: ignore[list-item]
    assert stream.update_one((80, 80, 80)) == [
        Violation(1, "xbar", "nelson-1"),
        Violation(1, "xbar", "weco-1"),
    ]
    with pytest.raises(MesInputError, match="2 values, expected 3"):
        stream.update_one([74.0, 74.1])
    with pytest.raises(MesInputError, match="not finite"):
        stream.update_one([74.0, float("nan"), 74.0])
    assert stream.update_one([74.0, 74.1, 73.9]) == []  # a rejected row is not counted
    counts = ChartData.attributes([3, 4, 5], 50)
    p_stream = SpcStream(phase_one(ChartKind.NP, counts).params, ALL_RULES)
    with pytest.raises(MesInputError, match="differs from Phase I size 50"):
        p_stream.update_one([3, 40])
    with pytest.raises(MesInputError, match="count -1 is negative"):
        p_stream.update_one([-1, 50])
    # As the batch path: no share above 1, and a point's shape per chart kind.
    with pytest.raises(MesInputError, match="count 60 exceeds sample size 50") as above:
        p_stream.update_one([60, 50])
    assert above.value.row == 0  # the stream's point index (the refused calls above took none)
    c_stream = SpcStream(phase_one(ChartKind.C, ChartData.attributes([3, 4, 5])).params, ["weco-1"])
    with pytest.raises(MesInputError, match=r"a c chart point is \[count\], got 2 value"):
        c_stream.update_one([3, 50])
