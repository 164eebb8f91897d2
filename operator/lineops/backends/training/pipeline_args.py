"""Pipeline arguments from a run request, checked against the compiled pipeline's inputs.

Shared by both backends, so a parameter the pipeline does not take fails the same way (as the
``parameters`` step, naming it) in the embedded and the cluster profile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import yaml

from lineops.backends.training.runs import RunRequest

# Inputs that take whatever the spec's parameters do not name, if the pipeline has one.
OVERFLOW_INPUTS: Final = ("overrides", "parameters", "extra_parameters")


class StepFailed(Exception):
    def __init__(self, step: str | None, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


def declared_inputs(pipeline_file: Path) -> dict[str, dict[str, Any]]:
    """``{name: {"type": parameterType, "optional": bool}}`` of the pipeline's root inputs."""
    docs = [d for d in yaml.safe_load_all(pipeline_file.read_text()) if d]
    spec = next(d for d in docs if "root" in d)
    params = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return {
        name: {
            "type": p.get("parameterType", "STRING"),
            "optional": bool(p.get("isOptional") or "defaultValue" in p),
        }
        for name, p in params.items()
    }


def _convert(name: str, value: Any, type_: str) -> Any:
    try:
        if type_ == "NUMBER_INTEGER":
            return int(value)
        if type_ == "NUMBER_DOUBLE":
            return float(value)
        if type_ == "BOOLEAN":
            if isinstance(value, bool):
                return value
            if str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return str(value).lower() in ("true", "1", "yes")
        if type_ in ("STRUCT", "LIST"):
            return value if not isinstance(value, str) else json.loads(value)
    except (TypeError, ValueError) as exc:
        kind = type_.lower().replace("number_", "")
        raise StepFailed("parameters", f"parameter {name}: {value!r} is not a {kind}") from exc
    return value if isinstance(value, str) else json.dumps(value)


def arguments(request: RunRequest, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Pipeline arguments from the request; unknown spec parameters are an error that names
    them (or go to an ``overrides``-style input when the pipeline declares one)."""
    known: dict[str, Any] = {
        "task": request.task,
        "dataset": request.dataset,
        "spec_hash": request.spec_hash,
        "run_id": request.run_id,
        "model_name": request.model,
        "champion_metrics": request.champion_metrics,
        "promotion_metric": request.promotion_metric,
        "must_beat_by": request.must_beat_by,
        "feature_service": request.feature_service,
        "champion_tag": request.champion_tag,
    }
    if request.promotion_minimum is not None:
        known["promotion_minimum"] = request.promotion_minimum
    if request.label is not None:
        known["label"] = request.label
    extra: dict[str, str] = {}
    given: list[str] = []  # the names as the spec spells them, for the error
    for name, value in request.parameters.items():
        key = name.replace("-", "_")
        if key in inputs:
            known[key] = value
        else:
            # Under the component's name: "rul-cap" reached the model as an unknown setting.
            extra[key] = value
            given.append(name)
    args = {k: _convert(k, v, inputs[k]["type"]) for k, v in known.items() if k in inputs}
    if extra:
        overflow = next((n for n in OVERFLOW_INPUTS if n in inputs and n not in args), None)
        if overflow is None:
            unknown = ", ".join(sorted(given))
            raise StepFailed(
                "parameters",
                f"unknown parameter(s) {unknown}; the pipeline takes {', '.join(sorted(inputs))}",
            )
        args[overflow] = _convert(overflow, extra, inputs[overflow]["type"])
    missing = [n for n, d in inputs.items() if n not in args and not d["optional"]]
    if missing:
        raise StepFailed("parameters", f"the pipeline needs {', '.join(missing)}")
    return args
