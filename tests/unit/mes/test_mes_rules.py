"""Every run rule: one series that triggers it at a known point, one that must not.

The series are given directly in sigmas around a centre of 0 (x = z), so each reads as the
chart a quality engineer would sketch.
"""

from __future__ import annotations

import numpy as np
import pytest
from lineops.mes.errors import MesInputError
from lineops.mes.rules import NELSON, RULES, WECO, evaluate, parse_rules

ALT = [0.5, -0.5] * 10  # inside 1 sigma, alternating

TRIGGER: dict[str, tuple[list[float], list[int]]] = {
    "nelson-1": ([0, 0.5, -0.5, 3.2, 0], [3]),
    "nelson-2": ([-0.2] + [0.3] * 9, [9]),
    "nelson-3": ([0.0, -1.0, -0.8, -0.5, 0.1, 0.4, 0.9], [6]),
    "nelson-4": ([0.5, *ALT[:14]], [14]),  # the flat first step is not a flip
    "nelson-5": ([0.0, 2.5, 0.3, 2.2, 0.0], [3]),
    "nelson-6": ([0.0, 1.5, 1.2, 0.2, 1.8, 1.1, 0.0], [5]),
    "nelson-7": ([2.0] + [0.5, -0.5, 0.2] * 5, [15]),
    "nelson-8": ([0.0, 1.5, -1.5, 1.2, -1.2, 2.0, -2.0, 1.1, -1.1], [8]),
    "weco-1": ([0, -3.5, 0], [1]),
    "weco-2": ([0.0, -2.5, -2.1, 0.0], [2]),
    "weco-3": ([-1.5, -1.2, -1.1, -0.5, -1.3, 0.0], [4]),
    "weco-4": ([0.1] + [-0.3] * 8, [8]),
}

QUIET: dict[str, list[float]] = {
    "nelson-1": [2.99, -2.99, 3.0, -3.0],  # on the limit is not beyond it
    "nelson-2": [0.3] * 8 + [-0.3] + [0.3] * 8,
    "nelson-3": [0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8],  # a tie breaks the trend
    "nelson-4": [*ALT[:13], 0.6, -0.5, 0.5],  # 13 alternating, then two rises
    "nelson-5": [2.5, -2.5, 0.0, 2.5, 0.0, 0.0, 2.5],  # opposite sides, or too far apart
    "nelson-6": [1.5, 1.5, 0.0, 0.0, 1.5, 1.5, 1.5, -0.5, -1.5, 1.5],
    "nelson-7": [0.5] * 14 + [1.0] + [0.5] * 14,  # a point at exactly 1 sigma is not within
    "nelson-8": [1.5, -1.5] * 3 + [1.5, 0.5, 1.5],
    "weco-1": [2.9, -2.9],
    "weco-2": [2.5, 0.0, 0.0, -2.5, 0.1],
    "weco-3": [1.5, 1.5, 1.5, 0.5, 0.5, 1.5],
    "weco-4": [0.3] * 7 + [-0.3] * 7,
}


def test_every_rule_has_cases() -> None:
    assert set(TRIGGER) == set(RULES) == set(QUIET)


@pytest.mark.parametrize("rule", sorted(TRIGGER))
def test_rule_fires_where_expected(rule: str) -> None:
    series, expected = TRIGGER[rule]
    x = np.array(series, dtype=np.float64)
    assert evaluate(x, x, [rule])[rule].tolist() == expected


@pytest.mark.parametrize("rule", sorted(QUIET))
def test_rule_stays_quiet(rule: str) -> None:
    x = np.array(QUIET[rule], dtype=np.float64)
    assert evaluate(x, x, [rule])[rule].tolist() == []


def test_long_run_keeps_firing() -> None:
    x = np.full(11, 0.4)
    assert evaluate(x, x, ["nelson-2"])["nelson-2"].tolist() == [8, 9, 10]


def test_partial_window_at_start() -> None:
    # The first two points both beyond 2 sigma already make "2 of 3".
    x = np.array([2.5, 2.5, 0.0])
    assert evaluate(x, x, ["nelson-5"])["nelson-5"].tolist() == [1]


def test_trend_uses_points_and_zones_use_z() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    z = np.zeros(6)  # e.g. a p chart whose limits widen as fast as the points rise
    assert evaluate(x, z, ["nelson-3", "nelson-2"]) == {
        "nelson-3": pytest.approx([5]),
        "nelson-2": pytest.approx([]),
    }


def test_parse_rules() -> None:
    assert parse_rules("nelson") == NELSON
    assert parse_rules("weco") == WECO
    assert parse_rules("nelson-1, weco-4,nelson-1") == ("nelson-1", "weco-4")
    assert parse_rules(["all"]) == NELSON + WECO
    with pytest.raises(MesInputError, match="unknown rule 'nelson-9'"):
        parse_rules("nelson-9")
    with pytest.raises(MesInputError, match="no rules"):
        parse_rules(" , ")


def test_mismatched_arrays_are_rejected() -> None:
    with pytest.raises(MesInputError, match="equal 1-d"):
        evaluate(np.zeros(3), np.zeros(4), ["nelson-1"])


def test_zone_rules_do_not_run_on_attribute_charts_nor_pattern_rules_on_dispersion() -> None:
    from lineops.mes.charts import ChartData
    from lineops.mes.kinds import ChartKind
    from lineops.mes.phases import analyze

    # An in-control p chart, p 0.02 and n 50: a count of 0 is 1.01 sigma below the centre,
    # and 36 % of samples are 0; five in a row fired weco-3 / nelson-6.
    counts = [
        1,
        2,
        2,
        1,
        0,
        0,
        0,
        0,
        0,
        1,
        2,
        1,
        1,
        1,
        1,
        1,
        1,
        2,
        1,
        1,
        1,
        1,
        1,
        1,
        2,
    ]  # p-bar 25 / 1250
    data = ChartData.attributes(counts, [50] * len(counts))
    _, result = analyze(ChartKind.P, data, ["nelson-1", "nelson-6", "weco-3"])
    assert result.violations == ()

    # Individuals alternating by half a sigma: 8 moving ranges below their mean fired weco-4
    # on the MR chart; only the 3-sigma rule runs there.
    values = [10.0 + (0.5 if i % 2 else 0.0) + (3.0 if i % 10 == 0 else 0.0) for i in range(40)]
    _, result = analyze(ChartKind.IMR, ChartData.individuals(values), ["weco-1", "weco-4"])
    assert not [v for v in result.violations if v.chart == "mr" and v.rule == "weco-4"]
