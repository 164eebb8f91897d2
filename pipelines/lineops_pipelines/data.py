"""Training data: load (TE, Parquet, CSV), validate, and split without leakage.

A training frame has one row per sample. Reserved columns (all optional):

* ``run``: the time series a row belongs to (a machine, a simulation run, a unit);
* ``work_unit``: the line's work unit of the row (training sets of the line path);
* ``sample`` or ``timestamp``: the time order inside a run;
* ``lot``: the material lot (split by lot keeps a lot entirely on one side);
* ``split``: ``train`` / ``test``, set by a loader that knows the canonical split (TE);
* the label column (``fault`` by default; 0 or ``normal`` = normal operation).

Every other numeric column is a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lineops_pipelines import te_data

RESERVED = {
    "run",
    "sample",
    "timestamp",
    "time",
    "lot",
    "split",
    "unit",
    "work_unit",
    "cycle",
    "rul",
    "in_control",
}
# The card of a training set from a line's data plane (feature service, window, labels...).
CARD_ATTR = "lineops.card"
# lineops.mes.data.MAX_VALUE, the bound of every measured value in the operator;
# pipeline components do not import the operator.
MAX_VALUE = 1e100
URL_SCHEMES = ("http://", "https://")
TOKEN_FILE_ENV = "LINEOPS_API_TOKEN_FILE"
FETCH_TIMEOUT_S = 600.0
DEFAULT_LABEL = "fault"
REDUCED_TE_FAULTS = (0, 1, 2, 4, 6, 7)
REDUCED_TE_TEST_ROWS = 400


class DataValidationError(ValueError):
    """The training data cannot be used; the message names the column (and class)."""


def fetch_training_set(url: str) -> pd.DataFrame:
    """A line's training set from its data plane (Arrow IPC stream), rows without a value of
    some feature left out; the card (``frame.attrs[CARD_ATTR]``) counts them. The bearer
    token comes from the file named by ``LINEOPS_API_TOKEN_FILE`` when the data plane needs
    one. A refusal raises DataValidationError with the data plane's own detail."""
    import contextlib
    import json
    import os
    import urllib.error
    import urllib.request

    import pyarrow as pa

    request = urllib.request.Request(url, headers={"Accept": "application/vnd.apache.arrow.stream"})
    token_file = os.environ.get(TOKEN_FILE_ENV)
    if token_file:
        token = Path(token_file).read_text(encoding="utf-8").strip()
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(detail).get("detail", detail)
        raise DataValidationError(f"training set: {detail} (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ConnectionError(f"training set: cannot reach {url.split('?')[0]}: {exc}") from None
    table = pa.ipc.open_stream(body).read_all()
    card = json.loads((table.schema.metadata or {}).get(CARD_ATTR.encode(), b"{}"))
    frame = table.to_pandas()
    features = list(card.get("features") or feature_columns(frame, card.get("label", "")))
    empty = [c for c in features if c in frame and frame[c].isna().all()]
    if empty:
        raise DataValidationError(
            f"features without any value in the training window: {', '.join(empty)} "
            f"(feature service {card.get('featureService')!r}: does every work unit report "
            "these sensors, and does the feature window hold enough readings?)"
        )
    complete = frame[[c for c in features if c in frame]].notna().all(axis=1)
    frame = frame[complete].reset_index(drop=True)
    card["rowsUsed"] = len(frame)
    frame.attrs[CARD_ATTR] = card
    return frame


def load_dataset(source: str, reduced: bool = False) -> pd.DataFrame:
    """``te`` (Tennessee Eastman from bibmon: train files + test files), a line's training
    set (an http(s) URL of its data plane) or a Parquet/CSV file."""
    if source.startswith(URL_SCHEMES):
        return fetch_training_set(source)
    if source == "te":
        faults = REDUCED_TE_FAULTS if reduced else None
        train = te_data.load_frame(test=False, faults=faults)
        test = te_data.load_frame(
            test=True, faults=faults, max_rows=REDUCED_TE_TEST_ROWS if reduced else None
        )
        train.insert(0, "split", "train")
        test.insert(0, "split", "test")
        return pd.concat([train, test], ignore_index=True)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"dataset {source!r}: no such file (or use 'te')")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        frame = pd.read_parquet(path)
    elif suffix in {".csv", ".txt"}:
        frame = pd.read_csv(path)
    else:
        raise ValueError(f"dataset {source!r}: expected .parquet or .csv")
    if reduced and "run" in frame:
        keep = sorted(frame["run"].unique())[:6]
        frame = frame[frame["run"].isin(keep)]
    return frame.reset_index(drop=True)


def feature_columns(frame: pd.DataFrame, label: str = DEFAULT_LABEL) -> list[str]:
    return [
        c
        for c in frame.columns
        if c != label and str(c).lower() not in RESERVED and not str(c).startswith("_")
    ]


def validate(
    frame: pd.DataFrame,
    task: str,
    label: str = DEFAULT_LABEL,
    features: list[str] | None = None,
    max_missing_fraction: float = 0.0,
    min_class_fraction: float = 0.01,
    min_rows: int = 50,
) -> dict[str, Any]:
    """Check schema, missing values and class balance; raise DataValidationError naming the column.

    Returns a report (row count, feature list, class counts) for the metrics artifact.
    """
    if len(frame) < min_rows:
        raise DataValidationError(f"dataset has {len(frame)} rows, at least {min_rows} needed")
    features = list(features) if features is not None else feature_columns(frame, label)
    if not features:
        raise DataValidationError("dataset has no feature columns")
    missing_cols = [c for c in features if c not in frame.columns]
    if missing_cols:
        raise DataValidationError(
            f"features missing from the dataset: {', '.join(repr(c) for c in missing_cols)}"
        )
    constant: list[str] = []
    for column in features:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series):
            converted = pd.to_numeric(series, errors="coerce")
            bad = series[converted.isna() & series.notna()]
            if len(bad):
                raise DataValidationError(
                    f"column {column!r}: non-numeric value {bad.iloc[0]!r} at row {bad.index[0]}"
                )
            series = converted
        fraction = float(series.isna().mean())
        if fraction > max_missing_fraction:
            raise DataValidationError(
                f"column {column!r}: {fraction:.1%} missing values "
                f"(allowed {max_missing_fraction:.1%})"
            )
        finite = series.dropna().to_numpy(dtype=float)
        if not np.isfinite(finite).all():
            raise DataValidationError(f"column {column!r}: infinite values")
        beyond = np.abs(finite) > MAX_VALUE
        if beyond.any():
            # Finite, but scaling squares it: 1e308 trained a model of NaN (NaN metrics,
            # every later score null) instead of failing.
            row = series.dropna().index[int(np.argmax(beyond))]
            raise DataValidationError(
                f"column {column!r}: {finite[int(np.argmax(beyond))]:g} at row {row} is beyond "
                f"±{MAX_VALUE:g}"
            )
        if len(finite) and np.ptp(finite) == 0:
            constant.append(column)
    # A constant reading count only says the line samples regularly: not a feature to learn
    # from, but no fault of the data either. Any other constant feature is a stuck or
    # missing signal, and the run says which.
    counts = [c for c in constant if str(c).endswith("__count")]
    constant = [c for c in constant if c not in counts]
    features = [c for c in features if c not in counts]
    if constant:
        raise DataValidationError(
            f"constant features (one value in every row, nothing to learn from): "
            f"{', '.join(constant[:10])}"
            + (f" and {len(constant) - 10} more" if len(constant) > 10 else "")
        )
    report: dict[str, Any] = {"rows": len(frame), "features": features}
    if counts:
        report["constant_counts_dropped"] = counts
    if task == "failure-prediction" and label not in frame.columns and "rul" in frame.columns:
        label = "rul"  # run-to-failure sets (cmapss, a line's failures) carry the target so
    needs_label = task in {"fault-classification", "failure-prediction"}
    if label not in frame.columns:
        if needs_label:
            raise DataValidationError(f"column {label!r}: label column missing for {task}")
        return report
    labels = frame[label]
    if labels.isna().any():
        raise DataValidationError(
            f"column {label!r}: {int(labels.isna().sum())} rows without a label "
            f"(first at row {labels.index[labels.isna()][0]})"
        )
    counts = labels.value_counts()
    report["class_counts"] = {str(k): int(v) for k, v in counts.sort_index().items()}
    if task == "fault-classification":
        if len(counts) < 2:
            raise DataValidationError(f"column {label!r}: only one class ({counts.index[0]!r})")
        smallest = counts.idxmin()
        if counts.min() < min_class_fraction * counts.max():
            raise DataValidationError(
                f"column {label!r}: class {str(smallest)!r} has {counts.min()} rows, under "
                f"{min_class_fraction:.0%} of the largest class ({counts.max()} rows)"
            )
    if task == "anomaly-detection" and not is_normal(labels).any():
        raise DataValidationError(f"column {label!r}: no normal rows (label 0) to train on")
    return report


def is_normal(labels: pd.Series) -> pd.Series:
    text = labels.astype(str).str.lower()
    return text.isin({"0", "0.0", "normal", "ok", "false"})


def keep_rows(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The rows where ``mask`` holds, each contiguous stretch of them a run of its own: a
    model's lag window must never join the rows before and after a removed stretch."""
    tcol = time_column(frame)
    keys = [c for c in ("run", tcol) if c is not None and c in frame]
    ordered = frame.sort_values(keys, kind="stable") if keys else frame
    keep = mask.reindex(ordered.index).fillna(False).astype(bool).to_numpy()
    runs = ordered["run"].astype(str).to_numpy() if "run" in ordered else np.full(len(keep), "")
    starts = keep & ~np.r_[False, keep[:-1] & (runs[1:] == runs[:-1])]
    segment = np.cumsum(starts)
    out = ordered.assign(run=[f"{r}/{k}" for r, k in zip(runs, segment, strict=True)])
    return out[keep]


def time_column(frame: pd.DataFrame) -> str | None:
    for column in ("sample", "timestamp", "time", "cycle"):
        if column in frame.columns:
            return column
    return None


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame
    method: str
    window: dict[str, Any]


def split(
    frame: pd.DataFrame, by: str = "auto", test_fraction: float = 0.25, gap: int = 0
) -> Split:
    """Train/test split without leakage.

    * ``auto``: the ``split`` column if present, else ``lot`` if present, else ``time``;
    * ``time``: within every run, the last ``test_fraction`` of rows (in time order) are test,
      and ``gap`` rows between the two sides are dropped so no window spans both;
    * ``lot``: whole lots, ordered by their first appearance; the last lots are test;
    * ``run``: whole runs (units), the last ones in order of appearance are test.
    """
    if by == "auto":
        by = "column" if "split" in frame else ("lot" if "lot" in frame else "time")
    tcol = time_column(frame)
    if by == "column":
        train = frame[frame["split"] == "train"]
        test = frame[frame["split"] == "test"]
    elif by == "lot":
        if "lot" not in frame:
            raise DataValidationError("column 'lot': needed to split by lot")
        lots = list(dict.fromkeys(frame.sort_values(tcol)["lot"] if tcol else frame["lot"]))
        n_test = max(1, round(len(lots) * test_fraction))
        test_lots = set(lots[-n_test:])
        train = frame[~frame["lot"].isin(test_lots)]
        test = frame[frame["lot"].isin(test_lots)]
    elif by == "run":
        if "run" not in frame:
            raise DataValidationError("column 'run': needed to split by run")
        names = list(dict.fromkeys(frame["run"]))
        if tcol == "timestamp":
            # Held out: the runs that ended last. In appearance order the line's training
            # set (sorted by work unit, then time) held out the alphabetically last units,
            # and the rest trained on runs newer than them. (A sample or cycle number is
            # relative to its run: appearance order stays.)
            ends = frame.groupby("run", sort=False)[tcol].max()
            names = list(ends.reindex(names).sort_values(kind="stable").index)
        n_test = max(1, round(len(names) * test_fraction))
        test_runs = set(names[-n_test:])
        train = frame[~frame["run"].isin(test_runs)]
        test = frame[frame["run"].isin(test_runs)]
    elif by == "time":
        parts_train, parts_test = [], []
        groups = frame.groupby("run", sort=False) if "run" in frame else [("", frame)]
        for _, run in groups:
            run = run.sort_values(tcol) if tcol else run
            cut = round(len(run) * (1 - test_fraction))
            parts_train.append(run.iloc[:cut])
            parts_test.append(run.iloc[cut + gap :])
        train, test = pd.concat(parts_train), pd.concat(parts_test)
    else:
        raise ValueError(f"unknown split method {by!r} (auto, time, lot, run, column)")
    if len(train) == 0 or len(test) == 0:
        raise DataValidationError(f"split by {by} left an empty train or test set")
    window: dict[str, Any] = {"train_rows": len(train), "test_rows": len(test)}
    if tcol:
        for name, part in (("train", train), ("test", test)):
            window[f"{name}_{tcol}_min"] = str(part[tcol].min())
            window[f"{name}_{tcol}_max"] = str(part[tcol].max())
    if "run" in frame:
        window["train_runs"] = sorted(map(str, train["run"].unique()))
        window["test_runs"] = sorted(map(str, test["run"].unique()))
    return Split(train.reset_index(drop=True), test.reset_index(drop=True), by, window)


def runs(
    frame: pd.DataFrame, features: list[str], label: str | None = DEFAULT_LABEL
) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(run id, x, y) per run in time order; y is None when there is no label column."""
    tcol = time_column(frame)
    groups = frame.groupby("run", sort=False) if "run" in frame else [("all", frame)]
    out = []
    for name, run in groups:
        run = run.sort_values(tcol, kind="stable") if tcol else run
        x = run[features].to_numpy(dtype=np.float64)
        y = run[label].to_numpy() if label and label in run else None
        out.append((str(name), x, y))
    return out
