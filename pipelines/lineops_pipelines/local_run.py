"""Run the quality-training pipeline locally with ``kfp.local.SubprocessRunner``.

This is the embedded profile's training backend: the operator (or ``lineops pipeline run
--local``) calls :func:`run_quality_training` and reads the returned :class:`LocalRun`
(run id, output folder, registered BentoML tag, metrics, model directory).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LocalRun:
    run_id: str  # the folder kfp.local created under the pipeline root
    run_dir: Path
    tag: str  # BentoML model store tag of the registered candidate
    metrics: dict[str, Any]
    model_dir: Path | None
    stage: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)  # task/output -> path

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "tag": self.tag,
            "stage": self.stage,
            "metrics": self.metrics,
            "model_dir": str(self.model_dir) if self.model_dir else None,
            "outputs": {k: str(v) for k, v in sorted(self.outputs.items())},
        }


def run_quality_training(
    pipeline_root: str | Path,
    *,
    task: str,
    dataset: str = "te",
    reduced: bool = False,
    epochs: int = 0,
    seed: int = 0,
    parameters: dict[str, Any] | None = None,
    champion_metrics: dict[str, Any] | None = None,
    promotion_metric: str = "",
    promotion_minimum: float = 0.0,
    must_beat_by: float = 0.0,
    model_name: str = "",
    spec_hash: str = "",
    label: str = "fault",
    split_by: str = "auto",
    bentoml_home: str | Path | None = None,
) -> LocalRun:
    """Run the pipeline in subprocesses of the current environment (no pip, no network)."""
    from kfp import local

    from lineops_pipelines.pipelines.quality_training import PIPELINE_NAME, quality_training

    root = Path(pipeline_root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    if bentoml_home is not None:
        os.environ["BENTOML_HOME"] = str(Path(bentoml_home).resolve())
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    before = {p.name for p in root.iterdir()}
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    task_out = quality_training(
        task=task,
        dataset=dataset,
        reduced=reduced,
        label=label,
        split_by=split_by,
        epochs=epochs,
        seed=seed,
        parameters=json.dumps(parameters or {}, sort_keys=True),
        champion_metrics=json.dumps(champion_metrics or {}, sort_keys=True),
        promotion_metric=promotion_metric,
        promotion_minimum=promotion_minimum,
        must_beat_by=must_beat_by,
        model_name=model_name,
        spec_hash=spec_hash,
    )
    tag = str(task_out.output)
    new = sorted(
        (p for p in root.iterdir() if p.name not in before and p.name.startswith(PIPELINE_NAME)),
        key=lambda p: p.stat().st_mtime,
    )
    if not new:
        raise RuntimeError(f"kfp.local left no run folder under {root}")
    run_dir = new[-1]
    outputs = {
        f"{task_dir.name}/{item.name}": item
        for task_dir in sorted(run_dir.iterdir())
        if task_dir.is_dir()
        for item in sorted(task_dir.iterdir())
    }
    model_dir = outputs.get("train-model/model")
    from lineops_pipelines import registry

    metadata, labels = registry.info(tag)
    metrics = dict(metadata.get("metrics", {}))
    stage = labels.get("stage")
    return LocalRun(run_dir.name, run_dir, tag, metrics, model_dir, stage, outputs)
