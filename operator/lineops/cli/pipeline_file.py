"""`lineops pipeline validate FILE` and `lineops pipeline run --local --pipeline FILE`: an ML
engineer's own compiled pipeline, checked against the training-pipeline contract and run with
kfp.local exactly as the embedded-profile operator runs it (docs/pipelines.md)."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

from lineops.backends.training import contract
from lineops.backends.training.pipeline_args import StepFailed
from lineops.backends.training.runs import RunRequest
from lineops.cli.errors import CliError


def example_sources() -> list[Path]:
    """``examples/pipelines/*.py`` of the checkout lineops runs from (none when installed)."""
    import lineops

    root = Path(lineops.__file__).resolve().parents[2] / "examples" / "pipelines"
    return sorted(root.glob("*.py")) if root.is_dir() else []


def _example(source: Path) -> Any:
    """The example module (examples/ is not a package); each has ``compile_to(path)``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"lineops_example_{source.stem}", source)
    if spec is None or spec.loader is None:
        raise CliError(f"{source}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_examples() -> dict[str, Path]:
    """Compile every example pipeline to the YAML next to its source."""
    return {p.stem: _example(p).compile_to(p.with_suffix(".yaml")) for p in example_sources()}


def example_drift() -> list[str]:
    """Examples whose committed YAML differs from a fresh compile (or is missing)."""
    import tempfile

    changed = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in example_sources():
            fresh = _example(source).compile_to(Path(tmp) / f"{source.stem}.yaml")
            committed = source.with_suffix(".yaml")
            if not committed.is_file() or committed.read_text() != fresh.read_text():
                changed.append(str(committed))
    return changed


def read_pipeline(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise CliError(f"{path}: no such file (a compiled pipeline, KFP IR YAML)")
    return file.read_text(encoding="utf-8")


def parameters(pairs: list[str]) -> dict[str, str]:
    """``--param k=v`` options as spec.training.parameters would hold them (strings)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--param {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def run_validate(args: argparse.Namespace) -> int:
    """Exit 0 when the pipeline keeps the contract, 1 with every problem listed."""
    names = list(parameters(args.param))
    report = contract.check(read_pipeline(args.file), names, label=not args.no_label)
    if report.ok and report.pipeline is not None:
        print(
            f"{args.file}: pipeline {report.pipeline.name} ({report.pipeline.digest}) "
            "keeps the lineops training-pipeline contract"
        )
        return 0
    print(f"{args.file}: breaks the lineops training-pipeline contract:", flush=True)
    for problem in report.problems:
        print(f"  - {problem}")
    return 1


def run_local(args: argparse.Namespace) -> int:
    """Run ``--pipeline FILE`` with kfp.local as the embedded operator's worker does."""
    from lineops.backends.training import local_pipeline

    text = read_pipeline(args.pipeline)
    params = parameters(args.param)
    if args.reduced:
        params.setdefault("reduced", "true")
    report = contract.check(text, list(params), label=bool(args.label))
    if not report.ok or report.pipeline is None:
        raise CliError(f"{args.pipeline}: " + "; ".join(report.problems))
    if args.bentoml_home:
        os.environ["BENTOML_HOME"] = str(Path(args.bentoml_home).resolve())
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    run_id = args.run_id or f"local-{uuid.uuid4().hex[:10]}"
    request = RunRequest(
        run_id=run_id,
        pipeline=report.pipeline.name,
        task=args.task,
        dataset=args.dataset,
        parameters=params,
        label=args.label or None,
        model=args.model_name,
        champion_metrics=_champion(args.champion_metrics),
    )
    root = Path(args.pipeline_root).resolve() / run_id
    root.mkdir(parents=True, exist_ok=True)
    try:
        result = local_pipeline.run(request, Path(args.pipeline), root, root / "no-worker-log")
    except StepFailed as exc:
        raise CliError(f"step {exc.step or '?'} failed: {exc.message}") from None
    except RuntimeError as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    summary: dict[str, Any] = {
        "run_id": run_id,
        "outputs": str(root),
        "model_tag": result.model_tag,
        "metrics": result.metrics,
    }
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0
    print(f"run id:    {run_id}")
    print(f"outputs:   {root}")
    print(f"bentoml:   {result.model_tag or '(no model tag output)'}")
    for name, value in sorted(result.metrics.items()):
        print(f"  {name}: {value:.4f}")
    return 0


def _champion(text: str) -> dict[str, float]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--champion-metrics: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CliError("--champion-metrics: expected a JSON object")
    try:
        return {str(k): float(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise CliError("--champion-metrics: every value must be a number") from None


def register_validate(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    check = sub.add_parser(
        "validate",
        help="check a compiled pipeline (IR YAML) against the training-pipeline contract",
        description="Exit 0 when FILE keeps the contract the operator checks before it runs a "
        "QualityModel's pipelineRef; exit 1 listing every problem.",
    )
    check.add_argument("file", metavar="FILE")
    check.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a spec.training.parameters entry the QualityModel will set (repeatable)",
    )
    check.add_argument(
        "--no-label", action="store_true", help="the QualityModel sets no spec.label"
    )
    check.set_defaults(func=run_validate)
