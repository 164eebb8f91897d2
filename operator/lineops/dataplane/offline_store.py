"""Offline store of raw sensor readings: Parquet files per line, partitioned by event date.

Layout: ``<root>/line=<line>/date=<YYYY-MM-DD>/part-<received ns>-<id>.parquet``. Each append
writes whole new files (never rewrites one), through a temporary name, an fsync and an atomic
rename, so a crash leaves either the complete file or nothing, and an acknowledged batch is on
disk. Hive-style directory names let pyarrow, DuckDB or Spark read the tree as one dataset.
Appends create many small files; compacting old partitions is a maintenance job, not the
ingestion path's business.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

NS_PER_DAY: Final = 86_400 * 1_000_000_000

SCHEMA: Final = pa.schema(
    [
        pa.field("work_unit", pa.string(), nullable=False),
        pa.field("sensor", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("ns", tz="UTC"), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("lot", pa.string()),
        pa.field("received_at", pa.timestamp("ns", tz="UTC"), nullable=False),
        pa.field("batch_id", pa.string()),
    ]
)
COLUMNS: Final = tuple(SCHEMA.names)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _day(day_index: int) -> str:
    return datetime.fromtimestamp(day_index * 86_400, UTC).strftime("%Y-%m-%d")


class OfflineStore:
    """Append and read raw readings of each line under one data directory."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync

    def line_dir(self, line: str) -> Path:
        return self.root / f"line={line}"

    def append(self, line: str, table: pa.Table) -> int:
        """Durably write ``table`` (``SCHEMA`` columns); returns the number of rows written."""
        if table.num_rows == 0:
            return 0
        table = table.select(list(COLUMNS)).cast(SCHEMA)
        stamps = table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()
        days = stamps // NS_PER_DAY
        part = f"part-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        unique_days = np.unique(days)
        for day in unique_days:
            rows = table if len(unique_days) == 1 else table.filter(pa.array(days == day))
            directory = self.line_dir(line) / f"date={_day(int(day))}"
            directory.mkdir(parents=True, exist_ok=True)
            final = directory / f"{part}.parquet"
            tmp = directory / f".{part}.parquet.tmp"
            # Dictionary-encoded names and no compression beyond snappy: appends are on the
            # hot path, reads are rare and batch.
            pq.write_table(rows, tmp, compression="snappy", use_dictionary=["work_unit", "sensor"])
            if self._fsync:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.replace(tmp, final)
            if self._fsync:
                _fsync_dir(directory)
        written: int = table.num_rows
        return written

    def files(
        self, line: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> list[Path]:
        """Parquet files of a line whose date partition may hold readings in [start, end]."""
        base = self.line_dir(line)
        if not base.is_dir():
            return []
        lo = None if start is None else start.tz_convert("UTC").strftime("%Y-%m-%d")
        hi = None if end is None else end.tz_convert("UTC").strftime("%Y-%m-%d")
        found: list[Path] = []
        for directory in sorted(base.glob("date=*")):
            day = directory.name.removeprefix("date=")
            if (lo is not None and day < lo) or (hi is not None and day > hi):
                continue
            found.extend(sorted(directory.glob("part-*.parquet")))
        return found

    def read(
        self,
        line: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        *,
        work_units: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Readings with ``start <= timestamp <= end`` (both optional, UTC), as a DataFrame."""
        files = self.files(line, start, end)
        names = list(columns) if columns is not None else list(COLUMNS)
        if not files:
            return SCHEMA.empty_table().select(names).to_pandas()
        dataset = ds.dataset([str(f) for f in files], format="parquet", schema=SCHEMA)
        condition: ds.Expression | None = None
        stamp = ds.field("timestamp")
        for expr in (
            None
            if start is None
            else stamp >= pa.scalar(start.tz_convert("UTC"), SCHEMA.field("timestamp").type),
            None
            if end is None
            else stamp <= pa.scalar(end.tz_convert("UTC"), SCHEMA.field("timestamp").type),
            None if work_units is None else ds.field("work_unit").isin(list(work_units)),
        ):
            if expr is not None:
                condition = expr if condition is None else condition & expr
        table = dataset.to_table(columns=names, filter=condition)
        return table.to_pandas()

    def recent(self, line: str, horizon_ns: int) -> pd.DataFrame:
        """Readings within ``horizon_ns`` of the newest one: what a restart needs to rebuild
        watermarks, duplicate detection and feature windows. Reads the newest partitions only."""
        base = self.line_dir(line)
        days = sorted(base.glob("date=*")) if base.is_dir() else []
        if not days:
            return SCHEMA.empty_table().to_pandas()
        newest_day = days[-1].name.removeprefix("date=")
        newest = pd.Timestamp(newest_day, tz="UTC")
        files = self.files(
            line, newest - pd.Timedelta(horizon_ns, unit="ns") - pd.Timedelta(days=1)
        )
        table = ds.dataset([str(f) for f in files], format="parquet", schema=SCHEMA).to_table()
        if table.num_rows == 0:
            return table.to_pandas()
        stamps = table.column("timestamp").cast(pa.int64())
        cutoff = pc.max(stamps).as_py() - horizon_ns
        return table.filter(pc.greater_equal(stamps, cutoff)).to_pandas()

    def count(self, line: str) -> int:
        """Number of readings stored for a line (reads Parquet footers only)."""
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files(line))
