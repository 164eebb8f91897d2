"""Pipeline arguments from a run request, against the compiled quality-training pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lineops.backends.training.local_pipeline import collect, error_message
from lineops.backends.training.pipeline_args import StepFailed, arguments, declared_inputs
from lineops.backends.training.runs import RunRequest

INPUTS = {
    "task": {"type": "STRING", "optional": True},
    "epochs": {"type": "NUMBER_INTEGER", "optional": True},
    "reduced": {"type": "BOOLEAN", "optional": True},
    "minimum": {"type": "NUMBER_DOUBLE", "optional": True},
    "champion_metrics": {"type": "STRING", "optional": True},
    "parameters": {"type": "STRING", "optional": True},
}


def _request(**parameters: str) -> RunRequest:
    return RunRequest(
        "r", "p", "anomaly-detection", "te", parameters, champion_metrics={"auc": 0.9}
    )


def test_declared_parameters_are_converted_and_the_rest_overflow() -> None:
    args = arguments(_request(epochs="2", reduced="true", lr="0.01"), INPUTS)
    assert args["epochs"] == 2 and args["reduced"] is True
    assert args["task"] == "anomaly-detection"
    assert args["champion_metrics"] == '{"auc": 0.9}'
    assert args["parameters"] == '{"lr": "0.01"}'
    # A dash is read as an underscore in the overflow too: the model knows rul_cap only.
    args = arguments(_request(**{"rul-cap": "100", "max-iter": "3"}), INPUTS)
    assert json.loads(args["parameters"]) == {"max_iter": "3", "rul_cap": "100"}


def test_bad_values_and_unknown_parameters_name_the_parameter() -> None:
    with pytest.raises(StepFailed, match="parameter epochs: 'x' is not a integer"):
        arguments(_request(epochs="x"), INPUTS)
    with pytest.raises(StepFailed, match="unknown parameter"):
        arguments(_request(lr="1"), {"task": {"type": "STRING", "optional": True}})
    with pytest.raises(StepFailed, match=r"unknown parameter\(s\) rul-cap;"):
        arguments(_request(**{"rul-cap": "1"}), {"task": {"type": "STRING", "optional": True}})


def test_the_compiled_pipeline_declares_what_the_operator_sends() -> None:
    compiled = Path(__file__).resolve().parents[3] / "pipelines/compiled/quality-training.yaml"
    inputs = declared_inputs(compiled)
    args = arguments(_request(epochs="1", reduced="true", window="5"), inputs)
    assert {"task", "dataset", "epochs", "reduced", "parameters"} <= set(args)
    # The held-out share is the pipeline's input (it failed the split as an unknown setting).
    args = arguments(_request(**{"test-fraction": "0.3"}), inputs)
    assert args["test_fraction"] == 0.3 and "parameters" not in args


def test_error_lines_and_outputs_are_read() -> None:
    log = "x\n    ValueError: bad epochs\nRuntimeError: Pipeline 'p' ... Inner task failed: 'v'.\n"
    assert error_message(log) == "ValueError: bad epochs"
    result = collect({"Output": "m:abc", "n": 3})
    assert result.model_tag == "m:abc" and result.metrics == {}
