"""The training-pipeline contract checker: every problem of a compiled pipeline, by name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from lineops.backends.training.contract import check, digest, unwrap
from lineops.cli.main import main

from tests.support.pipelines import GBT_IR

SHIPPED = Path(__file__).resolve().parents[3] / "pipelines" / "compiled" / "quality-training.yaml"


def _gbt() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(GBT_IR.read_text())
    return loaded


def _text(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False)


def _inputs(spec: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = spec["root"]["inputDefinitions"]["parameters"]
    return params


def test_the_shipped_and_the_example_pipelines_keep_the_contract() -> None:
    for path in (SHIPPED, GBT_IR):
        report = check(path.read_text(), ["reduced", "epochs"])
        assert report.ok, report.problems
        assert report.pipeline is not None
        assert report.pipeline.digest == digest(path.read_text())
    report = check(GBT_IR.read_text())
    assert report.pipeline is not None and report.pipeline.name == "gbt-training"


def test_every_problem_is_listed_and_named() -> None:
    spec = _gbt()
    inputs = _inputs(spec)
    del inputs["run_id"]
    inputs["task"]["parameterType"] = "NUMBER_INTEGER"
    inputs["alpha"] = {"parameterType": "NUMBER_DOUBLE"}  # required, nobody fills it
    spec["root"]["outputDefinitions"] = {}
    for comp in spec["components"].values():
        comp.get("outputDefinitions", {}).pop("artifacts", None)
    problems = check(_text(spec)).problems
    assert len(problems) == 5, problems
    joined = "\n".join(problems)
    assert "input 'run_id' is missing" in joined
    assert "input 'task' is NUMBER_INTEGER; the operator passes STRING" in joined
    assert "input 'alpha' has no default" in joined
    assert "spec.training.parameters.alpha" in joined
    assert "no STRING pipeline output" in joined
    assert "no system.Metrics artifact" in joined


def test_a_required_input_is_fine_when_the_spec_fills_it() -> None:
    spec = _gbt()
    _inputs(spec)["alpha"] = {"parameterType": "NUMBER_DOUBLE"}
    assert check(_text(spec), ["alpha"]).ok
    # label is passed only when the QualityModel sets spec.label
    label = _inputs(spec)["label"]
    label.pop("defaultValue", None)
    label.pop("isOptional", None)
    assert check(_text(spec), ["alpha"], label=True).ok
    problems = check(_text(spec), ["alpha"], label=False).problems
    assert problems == [
        "input 'label' has no default and the operator cannot fill it (give it a default, "
        "or set spec.label)"
    ]


def test_a_dataset_of_the_wrong_type_is_named() -> None:
    spec = copy.deepcopy(_gbt())
    _inputs(spec)["dataset"]["parameterType"] = "STRUCT"
    assert check(_text(spec)).problems == ["input 'dataset' is STRUCT; the operator passes STRING"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [", "not YAML"),
        ("kind: ConfigMap\n", "not a compiled KFP pipeline"),
        ("", "not a compiled KFP pipeline"),
    ],
)
def test_what_is_not_a_pipeline_is_said_so(text: str, expected: str) -> None:
    report = check(text)
    assert report.pipeline is None and not report.ok
    assert expected in report.problems[0]


def test_a_version_uploaded_with_a_platform_spec_is_unwrapped() -> None:
    spec = _gbt()
    assert unwrap({"pipeline_spec": spec, "platform_spec": {}}) is spec
    assert unwrap(spec) is spec


def test_validate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "validate", str(GBT_IR)]) == 0
    assert "gbt-training (sha256:" in capsys.readouterr().out
    spec = _gbt()
    del _inputs(spec)["dataset"]
    _inputs(spec)["alpha"] = {"parameterType": "NUMBER_DOUBLE"}
    broken = tmp_path / "broken.yaml"
    broken.write_text(_text(spec))
    assert main(["pipeline", "validate", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "breaks the lineops training-pipeline contract" in out
    assert "input 'dataset' is missing" in out and "input 'alpha' has no default" in out
    assert main(["pipeline", "validate", str(broken), "--param", "alpha=0.5"]) == 1
    assert "alpha" not in capsys.readouterr().out
    assert main(["pipeline", "validate", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
