"""`lineops predict`'s own parts: reading SENSOR=VALUE options, the human answer per task,
and the refusal text the client makes of BentoML's error bodies."""

from __future__ import annotations

import pytest
from lineops.backends.serving.client import Prediction, _message
from lineops.cli.errors import CliError
from lineops.cli.predict_cmd import _human, _readings


def test_readings_are_sensor_number_pairs() -> None:
    assert _readings(["temp=21.5", "pressure=-3"]) == {"temp": 21.5, "pressure": -3.0}
    for bad in ("temp", "=1", "temp=hot"):
        with pytest.raises(CliError, match="--reading: expected SENSOR=NUMBER"):
            _readings([bad])


def test_the_human_answer_says_what_the_task_predicts() -> None:
    common = {"namespace": "plant", "line": "l1", "work_unit": "wu", "model_tag": "m:1"}
    label = _human(
        Prediction(label="normal", raw_label="3", probabilities={"3": 0.7}, lot="L", **common)
    )
    assert "wu lot L: label normal (most probable class 3, not told from normal)" in label
    assert "p(3) = 0.700" in label
    score = _human(Prediction(score=0.91, alarm=True, rul=12.5, **common))
    assert "score 0.91, alarm yes, remaining useful life 12.5 h" in score
    warming = _human(Prediction(history_rows=1, rows_needed=3, **common))
    assert "no answer yet: 1 of 3 rows" in warming


def test_bentoml_error_bodies_become_one_message() -> None:
    assert _message(b'{"error": "work_unit: stale"}') == "work_unit: stale"
    assert _message(b'[{"error": "a"}, {"error": "b"}]') == "a; b"
    assert _message(b"plain text\n") == "plain text"
