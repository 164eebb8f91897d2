"""`lineops pipeline compile`, `validate` and `run --local`: the KFP training pipelines.

``compile`` writes the IR YAML committed under ``pipelines/compiled/`` and, in a checkout, next
to each example under ``examples/pipelines/`` (``--check`` fails when the committed files differ
from a fresh compile); ``run --local`` runs ``quality-training``
(or, with ``--pipeline FILE``, an ML engineer's compiled pipeline) with
``kfp.local.SubprocessRunner`` in the current environment and prints where the outputs landed
(run id and folder, BentoML tag, metrics); ``validate FILE`` checks a compiled pipeline
against the training-pipeline contract (``pipeline_file``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
from typing import Any

from lineops.cli import pipeline_file
from lineops.cli.errors import CliError

TASKS = ("anomaly-detection", "fault-classification", "failure-prediction")


def pipelines_module(name: str) -> Any:
    return importlib.import_module(f"lineops_pipelines.{name}")


def run_compile(args: argparse.Namespace) -> int:
    compile_mod = pipelines_module("compile")
    directory = Path(args.out) if args.out else None
    if args.check:
        changed = compile_mod.drift(directory)
        if directory is None:
            changed += pipeline_file.example_drift()
        if changed:
            raise CliError(
                f"compiled pipeline IR is out of date: {', '.join(changed)} "
                "(run `lineops pipeline compile`)"
            )
        print("compiled pipeline IR is up to date")
        return 0
    for name, path in compile_mod.compile_all(directory).items():
        print(f"{name}: {path}")
    if directory is None:  # the examples reuse the shipped components: keep them in step
        for name, path in pipeline_file.compile_examples().items():
            print(f"{name}: {path}")
    return 0


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{option}: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"{option}: expected a JSON object")
    return value


def run_run(args: argparse.Namespace) -> int:
    if not args.local:
        raise CliError("only --local runs are supported here; the operator submits cluster runs")
    if args.pipeline:
        # These shape the shipped pipeline only; an own pipeline takes its inputs as --param,
        # and accepting them there would let a run silently differ from what was asked.
        given = [
            option
            for option, value in (
                ("--epochs", args.epochs),
                ("--seed", args.seed),
                ("--parameters", args.parameters),
            )
            if value is not None
        ]
        if given:
            raise CliError(
                f"{', '.join(given)}: for the shipped pipeline only; give an own pipeline's "
                "inputs as --param NAME=VALUE (as spec.training.parameters holds them)"
            )
        return pipeline_file.run_local(args)
    if args.dataset not in {"te", "synthetic", "cmapss"} and not Path(args.dataset).is_file():
        raise CliError(f"--dataset {args.dataset}: no such file (or use te)")
    local_run = pipelines_module("local_run")
    try:
        run = local_run.run_quality_training(
            args.pipeline_root,
            task=args.task,
            dataset=args.dataset,
            reduced=args.reduced,
            epochs=args.epochs or 0,
            seed=args.seed or 0,
            parameters=_json_object(args.parameters or "{}", "--parameters"),
            champion_metrics=_json_object(args.champion_metrics, "--champion-metrics"),
            model_name=args.model_name,
            bentoml_home=args.bentoml_home or os.environ.get("BENTOML_HOME"),
        )
    except RuntimeError as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    result = run.to_dict()
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"run id:    {result['run_id']}")
        print(f"outputs:   {result['run_dir']}")
        print(f"model:     {result['model_dir']}")
        print(f"bentoml:   {result['tag']} ({result['stage']})")
        for name, value in sorted(result["metrics"].items()):
            if isinstance(value, float):
                print(f"  {name}: {value:.4f}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pipeline = subparsers.add_parser(
        "pipeline",
        help="compile or locally run the KFP training pipelines",
        description="Compile the KFP pipelines or run quality-training with kfp.local.",
    )
    sub = pipeline.add_subparsers(dest="pipeline_command", metavar="COMMAND", required=True)

    comp = sub.add_parser("compile", help="write pipelines/compiled/*.yaml (KFP IR)")
    comp.add_argument("--check", action="store_true", help="fail if the committed IR drifted")
    comp.add_argument("--out", metavar="DIR", help="folder (default: pipelines/compiled)")
    comp.set_defaults(func=run_compile)

    pipeline_file.register_validate(sub)

    run = sub.add_parser(
        "run", help="run quality-training (or --pipeline FILE) locally (kfp.local)"
    )
    run.add_argument("--local", action="store_true", help="run with kfp.local.SubprocessRunner")
    run.add_argument("--task", required=True, choices=TASKS)
    run.add_argument("--dataset", default="te", metavar="te|FILE")
    run.add_argument("--reduced", action="store_true", help="a small subset, for quick runs")
    run.add_argument(
        "--epochs", type=int, metavar="N", help="training epochs (default: the model's own)"
    )
    run.add_argument("--seed", type=int, metavar="N", help="random seed (default 0)")
    run.add_argument("--parameters", metavar="JSON", help="model config overrides (a JSON object)")
    run.add_argument("--champion-metrics", default="{}", metavar="JSON")
    run.add_argument("--model-name", default="", metavar="NAME")
    run.add_argument(
        "--pipeline-root",
        default="./local_outputs",
        metavar="DIR",
        help="where kfp.local writes the run's outputs (default ./local_outputs)",
    )
    run.add_argument("--bentoml-home", metavar="DIR", help="model store (default: $BENTOML_HOME)")
    run.add_argument("--json", action="store_true")
    own = run.add_argument_group("an engineer's compiled pipeline (docs/pipelines.md)")
    own.add_argument("--pipeline", metavar="FILE", help="a compiled pipeline (KFP IR YAML)")
    own.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="as spec.training.parameters would hold it (repeatable)",
    )
    own.add_argument("--label", default="fault", help="the label column (spec.label)")
    own.add_argument("--run-id", default="", help="passed as run_id (default: local-<random>)")
    run.set_defaults(func=run_run)
