"""The small fault classifier the serving tests and ``benchmarks/serving.py`` serve: trained
in seconds on a synthetic frame and registered in the BentoML model store of the current
``BENTOML_HOME`` (the caller points it at a private directory first).

Four runs of 80 rows over ``FEATURES``; class ``1`` is a high ram force. 20 extremely
randomised trees + the torch MLP, a window of ``MODEL_WINDOW`` rows, no sequence filter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

FEATURES: Final = ["ram_force__mean", "ram_force__max", "vibration_rms__mean"]
MODEL_WINDOW: Final = 2  # rows the classifier reads: the service answers from the second
MODEL_NAME: Final = "press-fault"
FEATURE_SERVICE: Final = "sensor_window_v1"


def train_fault_classifier(home: Path, namespace: str, line: str) -> str:
    """Train, save under ``home``/candidate and register (with a training-set card naming
    ``namespace``/``line`` and ``FEATURE_SERVICE``); the model store tag."""
    import numpy as np
    import pandas as pd
    from lineops_pipelines import registry, training

    rng = np.random.default_rng(0)
    frames = []
    for run, fault in (("a", 0), ("b", 1), ("c", 0), ("d", 1)):
        force = rng.normal(1000.0 + 800.0 * fault, 20.0, size=80)
        frames.append(
            pd.DataFrame(
                {
                    "run": run,
                    "sample": np.arange(80),
                    "fault": fault,
                    "ram_force__mean": force,
                    "ram_force__max": force + rng.normal(50.0, 5.0, size=80),
                    "vibration_rms__mean": rng.normal(3.0, 0.2, size=80),
                }
            )
        )
    overrides = {"window": MODEL_WINDOW, "diff_window": 0, "sequence": "none", "trees": 20}
    model = training.train(
        "fault-classification",
        pd.concat(frames, ignore_index=True),
        FEATURES,
        "fault",
        epochs=2,
        overrides=overrides,
    )
    out = training.save(model, home / "candidate", {"macro_f1": 1.0}, {})
    card = {"line": line, "namespace": namespace, "featureService": FEATURE_SERVICE}
    tag: str = registry.register(
        out, MODEL_NAME, {"task": "fault-classification", "training_set": card}
    )
    return tag
