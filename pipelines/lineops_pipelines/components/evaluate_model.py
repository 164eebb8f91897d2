"""Evaluate the candidate, and the champion, on the same held-out test split."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def evaluate_model(
    model: dsl.Input[dsl.Model],
    test: dsl.Input[dsl.Dataset],
    label: str,
    dataset_source: str,
    metrics: dsl.Output[dsl.Metrics],
    champion_tag: str = "",
) -> str:
    """Logs the metrics and returns them as JSON (for the champion comparison).

    With ``champion_tag``, the champion is scored on the very same rows and its figures are
    logged as ``champion_<metric>``: the gate then compares like with like, on the newest
    data, instead of with numbers the champion earned on an older window."""
    import json
    import math

    import pandas as pd

    from lineops_pipelines import training
    from lineops_pipelines.models import scoring

    candidate = scoring.load(model.path)
    frame = pd.read_parquet(test.path)
    merge = tuple(str(f) for f in training.UNDETECTABLE_TE) if dataset_source == "te" else ()
    result = training.evaluate(candidate, frame, label, merge_as_normal=merge)
    if champion_tag:
        result.update(training.evaluate_champion(champion_tag, candidate, frame, label, merge))
    for name, value in sorted(result.items()):
        if isinstance(value, (int, float)) and math.isfinite(value):
            metrics.log_metric(name, float(value))
    return json.dumps(result, sort_keys=True)
