"""The along-the-series filters, the normal-like rule and the label a plant sees."""

from __future__ import annotations

import numpy as np
from lineops_pipelines.models.classifier import ClassifierConfig
from lineops_pipelines.models.sequence import (
    filter_grouped,
    filter_sequence,
    holdout_normal_like,
    normal_like_classes,
    report,
    transition_matrix,
)


def test_transition_matrix_separates_repairs_from_fault_switches() -> None:
    a = transition_matrix(5, onset=0.1, repair=1e-2, switch=1e-6)
    assert np.allclose(a.sum(axis=1), 1.0)
    assert a[0, 0] == 0.9 and np.allclose(a[0, 1:], 0.1 / 4)
    assert a[3, 0] == 1e-2 and np.isclose(a[3, 1], 1e-6 / 3)
    assert np.isclose(a[3, 3], 1 - 1e-2 - 1e-6)
    # Without a separate switch rate, a fault leaves to normal and to each fault alike.
    b = transition_matrix(4, onset=0.1, repair=1e-3)
    assert np.isclose(b[2, 1], 1e-3 / 2) and b[2, 0] == 1e-3


def _fault_then_normal() -> np.ndarray:
    """40 normal rows, 60 rows of fault 1, then 100 normal rows again (a repair)."""
    proba = np.full((200, 3), 0.05)
    proba[:40, 0] = 0.9
    proba[40:100, 1] = 0.9
    proba[100:, 0] = 0.9
    return proba


def test_the_hmm_returns_to_normal_after_a_repair_only_when_its_prior_allows_it() -> None:
    proba = _fault_then_normal()
    repairs = ClassifierConfig(switch_repair=1e-2)
    labels = filter_sequence(proba, repairs).argmax(axis=1)
    assert (labels[:40] == 0).all() and (labels[50:100] == 1).all()
    back = int(np.argmax(labels[100:] == 0))
    assert 0 < back < 40 and (labels[100 + back :] == 0).all()
    # A near-absorbing fault (the previous prior) needs far more contrary evidence.
    absorbing = filter_sequence(proba, ClassifierConfig(switch_repair=1e-8)).argmax(axis=1)
    assert int(np.argmax(absorbing[100:] == 0)) > back + 10


def test_the_filter_does_not_assume_the_series_starts_normal() -> None:
    proba = np.full((30, 3), 0.05)
    proba[:, 2] = 0.9  # a series that starts in fault 2
    labels = filter_sequence(proba, ClassifierConfig()).argmax(axis=1)
    assert (labels[5:] == 2).all()


def test_the_hmm_holds_a_fault_through_a_short_contrary_burst() -> None:
    proba = np.full((100, 3), 0.05)
    proba[:40, 0] = 0.9
    proba[40:, 1] = 0.9
    proba[60:65] = [0.05, 0.05, 0.9]
    hmm = filter_sequence(proba, ClassifierConfig()).argmax(axis=1)
    assert (hmm[:40] == 0).all() and (hmm[60:65] == 1).all()
    assert 40 <= int(np.argmax(hmm == 1)) < 50
    ewma = filter_sequence(proba, ClassifierConfig(sequence="ewma", smoothing=1.0))
    assert (ewma.argmax(axis=1) == proba.argmax(axis=1)).all()  # weight 1 = no filtering


def test_normal_like_classes_are_one_state_with_normal_and_reported_as_normal() -> None:
    # Normal rows look like normal or like class 1 at random; class 1 is normal-like.
    rng = np.random.default_rng(0)
    proba = np.full((300, 3), 0.02)
    flip = rng.random(300) < 0.5
    proba[flip, 1], proba[~flip, 0] = 0.96, 0.96
    proba[200:] = [0.3, 0.3, 0.4]  # fault 2 with the normal group holding 0.6
    config = ClassifierConfig(switch_repair=1e-2)
    alone = filter_sequence(proba, config).argmax(axis=1)
    assert (alone[:200] == 1).any()  # the plain filter calls normal rows class 1
    grouped = filter_grouped(proba, config, [1])
    assert np.allclose(grouped.sum(axis=1), 1.0)
    reported, raw = report(grouped, [1])
    assert (reported[:200] == 0).all()
    assert set(raw[:200]) == {0, 1}  # the raw class follows each row's own evidence
    assert (raw[:200][flip[:200]] == 1).all()
    # The label is decided on the group's total: 0.6 for normal + 1 beats 0.4 for fault 2 ...
    assert (report(proba[200:], [1])[0] == 0).all()
    assert (report(proba[200:], [])[0] == 2).all()  # ... which wins without the group


def test_report_leaves_rows_before_the_window_unlabelled() -> None:
    proba = np.array([[np.nan, np.nan], [0.2, 0.8]])
    reported, raw = report(proba, [])
    assert reported.tolist() == [-1, 1] and raw.tolist() == [-1, 1]


def test_a_class_is_normal_like_when_held_out_rows_cannot_be_told_from_normal() -> None:
    rng = np.random.default_rng(1)
    truth = np.repeat([0, 1, 2], 200)
    proba = rng.dirichlet([1, 1, 1], size=600)
    proba[truth != 2, 0] += 5.0  # rows of class 1 look normal to the model
    proba[truth == 2, 2] += 5.0  # class 2 is clearly told apart
    classes, scores = normal_like_classes(proba, truth)
    assert classes == [1]
    assert scores == {1: 0.5, 2: 1.0}


def test_the_normal_like_test_fits_on_early_rows_and_scores_late_rows_only() -> None:
    seen: list[int] = []

    def fitter(parts: list[tuple[np.ndarray, np.ndarray]]):  # type: ignore[no-untyped-def]
        seen.extend(len(x) for x, _ in parts)

        def proba(x: np.ndarray) -> np.ndarray:
            p = np.zeros((len(x), 3))
            p[:, 0] = 0.5 + 0.1 * (x[:, 0] < 1.0)
            p[:, 2] = 2.0 * (x[:, 0] > 5.0)
            p[:, 1] = 0.5
            return p

        return proba

    rng = np.random.default_rng(2)
    runs = []
    for c in range(3):
        x = rng.normal(size=(100, 2)) + (10.0 if c == 2 else 0.0)
        runs.append((x, np.full(100, c)))
    result = holdout_normal_like(runs, fitter, history=10, fraction=0.3)
    assert seen == [70, 70, 70]
    assert result["held_out_rows"] == 3 * (100 - 79)
    assert result["normal_like"] == [1]
