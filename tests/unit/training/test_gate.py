"""The promotion gate: minimum, champion margin, lower-is-better metrics, exact decimals."""

from __future__ import annotations

from lineops.api.qualitymodel import Promotion
from lineops.services.training_gate import decide, status_metrics


def _promotion(**kw: str) -> Promotion:
    return Promotion.model_validate(kw)


def test_first_candidate_above_minimum_is_promoted() -> None:
    verdict = decide({"macro_f1": "0.93"}, None, _promotion(metric="macro_f1", minimum="0.9"))
    assert verdict.promote and verdict.reason == "Promoted"
    assert "no champion yet" in verdict.message


def test_below_minimum_names_both_numbers() -> None:
    verdict = decide({"macro_f1": "0.85"}, None, _promotion(metric="macro_f1", minimum="0.9"))
    assert not verdict.promote and verdict.reason == "BelowMinimum"
    assert "0.85" in verdict.message and "0.9" in verdict.message


def test_champion_must_be_beaten_by_the_margin_exactly_in_decimals() -> None:
    policy = _promotion(metric="macro_f1", mustBeatChampionBy="0.005")
    # 0.905 - 0.9 is 0.00499999... in binary floats; decimals make it exactly the margin.
    assert decide({"macro_f1": "0.905"}, {"macro_f1": "0.9"}, policy).promote
    blocked = decide({"macro_f1": "0.904"}, {"macro_f1": "0.9"}, policy)
    assert blocked.reason == "ChampionNotBeaten"
    assert "0.904" in blocked.message and "0.9" in blocked.message and "0.005" in blocked.message


def test_rmse_is_lower_is_better_for_minimum_and_margin() -> None:
    policy = _promotion(metric="rmse", minimum="20", mustBeatChampionBy="1")
    assert decide({"rmse": "25"}, None, policy).reason == "BelowMinimum"
    assert decide({"rmse": "18"}, None, policy).promote
    assert decide({"rmse": "17.5"}, {"rmse": "18"}, policy).reason == "ChampionNotBeaten"
    assert decide({"rmse": "16.9"}, {"rmse": "18"}, policy).promote


def test_missing_or_nan_metric_blocks() -> None:
    assert decide({"accuracy": "0.99"}, None, _promotion(metric="macro_f1")).reason == (
        "BelowMinimum"
    )
    assert not decide({"macro_f1": "nan"}, None, _promotion(metric="macro_f1")).promote


def test_a_champion_without_the_metric_does_not_block() -> None:
    verdict = decide({"auc": "0.8"}, {"macro_f1": "0.9"}, _promotion(metric="auc"))
    assert verdict.promote


def test_status_metrics_fit_the_schema_and_keep_the_promotion_metric() -> None:
    metrics = {f"f1_class_{i}": 0.5 for i in range(40)} | {"macro_f1": 0.91234567, "zz": 1.0}
    shown = status_metrics(metrics, "macro_f1")
    assert len(shown) == 32
    assert shown["macro_f1"] == "0.912346" and shown["zz"] == "1"
