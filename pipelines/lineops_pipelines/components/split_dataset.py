"""Split by time (within each run), by lot, by run, or by the loader's split column."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def split_dataset(
    dataset: dsl.Input[dsl.Dataset],
    task: str,
    split_by: str,
    parameters: str,
    train: dsl.Output[dsl.Dataset],
    test: dsl.Output[dsl.Dataset],
    test_fraction: float = 0.25,
) -> str:
    """Returns the data window (JSON: rows, time range, runs on each side)."""
    import json

    import pandas as pd

    from lineops_pipelines import data, training

    frame = pd.read_parquet(dataset.path)
    method = split_by
    if method == "auto" and task == "failure-prediction" and "split" not in frame:
        method = "run"
    gap = training._window(task, json.loads(parameters or "{}"))
    parts = data.split(frame, by=method, test_fraction=test_fraction, gap=gap)
    parts.train.to_parquet(train.path, index=False)
    parts.test.to_parquet(test.path, index=False)
    train.metadata["rows"] = len(parts.train)
    test.metadata["rows"] = len(parts.test)
    return json.dumps({"method": parts.method, **parts.window}, sort_keys=True)
