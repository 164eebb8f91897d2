"""Check well-formed readings against a line spec: which are accepted, and why others are not.

Vectorised over the batch; one reason per reading, the first that applies in
:class:`Reason` order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.ingestion.payload import RawBatch
from lineops.dataplane.ingestion.reasons import Reason
from lineops.dataplane.ingestion.state import LineState, reading_keys


@dataclass(frozen=True)
class LineRules:
    """What a line accepts: its (work unit, sensor) pairs and their valid ranges."""

    units: frozenset[str]
    pairs: pd.MultiIndex
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_spec(cls, spec: ProductionLineSpec) -> LineRules:
        names: list[tuple[str, str]] = []
        low: list[float] = []
        high: list[float] = []
        for unit in spec.work_units:
            for sensor in unit.sensors:
                names.append((unit.name, sensor.name))
                low.append(-np.inf if sensor.valid_min is None else sensor.valid_min)
                high.append(np.inf if sensor.valid_max is None else sensor.valid_max)
        pairs = (
            pd.MultiIndex.from_tuples(names, names=["work_unit", "sensor"])
            if names
            else pd.MultiIndex.from_arrays([[], []], names=["work_unit", "sensor"])
        )
        return cls(
            units=frozenset(u.name for u in spec.work_units),
            pairs=pairs,
            low=np.array(low, dtype=float),
            high=np.array(high, dtype=float),
        )


def classify(
    batch: RawBatch,
    rules: LineRules,
    state: LineState,
    *,
    now_ns: int,
    max_skew_ns: int,
    lateness_ns: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(reason code per reading, uint64 key per reading). ``lateness_ns`` None skips the late
    check (backfills)."""
    n = len(batch)
    reason = np.zeros(n, dtype=np.int8)
    if n == 0:
        return reason, np.array([], dtype=np.uint64)
    units = pd.Series(batch.work_unit, dtype=object)
    known_unit = units.isin(rules.units).to_numpy()
    pair = (
        rules.pairs.get_indexer(pd.MultiIndex.from_arrays([batch.work_unit, batch.sensor]))
        if len(rules.pairs)
        else np.full(n, -1)
    )
    known = pair >= 0
    safe = np.where(known, pair, 0)
    low = rules.low[safe] if len(rules.low) else np.full(n, -np.inf)
    high = rules.high[safe] if len(rules.high) else np.full(n, np.inf)
    with np.errstate(invalid="ignore"):
        in_range = (batch.value >= low) & (batch.value <= high)
    stamps = batch.timestamp_ns
    future = stamps > now_ns + max_skew_ns

    reason[~known_unit] = Reason.UNKNOWN_WORK_UNIT
    _mark(reason, ~known, Reason.UNKNOWN_SENSOR)
    _mark(reason, ~batch.numeric, Reason.NON_NUMERIC)
    _mark(reason, ~in_range, Reason.OUT_OF_RANGE)
    _mark(reason, future, Reason.FUTURE)

    keys = reading_keys(batch.work_unit, batch.sensor, stamps)
    candidate = reason == 0
    duplicate = np.zeros(n, dtype=bool)
    if candidate.any():
        index = np.flatnonzero(candidate)
        seen = state.seen(keys[index])
        again = pd.Series(keys[index]).duplicated(keep="first").to_numpy()
        duplicate[index] = seen | again
    _mark(reason, duplicate, Reason.DUPLICATE)

    if lateness_ns is not None:
        watermark = units.map(state.watermarks).to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            late = stamps < watermark - lateness_ns
        _mark(reason, late, Reason.LATE)
    return reason, keys


def _mark(reason: np.ndarray, condition: np.ndarray, code: Reason) -> None:
    reason[(reason == 0) & condition] = code
