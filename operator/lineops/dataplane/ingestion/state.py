"""Per-line ingestion memory: event-time watermarks and recently accepted reading keys.

Both are rebuilt from the offline store on start, so a restart keeps rejecting a retried
batch's readings as duplicates instead of storing them twice.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

# Beyond this many remembered keys the oldest are forgotten: duplicate detection is exact
# within the horizon unless the line sends more than this many readings per horizon.
MAX_KEYS: Final = 4_000_000


def reading_keys(work_unit: np.ndarray, sensor: np.ndarray, timestamp_ns: np.ndarray) -> np.ndarray:
    """64-bit hash of (work_unit, sensor, timestamp) per reading."""
    if len(timestamp_ns) == 0:
        return np.array([], dtype=np.uint64)
    frame = pd.DataFrame({"u": work_unit, "s": sensor, "t": timestamp_ns})
    keys: np.ndarray = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    return keys


def contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Per key, whether it is in ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    pos[pos == len(sorted_keys)] = 0
    found: np.ndarray = sorted_keys[pos] == keys
    return found


class LineState:
    """Watermark (newest accepted timestamp) per work unit, and accepted keys newer than
    ``horizon_ns`` behind their own work unit's watermark."""

    def __init__(self, horizon_ns: int) -> None:
        self.horizon_ns = horizon_ns
        self.watermarks: dict[str, int] = {}
        self._codes: dict[str, int] = {}  # work unit -> its code in _units
        self._keys = np.array([], dtype=np.uint64)  # sorted
        self._stamps = np.array([], dtype=np.int64)  # aligned with _keys
        self._units = np.array([], dtype=np.int32)  # aligned with _keys

    def seen(self, keys: np.ndarray) -> np.ndarray:
        return contains(self._keys, keys)

    def accept(self, work_unit: np.ndarray, timestamp_ns: np.ndarray, keys: np.ndarray) -> None:
        if len(keys) == 0:
            return
        newest = pd.Series(timestamp_ns).groupby(work_unit).max()
        for unit, stamp in newest.items():
            current = self.watermarks.get(str(unit))
            if current is None or stamp > current:
                self.watermarks[str(unit)] = int(stamp)
        codes, names = pd.factorize(work_unit)
        local = np.array([self._codes.setdefault(str(n), len(self._codes)) for n in names])
        all_keys = np.concatenate([self._keys, keys])
        all_stamps = np.concatenate([self._stamps, timestamp_ns])
        all_units = np.concatenate([self._units, local[codes].astype(np.int32)])
        # Each key against its own unit's watermark: one against the oldest watermark of the
        # line let a unit down for maintenance keep every other unit's keys, up to MAX_KEYS
        # (an accept then took half a second at 10,000 readings/s).
        watermark = np.empty(len(self._codes), dtype=np.int64)
        for name, code in self._codes.items():
            watermark[code] = self.watermarks[name]
        keep = all_stamps >= watermark[all_units] - self.horizon_ns
        if keep.sum() > MAX_KEYS:
            newest_first = np.argsort(all_stamps)[::-1][:MAX_KEYS]
            keep = np.zeros(len(all_stamps), dtype=bool)
            keep[newest_first] = True
        all_keys, all_stamps, all_units = all_keys[keep], all_stamps[keep], all_units[keep]
        order = np.argsort(all_keys, kind="stable")
        self._keys, self._stamps, self._units = (
            all_keys[order],
            all_stamps[order],
            all_units[order],
        )

    def __len__(self) -> int:
        return len(self._keys)
