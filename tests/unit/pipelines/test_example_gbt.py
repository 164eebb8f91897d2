"""The example pipeline an ML engineer brings (examples/pipelines/gbt_pipeline.py): its
committed IR matches a fresh compile, it runs end to end with kfp.local through
`lineops pipeline run --local --pipeline`, and its registered scikit-learn model scores
through lineops' own scoring path (what `lineops model score` and serving use)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lineops.cli.main import main
from lineops_pipelines import registry
from lineops_pipelines.models import scoring
from lineops_pipelines.models.sklearn_model import SklearnModel

from tests.support.pipelines import GBT_IR, gbt_module, write_fault_csv


def test_committed_ir_matches_a_fresh_compile(tmp_path: Path) -> None:
    fresh = gbt_module().compile_to(tmp_path / "gbt.yaml")
    assert fresh.read_text() == GBT_IR.read_text(), (
        "run `lineops pipeline compile` and commit examples/pipelines/gbt_pipeline.yaml"
    )


def test_the_gbt_pipeline_trains_and_registers_a_scorable_model(
    tmp_path: Path, bentoml_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_fault_csv(tmp_path / "faults.csv")
    args = ["pipeline", "run", "--local", "--task", "fault-classification", "--json"]
    args += ["--pipeline", str(GBT_IR), "--dataset", str(data), "--run-id", "gbt-run-1"]
    args += ["--pipeline-root", str(tmp_path / "root"), "--model-name", "press-gbt"]
    args += ["--param", "max_iter=40", "--param", "seed=3"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["metrics"]["macro_f1"] > 0.9 and result["metrics"]["accuracy"] > 0.9
    tag = result["model_tag"]
    assert tag.startswith("press-gbt:")
    # The cluster profile finds the model by the run id the operator passed.
    found = registry.find_by_label("run-id", "gbt-run-1", home=bentoml_store)
    assert found is not None and str(found.tag) == tag
    assert found.metadata["metrics"]["macro_f1"] == result["metrics"]["macro_f1"]

    model = scoring.load(tag)
    assert isinstance(model, SklearnModel)
    assert model.features == ["vibration", "temperature", "current", "pressure"]
    rows = np.array([[0.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0], [0.0, 0.0, -5.0, 0.0]])
    labels = [r["label"] for r in scoring.score_rows(model, rows)]
    assert labels == ["normal", "bearing", "misalignment"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--epochs", "3"], "--epochs"),
        (["--seed", "0"], "--seed"),
        (["--parameters", "{}", "--epochs", "1"], "--epochs, --parameters"),
    ],
)
def test_shipped_pipeline_options_are_refused_with_an_own_pipeline(
    extra: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["pipeline", "run", "--local", "--task", "fault-classification"]
    args += ["--pipeline", str(GBT_IR), "--pipeline-root", str(tmp_path / "root"), *extra]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"lineops: error: {named}: for the shipped pipeline only; give an own pipeline's "
        "inputs as --param NAME=VALUE (as spec.training.parameters holds them)\n"
    )
    assert not (tmp_path / "root").exists()  # refused before anything ran


def test_lineops_model_score_reads_an_sklearn_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = np.where(x[:, 0] > 0, "high", "low")
    classifier = HistGradientBoostingClassifier(max_iter=20).fit(x, y)
    SklearnModel("fault-classification", ["a", "b"], classifier, ["high", "low"]).save(
        tmp_path / "clf"
    )
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"a": [2.0, -2.0], "b": [0.0, 0.0]}).to_csv(rows, index=False)
    assert (
        main(["model", "score", "--model", str(tmp_path / "clf"), "--csv", str(rows), "--json"])
        == 0
    )
    scored = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["label"] for s in scored] == ["high", "low"]

    detector = IsolationForest(random_state=0).fit(x)
    SklearnModel("anomaly-detection", ["a", "b"], detector, [], threshold=0.6).save(
        tmp_path / "det"
    )
    loaded = scoring.load(str(tmp_path / "det"))
    results = scoring.score_rows(loaded, np.array([[0.0, 0.0], [9.0, 9.0]]))
    assert [r["alarm"] for r in results] == [False, True]
    assert results[1]["score"] > results[0]["score"]
