"""Train the torch model of the task (seeded, early stopping, standardiser saved with it)."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def train_model(
    train: dsl.Input[dsl.Dataset],
    task: str,
    features: str,
    label: str,
    epochs: int,
    seed: int,
    parameters: str,
    model: dsl.Output[dsl.Model],
) -> None:
    """``epochs`` 0 keeps the task's default; ``parameters`` is JSON of config overrides."""
    import json

    import pandas as pd

    from lineops_pipelines import training

    frame = pd.read_parquet(train.path)
    trained = training.train(
        task,
        frame,
        json.loads(features),
        label,
        epochs=epochs or None,
        seed=seed,
        overrides=json.loads(parameters or "{}"),
    )
    trained.save(model.path, extra={"seed": seed})
    model.metadata["task"] = task
    model.metadata["framework"] = "pytorch"
    threshold = training.threshold_of(trained)
    if threshold is not None:
        model.metadata["threshold"] = threshold
