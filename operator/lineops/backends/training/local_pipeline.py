"""Run a compiled pipeline (KFP IR YAML) with kfp.local, in the worker process.

The worker runs the same compiled YAML the cluster profile submits to KFP, so both profiles
train with exactly the same pipeline. Arguments are matched to the pipeline's declared inputs
by name and converted to their declared types; outputs are read from the pipeline's outputs
(Metrics artifacts and a ``model_tag`` string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from lineops.backends.training.local_files import strip_ansi
from lineops.backends.training.pipeline_args import StepFailed, arguments, declared_inputs
from lineops.backends.training.runs import RunRequest

_FAILED_TASK: Final = re.compile(r"Inner task failed: '([^']+)'")
_ERROR_LINE: Final = re.compile(r"^\s*((?:[A-Za-z_][\w.]*)?(?:Error|Exception)): (.+)$")
_TAG: Final = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")


@dataclass
class PipelineResult:
    metrics: dict[str, float] = field(default_factory=dict)
    model_tag: str | None = None


def display_names(pipeline_file: Path) -> dict[str, str]:
    """Task name -> the display name the pipeline gave it (what KFP's UI shows)."""
    docs = [d for d in yaml.safe_load_all(pipeline_file.read_text()) if d]
    tasks = next(d for d in docs if "root" in d)["root"].get("dag", {}).get("tasks", {})
    return {name: (t.get("taskInfo") or {}).get("name", name) for name, t in tasks.items()}


def error_message(log: str) -> str | None:
    """The last ``SomethingError: text`` line of a task's log (what a user needs to read)."""
    for line in reversed(strip_ansi(log).splitlines()):
        match = _ERROR_LINE.match(line)
        if match and "Inner task failed" not in line and "finished with status" not in line:
            return f"{match.group(1)}: {match.group(2)}".strip()
    return None


def collect(outputs: dict[str, Any]) -> PipelineResult:
    result = PipelineResult()
    for name, value in outputs.items():
        schema = getattr(value, "schema_title", None)
        if schema == "system.Metrics":
            result.metrics.update(_numbers(getattr(value, "metadata", {}) or {}))
        elif isinstance(value, dict) and "metric" in name:
            result.metrics.update(_numbers(value))
        elif isinstance(value, str) and (name in ("model_tag", "tag") or _TAG.match(value)):
            result.model_tag = value
    return result


def _numbers(raw: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            out[str(key)] = float(value)
    return out


def run(request: RunRequest, pipeline_file: Path, pipeline_root: Path, log: Path) -> PipelineResult:
    from kfp import components, local

    args = arguments(request, declared_inputs(pipeline_file))
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(pipeline_root),
        raise_on_error=True,
    )
    pipeline = components.load_component_from_file(str(pipeline_file))
    try:
        task = pipeline(**args)
    except RuntimeError as exc:
        text = strip_ansi(str(exc))
        match = _FAILED_TASK.search(text)
        if match is None:
            raise
        detail = error_message(log.read_text(errors="replace")) if log.is_file() else None
        step = display_names(pipeline_file).get(match.group(1), match.group(1))
        raise StepFailed(step, detail or text) from exc
    result = collect(dict(task.outputs))
    if not result.metrics or result.model_tag is None:
        scanned = scan_task_outputs(pipeline_root)
        result.metrics = result.metrics or scanned.metrics
        result.model_tag = result.model_tag or scanned.model_tag
    return result


def scan_task_outputs(pipeline_root: Path) -> PipelineResult:
    """Metrics and tag from the tasks' executor outputs, for pipelines that do not surface them
    as pipeline outputs: artifacts named like ``*metrics*`` and a ``model_tag`` parameter."""
    result = PipelineResult()
    for path in sorted(pipeline_root.glob("*/*/executor_output.json")):
        output = json.loads(path.read_text())
        for name, value in (output.get("parameterValues") or {}).items():
            if isinstance(value, str) and name in ("model_tag", "tag"):
                result.model_tag = value
        for name, group in (output.get("artifacts") or {}).items():
            if "metric" in name:
                for artifact in group.get("artifacts") or []:
                    result.metrics.update(_numbers(artifact.get("metadata") or {}))
    return result
