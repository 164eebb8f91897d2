"""An ML engineer's own training pipeline: gradient-boosted trees for fault-classification.

It keeps to the training-pipeline contract (docs/pipelines.md): it declares ``dataset`` and
``run_id``, takes ``task``, ``label``, ``model_name`` and ``spec_hash`` from the operator and
``max_iter``, ``learning_rate``, ``seed`` from ``spec.training.parameters`` (all with
defaults), logs a ``metrics`` artifact and returns the registered BentoML tag. Load, validate,
split and register are lineops' own components; train and evaluate are this file's.

Compile (writes gbt_pipeline.yaml next to this file; in a lineops checkout `lineops pipeline
compile` does it too, since the example reuses lineops' components), check and run it::

    python examples/pipelines/gbt_pipeline.py
    lineops pipeline validate examples/pipelines/gbt_pipeline.yaml
    lineops pipeline run --local --pipeline examples/pipelines/gbt_pipeline.yaml \
        --task fault-classification --dataset te --reduced
"""

# No `from __future__ import annotations` here: kfp reads the annotations as types.
from pathlib import Path

from kfp import compiler, dsl
from lineops_pipelines.components import BASE_IMAGE
from lineops_pipelines.components.load_dataset import load_dataset
from lineops_pipelines.components.register_model import register_model
from lineops_pipelines.components.split_dataset import split_dataset
from lineops_pipelines.components.validate_dataset import validate_dataset

PIPELINE_NAME = "gbt-training"
COMPILED = Path(__file__).with_suffix(".yaml")


# The base image already holds lineops and scikit-learn: nothing is installed at run time, so
# kfp.local's SubprocessRunner(use_venv=False) runs it in the current environment too.
@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def train_gbt(
    train: dsl.Input[dsl.Dataset],
    task: str,
    features: str,
    label: str,
    max_iter: int,
    learning_rate: float,
    seed: int,
    model: dsl.Output[dsl.Model],
) -> None:
    """Fit a HistGradientBoostingClassifier and save it as a lineops model directory (the
    ``sklearn`` format ``lineops_pipelines.models.scoring.load`` reads)."""
    import json

    import pandas as pd
    from lineops_pipelines.models.sklearn_model import SklearnModel
    from sklearn.ensemble import HistGradientBoostingClassifier

    if task != "fault-classification":
        raise ValueError(f"task {task!r}: gbt-training trains fault-classification models only")
    columns = json.loads(features)
    frame = pd.read_parquet(train.path)
    estimator = HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=learning_rate, random_state=seed
    )
    estimator.fit(frame[columns].to_numpy(dtype=float), frame[label].astype(str).to_numpy())
    classes = [str(c) for c in estimator.classes_]
    SklearnModel(task, columns, estimator, classes).save(model.path)
    model.metadata["estimator"] = "HistGradientBoostingClassifier"
    model.metadata["iterations"] = int(estimator.n_iter_)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def evaluate_gbt(
    model: dsl.Input[dsl.Model],
    test: dsl.Input[dsl.Dataset],
    label: str,
    metrics: dsl.Output[dsl.Metrics],
) -> str:
    """Score the held-out rows through lineops' own scoring path (what serving runs) and log
    macro_f1 and accuracy; returns them as JSON for the registration."""
    import json

    import pandas as pd
    from lineops_pipelines.models import scoring
    from sklearn.metrics import accuracy_score, f1_score

    candidate = scoring.load(model.path)
    frame = pd.read_parquet(test.path)
    rows = scoring.score_rows(candidate, frame[candidate.features].to_numpy(dtype=float))
    truth = frame[label].astype(str).to_numpy()
    predicted = [r["label"] for r in rows]
    result = {
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "test_rows": float(len(frame)),
    }
    for name, value in result.items():
        metrics.log_metric(name, value)
    return json.dumps(result, sort_keys=True)


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Fault classification with gradient-boosted trees (scikit-learn), registered "
    "in the BentoML store: an example of a pipeline an ML engineer brings to lineops.",
)
def gbt_training(
    dataset: str,
    run_id: str,
    task: str = "fault-classification",
    label: str = "fault",
    reduced: bool = False,
    model_name: str = "",
    spec_hash: str = "",
    max_iter: int = 100,
    learning_rate: float = 0.1,
    seed: int = 0,
) -> str:
    """Returns the BentoML tag of the registered model."""
    loaded = load_dataset(source=dataset, task=task, reduced=reduced).set_display_name("load")
    checked = validate_dataset(
        dataset=loaded.outputs["dataset"], task=task, label=label
    ).set_display_name("validate")
    parts = split_dataset(
        dataset=loaded.outputs["dataset"], task=task, split_by="auto", parameters="{}"
    ).set_display_name("split")
    parts.after(checked)
    trained = train_gbt(
        train=parts.outputs["train"],
        task=task,
        features=checked.outputs["Output"],
        label=label,
        max_iter=max_iter,
        learning_rate=learning_rate,
        seed=seed,
    ).set_display_name("train")
    evaluated = evaluate_gbt(
        model=trained.outputs["model"], test=parts.outputs["test"], label=label
    ).set_display_name("evaluate")
    registered = register_model(
        model=trained.outputs["model"],
        task=task,
        model_name=model_name,
        metrics=evaluated.outputs["Output"],
        data_window=parts.outputs["Output"],
        spec_hash=spec_hash,
        promote=False,
        reason="promotion is decided by the operator's gate",
        run_id=run_id,
    ).set_display_name("register")
    return registered.outputs["tag"]


def compile_to(path: Path = COMPILED) -> Path:
    compiler.Compiler().compile(gbt_training, str(path))
    return path


if __name__ == "__main__":
    print(compile_to())
