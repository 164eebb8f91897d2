"""The BentoML model store lookups the operator relies on: a model found by its labels."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lineops_pipelines import registry


def _model_dir(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / "models-src" / name
    directory.mkdir(parents=True)
    (directory / "model.json").write_text('{"features": ["f1"], "window": 1}')
    return directory


def _register(tmp_path: Path, name: str, run_id: str, **metrics: float) -> str:
    return registry.register(
        _model_dir(tmp_path, f"{name}-{run_id[:20]}-{len(metrics)}-{time.monotonic_ns()}"),
        name,
        {"task": "anomaly-detection", "metrics": metrics},
        {"task": "anomaly-detection", "stage": "candidate", "run-id": run_id},
    )


def test_find_by_label_picks_the_model_of_the_run_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "store"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    _register(tmp_path, "lineops-anomaly-detection", "m-train-a", detection_rate=0.5)
    older = _register(tmp_path, "press-faults", "m-train-b", macro_f1=0.8)
    newer = _register(tmp_path, "press-faults", "m-train-b", macro_f1=0.9)
    _register(tmp_path, "press-faults", "m-train-b-a2", macro_f1=0.1)  # prefix of no use
    assert older != newer

    # The operator passes the store explicitly: its own BENTOML_HOME is not the pods' store.
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "elsewhere"))
    found = registry.find_by_label("run-id", "m-train-b", home=home)
    assert found is not None
    assert found.tag == newer and found.metadata["metrics"] == {"macro_f1": 0.9}
    assert found.labels["run-id"] == "m-train-b" and found.labels["stage"] == "candidate"

    other = registry.find_by_label("run-id", "m-train-a", home=home)
    assert other is not None and other.tag.startswith("lineops-anomaly-detection:")
    assert registry.find_by_label("run-id", "m-train-c", home=home) is None
    assert registry.find_by_label("run-id", "m-train-b", home=tmp_path / "no-store") is None
    assert not (tmp_path / "no-store").exists()  # a lookup never creates a store


def test_a_253_character_run_id_is_a_label_value_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "store"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    run_id = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # DNS subdomain, 253 chars
    assert len(run_id) == 253
    tag = _register(tmp_path, "m", run_id, auc=0.7)
    found = registry.find_by_label("run-id", run_id, home=home)
    assert found is not None and found.tag == tag
    assert registry.info(tag)[1]["run-id"] == run_id


def test_a_half_written_model_does_not_hide_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "store"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    tag = _register(tmp_path, "m", "run-1", auc=0.7)
    # Another run's register step mid-copy: the version directory exists, model.yaml not yet.
    (home / "models" / "m" / "zzzzzzzzzzzzzzzz").mkdir()
    (home / "models" / "broken" / "v1").mkdir(parents=True)
    (home / "models" / "broken" / "v1" / "model.yaml").write_text("{not: [yaml")
    found = registry.find_by_label("run-id", "run-1", home=home)
    assert found is not None and found.tag == tag
