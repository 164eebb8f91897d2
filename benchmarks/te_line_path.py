"""The TE fault classifier trained through the line path vs. from the TE files directly.

    .venv/bin/python benchmarks/te_line_path.py [--out FILE] [--seed 0] [--epochs N]
        [--faults 0,1,2,...] [--rows N] [--workdir DIR]

Line path (issue 19): a real :class:`DataPlaneApp` (SQLite, offline Parquet store, no Feast)
serves ``examples/te-line.yaml``. The TE training files (``dNN.dat``) are replayed one
after another on ``te-process`` (``replay.te_history``: 3-minute samples, one hour between
runs), uploaded as Arrow IPC streams to ``POST …/readings:bulk?backfill=true``, their fault
intervals posted as machine events (reason = fault number) to ``POST …/events``; the
training set is read back over HTTP with ``lineops_pipelines.data.fetch_training_set`` from
``GET …/training-set?featureService=sensor_last_v1&task=fault-classification&label=fault
&window=30d&until=<end of the training history>&sampleEvery=0s``. The test files
(``dNN_te.dat``: normal, fault NN from sample 160) are replayed a week later in time and
read back the same way, with a window that covers exactly their stretch.

File path: ``training.load_for_task("fault-classification", "te")`` and its ``split``
column, as ``training.train_from_source`` and ``benchmarks/te.py`` read it.

Both paths train the same model (``training.train``: the FaultClassifier, same config, same
seed) and are scored by ``training.evaluate`` with faults 3, 9 and 15 merged into normal
(macro-F1(19)). The structural check compares, run by run, the line path's feature matrix
and labels with the files' rows (``xmeas_1`` -> ``xmeas_01__last``, class 0 -> ``normal``):
when they are equal the two models see the same numbers, and any difference in the scores
comes from training itself, not from the data plane. Prints a JSON summary (``--out``
writes it too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pyarrow as pa
from lineops.api.productionline import ProductionLine
from lineops.dataplane.app import DataPlaneApp
from lineops.dataplane.db.database import embedded_url
from lineops.dataplane.lines import LineRef
from lineops.services import replay
from lineops_pipelines import data, te_data, training
from prometheus_client import CollectorRegistry

REPO: Final = Path(__file__).resolve().parents[1]
TE_LINE: Final = REPO / "examples" / "te-line.yaml"
LINE: Final = LineRef("replay", "te-line")
TASK: Final = "fault-classification"
LABEL: Final = "fault"
FEATURE_SERVICE: Final = "sensor_last_v1"
MERGE_AS_NORMAL: Final = tuple(str(f) for f in te_data.UNDETECTABLE_FAULTS)  # 3, 9, 15
TRAIN_START: Final = pd.Timestamp("2020-02-01", tz="UTC")
# The test history starts this long after the training history ends: far more than a feature
# window, so no training reading reaches a test row.
SPLIT_GAP: Final = pd.Timedelta(days=7)
TRAIN_WINDOW: Final = "30d"  # a QualityModel's default training window; holds the 23 days
ARROW_ROWS: Final = 250_000  # readings per bulk upload
TIMEOUT_S: Final = 600.0


def te_line() -> ProductionLine:
    import yaml

    return ProductionLine.model_validate(yaml.safe_load(TE_LINE.read_text()))


def line_feature(column: str) -> str:
    """The line path's name of a TE file column: ``xmeas_1`` -> ``xmeas_01__last``."""
    kind, number = column.rsplit("_", 1)
    return f"{kind}_{int(number):02d}__last"


# ----------------------------------------------------------------------------- the data plane


@contextmanager
def served_line(data_dir: Path) -> Iterator[str]:
    """A real DataPlaneApp serving te-line on a loopback port from a thread of its own
    (synchronous HTTP calls from this thread); yields the line's base URL."""
    app = DataPlaneApp(data_dir, embedded_url(data_dir), CollectorRegistry(), compact_every=None)
    app.configure_line(LINE, te_line().spec)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dataplane", daemon=True)
    thread.start()

    def call(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(TIMEOUT_S)

    try:
        call(app.start())
        yield f"{app.url}/v1/namespaces/{LINE.namespace}/lines/{LINE.name}"
    finally:
        try:
            call(app.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()


def _post(url: str, body: bytes, content_type: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return dict(json.loads(response.read()))


def arrow_stream(readings: pd.DataFrame) -> bytes:
    """Readings as an Arrow IPC stream (strings, timestamp[ns, UTC], float64)."""
    table = pa.table(
        {
            "work_unit": pa.array(readings["work_unit"].to_numpy(dtype=object), pa.string()),
            "sensor": pa.array(readings["sensor"].to_numpy(dtype=object), pa.string()),
            "timestamp": pa.array(readings["timestamp"]).cast(pa.timestamp("ns", "UTC")),
            "value": pa.array(readings["value"].to_numpy(dtype=float), pa.float64()),
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def ingest(base: str, readings: pd.DataFrame, events: list[dict[str, str]]) -> dict[str, Any]:
    """Upload readings (bulk Arrow, backfill) and events; every one must be accepted."""
    started = time.perf_counter()
    accepted = 0
    for first in range(0, len(readings), ARROW_ROWS):
        chunk = readings.iloc[first : first + ARROW_ROWS]
        answer = _post(
            f"{base}/readings:bulk?backfill=true",
            arrow_stream(chunk),
            "application/vnd.apache.arrow.stream",
        )
        if answer["accepted"] != len(chunk):
            raise RuntimeError(f"readings not all accepted: {answer}")
        accepted += int(answer["accepted"])
    readings_s = time.perf_counter() - started
    started = time.perf_counter()
    answer = _post(f"{base}/events", json.dumps({"records": events}).encode(), "application/json")
    if answer["accepted"] != len(events):
        raise RuntimeError(f"events not all accepted: {answer}")
    return {
        "readings": accepted,
        "events": len(events),
        "readings_seconds": readings_s,
        "readings_per_second": accepted / readings_s if readings_s > 0 else math.inf,
        "events_seconds": time.perf_counter() - started,
    }


def training_set_url(base: str, until: pd.Timestamp, window: str) -> str:
    query = {
        "featureService": FEATURE_SERVICE,
        "task": TASK,
        "label": LABEL,
        "window": window,
        "until": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sampleEvery": "0s",
    }
    return f"{base}/training-set?{urlencode(query)}"


def covering_window(readings: pd.DataFrame) -> str:
    """A window (whole minutes) that reaches from the newest reading back to the oldest."""
    span = readings["timestamp"].max() - readings["timestamp"].min()
    return f"{math.ceil(span / pd.Timedelta(minutes=1)) + 1}m"


@dataclass
class LineSet:
    """A training set read back from the line, with what it took."""

    frame: pd.DataFrame
    card: dict[str, Any]
    url: str
    ingest: dict[str, Any]
    fetch_seconds: float
    history: tuple[pd.Timestamp, pd.Timestamp]


def replay_and_fetch(
    base: str,
    split: str,
    faults: Sequence[int],
    start: pd.Timestamp,
    window: str | None,
    rows: int | None = None,
) -> LineSet:
    """Replay ``faults`` of ``split`` into the line from ``start`` and GET its training set
    (``window`` None: one that covers exactly this history)."""
    readings, events = replay.te_history(
        "train" if split == "train" else "test", faults, start, rows=rows
    )
    stats = ingest(base, readings, events)
    until = readings["timestamp"].max()
    url = training_set_url(base, until, window or covering_window(readings))
    started = time.perf_counter()
    frame = data.fetch_training_set(url)
    fetched = time.perf_counter() - started
    card = dict(frame.attrs.get(data.CARD_ATTR, {}))
    history = (readings["timestamp"].min(), until)
    return LineSet(frame, card, url, stats, fetched, history)


# ----------------------------------------------------------------------------- the files


def file_sets(faults: Sequence[int], rows: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The TE files' training and test rows as the file path reads them."""
    if tuple(faults) == te_data.FAULTS and rows is None:
        frame = training.load_for_task(TASK, "te")
        parts = data.split(frame, by="column")
        return parts.train, parts.test
    train = te_data.load_frame(test=False, faults=tuple(faults), max_rows=rows)
    test = te_data.load_frame(test=True, faults=tuple(faults), max_rows=rows)
    return train, test


# ----------------------------------------------------------------------------- comparison


def equivalence(
    line: pd.DataFrame, files: pd.DataFrame, features: list[str], line_features: list[str]
) -> dict[str, Any]:
    """Run by run (in time order / file order): are the line path's feature matrix and labels
    the files' rows? ``mismatches`` names the runs that differ and how."""
    line_runs = data.runs(line, line_features, LABEL)
    file_runs = data.runs(files, features, LABEL)
    out: dict[str, Any] = {
        "line_runs": len(line_runs),
        "file_runs": len(file_runs),
        "runs": [],
        "mismatches": [],
    }
    for (lname, lx, ly), (fname, fx, fy) in zip(line_runs, file_runs, strict=False):
        assert ly is not None and fy is not None
        same_x = lx.shape == fx.shape and bool(np.array_equal(lx, fx))
        lab_line = np.array(["0" if v == "normal" else str(v) for v in ly], dtype=object)
        lab_file = np.array([str(v) for v in fy], dtype=object)
        same_y = len(lab_line) == len(lab_file) and bool(np.array_equal(lab_line, lab_file))
        out["runs"].append({"line": lname, "file": fname, "rows": len(lx)})
        if not (same_x and same_y):
            detail: dict[str, Any] = {"line": lname, "file": fname}
            detail["rows"] = [len(lx), len(fx)]
            if lx.shape == fx.shape:
                detail["max_abs_difference"] = float(np.nanmax(np.abs(lx - fx)))
            if not same_y:
                detail["labels_differ"] = int(
                    np.sum(lab_line != lab_file) if len(lab_line) == len(lab_file) else -1
                )
            out["mismatches"].append(detail)
    if len(line_runs) != len(file_runs):
        out["mismatches"].append({"runs": [len(line_runs), len(file_runs)]})
    out["equal"] = not out["mismatches"]
    return out


@dataclass
class Fitted:
    metrics: dict[str, Any]
    train_seconds: float
    evaluate_seconds: float
    classes: list[str] = field(default_factory=list)
    normal_like: list[str] = field(default_factory=list)


def fit_and_score(
    train: pd.DataFrame,
    test: pd.DataFrame,
    features: list[str],
    seed: int,
    overrides: dict[str, Any],
) -> Fitted:
    """Validate, train and evaluate as the pipeline does (the same code for both paths)."""
    report = data.validate(train, TASK, label=LABEL, features=features)
    started = time.perf_counter()
    model = training.train(
        TASK, train, report["features"], LABEL, seed=seed, overrides=dict(overrides)
    )
    trained = time.perf_counter() - started
    started = time.perf_counter()
    metrics = training.evaluate(model, test, LABEL, merge_as_normal=MERGE_AS_NORMAL)
    scored = time.perf_counter() - started
    classes = list(getattr(model, "classes", []))
    normal_like = [classes[i] for i in getattr(model, "normal_like", [])]
    return Fitted(metrics, trained, scored, classes, normal_like)


def _range(stamps: pd.Series) -> list[str]:
    return [pd.Timestamp(stamps.min()).isoformat(), pd.Timestamp(stamps.max()).isoformat()]


def _set_summary(line: LineSet, files: pd.DataFrame) -> dict[str, Any]:
    card = line.card
    return {
        "line_rows_served": int(card.get("rows", len(line.frame))),
        "line_rows_incomplete": int(card.get("rowsIncomplete", 0)),
        "line_rows_used": len(line.frame),
        "file_rows": len(files),
        "line_runs": int(line.frame["run"].nunique()),
        "file_runs": int(files["run"].nunique()),
        "line_time_range": _range(line.frame["timestamp"]),
        "history_time_range": [t.isoformat() for t in line.history],
        "card_window": card.get("window"),
        "class_counts": card.get("classCounts"),
        "url": line.url,
        "ingest": line.ingest,
        "training_set_seconds": line.fetch_seconds,
    }


def run(
    workdir: Path,
    *,
    seed: int = 0,
    faults: Sequence[int] = te_data.FAULTS,
    rows: int | None = None,
    overrides: dict[str, Any] | None = None,
    fit: bool = True,
) -> dict[str, Any]:
    """Both paths, end to end; the summary (and, under ``_frames``, the four frames)."""
    overrides = dict(overrides or {})
    started = time.perf_counter()
    with served_line(workdir / "dataplane") as base:
        line_train = replay_and_fetch(base, "train", faults, TRAIN_START, TRAIN_WINDOW, rows)
        test_start = line_train.history[1] + SPLIT_GAP
        line_test = replay_and_fetch(base, "test", faults, test_start, None, rows)
    line_seconds = time.perf_counter() - started
    file_train, file_test = file_sets(faults, rows)
    features = list(te_data.FEATURES)
    line_features = list(line_train.card["features"])
    if line_features != [line_feature(c) for c in features]:
        raise RuntimeError(f"unexpected line features: {line_features[:5]}...")
    summary: dict[str, Any] = {
        "seed": seed,
        "faults": list(faults),
        "rows_per_run": rows,
        "overrides": overrides,
        "feature_service": FEATURE_SERVICE,
        "line_path_seconds": line_seconds,
        "train_set": _set_summary(line_train, file_train),
        "test_set": _set_summary(line_test, file_test),
        "equivalence": {
            "train": equivalence(line_train.frame, file_train, features, line_features),
            "test": equivalence(line_test.frame, file_test, features, line_features),
        },
    }
    if fit:
        fitted = {
            "line": fit_and_score(
                line_train.frame, line_test.frame, line_features, seed, overrides
            ),
            "files": fit_and_score(file_train, file_test, features, seed, overrides),
        }
        summary["models"] = {
            name: {
                "macro_f1_19": f.metrics.get("macro_f1_19"),
                "macro_f1_raw_class": f.metrics.get("macro_f1"),
                "accuracy": f.metrics.get("accuracy"),
                "reported_normal_on_normal_rows": f.metrics.get("reported_normal_on_normal_rows"),
                "train_seconds": f.train_seconds,
                "evaluate_seconds": f.evaluate_seconds,
                "classes": f.classes,
                "reported_as_normal": f.normal_like,
            }
            for name, f in fitted.items()
        }
        # All 22 faults: macro-F1(19). A subset (--faults) without 3/9/15 and no class
        # reported as normal has no merged view: the plain macro-F1 is compared then.
        metric = "macro_f1_19" if "macro_f1_19" in fitted["files"].metrics else "macro_f1"
        summary["compared_metric"] = metric
        summary["difference"] = float(
            fitted["line"].metrics.get(metric, math.nan) - fitted["files"].metrics[metric]
        )
        if metric == "macro_f1_19":
            summary["macro_f1_19_difference"] = summary["difference"]
    summary["_frames"] = {
        "line_train": line_train.frame,
        "line_test": line_test.frame,
        "file_train": file_train,
        "file_test": file_test,
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON summary here too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="MLP epochs (default: the model's)")
    parser.add_argument("--faults", default="", help="comma-separated (default: all 0..21)")
    parser.add_argument("--rows", type=int, help="first rows of every run only")
    parser.add_argument("--workdir", type=Path, help="data plane directory (default: a temp)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    faults = tuple(int(f) for f in args.faults.split(",")) if args.faults else te_data.FAULTS
    overrides = {} if args.epochs is None else {"epochs": args.epochs}
    with tempfile.TemporaryDirectory(prefix="te-line-path-") as tmp:
        workdir = args.workdir or Path(tmp)
        summary = run(workdir, seed=args.seed, faults=faults, rows=args.rows, overrides=overrides)
    summary.pop("_frames")
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
