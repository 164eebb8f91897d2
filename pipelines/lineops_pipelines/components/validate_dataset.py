"""Validate schema, missing values and class balance; fail with a message naming the column."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def validate_dataset(
    dataset: dsl.Input[dsl.Dataset],
    task: str,
    label: str,
    report: dsl.Output[dsl.Metrics],
    max_missing_fraction: float = 0.0,
    min_class_fraction: float = 0.01,
) -> str:
    """Returns the feature list (JSON) the later steps train on."""
    import json

    import pandas as pd

    from lineops_pipelines import data

    frame = pd.read_parquet(dataset.path)
    result = data.validate(
        frame,
        task,
        label=label,
        max_missing_fraction=max_missing_fraction,
        min_class_fraction=min_class_fraction,
    )
    report.log_metric("rows", result["rows"])
    report.log_metric("features", len(result["features"]))
    for name, count in result.get("class_counts", {}).items():
        report.log_metric(f"rows_class_{name}", count)
    return json.dumps(result["features"])
