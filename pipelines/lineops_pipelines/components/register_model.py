"""Register the candidate in the BentoML model store with its metadata."""

from typing import NamedTuple

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def register_model(
    model: dsl.Input[dsl.Model],
    task: str,
    model_name: str,
    metrics: str,
    data_window: str,
    spec_hash: str,
    promote: bool,
    reason: str,
    run_id: str = "",
    training_set: str = "{}",
) -> NamedTuple("Registration", [("tag", str), ("stage", str)]):
    """Store metadata: task, metrics, feature list, spec hash, data window, scoring threshold,
    run id, and the training set's card (line, feature service and version, label source,
    window); label ``stage`` = ``approved`` (beat the champion) or ``candidate``, and (when
    given) ``run-id`` = the operator's run id, verbatim: the cluster-profile operator reads a
    finished run's metrics and tag from the store by it (``registry.find_by_label``)."""
    import json
    from collections import namedtuple
    from pathlib import Path

    from lineops_pipelines import registry

    meta = json.loads((Path(model.path) / "model.json").read_text())
    stage = "approved" if promote else "candidate"
    metadata = {
        "task": task,
        "metrics": json.loads(metrics),
        "features": meta["features"],
        "window": meta["window"],
        "spec_hash": spec_hash,
        "data_window": json.loads(data_window),
        "threshold": meta.get("threshold"),
        "classes": meta.get("classes"),
        "promotion_reason": reason,
        "run_id": run_id,
        "training_set": json.loads(training_set or "{}"),
    }
    labels = {"task": task, "stage": stage, "spec-hash": spec_hash or "none"}
    if run_id:
        labels["run-id"] = run_id
    tag = registry.register(model.path, model_name or f"lineops-{task}", metadata, labels)
    return namedtuple("Registration", ["tag", "stage"])(tag, stage)
