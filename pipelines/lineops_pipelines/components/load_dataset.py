"""Load the training set: the built-in ``te`` (Tennessee Eastman) or a Parquet/CSV file."""

from kfp import dsl

from lineops_pipelines.components import BASE_IMAGE


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[], install_kfp_package=False)
def load_dataset(
    source: str,
    task: str,
    reduced: bool,
    dataset: dsl.Output[dsl.Dataset],
) -> None:
    """Write the rows of ``source`` as Parquet to ``dataset``."""
    from lineops_pipelines import training

    frame = training.load_for_task(task, source, reduced)
    frame.to_parquet(dataset.path, index=False)
    dataset.metadata["source"] = source
    dataset.metadata["rows"] = len(frame)
    dataset.metadata["columns"] = len(frame.columns)
