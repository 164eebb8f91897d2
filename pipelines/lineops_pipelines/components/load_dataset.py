"""Load the training set: a line's (its data plane's URL), ``te`` (Tennessee Eastman) or a
Parquet/CSV file."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def load_dataset(
    source: str,
    task: str,
    reduced: bool,
    dataset: dsl.Output[dsl.Dataset],
) -> str:
    """Write the rows of ``source`` as Parquet to ``dataset``; returns the training set's
    card (JSON: feature service, window, label source, rows), the model card's data part."""
    import json

    from lineops_pipelines import data, training

    frame = training.load_for_task(task, source, reduced)
    card = dict(frame.attrs.get(data.CARD_ATTR) or {})
    if not card:  # a file or built-in set: say which
        card = {"source": source if "://" not in source else source.split("?")[0]}
    card.setdefault("rows", len(frame))
    frame.attrs = {}
    frame.to_parquet(dataset.path, index=False)
    dataset.metadata["source"] = source
    dataset.metadata["rows"] = len(frame)
    dataset.metadata["columns"] = len(frame.columns)
    shown = json.dumps(card)[:2000]
    print(f"training set: {len(frame)} rows, {len(frame.columns)} columns; card {shown}")
    return json.dumps(card, sort_keys=True)
