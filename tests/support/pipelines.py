"""An ML engineer's pipeline in tests: the example GBT pipeline and a small labelled CSV."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
GBT_SOURCE = REPO / "examples" / "pipelines" / "gbt_pipeline.py"
GBT_IR = REPO / "examples" / "pipelines" / "gbt_pipeline.yaml"
FAULTS = ("normal", "bearing", "normal", "misalignment")


def gbt_module() -> ModuleType:
    """examples/pipelines/gbt_pipeline.py, imported by path (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gbt_pipeline", GBT_SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_fault_csv(path: Path, runs: int = 3, rows: int = 400, seed: int = 0) -> Path:
    """Runs of four sensors with blocks of 10 rows per state (normal, bearing, normal,
    misalignment, ...), so the time split's last quarter of each run holds every class; the
    fault states shift two sensors' means, which a tree ensemble separates easily."""
    rng = np.random.default_rng(seed)
    frames = []
    for run in range(runs):
        labels = [FAULTS[(i // 10) % len(FAULTS)] for i in range(rows)]
        x = rng.normal(0.0, 1.0, size=(rows, 4))
        for i, label in enumerate(labels):
            if label == "bearing":
                x[i, 0] += 4.0
            elif label == "misalignment":
                x[i, 2] -= 4.0
        frame = pd.DataFrame(x, columns=["vibration", "temperature", "current", "pressure"])
        frame.insert(0, "sample", np.arange(rows))
        frame.insert(0, "run", run)
        frame["fault"] = labels
        frames.append(frame)
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path
