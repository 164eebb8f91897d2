"""The training-pipeline contract: what a compiled pipeline (KFP IR YAML) must declare so the
operator can run it, checked before anything is submitted (docs/pipelines.md).

Inputs the operator passes, by name, to whichever of them the pipeline declares
(``pipeline_args.arguments``):

* ``dataset`` (STRING) and ``run_id`` (STRING) must be declared: the training-set URI or source,
  and the id the registration must carry as its BentoML label ``run-id``;
* the optional ones (``OPTIONAL_INPUTS``) must have a type the operator can convert to;
* any ``spec.training.parameters`` key declared as an input is passed too;
* every other input needs a default, since nothing fills it.

Outputs it reads: a STRING pipeline output named ``Output``, ``model_tag`` or ``tag`` (the
registered tag), and metrics from a ``system.Metrics`` artifact (a pipeline output, or a step
output named like ``*metrics*``).

Pure (no I/O): the operator checks a ConfigMap's text, ``lineops pipeline validate`` a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

import yaml

REQUIRED_INPUTS: Final = ("dataset", "run_id")
STRING: Final = ("STRING",)
JSON: Final = ("STRING", "STRUCT")
NUMBER: Final = ("NUMBER_DOUBLE", "STRING")
# Every input the operator fills, with the IR parameter types it can convert its value to.
INPUT_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "dataset": STRING,
    "run_id": STRING,
    "task": STRING,
    "label": STRING,
    "model_name": STRING,
    "spec_hash": STRING,
    "feature_service": STRING,
    "champion_tag": STRING,
    "promotion_metric": STRING,
    "champion_metrics": JSON,
    "promotion_minimum": NUMBER,
    "must_beat_by": NUMBER,
}
OPTIONAL_INPUTS: Final = tuple(n for n in INPUT_TYPES if n not in REQUIRED_INPUTS)
# Filled only when the QualityModel sets the field (spec.label, spec.promotion.minimum).
CONDITIONAL_INPUTS: Final = frozenset({"label", "promotion_minimum"})
ALWAYS_FILLED: Final = frozenset(INPUT_TYPES) - CONDITIONAL_INPUTS
# Inputs that take the spec parameters no other input names (pipeline_args.OVERFLOW_INPUTS).
OVERFLOW_INPUTS: Final = ("overrides", "parameters", "extra_parameters")
TAG_OUTPUTS: Final = ("Output", "model_tag", "tag")
METRICS_SCHEMA: Final = "system.Metrics"
MAX_IR_BYTES: Final = 1024 * 1024  # a ConfigMap holds at most 1 MiB


@dataclass(frozen=True)
class PipelineIR:
    """A compiled pipeline as the operator sees it: its name, digest and declared inputs."""

    name: str
    digest: str  # "sha256:<hex>" of the IR text exactly as stored
    inputs: dict[str, dict[str, Any]]  # name -> {"type": parameterType, "optional": bool}
    text: str


@dataclass
class ContractReport:
    pipeline: PipelineIR | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.pipeline is not None and not self.problems


@runtime_checkable
class UploadedPipelines(Protocol):
    """A training backend that can run pipeline versions uploaded to KFP (the cluster one)."""

    async def uploaded_pipeline(self, pipeline: str, version: str) -> str | None:
        """The version's pipeline spec as IR YAML; None when KFP has no such pipeline or
        version. Raises ``TrainingBackendError`` when KFP cannot be asked."""
        ...


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _spec(text: str) -> tuple[dict[str, Any] | None, str | None]:
    if len(text.encode()) > MAX_IR_BYTES:
        return None, f"the IR is {len(text.encode())} bytes, more than a ConfigMap holds (1 MiB)"
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        return None, f"not YAML: {exc}".splitlines()[0]
    spec = next((d for d in docs if isinstance(d, dict) and "root" in d), None)
    if spec is None:
        return None, "not a compiled KFP pipeline: no document with a 'root' DAG"
    return spec, None


def unwrap(spec: dict[str, Any]) -> dict[str, Any]:
    """KFP's API returns a version uploaded with a platform spec as ``{"pipeline_spec": ...,
    "platform_spec": ...}``; the pipeline spec itself otherwise."""
    inner = spec.get("pipeline_spec")
    return inner if "root" not in spec and isinstance(inner, dict) else spec


def inputs_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    params = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
    return {
        str(name): {
            "type": p.get("parameterType", "STRING"),
            "optional": bool(p.get("isOptional") or "defaultValue" in p),
        }
        for name, p in params.items()
    }


def _metrics_outputs(spec: dict[str, Any]) -> list[str]:
    """Where metrics can come from: pipeline-level Metrics outputs, and Metrics outputs named
    like ``*metric*`` of the components the DAG runs (what local_pipeline.collect and
    scan_task_outputs read)."""
    found = []
    root_out = ((spec.get("root") or {}).get("outputDefinitions") or {}).get("artifacts") or {}
    for name, art in root_out.items():
        if (art.get("artifactType") or {}).get("schemaTitle") == METRICS_SCHEMA:
            found.append(f"pipeline output {name}")
    for comp_name, comp in (spec.get("components") or {}).items():
        arts = (comp.get("outputDefinitions") or {}).get("artifacts") or {}
        for name, art in arts.items():
            schema = (art.get("artifactType") or {}).get("schemaTitle")
            if schema == METRICS_SCHEMA and "metric" in name:
                found.append(f"{comp_name} output {name}")
    return found


def provided_inputs(
    declared: Iterable[str], parameters: Iterable[str], label: bool, minimum: bool
) -> frozenset[str]:
    """The input names the operator fills for a model with these spec parameters, label and
    promotion minimum (mirrors ``pipeline_args.arguments``)."""
    declared = set(declared)
    names = set(ALWAYS_FILLED)
    if label:
        names.add("label")
    if minimum:
        names.add("promotion_minimum")
    extra = False
    for key in parameters:
        name = key.replace("-", "_")
        if name in declared:
            names.add(name)
        else:
            extra = True
    if extra:
        overflow = next((n for n in OVERFLOW_INPUTS if n in declared and n not in names), None)
        if overflow is not None:
            names.add(overflow)
    return frozenset(names)


def check(
    text: str,
    parameters: Iterable[str] = (),
    *,
    label: bool = True,
    minimum: bool = True,
) -> ContractReport:
    """Every way ``text`` breaks the contract, for a model with these spec parameter names
    (and a label / promotion minimum set or not). An empty ``problems`` list: it may run."""
    spec, error = _spec(text)
    if spec is None:
        return ContractReport(None, [error or "not a compiled KFP pipeline"])
    name = str((spec.get("pipelineInfo") or {}).get("name") or "")
    pipeline = PipelineIR(name=name, digest=digest(text), inputs=inputs_of(spec), text=text)
    problems: list[str] = []
    if not name:
        problems.append("pipelineInfo.name is missing")
    inputs = pipeline.inputs
    for required in REQUIRED_INPUTS:
        if required not in inputs:
            problems.append(f"input {required!r} is missing: the pipeline must declare it (STRING)")
    parameter_names = list(parameters)
    params = {k.replace("-", "_") for k in parameter_names}
    for input_name, decl in sorted(inputs.items()):
        allowed = INPUT_TYPES.get(input_name)
        if allowed is not None and input_name not in params and decl["type"] not in allowed:
            problems.append(
                f"input {input_name!r} is {decl['type']}; the operator passes "
                f"{' or '.join(allowed)}"
            )
        if input_name in OVERFLOW_INPUTS and decl["type"] not in JSON:
            problems.append(
                f"input {input_name!r} is {decl['type']}; the operator passes extra "
                "parameters as a JSON STRING or STRUCT"
            )
    provided = provided_inputs(inputs, parameter_names, label, minimum)
    for input_name, decl in sorted(inputs.items()):
        if not decl["optional"] and input_name not in provided:
            where = (
                "spec.label"
                if input_name == "label"
                else "spec.promotion.minimum"
                if input_name == "promotion_minimum"
                else f"spec.training.parameters.{input_name}"
            )
            problems.append(
                f"input {input_name!r} has no default and the operator cannot fill it "
                f"(give it a default, or set {where})"
            )
    outputs = ((spec.get("root") or {}).get("outputDefinitions") or {}).get("parameters") or {}
    tags = [n for n in TAG_OUTPUTS if (outputs.get(n) or {}).get("parameterType") == "STRING"]
    if not tags:
        problems.append(
            "no STRING pipeline output named Output, model_tag or tag (the registered model's "
            "BentoML tag): return it from the pipeline function"
        )
    if not _metrics_outputs(spec):
        problems.append(
            "no system.Metrics artifact: a step must output dsl.Output[dsl.Metrics] named like "
            "'metrics' (or the pipeline must return one)"
        )
    return ContractReport(pipeline, problems)
