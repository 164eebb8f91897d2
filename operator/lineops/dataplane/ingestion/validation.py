"""Check well-formed readings against a line spec: which are accepted, and why others are not.

Vectorised over the batch; one reason per reading, the first that applies in
:class:`Reason` order. Work units and sensors are factorised once per batch, and everything
keyed by them (known names, valid ranges, watermarks) is looked up per *distinct* value:
a batch of 50,000 readings from one line has a few hundred (work unit, sensor) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.ingestion.payload import Names, RawBatch
from lineops.dataplane.ingestion.reasons import Reason
from lineops.dataplane.ingestion.state import LineState, contains


@dataclass(frozen=True)
class LineRules:
    """What a line accepts: its (work unit, sensor) pairs and their valid ranges."""

    units: frozenset[str]
    pairs: dict[tuple[str, str], int]  # -> position in low/high
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_spec(cls, spec: ProductionLineSpec) -> LineRules:
        pairs: dict[tuple[str, str], int] = {}
        low: list[float] = []
        high: list[float] = []
        for unit in spec.work_units:
            for sensor in unit.sensors:
                pairs.setdefault((unit.name, sensor.name), len(low))
                low.append(-np.inf if sensor.valid_min is None else sensor.valid_min)
                high.append(np.inf if sensor.valid_max is None else sensor.valid_max)
        return cls(
            units=frozenset(u.name for u in spec.work_units),
            pairs=pairs,
            low=np.array(low, dtype=float),
            high=np.array(high, dtype=float),
        )


@dataclass(frozen=True)
class Classified:
    """Per reading: reason code (0 = accepted) and duplicate key; the factorised names; and
    the rows that passed every check but the duplicate one, in key order."""

    reason: np.ndarray  # int8
    keys: np.ndarray  # uint64
    work_unit: Names
    sensor: Names
    by_key: np.ndarray  # intp

    def accepted_by_key(self) -> np.ndarray:
        """Accepted rows in key order (accepted keys are distinct)."""
        rows: np.ndarray = self.by_key[self.reason[self.by_key] == 0]
        return rows


def reading_keys_of(units: Names, sensors: Names, timestamp_ns: np.ndarray) -> np.ndarray:
    """:func:`lineops.dataplane.ingestion.state.reading_keys` from factorised names: pandas
    hashes a categorical column as the strings it stands for, so the keys are the same
    (tested), without hashing every string again."""
    frame = pd.DataFrame({"u": units.categorical(), "s": sensors.categorical(), "t": timestamp_ns})
    keys: np.ndarray = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    return keys


def classify(
    batch: RawBatch,
    rules: LineRules,
    state: LineState,
    *,
    now_ns: int,
    max_skew_ns: int,
    lateness_ns: int | None,
    stored_keys: np.ndarray | None = None,
) -> Classified:
    """Reason code and key per reading. ``lateness_ns`` None skips the late check
    (backfills); ``stored_keys`` (sorted), keys already stored beyond the duplicate memory,
    are duplicates too."""
    n = len(batch)
    reason = np.zeros(n, dtype=np.int8)
    units, sensors = batch.names()
    if n == 0:
        none = np.array([], dtype=np.intp)
        return Classified(reason, np.array([], dtype=np.uint64), units, sensors, none)
    known_unit = np.array([u in rules.units for u in units.distinct], dtype=bool)[units.codes]

    pair = _pairs(units, sensors, rules)
    known = pair >= 0
    if len(rules.low):
        safe = np.where(known, pair, 0)
        low, high = rules.low[safe], rules.high[safe]
    else:
        low, high = np.full(n, -np.inf), np.full(n, np.inf)
    with np.errstate(invalid="ignore"):
        in_range = (batch.value >= low) & (batch.value <= high)
    stamps = batch.timestamp_ns
    future = stamps > now_ns + max_skew_ns

    reason[~known_unit] = Reason.UNKNOWN_WORK_UNIT
    _mark(reason, ~known, Reason.UNKNOWN_SENSOR)
    _mark(reason, ~batch.numeric, Reason.NON_NUMERIC)
    _mark(reason, ~in_range, Reason.OUT_OF_RANGE)
    _mark(reason, future, Reason.FUTURE)

    keys = reading_keys_of(units, sensors, stamps)
    index = np.flatnonzero(reason == 0)
    wanted = keys[index]
    # In key order: the binary searches walk forward through the remembered keys (cache
    # friendly), and the accepted keys reach LineState already sorted (a merge, not a sort).
    order = np.argsort(wanted)
    by_key = index[order]
    ordered = wanted[order]
    seen = np.empty(len(index), dtype=bool)
    seen[order] = state.seen(ordered)
    if stored_keys is not None:
        seen[order] |= contains(stored_keys, ordered)
    if len(ordered) > 1 and (ordered[1:] == ordered[:-1]).any():
        # Repeated within the batch (rare): all but the first sent are duplicates.
        again = pd.Series(wanted).duplicated(keep="first").to_numpy()
    else:
        again = np.zeros(len(index), dtype=bool)
    duplicate = np.zeros(n, dtype=bool)
    duplicate[index] = seen | again
    _mark(reason, duplicate, Reason.DUPLICATE)

    if lateness_ns is not None and state.watermarks:
        # A work unit without a watermark has accepted nothing yet: nothing is late for it.
        lowest = np.iinfo(np.int64).min
        marks = [state.watermarks.get(str(u)) for u in units.distinct]
        cutoff = np.array(
            [lowest if m is None else max(lowest, m - lateness_ns) for m in marks],
            dtype=np.int64,
        )[units.codes]
        _mark(reason, stamps < cutoff, Reason.LATE)
    return Classified(reason, keys, units, sensors, by_key)


# Above this many (distinct work unit x distinct sensor) cells, pairs are looked up through
# a factorisation instead of a dense table.
_DENSE_PAIRS = 1 << 20


def _pairs(units: Names, sensors: Names, rules: LineRules) -> np.ndarray:
    """Per reading: position of its (work unit, sensor) in the rules, -1 if unknown; through
    a dense (distinct work unit x distinct sensor) table filled from the rules."""
    width = max(len(sensors.distinct), 1)
    if len(units.distinct) * width > _DENSE_PAIRS:  # e.g. junk names: per distinct pair
        combo_codes, combos = pd.factorize(units.codes.astype(np.int64) * width + sensors.codes)
        looked_up = np.array(
            [
                rules.pairs.get((units.distinct[c // width], sensors.distinct[c % width]), -1)
                for c in np.asarray(combos).tolist()
            ],
            dtype=np.int64,
        )
        per_row: np.ndarray = looked_up[combo_codes]
        return per_row
    unit_at = {name: i for i, name in enumerate(units.distinct.tolist())}
    sensor_at = {name: j for j, name in enumerate(sensors.distinct.tolist())}
    table = np.full((len(unit_at), width), -1, dtype=np.int64)
    for (unit, sensor), at in rules.pairs.items():
        i, j = unit_at.get(unit), sensor_at.get(sensor)
        if i is not None and j is not None:
            table[i, j] = at
    found: np.ndarray = table[units.codes, sensors.codes]
    return found


def _mark(reason: np.ndarray, condition: np.ndarray, code: Reason) -> None:
    reason[(reason == 0) & condition] = code
