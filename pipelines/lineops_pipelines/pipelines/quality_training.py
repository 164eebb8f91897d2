"""The ``quality-training`` pipeline: load -> validate -> split -> train -> evaluate ->
compare with the champion -> register in the BentoML model store."""

from kfp import dsl

from lineops_pipelines.components.compare_champion import compare_with_champion
from lineops_pipelines.components.evaluate_model import evaluate_model
from lineops_pipelines.components.load_dataset import load_dataset
from lineops_pipelines.components.register_model import register_model
from lineops_pipelines.components.split_dataset import split_dataset
from lineops_pipelines.components.train_model import train_model
from lineops_pipelines.components.validate_dataset import validate_dataset

PIPELINE_NAME = "quality-training"


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Train, evaluate and register a lineops quality model (torch, BentoML store).",
)
def quality_training(
    task: str = "anomaly-detection",
    dataset: str = "te",
    reduced: bool = False,
    label: str = "fault",
    split_by: str = "auto",
    test_fraction: float = 0.25,
    epochs: int = 0,
    seed: int = 0,
    parameters: str = "{}",
    champion_metrics: str = "{}",
    promotion_metric: str = "",
    promotion_minimum: float = 0.0,
    must_beat_by: float = 0.0,
    model_name: str = "",
    spec_hash: str = "",
    run_id: str = "",
    champion_tag: str = "",
) -> str:
    """Returns the BentoML tag of the registered candidate."""
    loaded = load_dataset(source=dataset, task=task, reduced=reduced).set_display_name("load")
    checked = validate_dataset(
        dataset=loaded.outputs["dataset"], task=task, label=label
    ).set_display_name("validate")
    parts = split_dataset(
        dataset=loaded.outputs["dataset"],
        task=task,
        split_by=split_by,
        parameters=parameters,
        test_fraction=test_fraction,
    ).set_display_name("split")
    parts.after(checked)
    trained = train_model(
        train=parts.outputs["train"],
        task=task,
        features=checked.outputs["Output"],
        label=label,
        epochs=epochs,
        seed=seed,
        parameters=parameters,
    ).set_display_name("train")
    evaluated = evaluate_model(
        model=trained.outputs["model"],
        test=parts.outputs["test"],
        label=label,
        dataset_source=dataset,
        champion_tag=champion_tag,
    ).set_display_name("evaluate")
    decision = compare_with_champion(
        task=task,
        candidate_metrics=evaluated.outputs["Output"],
        champion_metrics=champion_metrics,
        metric=promotion_metric,
        minimum=promotion_minimum,
        must_beat_by=must_beat_by,
    ).set_display_name("compare")
    registered = register_model(
        model=trained.outputs["model"],
        task=task,
        model_name=model_name,
        metrics=evaluated.outputs["Output"],
        data_window=parts.outputs["Output"],
        spec_hash=spec_hash,
        promote=decision.outputs["promote"],
        reason=decision.outputs["reason"],
        run_id=run_id,
        training_set=loaded.outputs["Output"],
    ).set_display_name("register")
    return registered.outputs["tag"]
