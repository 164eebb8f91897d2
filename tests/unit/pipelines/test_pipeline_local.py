"""The quality-training pipeline end to end with kfp.local (reduced TE data) and IR drift."""

from __future__ import annotations

from pathlib import Path

from lineops.cli.main import main
from lineops_pipelines import compile as compile_mod
from lineops_pipelines.local_run import run_quality_training


def test_committed_ir_matches_a_fresh_compile() -> None:
    assert compile_mod.drift() == [], "run `lineops pipeline compile` and commit the YAML"


def test_compile_check_cli(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["pipeline", "compile", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_quality_training_runs_locally(tmp_path: Path, bentoml_store: Path) -> None:
    run = run_quality_training(
        tmp_path / "root",
        task="anomaly-detection",
        dataset="te",
        reduced=True,
        epochs=20,
        champion_metrics={"detection_rate": 0.5},
        model_name="te-anomaly",
        spec_hash="0123456789abcdef",
    )
    assert run.run_id.startswith("quality-training-")
    assert run.tag.startswith("te-anomaly:")
    assert run.stage == "approved"
    assert run.metrics["detection_rate"] > 0.8
    assert run.metrics["far"] < 0.1
    assert run.model_dir is not None and (run.model_dir / "model.json").is_file()
    assert "split-dataset/train" in run.outputs
    assert any(bentoml_store.joinpath("models", "te-anomaly").iterdir())
