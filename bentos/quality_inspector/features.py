"""Online features of a line's Feast feature service, with their event time, in one lookup.

``FeastStore.event_times`` needs the line's plan (known only to the process that applied the
line), so the serving process asks Feast once for the service's features with their event
timestamps: one online read, not two.

A read through the Feast SDK costs about 5 ms of CPU (protobuf values of every feature of
the service turned into Python), more than everything else a prediction does, while a unit's
online row changes only when the data plane materialises (every ``materializeEvery``). So
rows are cached per work unit and re-read only when they may have changed:

* SQLite online store (embedded profile): exactly when the database changed. ``PRAGMA
  data_version`` on a connection of our own changes whenever another connection (the data
  plane's materialiser) commits; reading it costs microseconds. The counter is read before
  the row, so a write landing during the read makes the next lookup read again: a cached
  row is never older than the store's.
* other online stores (Redis in the cluster profile): at most ``ttl_s`` old
  (``LINEOPS_SERVING_FEATURE_CACHE_TTL``, default 1 s; 0 reads every time).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from lineops.backends.feast_store import WORK_UNIT_KEY, FeastStore, feature_service_name

from quality_inspector import errors

CACHED_UNITS: Final = 4_096  # work units whose rows are kept (a line has far fewer)


@dataclass(frozen=True)
class OnlineRow:
    values: dict[str, float | None]  # feature name -> value (None: no value online)
    timestamp: pd.Timestamp | None  # newest event time among the features; None: no row


class OnlineFeatures:
    def __init__(self, store: FeastStore, line: str, service: str, ttl_s: float = 1.0) -> None:
        self._store = store
        self.line = line
        self.service = service
        # Raises when the line's service is not registered (yet): the loader retries.
        self._service = store.store.get_feature_service(feature_service_name(line, service))
        self._ttl_s = ttl_s
        self._version = change_counter(store)
        self._cache: dict[str, tuple[float, int | None, OnlineRow]] = {}
        self._lock = threading.Lock()  # sync APIs run in a thread pool
        self.reads = 0  # reads through Feast (cache misses)

    @classmethod
    def open(
        cls,
        repo: Path | None,
        data_dir: Path | None,
        line: str,
        service: str,
        ttl_s: float = 1.0,
    ) -> OnlineFeatures:
        if repo is not None:
            return cls(FeastStore.from_repo(repo), line, service, ttl_s)
        if data_dir is None:
            raise ValueError("a Feast repo or a data directory is needed")
        return cls(FeastStore.local(data_dir), line, service, ttl_s)

    def cached(self, work_unit: str) -> OnlineRow | None:
        """The unit's cached row while the store cannot have changed since it was read (see
        the module's docstring); None when it must be read."""
        found = self._cache.get(work_unit)
        if found is None:
            return None
        read_at, seen, row = found
        if self._version is not None:
            return row if seen == self._version() else None
        return row if time.monotonic() - read_at < self._ttl_s else None

    def row(self, work_unit: str) -> OnlineRow:
        """The unit's newest online row: the cached one while valid, else read through
        Feast (and cached)."""
        found = self.cached(work_unit)
        if found is not None:
            return found
        # The counter before the read: a write during the read makes the next lookup miss.
        version = None if self._version is None else self._version()
        now = time.monotonic()
        row = self.read(work_unit)
        with self._lock:
            if len(self._cache) >= CACHED_UNITS and work_unit not in self._cache:
                del self._cache[next(iter(self._cache))]  # the oldest entry: bounded memory
            self._cache[work_unit] = (now, version, row)
        return row

    def read(self, work_unit: str) -> OnlineRow:
        """The unit's row read through Feast (no cache)."""
        self.reads += 1
        try:
            response = self._store.store.get_online_features(
                features=self._service, entity_rows=[{WORK_UNIT_KEY: work_unit}]
            ).to_dict(include_event_timestamps=True)
        except Exception as exc:  # the store's I/O boundary: Redis down, a broken file, ...
            raise errors.store_failed(work_unit, exc) from exc
        values: dict[str, float | None] = {}
        newest: float | None = None
        for key, column in response.items():
            if key == WORK_UNIT_KEY or key.endswith("__ts"):
                continue
            value = column[0]
            try:
                values[key] = None if value is None else float(value)
            except (TypeError, ValueError) as exc:
                garbage = ValueError(f"{key} holds {value!r:.80}, not a number")
                raise errors.store_failed(work_unit, garbage) from exc
            stamp = response.get(f"{key}__ts", [None])[0]
            if value is not None and stamp:
                newest = stamp if newest is None else max(newest, stamp)
        when = None if newest is None else pd.Timestamp(newest, unit="s", tz="UTC")
        return OnlineRow(values, when)


def change_counter(store: FeastStore) -> Callable[[], int] | None:
    """A counter that changes whenever the online store is written, if the store has one
    (SQLite: ``PRAGMA data_version``); None otherwise."""
    config = store.store.config
    online = config.online_store
    if not isinstance(online, SqliteOnlineStoreConfig):
        return None
    path = Path(online.path)
    if not path.is_absolute() and config.repo_path is not None:
        path = Path(config.repo_path) / path  # as Feast's SQLite store resolves it
    # Our own read-only connection: data_version counts commits of other connections.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    lock = threading.Lock()

    def version() -> int:
        try:
            with lock:
                value = connection.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as exc:  # the file went away or is not a database any more
            raise errors.Unavailable(f"feature store: {path}: {exc}") from exc
        return int(value)

    return version
