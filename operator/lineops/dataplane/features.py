"""Sensor-window features of a line: the Feast plan generated from its spec, and the maths.

Pure (no Feast, no I/O). Per sensor and work unit, over ``spec.features.window``:

* ``<sensor>__mean``, ``__std`` (sample, ddof=1), ``__min``, ``__max``,
* ``__last`` (value of the newest reading), ``__slope`` (least-squares trend, units/second),
* ``__count`` (readings in the window).

Aggregates are computed from *sufficient statistics* (n, sums, min, max, last), so the
ingestion path can keep a few numbers per time pane instead of every raw reading, and the
training-set builder can reuse exactly the same formulas on exact intervals (no
training/serving skew in how a feature is computed). Sums are kept relative to a local time
and value origin and shifted when combined, which avoids the cancellation that naive
``sum(x^2) - sum(x)^2/n`` suffers on large, nearly constant signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from lineops.api.productionline import FEATURE_TTL_WINDOWS, ProductionLineSpec
from lineops.backends.feast_store import (
    EVENT_TIMESTAMP,
    WORK_UNIT_KEY,
    FeastStore,
    FeatureServicePlan,
    FeatureSpec,
    FeatureViewPlan,
    LineFeaturePlan,
    batch_source_name,
    feature_service_name,
    push_source_name,
    window_view_name,
)

AGGREGATES: Final = ("mean", "std", "min", "max", "last", "slope", "count")
# Versioned feature services of every line and the aggregates each serves (of every sensor).
# sensor_last_v1 is the raw signal (the newest reading), for models that keep their own
# memory of past rows (lags, sequences) instead of window statistics.
SERVICES: Final[dict[str, tuple[str, ...]]] = {
    "sensor_window_v1": AGGREGATES,
    "sensor_last_v1": ("last",),
}
SERVICE_VERSIONS: Final = tuple(SERVICES)
TTL_WINDOWS: Final = FEATURE_TTL_WINDOWS
NS: Final = 1_000_000_000

# Columns of a sufficient-statistics frame (t in seconds from ``t0``, v relative to ``v0``).
STAT_COLUMNS: Final = ("n", "st", "stt", "sv", "svv", "stv", "vmin", "vmax", "last_ts", "last_v")

_DESCRIPTIONS: Final = {
    "mean": "Mean of the readings in the window",
    "std": "Sample standard deviation of the readings in the window",
    "min": "Minimum reading in the window",
    "max": "Maximum reading in the window",
    "last": "Newest reading in the window",
    "slope": "Least-squares trend of the readings in the window, per second",
    "count": "Number of readings in the window",
}


def feature_name(sensor: str, aggregate: str) -> str:
    return f"{sensor}__{aggregate}"


def line_sensors(spec: ProductionLineSpec) -> list[str]:
    """Sensor names of the line in spec order, each once (work units may share names)."""
    seen: dict[str, None] = {}
    for unit in spec.work_units:
        for sensor in unit.sensors:
            seen.setdefault(sensor.name, None)
    return list(seen)


def service_features(spec: ProductionLineSpec, service: str) -> list[str]:
    """The feature columns ``service`` serves for a line, in a fixed order (sensor by sensor);
    KeyError for a service the line does not have."""
    aggregates = SERVICES[service]
    return [feature_name(s, a) for s in line_sensors(spec) for a in aggregates]


def plan_line_features(
    line: str, spec: ProductionLineSpec, aggregates_dir: Path
) -> LineFeaturePlan:
    """The Feast objects of a line: one window view keyed by work unit (a work unit lacking a
    sensor has nulls there), its push source, and the versioned feature services."""
    window = spec.features.window
    features = tuple(
        FeatureSpec(
            name=feature_name(sensor, agg),
            dtype="int64" if agg == "count" else "float64",
            description=f"{_DESCRIPTIONS[agg]} ({window}) of {sensor}.",
        )
        for sensor in line_sensors(spec)
        for agg in AGGREGATES
    )
    tags = {"line": line, "site": spec.site, "area": spec.area, "window": window}
    view = FeatureViewPlan(
        name=window_view_name(line),
        line=line,
        features=features,
        ttl_seconds=TTL_WINDOWS * spec.features.window_seconds,
        push_source=push_source_name(line),
        batch_source=batch_source_name(line),
        batch_path=str(aggregates_dir / f"line={line}"),
        description=f"Sensor aggregates over a sliding {window} window per work unit of "
        f"line {line}.",
        tags=tags,
    )
    services = tuple(
        FeatureServicePlan(
            name=feature_service_name(line, version),
            views=(view.name,),
            description=f"{version}: the {', '.join(aggregates)} of every sensor of line "
            f"{line}; referenced by QualityModel.spec.featureService.",
            tags={**tags, "version": version.rsplit("_", 1)[-1]},
            features=None if aggregates == AGGREGATES else tuple(service_features(spec, version)),
        )
        for version, aggregates in SERVICES.items()
    )
    return LineFeaturePlan(line=line, views=(view,), services=services)


def apply_line_features(
    store: FeastStore, line: str, spec: ProductionLineSpec, aggregates_dir: Path
) -> list[str]:
    """Generate and apply a line's Feast objects; returns the feature view names."""
    return store.apply_line(plan_line_features(line, spec, aggregates_dir))


# ----------------------------------------------------------------------------- statistics


def group_stats(
    work_unit: np.ndarray,
    sensor: np.ndarray,
    timestamp_ns: np.ndarray,
    value: np.ndarray,
    group: np.ndarray,
    t0_ns: np.ndarray,
) -> pd.DataFrame:
    """Sufficient statistics of readings grouped by (work_unit, sensor, group).

    ``t0_ns`` gives each reading's time origin (the same for every reading of a group, e.g.
    its pane start); values are taken relative to the group's first value (``v0``)."""
    frame = pd.DataFrame(
        {
            "work_unit": work_unit,
            "sensor": sensor,
            "group": group,
            "t0": t0_ns,
            "ts": timestamp_ns,
            "v": value,
        }
    )
    by = ["work_unit", "sensor", "group"]
    frame["v0"] = frame.groupby(by, sort=False)["v"].transform("first")
    t = (frame["ts"].to_numpy() - frame["t0"].to_numpy()) / NS
    v = frame["v"].to_numpy() - frame["v0"].to_numpy()
    frame["t"], frame["vr"] = t, v
    frame["tt"], frame["vv"], frame["tv"] = t * t, v * v, t * v
    grouped = frame.groupby(by, sort=False)
    stats = grouped.agg(
        t0=("t0", "first"),
        v0=("v0", "first"),
        n=("v", "size"),
        st=("t", "sum"),
        stt=("tt", "sum"),
        sv=("vr", "sum"),
        svv=("vv", "sum"),
        stv=("tv", "sum"),
        vmin=("v", "min"),
        vmax=("v", "max"),
        last_ts=("ts", "max"),
    )
    newest = frame.loc[grouped["ts"].idxmax().to_numpy(), [*by, "v"]].set_index(by)["v"]
    stats["last_v"] = newest.reindex(stats.index).to_numpy()
    return stats.reset_index()


def shift_stats(stats: pd.DataFrame, t0_ns: np.ndarray, v0: np.ndarray) -> pd.DataFrame:
    """Re-express statistics relative to new origins (per row), so they can be summed."""
    out = stats.copy()
    dt = (stats["t0"].to_numpy() - t0_ns) / NS  # old origin seen from the new one
    dv = stats["v0"].to_numpy() - v0
    n, st, sv = stats["n"].to_numpy(), stats["st"].to_numpy(), stats["sv"].to_numpy()
    out["stt"] = stats["stt"].to_numpy() + 2 * dt * st + n * dt * dt
    out["svv"] = stats["svv"].to_numpy() + 2 * dv * sv + n * dv * dv
    out["stv"] = stats["stv"].to_numpy() + dt * sv + dv * st + n * dt * dv
    out["st"] = st + n * dt
    out["sv"] = sv + n * dv
    out["t0"], out["v0"] = t0_ns, v0
    return out


def combine_stats(stats: pd.DataFrame, by: list[str], t0_ns: np.ndarray) -> pd.DataFrame:
    """Sum statistics rows that share ``by`` keys, after moving each row's time origin to
    ``t0_ns`` (per row) and its value origin to the group's first ``v0``."""
    if stats.empty:
        return stats
    v0 = stats.groupby(by, sort=False)["v0"].transform("first").to_numpy()
    shifted = shift_stats(stats, t0_ns, v0)
    grouped = shifted.groupby(by, sort=False)
    out = grouped.agg(
        t0=("t0", "first"),
        v0=("v0", "first"),
        n=("n", "sum"),
        st=("st", "sum"),
        stt=("stt", "sum"),
        sv=("sv", "sum"),
        svv=("svv", "sum"),
        stv=("stv", "sum"),
        vmin=("vmin", "min"),
        vmax=("vmax", "max"),
        last_ts=("last_ts", "max"),
    )
    newest = shifted.loc[grouped["last_ts"].idxmax().to_numpy(), [*by, "last_v"]]
    out["last_v"] = newest.set_index(by)["last_v"].reindex(out.index).to_numpy()
    return out.reset_index()


def features_from_stats(stats: pd.DataFrame) -> pd.DataFrame:
    """mean, std, min, max, last, slope, count of each statistics row (NaN where undefined:
    std needs two readings, slope two distinct times)."""
    n = stats["n"].to_numpy(dtype=float)
    st, stt = stats["st"].to_numpy(), stats["stt"].to_numpy()
    sv, svv, stv = stats["sv"].to_numpy(), stats["svv"].to_numpy(), stats["stv"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rel = sv / n
        var = (svv - sv * mean_rel) / (n - 1)
        std = np.where(n > 1, np.sqrt(np.clip(var, 0.0, None)), np.nan)
        denom = n * stt - st * st
        # Relative threshold: times all equal (up to rounding) means no trend is defined.
        flat = np.abs(denom) <= 1e-12 * np.maximum(n * stt, 1e-300)
        slope = np.where((n > 1) & ~flat, (n * stv - st * sv) / denom, np.nan)
    return pd.DataFrame(
        {
            "mean": stats["v0"].to_numpy() + mean_rel,
            "std": std,
            "min": stats["vmin"].to_numpy(),
            "max": stats["vmax"].to_numpy(),
            "last": stats["last_v"].to_numpy(),
            "slope": slope,
            "count": stats["n"].to_numpy(dtype=np.int64),
        },
        index=stats.index,
    )


def wide_features(long: pd.DataFrame, sensors: Sequence[str], index: Sequence[str]) -> pd.DataFrame:
    """Pivot per-(index..., sensor) aggregates into one row per ``index`` with
    ``<sensor>__<aggregate>`` columns for every sensor of the line (missing -> NaN / 0)."""
    columns = [feature_name(s, a) for s in sensors for a in AGGREGATES]
    if long.empty:
        return pd.DataFrame(columns=[*index, *columns])
    wide = long.pivot_table(
        index=list(index),
        columns="sensor",
        values=list(AGGREGATES),
        aggfunc="first",
        dropna=False,
    )
    wide.columns = [feature_name(sensor, agg) for agg, sensor in wide.columns]
    wide = wide.reindex(columns=columns).reset_index()
    counts = [feature_name(sensor, "count") for sensor in sensors]
    wide[counts] = wide[counts].fillna(0).astype(np.int64)
    return wide.copy()  # one block per dtype: callers add columns without fragmentation


def window_aggregates(
    readings: pd.DataFrame, window_seconds: float, sensors: Sequence[str]
) -> pd.DataFrame:
    """Exact sliding-window aggregates from raw readings: per work unit, the window ends at
    that unit's newest reading and spans ``window_seconds`` back (start exclusive).

    ``readings`` has work_unit, sensor, timestamp (datetime64 UTC or int ns) and value.
    Returns work_unit, event_timestamp (window end) and the feature columns."""
    if readings.empty:
        return pd.DataFrame(columns=[WORK_UNIT_KEY, EVENT_TIMESTAMP])
    ts = _as_ns(readings["timestamp"])
    units = readings["work_unit"].to_numpy(dtype=object)
    end = pd.Series(ts).groupby(units).transform("max").to_numpy()
    inside = ts > end - int(window_seconds * NS)
    stats = group_stats(
        units[inside],
        readings["sensor"].to_numpy(dtype=object)[inside],
        ts[inside],
        readings["value"].to_numpy(dtype=float)[inside],
        np.zeros(int(inside.sum()), dtype=np.int64),
        end[inside],
    )
    return _rows_per_unit(stats, sensors)


def _rows_per_unit(stats: pd.DataFrame, sensors: Sequence[str]) -> pd.DataFrame:
    long = pd.concat([stats[["work_unit", "sensor"]], features_from_stats(stats)], axis=1)
    wide = wide_features(long, sensors, ["work_unit"])
    ends = stats.groupby("work_unit")["t0"].max()
    wide.insert(
        1, EVENT_TIMESTAMP, pd.to_datetime(ends.reindex(wide["work_unit"]).to_numpy(), utc=True)
    )
    return wide


def _as_ns(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
        dtype = "datetime64[ns, UTC]" if column.dt.tz is not None else "datetime64[ns]"
        converted: np.ndarray = stamps.astype(dtype).astype(np.int64).to_numpy()
        return converted
    plain: np.ndarray = column.to_numpy(dtype=np.int64)
    return plain


class PaneWindow:
    """Sliding-window statistics of one line kept as time panes, not raw readings.

    The window of ``window_seconds`` is cut into ``panes`` panes; each holds sufficient
    statistics per (work unit, sensor). Memory is O(work units x sensors x panes) whatever
    the reading rate. The window a work unit's features cover ends at its newest reading and
    starts at a pane boundary, so it can be up to one pane (window / panes) longer than the
    exact window; ``window_aggregates`` computes the exact one from raw readings.
    """

    def __init__(self, window_seconds: float, sensors: Sequence[str], panes: int = 20) -> None:
        self.window_ns = int(window_seconds * NS)
        self.pane_ns = max(1, self.window_ns // panes)
        self.sensors = list(sensors)
        self._stats = pd.DataFrame()
        self._dirty: set[str] = set()

    @property
    def dirty(self) -> set[str]:
        """Work units with readings added since the last ``take_dirty``."""
        return set(self._dirty)

    def add(
        self,
        work_unit: np.ndarray,
        sensor: np.ndarray,
        timestamp_ns: np.ndarray,
        value: np.ndarray,
    ) -> None:
        if len(timestamp_ns) == 0:
            return
        pane = timestamp_ns // self.pane_ns
        start = pane * self.pane_ns
        fresh = group_stats(work_unit, sensor, timestamp_ns, value, pane, start)
        stats = fresh if self._stats.empty else pd.concat([self._stats, fresh], ignore_index=True)
        by = ["work_unit", "sensor", "group"]
        merged = combine_stats(stats, by, stats["group"].to_numpy() * self.pane_ns)
        self._stats = self._prune(merged)
        self._dirty.update(pd.unique(work_unit).tolist())

    def _prune(self, stats: pd.DataFrame) -> pd.DataFrame:
        end = stats.groupby("work_unit")["last_ts"].transform("max").to_numpy()
        pane_end = (stats["group"].to_numpy() + 1) * self.pane_ns
        keep = pane_end > end - self.window_ns
        return stats.loc[keep].reset_index(drop=True)

    def aggregates(self, work_units: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per work unit: work_unit, event_timestamp (window end), features."""
        stats = self._stats
        if stats.empty:
            return pd.DataFrame(columns=[WORK_UNIT_KEY, EVENT_TIMESTAMP])
        if work_units is not None:
            stats = stats[stats["work_unit"].isin(list(work_units))]
        if stats.empty:
            return pd.DataFrame(columns=[WORK_UNIT_KEY, EVENT_TIMESTAMP])
        end = stats.groupby("work_unit")["last_ts"].transform("max").to_numpy()
        combined = combine_stats(stats, ["work_unit", "sensor"], end)
        return _rows_per_unit(combined, self.sensors)

    def take_dirty(self) -> pd.DataFrame:
        """Aggregates of the work units that changed since the previous call."""
        units, self._dirty = sorted(self._dirty), set()
        return self.aggregates(units)

    def mark_dirty(self, units: Iterable[str]) -> None:
        """Take ``units`` again at the next :meth:`take_dirty` (their push failed)."""
        self._dirty.update(units)
