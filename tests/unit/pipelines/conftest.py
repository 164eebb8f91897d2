"""Fixtures for the pipeline tests: small data, a private BentoML store, a trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lineops_pipelines import te_data


@pytest.fixture(autouse=True)
def bentoml_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.getbasetemp() / "bentoml"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    monkeypatch.setenv("BENTOML_DO_NOT_TRACK", "True")
    return home


@pytest.fixture(scope="session")
def te_dir() -> Path:
    return te_data.data_dir()


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """Three runs x 120 samples, 3 features, classes 0/1/2, with lots of 20 rows."""
    rng = np.random.default_rng(0)
    frames = []
    for run, fault in (("a", 0), ("b", 1), ("c", 2)):
        x = rng.normal(size=(120, 3)) + np.array([0.0, 2.0 * (fault == 1), 2.0 * (fault == 2)])
        frame = pd.DataFrame(x, columns=["f1", "f2", "f3"])
        frame.insert(0, "fault", fault)
        frame.insert(0, "sample", np.arange(120))
        frame.insert(0, "lot", [f"{run}{i // 20}" for i in range(120)])
        frame.insert(0, "run", run)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def anomaly_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TE anomaly model trained through the CLI (few epochs: seconds)."""
    from lineops.cli.main import main

    out = tmp_path_factory.mktemp("models") / "anomaly"
    code = main(
        [
            "model",
            "train",
            "--task",
            "anomaly-detection",
            "--dataset",
            "te",
            "--out",
            str(out),
            "--epochs",
            "30",
            "--reduced",
            "--json",
        ]
    )
    assert code == 0
    return out
