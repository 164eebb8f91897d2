"""Sensor drift of a line: PSI (and KS) of each sensor's recent readings against a reference.

The reference is the first REFERENCE_SAMPLES readings each sensor ever delivered (the
period the line was commissioned and, typically, its models trained on); the recent sample
is its newest RECENT_SAMPLES readings. Both come from the offline store, which the operator
already keeps, so a restart recomputes the same numbers. Reading Parquet is not free, so
drift is only recomputed when the store has grown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lineops.mes.drift import FeatureDrift, feature_drift
from lineops.mes.errors import MesInputError

REFERENCE_SAMPLES = 500  # PSI of two 500-samples of one law: about 0.04 by chance
RECENT_SAMPLES = 500
MIN_SAMPLES = 100  # fewer readings than this on either side: no verdict for the sensor
RECENT_HORIZON = pd.Timedelta(days=7)


@dataclass(frozen=True)
class DriftSnapshot:
    features: tuple[FeatureDrift, ...]

    @property
    def worst(self) -> FeatureDrift | None:
        return max(self.features, key=lambda f: f.psi, default=None)


class DriftTracker:
    """Per line. ``count`` and ``read`` are the offline store's methods for this line."""

    def __init__(
        self,
        count: Callable[[], int],
        read_first: Callable[[], pd.DataFrame],
        read_recent: Callable[[pd.Timedelta], pd.DataFrame],
    ) -> None:
        self._count = count
        self._read_first = read_first
        self._read_recent = read_recent
        self._reference: dict[str, np.ndarray] = {}
        self._seen = -1
        self._last = DriftSnapshot(())

    def evaluate(self) -> DriftSnapshot:
        stored = self._count()
        if stored == self._seen:
            return self._last
        self._seen = stored
        if len(self._reference) == 0 or any(
            len(v) < REFERENCE_SAMPLES for v in self._reference.values()
        ):
            self._reference = _per_sensor(self._read_first(), head=REFERENCE_SAMPLES)
        recent = _per_sensor(self._read_recent(RECENT_HORIZON), tail=RECENT_SAMPLES)
        reference = {
            name: values
            for name, values in self._reference.items()
            if len(values) >= MIN_SAMPLES and len(recent.get(name, ())) >= MIN_SAMPLES
        }
        try:
            found = feature_drift(reference, {k: recent[k] for k in reference})
        except MesInputError:
            found = []  # non-finite values never reach the store; be safe regardless
        self._last = DriftSnapshot(tuple(f for f in found if np.isfinite(f.psi)))
        return self._last


def _per_sensor(
    frame: pd.DataFrame, head: int | None = None, tail: int | None = None
) -> dict[str, np.ndarray]:
    if frame.empty:
        return {}
    frame = frame.sort_values("timestamp", kind="stable")
    out: dict[str, np.ndarray] = {}
    for (unit, sensor), group in frame.groupby(["work_unit", "sensor"], sort=True):
        values = group["value"].to_numpy(dtype=np.float64)
        if head is not None:
            values = values[:head]
        if tail is not None:
            values = values[-tail:]
        out[f"{unit}/{sensor}"] = values
    return out
