"""The training set of a line: point-in-time sensor features, labelled by MES records.

One row per work unit and sample time ``t`` (every distinct reading time of the unit, or one
per ``sampleEvery``). A row's features are the line's window aggregates over the readings in
``(t - window, t]``, computed with the formulas of the online features
(:mod:`lineops.dataplane.features`), so a model sees in training exactly what serving will
hand it. Its label comes from the MES records known at ``t``:

* ``fault`` (fault-classification, anomaly-detection): the reason of the work unit's latest
  machine event at or before ``t``; an event without a reason (or no event yet) is ``normal``.
  A fault interval is thus ``[event with reason, next event of the unit)``.
* ``failure`` (failure-prediction): hours until the work unit's next ``down`` event after
  ``t`` (remaining useful life, the target itself); rows after the last failure have no known
  target and are left out (counted as ``rowsCensored``).

``in_control`` is False on rows taken while one of the line's SPC charts signalled (see
:mod:`lineops.dataplane.control`): anomaly detectors learn normal operation without them.

Nothing recorded after ``t`` reaches row ``t`` except the failure target, which is what the
model learns to predict (and the end of an out-of-control stretch, which only ever removes
rows from anomaly training, never changes a feature or a label). ``run`` names the stretch
of continuous operation a row belongs to (a new one after a gap in the readings, or after a
failure), so sequence models never treat two separate stretches as one time series.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from lineops.api.productionline import ProductionLineSpec
from lineops.api.qualitymodel import LINE_LABELS
from lineops.dataplane.control import in_control
from lineops.dataplane.features import (
    SERVICES,
    features_from_stats,
    group_stats,
    line_sensors,
    service_features,
    wide_features,
)
from lineops.dataplane.repositories.mes import MachineEvent

NORMAL: Final = "normal"
LABEL_SOURCES: Final = {
    "fault": "machine events: the reason of the work unit's latest event (none: normal)",
    "failure": "machine events: hours until the work unit's next 'down' event",
}
TASK_LABELS: Final = {task.value: sources for task, sources in LINE_LABELS.items()}
DEFAULT_LABEL: Final = {
    "fault-classification": "fault",
    "anomaly-detection": "fault",
    "failure-prediction": "failure",
}
RUL_COLUMN: Final = "rul"
# False on rows taken while an SPC chart of the line signalled (anomaly detectors skip them).
IN_CONTROL: Final = "in_control"
FAILURE_STATE: Final = "down"
# A gap longer than this many median sample intervals starts a new run.
GAP_FACTOR: Final = 5.0
# Readings x sample times a request may aggregate (about 1.5 GB of intermediate columns);
# beyond it the caller is asked for a coarser sampleEvery instead of exhausting memory.
MAX_CELLS: Final = 20_000_000
NS: Final = 1_000_000_000


class TrainingSetError(ValueError):
    """The request cannot be answered; ``field`` names the query parameter at fault."""

    def __init__(self, field: str, detail: str, code: str = "invalid-training-set") -> None:
        super().__init__(detail)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class TrainingSetRequest:
    feature_service: str
    task: str
    label: str
    window_seconds: float
    until: pd.Timestamp
    sample_every_seconds: float = 0.0


@dataclass
class TrainingSet:
    frame: pd.DataFrame
    card: dict[str, Any] = field(default_factory=dict)


def check_request(spec: ProductionLineSpec, request: TrainingSetRequest) -> list[str]:
    """The service's feature columns; TrainingSetError naming the parameter otherwise."""
    if request.task not in TASK_LABELS:
        raise TrainingSetError(
            "query.task", f"task: {request.task!r} is not one of {', '.join(TASK_LABELS)}"
        )
    if request.feature_service not in SERVICES:
        raise TrainingSetError(
            "query.featureService",
            f"featureService: the line has no feature service {request.feature_service!r} "
            f"(it has {', '.join(SERVICES)})",
            code="unknown-feature-service",
        )
    allowed = TASK_LABELS[request.task]
    if request.label not in allowed:
        raise TrainingSetError(
            "query.label",
            f"label: {request.label!r} is not a label source for {request.task} "
            f"(use {' or '.join(allowed)}: {LABEL_SOURCES[allowed[0]]})",
            code="unknown-label-source",
        )
    if request.window_seconds <= 0:
        raise TrainingSetError("query.window", "window: must be positive")
    eligible_units(spec, request.feature_service)
    return service_features(spec, request.feature_service)


def build(
    spec: ProductionLineSpec,
    request: TrainingSetRequest,
    readings: pd.DataFrame,
    events: list[MachineEvent],
    start: pd.Timestamp,
    end: pd.Timestamp,
    out_of_control: list[tuple[int, int]] | None = None,
) -> TrainingSet:
    """The training set from ``readings`` (work_unit, sensor, timestamp, value; they may
    begin one feature window before ``start``) and the line's machine events; rows are the
    sample times in ``[start, end]``. ``out_of_control`` (epoch-ns intervals when an SPC chart
    of the line signalled) sets ``in_control`` False on the rows inside them."""
    columns = check_request(spec, request)
    units = eligible_units(spec, request.feature_service)
    readings = readings[readings["work_unit"].isin(units)]
    window_ns = int(spec.features.window_seconds * NS)
    every_ns = int(request.sample_every_seconds * NS)
    frame = point_in_time_features(
        readings, window_ns, line_sensors(spec), columns, every_ns, start, end
    )
    frame.insert(2, "run", segment_runs(frame))
    frame.insert(3, IN_CONTROL, in_control(frame["timestamp"], out_of_control or []))
    card: dict[str, Any] = {"rowsOutOfControl": int((~frame[IN_CONTROL]).sum())}
    if request.label == "failure":
        frame, censored = _with_rul(frame, events)
        card["rowsCensored"] = censored
    else:
        frame[request.label] = fault_labels(frame, events)
        card["classCounts"] = {
            str(k): int(v) for k, v in frame[request.label].value_counts().sort_index().items()
        }
    complete = frame[columns].notna().all(axis=1)
    card["rowsIncomplete"] = int((~complete).sum())
    card.update(
        {
            "featureService": request.feature_service,
            "featureServiceVersion": request.feature_service.rsplit("_", 1)[-1],
            "features": columns,
            "label": request.label,
            "labelSource": LABEL_SOURCES[request.label],
            "task": request.task,
            "window": {"start": _iso(start), "end": _iso(end)},
            "timeRange": {
                "first": _iso(frame["timestamp"].min()) if len(frame) else None,
                "last": _iso(frame["timestamp"].max()) if len(frame) else None,
            },
            "featureWindow": spec.features.window,
            "rows": len(frame),
            "workUnits": sorted(map(str, frame["work_unit"].unique())),
            "runs": int(frame["run"].nunique()),
        }
    )
    return TrainingSet(frame.reset_index(drop=True), card)


def eligible_units(spec: ProductionLineSpec, service: str) -> list[str]:
    """Work units that declare every sensor the service serves: a unit lacking one would
    only give rows with holes. TrainingSetError when no unit has them all."""
    sensors = line_sensors(spec)
    units = [u.name for u in spec.work_units if {s.name for s in u.sensors} >= set(sensors)]
    if not units:
        lacking = "; ".join(
            f"{u.name} lacks {', '.join(sorted(set(sensors) - {s.name for s in u.sensors}))}"
            for u in spec.work_units[:3]
        )
        raise TrainingSetError(
            "query.featureService",
            f"featureService: {service} serves every sensor of the line, and no work unit "
            f"has them all ({lacking}); a model of this service needs work units alike",
            code="feature-service-mismatch",
        )
    return units


def _iso(stamp: pd.Timestamp) -> str:
    return str(stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def sample_times(ts: np.ndarray, every_ns: int) -> np.ndarray:
    """Distinct times of sorted ``ts``; with ``every_ns``, the newest one of each interval."""
    distinct = np.unique(ts)
    if every_ns <= 0 or len(distinct) == 0:
        return distinct
    bucket = distinct // every_ns
    last = np.r_[bucket[1:] != bucket[:-1], True]
    return distinct[last]


def point_in_time_features(
    readings: pd.DataFrame,
    window_ns: int,
    sensors: list[str],
    columns: list[str],
    every_ns: int,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """``work_unit, timestamp`` and ``columns`` per sample time in ``[start, end]``; each
    row aggregates the unit's readings in ``(t - window, t]`` and nothing after ``t``."""
    lo_ns, hi_ns = start.value, end.value
    parts: list[pd.DataFrame] = []
    if not readings.empty:
        stamps = pd.to_datetime(readings["timestamp"], utc=True).astype("datetime64[ns, UTC]")
        all_ts = stamps.astype("int64").to_numpy()
        units = readings["work_unit"].astype(str).to_numpy(dtype=object)
        order = np.lexsort((all_ts, units))
        units, all_ts = units[order], all_ts[order]
        names = readings["sensor"].astype(str).to_numpy(dtype=object)[order]
        values = readings["value"].to_numpy(dtype=float)[order]
        bounds = np.flatnonzero(np.r_[True, units[1:] != units[:-1], True])
        cells = 0
        for a, b in itertools.pairwise(bounds.tolist()):
            ts = all_ts[a:b]
            times = sample_times(ts, every_ns)
            times = times[(times >= lo_ns) & (times <= hi_ns)]
            if len(times) == 0:
                continue
            lo = np.searchsorted(ts, times - window_ns, side="right")
            hi = np.searchsorted(ts, times, side="right")  # includes t, nothing after it
            counts = hi - lo
            cells += int(counts.sum())
            if cells > MAX_CELLS:
                raise TrainingSetError(
                    "query.sampleEvery",
                    f"sampleEvery: the window holds over {MAX_CELLS:,} reading x sample "
                    "combinations; sample less often (e.g. sampleEvery=1m)",
                    code="training-set-too-large",
                )
            owner = np.repeat(np.arange(len(times)), counts)
            offset = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
            index = a + np.repeat(lo, counts) + offset
            stats = group_stats(
                units[index], names[index], all_ts[index], values[index], owner, times[owner]
            )
            long = pd.concat([stats[["group", "sensor"]], features_from_stats(stats)], axis=1)
            wide = wide_features(long, sensors, ["group"])
            wide.insert(0, "timestamp", pd.to_datetime(times[wide["group"].to_numpy()], utc=True))
            wide.insert(0, "work_unit", str(units[a]))
            parts.append(wide[["work_unit", "timestamp", *columns]])
    if not parts:
        empty = pd.DataFrame({"work_unit": pd.Series(dtype=str)})
        empty["timestamp"] = pd.Series(dtype="datetime64[ns, UTC]")
        for column in columns:
            empty[column] = pd.Series(dtype=float)
        return empty
    return pd.concat(parts, ignore_index=True)


def segment_runs(frame: pd.DataFrame) -> pd.Series:
    """``<work unit>@<first time>`` per row: a new run after a gap of more than
    ``GAP_FACTOR`` median sample intervals of the unit."""
    out = pd.Series("", index=frame.index, dtype=object)
    for unit, rows in frame.groupby("work_unit", sort=False):
        ts = rows["timestamp"].astype("int64").to_numpy()
        gaps = np.diff(ts)
        typical = float(np.median(gaps)) if len(gaps) else 0.0
        new = np.r_[True, gaps > GAP_FACTOR * typical] if typical > 0 else np.r_[True, gaps < 0]
        starts = ts[np.flatnonzero(new)][np.cumsum(new) - 1]
        out.loc[rows.index] = [
            f"{unit}@{pd.Timestamp(s, tz='UTC').strftime('%Y-%m-%dT%H:%M:%SZ')}" for s in starts
        ]
    return out


def _events_of(events: list[MachineEvent], unit: str) -> tuple[np.ndarray, list[MachineEvent]]:
    mine = [e for e in events if e.work_unit == unit]
    stamps = pd.to_datetime([e.timestamp for e in mine], utc=True, format="ISO8601")
    ns = np.asarray(stamps.astype("int64"), dtype=np.int64)
    # By instant, not by text: records stored before timestamps were normalised to UTC keep
    # the offset they were sent with (+01:00 and Z texts do not sort in time order); stable,
    # so ties keep the store's order.
    order = np.argsort(ns, kind="stable")
    return ns[order], [mine[i] for i in order]


def fault_labels(frame: pd.DataFrame, events: list[MachineEvent]) -> pd.Series:
    """The reason of each row's latest machine event at or before its time (as-of join)."""
    out = pd.Series(NORMAL, index=frame.index, dtype=object)
    for unit, rows in frame.groupby("work_unit", sort=False):
        stamps, mine = _events_of(events, str(unit))
        if not mine:
            continue
        at = np.searchsorted(stamps, rows["timestamp"].astype("int64").to_numpy(), "right") - 1
        reasons = np.array([e.reason.strip() or NORMAL for e in mine], dtype=object)
        labels = np.where(at >= 0, reasons[np.clip(at, 0, None)], NORMAL)
        out.loc[rows.index] = labels
    return out


def _with_rul(frame: pd.DataFrame, events: list[MachineEvent]) -> tuple[pd.DataFrame, int]:
    """Add ``rul`` (hours to the next failure); runs end at failures; censored rows go."""
    rul = np.full(len(frame), np.nan)
    runs = frame["run"].to_numpy(dtype=object).copy()
    position = {index: i for i, index in enumerate(frame.index)}
    for unit, rows in frame.groupby("work_unit", sort=False):
        stamps, mine = _events_of(events, str(unit))
        failures = stamps[[e.state == FAILURE_STATE for e in mine]] if mine else stamps[:0]
        ts = rows["timestamp"].astype("int64").to_numpy()
        nxt = np.searchsorted(failures, ts, side="right")
        known = nxt < len(failures)
        where = np.array([position[i] for i in rows.index])
        rul[where[known]] = (failures[nxt[known]] - ts[known]) / (3600 * NS)
        runs[where] = [f"{unit}#{k}" for k in nxt]
    out = frame.assign(run=runs)
    out[RUL_COLUMN] = rul
    censored = int(np.isnan(rul).sum())
    return out[~np.isnan(rul)], censored
