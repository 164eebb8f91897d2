"""Online features of a line's Feast feature service, with their event time, in one lookup.

``FeastStore.event_times`` needs the line's plan (known only to the process that applied the
line), so the serving process asks Feast once for the service's features with their event
timestamps: one online read per prediction, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from lineops.backends.feast_store import WORK_UNIT_KEY, FeastStore, feature_service_name


@dataclass(frozen=True)
class OnlineRow:
    values: dict[str, float | None]  # feature name -> value (None: no value online)
    timestamp: pd.Timestamp | None  # newest event time among the features; None: no row


class OnlineFeatures:
    def __init__(self, store: FeastStore, line: str, service: str) -> None:
        self._store = store
        self.line = line
        self.service = service
        # Raises when the line's service is not registered (yet): the loader retries.
        self._service = store.store.get_feature_service(feature_service_name(line, service))

    @classmethod
    def open(
        cls, repo: Path | None, data_dir: Path | None, line: str, service: str
    ) -> OnlineFeatures:
        if repo is not None:
            return cls(FeastStore.from_repo(repo), line, service)
        if data_dir is None:
            raise ValueError("a Feast repo or a data directory is needed")
        return cls(FeastStore.local(data_dir), line, service)

    def row(self, work_unit: str) -> OnlineRow:
        response = self._store.store.get_online_features(
            features=self._service, entity_rows=[{WORK_UNIT_KEY: work_unit}]
        ).to_dict(include_event_timestamps=True)
        values: dict[str, float | None] = {}
        newest: float | None = None
        for key, column in response.items():
            if key == WORK_UNIT_KEY or key.endswith("__ts"):
                continue
            value = column[0]
            values[key] = None if value is None else float(value)
            stamp = response.get(f"{key}__ts", [None])[0]
            if value is not None and stamp:
                newest = stamp if newest is None else max(newest, stamp)
        when = None if newest is None else pd.Timestamp(newest, unit="s", tz="UTC")
        return OnlineRow(values, when)
