"""Streams with repairs: how they are built and scored, on series whose answers are known."""

from __future__ import annotations

import numpy as np
from lineops_pipelines import classifier_selection, streams, te_data
from lineops_pipelines.baselines import ExtraTreesBaseline
from lineops_pipelines.models.classifier import ClassifierConfig, FaultClassifier

# normal 50, fault 4 for 60, normal 50 (a repair), fault 7 for 40, normal 30 (a repair)
TRUTH = np.repeat([0, 4, 0, 7, 0], [50, 60, 50, 40, 30])


def test_segments_grace_and_post_repair_rows() -> None:
    assert streams.segments_of(TRUTH) == [
        (0, 50, 0),
        (50, 110, 4),
        (110, 160, 0),
        (160, 200, 7),
        (200, 230, 0),
    ]
    keep = streams.scored_rows(TRUTH, grace=5)
    assert keep[:50].all() and not keep[50:55].any() and keep[55:110].all()
    assert int((~keep).sum()) == 4 * 5
    after = streams.post_repair_rows(TRUTH, grace=5)
    assert np.flatnonzero(after).tolist() == [*range(115, 160), *range(205, 230)]


def test_a_model_that_never_reports_normal_again_is_caught() -> None:
    sticky = TRUTH.copy()
    sticky[110:160] = 4  # fault 4 is never repaired in the model's eyes
    sticky[200:] = 7
    m = streams.classifier_stream_metrics(TRUTH, sticky, grace=5)
    assert m["post_repair_normal"] == 0.0
    perfect = streams.classifier_stream_metrics(TRUTH, TRUTH, grace=5)
    assert perfect["post_repair_normal"] == 1.0 and perfect["macro_f1"] == 1.0
    assert m["macro_f1"] < 0.8


def test_delays_count_rows_until_three_consecutive_right_labels() -> None:
    late = TRUTH.copy()
    late[50:58] = 0  # fault 4 recognised 8 rows late, with one early flicker
    late[52] = 4
    late[160:200] = 0  # fault 7 never recognised: the delay is the segment's length
    m = streams.classifier_stream_metrics(TRUTH, late, grace=5)
    assert m["delay"] == {"4": 8.0, "7": 40.0}
    assert m["mean_delay"] == 24.0


def test_normal_like_classes_count_as_normal_in_truth_and_labels() -> None:
    truth = np.repeat([0, 3, 0, 5], [30, 30, 30, 30])
    said = np.repeat([0, 9, 3, 5], [30, 30, 30, 30])
    m = streams.classifier_stream_metrics(truth, said, normal_like=(3, 9), grace=0)
    assert m["macro_f1"] == 1.0
    assert m["post_repair_rows"] == 0  # fault 3 is no fault in this view: nothing repaired


def test_detector_stream_metrics() -> None:
    alarms = TRUTH != 0
    alarms[110:125] = True  # 15 rows of alarm after the first repair
    alarms[160:170] = False  # fault 7 seen 10 rows late
    m = streams.detector_stream_metrics(TRUTH, alarms, grace=5)
    assert m["alarm_rate_after_repair"] == (125 - 115) / 70
    assert m["delay"] == {"4": 0.0, "7": 10.0}
    assert m["detection"] == (55 + 30) / (55 + 35)


def test_te_test_stream_joins_every_file_once_in_a_seeded_order() -> None:
    tests = {f: np.full((960, 2), float(f)) for f in te_data.FAULTS}
    a = streams.te_test_stream(tests, order_seed=0, onset=160)
    b = streams.te_test_stream(tests, order_seed=1, onset=160)
    assert len(a.truth) == 22 * 960
    order = [int(a.x[i * 960, 0]) for i in range(22)]
    assert sorted(order) == list(range(22)) and order != [int(b.x[i * 960, 0]) for i in range(22)]
    for i, f in enumerate(order):
        run = a.truth[i * 960 : (i + 1) * 960]
        assert (run[:160] == 0).all() and (run[160:] == f).all()


def _toy_runs() -> dict[int, np.ndarray]:
    rng = np.random.default_rng(3)
    runs = {}
    for k in range(5):  # runs 0 and 1 are normal-like, 2, 3 and 4 are faults
        x = rng.normal(size=(200, 4))
        if k >= 2:
            x[:, k - 1] += 3.0
        runs[k] = x
    return runs


def test_training_stream_alternates_held_out_normal_rows_and_faults() -> None:
    normal = np.arange(100.0)[:, None]
    faults = [(np.full((30, 1), -1.0), 2), (np.full((20, 1), -2.0), 3)]
    x, truth = classifier_selection.training_stream(normal, faults, 40, order_seed=0)
    assert streams.segments_of(truth)[0] == (0, 40, 0)
    assert [c for _, _, c in streams.segments_of(truth)][::2] == [0, 0, 0]
    assert len(x) == 3 * 40 + 30 + 20 and x[-1, 0] >= 0  # ends normal: the last fault repaired


def test_stream_validation_ranks_filters_for_any_per_row_model() -> None:
    runs = _toy_runs()
    candidates = {
        "none": {"sequence": "none"},
        "hmm absorbing": {"sequence": "hmm", "switch_repair": 1e-8},
        "hmm repairs": {"sequence": "hmm", "switch_repair": 1e-2},
    }
    config = ClassifierConfig(window=10, trees=20, net_weight=0.0)

    def ours(parts, n_classes, seed):  # type: ignore[no-untyped-def]
        names = ["a", "b", "c", "d"]
        return FaultClassifier.fit(parts, names, [str(c) for c in range(n_classes)], config, seed)

    def extratrees(parts, n_classes, seed):  # type: ignore[no-untyped-def]
        return ExtraTreesBaseline.fit(parts, n_classes, seed, trees=20, window=10)

    for fit in (ours, extratrees):
        result = classifier_selection.classifier_stream_validation(
            runs, (0, 1), fit, candidates, config, cut=100, normal_rows=60, grace=10
        )
        table = result["table"]
        repairs, absorbing = table["hmm repairs"], table["hmm absorbing"]
        assert repairs["post_repair_normal"] > 0.9
        assert absorbing["post_repair_normal"] < repairs["post_repair_normal"] - 0.1
        assert result["best"] != "hmm absorbing"
