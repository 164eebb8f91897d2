"""Offline store of raw sensor readings: Parquet files per line, partitioned by event date.

Layout: ``<root>/line=<line>/date=<YYYY-MM-DD>/part-<received time>-<id>.parquet``, plus
``compacted-<digest>.parquet`` files once a closed day has been compacted. ``<root>`` is a
local directory or any pyarrow filesystem URI (``OfflineStore.from_uri``): a PVC path,
``file:///var/lib/lineops/offline`` or ``s3://bucket/prefix?endpoint_override=host:9000`` for
an S3-compatible store. Hive-style directory names let pyarrow, DuckDB or Spark read the tree
as one dataset.

Each append writes whole new files (never rewrites one), so a crash leaves either a complete
file or none, and an acknowledged batch is stored:

- on a local filesystem through a temporary name, an fsync of the file, an atomic rename and
  an fsync of the directory (a rename is the only atomic way to publish a file there);
- on an object store straight to the final key: a PUT (and a multipart upload, completed only
  by its last request) makes the object visible whole or not at all, and a store has no
  rename (S3 "rename" is copy + delete, two requests). The file is serialised in memory first
  and uploaded in one write.

Appends create many small files; ``compact`` merges a closed day's small files (see
``lineops.dataplane.compaction`` for the crash-safety argument) and ``compact_all`` is the
entry point of a maintenance job. Readers list a partition, drop the files a complete
compacted file replaces, and retry a read whose file a concurrent compaction removed.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath
from typing import Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lineops.dataplane import compaction
from lineops.dataplane.compaction import CompactionError, CompactionResult

log = logging.getLogger(__name__)

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
DICTIONARY_COLUMNS: Final = ["work_unit", "sensor"]

#: A day is closed, so compactable, once its end is this far in the past (unless the caller
#: passes the line's own lateness or an explicit ``before``).
DEFAULT_LATENESS: Final = timedelta(hours=1)
DEFAULT_MIN_FILES: Final = 8
DEFAULT_TARGET_ROWS: Final = 1_000_000
#: Reads retry this often when a file they listed disappears under them (a compaction
#: committed and removed it between the listing and the read).
READ_ATTEMPTS: Final = 3

_T = TypeVar("_T")


def _sync_to_disk(path: Path) -> None:
    """fsync a file or a directory (a directory's fsync makes a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _day(day_index: int) -> str:
    return datetime.fromtimestamp(day_index * 86_400, UTC).strftime("%Y-%m-%d")


def _day_string(day: date | str) -> str:
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date() if day.tzinfo is not None else day.date()
    if isinstance(day, date):
        return day.isoformat()
    return date.fromisoformat(day).isoformat()


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _closed(day: str, before: datetime) -> bool:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start + timedelta(days=1) <= before


def _serialise(table: pa.Table, compression: str) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=compression, use_dictionary=DICTIONARY_COLUMNS)
    return sink.getvalue()


class OfflineStore:
    """Append and read raw readings of each line under one root (a directory or a pyarrow
    filesystem location). ``OfflineStore(Path)`` is a local directory, created if missing;
    ``filesystem`` puts ``root`` on another pyarrow filesystem (``fsync`` only matters on a
    local disk: an object store has no fsync, its PUT returns once the object is stored)."""

    def __init__(
        self,
        root: Path | str,
        *,
        fsync: bool = True,
        filesystem: pafs.FileSystem | None = None,
    ) -> None:
        self._fsync = fsync
        self._covers: dict[str, frozenset[str]] = {}
        self._made_dirs: set[str] = set()
        if isinstance(filesystem, pafs.SubTreeFileSystem) and isinstance(
            filesystem.base_fs, pafs.LocalFileSystem
        ):
            # A subtree of a local disk is a local directory: keep the rename protocol.
            root = Path(filesystem.base_path) / str(root).lstrip("/")
            filesystem = None
        if filesystem is None or isinstance(filesystem, pafs.LocalFileSystem):
            local = Path(root)
            local.mkdir(parents=True, exist_ok=True)
            self.root: PurePath = local
            self.filesystem: pafs.FileSystem = pafs.LocalFileSystem()
            self._base = str(local.absolute())
            self.is_local = True
        else:
            self._base = str(root).rstrip("/")
            self.root = PurePosixPath(self._base)
            self.filesystem = filesystem
            self.is_local = False

    @classmethod
    def from_uri(cls, uri: str | Path, *, fsync: bool = True) -> OfflineStore:
        """A store at a plain path, a ``file://`` URI or any URI pyarrow's
        ``FileSystem.from_uri`` knows (``s3://bucket/prefix?endpoint_override=...``,
        ``gs://``, ``abfs://``, ``hdfs://``, ``mock://``)."""
        text = str(uri)
        if "://" not in text:
            return cls(Path(text), fsync=fsync)
        filesystem, path = pafs.FileSystem.from_uri(text)
        if isinstance(filesystem, pafs.LocalFileSystem):
            return cls(Path(path), fsync=fsync)
        return cls(path, fsync=fsync, filesystem=filesystem)

    # -- paths and listings ----------------------------------------------------------------

    def _path(self, *parts: str) -> str:
        return "/".join((self._base, *parts))

    def _pure(self, path: str) -> PurePath:
        return Path(path) if self.is_local else PurePosixPath(path)

    def line_dir(self, line: str) -> PurePath:
        return self._pure(self._path(f"line={line}"))

    def _entries(self, directory: str) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(directory, allow_not_found=True, recursive=False)
        infos: list[pafs.FileInfo] = self.filesystem.get_file_info(selector)
        return infos

    def lines(self) -> list[str]:
        """Names of the lines that have a directory in the store."""
        return sorted(
            info.base_name.removeprefix("line=")
            for info in self._entries(self._base)
            if info.type == pafs.FileType.Directory and info.base_name.startswith("line=")
        )

    def _days(self, line: str) -> list[str]:
        return sorted(
            info.base_name.removeprefix("date=")
            for info in self._entries(self._path(f"line={line}"))
            if info.type == pafs.FileType.Directory and info.base_name.startswith("date=")
        )

    def _partition(self, line: str, day: str) -> str:
        return self._path(f"line={line}", f"date={day}")

    def _data_names(self, directory: str) -> list[str]:
        return sorted(
            info.base_name
            for info in self._entries(directory)
            if info.type == pafs.FileType.File and compaction.is_data_file(info.base_name)
        )

    def _replaced(self, directory: str, name: str) -> frozenset[str]:
        """What the compacted file ``name`` replaces (cached: compacted files are immutable)."""
        path = f"{directory}/{name}"
        covered = self._covers.get(path)
        if covered is None:
            metadata = pq.read_metadata(path, filesystem=self.filesystem).metadata
            covered = compaction.replaced_by(metadata)
            self._covers[path] = covered
        return covered

    def _visible(self, directory: str) -> list[str]:
        """Data files of a partition that count: all of them but those a complete compacted
        file replaces (an interrupted compaction leaves both until its re-run removes them)."""
        names = self._data_names(directory)
        covered: set[str] = set()
        for name in names:
            if compaction.is_compacted(name):
                covered |= self._replaced(directory, name)
        return [n for n in names if n not in covered]

    def _file_paths(
        self, line: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> list[str]:
        lo = None if start is None else start.tz_convert("UTC").strftime("%Y-%m-%d")
        hi = None if end is None else end.tz_convert("UTC").strftime("%Y-%m-%d")
        found: list[str] = []
        for day in self._days(line):
            if (lo is not None and day < lo) or (hi is not None and day > hi):
                continue
            directory = self._partition(line, day)
            found.extend(f"{directory}/{name}" for name in self._visible(directory))
        return found

    def _retrying(self, read: Callable[[], _T]) -> _T:
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return read()
            except FileNotFoundError:
                if attempt == READ_ATTEMPTS:
                    raise
                log.debug("offline store: a listed file vanished (compaction); listing again")
        raise AssertionError("unreachable")

    # -- writes ----------------------------------------------------------------------------

    def _ensure_dir(self, directory: str) -> None:
        if self.is_local:
            Path(directory).mkdir(parents=True, exist_ok=True)
        elif directory not in self._made_dirs:  # a request each on an object store
            self.filesystem.create_dir(directory, recursive=True)
            self._made_dirs.add(directory)

    def _put(self, path: str, data: pa.Buffer) -> None:
        """One upload of a whole object: visible complete or not at all."""
        stream = self.filesystem.open_output_stream(path)
        stream.write(data)
        stream.close()

    def append(self, line: str, table: pa.Table) -> int:
        """Durably write ``table`` (``SCHEMA`` columns); returns the number of rows written."""
        if table.num_rows == 0:
            return 0
        table = table.select(list(COLUMNS)).cast(SCHEMA)
        stamps = table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()
        days = stamps // NS_PER_DAY
        part = f"part-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        unique_days = np.unique(days)
        published: list[str] = []
        try:
            for day in unique_days:
                rows = table if len(unique_days) == 1 else table.filter(pa.array(days == day))
                directory = self._partition(line, _day(int(day)))
                self._ensure_dir(directory)
                # Dictionary-encoded names and no compression beyond snappy: appends are on
                # the hot path, reads are rare and batch.
                final = f"{directory}/{part}.parquet"
                if self.is_local:
                    tmp = Path(directory) / f".{part}.parquet.tmp"
                    pq.write_table(
                        rows, tmp, compression="snappy", use_dictionary=DICTIONARY_COLUMNS
                    )
                    if self._fsync:
                        _sync_to_disk(tmp)
                    os.replace(tmp, final)
                    if self._fsync:
                        _sync_to_disk(Path(directory))
                else:
                    self._put(final, _serialise(rows, "snappy"))
                published.append(final)
        except BaseException:
            # All or nothing: a batch over midnight whose second day failed kept its first
            # day's file, and the retry the failure asks for stored those readings twice.
            self._unpublish(published)
            raise
        written: int = table.num_rows
        return written

    def _unpublish(self, paths: list[str]) -> None:
        for path in paths:
            try:
                if self.is_local:
                    Path(path).unlink(missing_ok=True)
                else:
                    self.filesystem.delete_file(path)
            except OSError:
                log.exception("could not remove %s of a failed append: delete it by hand", path)

    # -- reads -----------------------------------------------------------------------------

    def files(
        self, line: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> list[PurePath]:
        """Parquet files of a line whose date partition may hold readings in [start, end]:
        ``Path`` objects on a local disk, paths within ``self.filesystem`` otherwise. Files a
        complete compacted file replaces are left out."""
        return [self._pure(p) for p in self._file_paths(line, start, end)]

    def first_day(self, line: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Readings of the line's first stored day: where a drift reference comes from."""
        files = self.files(line)
        if not files:
            return self.read(line, columns=columns)
        day = pd.Timestamp(files[0].parent.name.removeprefix("date="), tz="UTC")
        return self.read(line, end=day + pd.Timedelta(days=1), columns=columns)

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
        names = list(columns) if columns is not None else list(COLUMNS)
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

        def attempt() -> pa.Table:
            files = self._file_paths(line, start, end)
            if not files:
                return SCHEMA.empty_table().select(names)
            return self._dataset(files).to_table(columns=names, filter=condition)

        table: pa.Table = self._retrying(attempt)
        return table.to_pandas()

    def newest(self, line: str, until: pd.Timestamp) -> pd.Timestamp | None:
        """Time of the line's newest reading at or before ``until`` (None: there is none).
        Reads the newest partitions first and stops at the first that has one."""
        last_day = until.tz_convert("UTC").strftime("%Y-%m-%d")
        for day in reversed(self._days(line)):
            if day > last_day:
                continue
            stamps = self.read(line, pd.Timestamp(day, tz="UTC"), until, columns=["timestamp"])[
                "timestamp"
            ]
            if len(stamps):
                return pd.Timestamp(stamps.max()).tz_convert("UTC")
        return None

    def _dataset(self, files: list[str]) -> ds.Dataset:
        return ds.dataset(files, format="parquet", schema=SCHEMA, filesystem=self.filesystem)

    def recent(self, line: str, horizon_ns: int) -> pd.DataFrame:
        """Readings within ``horizon_ns`` of the newest one: what a restart needs to rebuild
        watermarks, duplicate detection and feature windows. Reads the newest partitions only."""

        def attempt() -> pa.Table:
            days = self._days(line)
            if not days:
                return SCHEMA.empty_table()
            newest = pd.Timestamp(days[-1], tz="UTC")
            files = self._file_paths(
                line, newest - pd.Timedelta(horizon_ns, unit="ns") - pd.Timedelta(days=1)
            )
            return self._dataset(files).to_table()

        table: pa.Table = self._retrying(attempt)
        if table.num_rows == 0:
            return table.to_pandas()
        stamps = table.column("timestamp").cast(pa.int64())
        cutoff = pc.max(stamps).as_py() - horizon_ns
        return table.filter(pc.greater_equal(stamps, cutoff)).to_pandas()

    def count(self, line: str) -> int:
        """Number of readings stored for a line (reads Parquet footers only)."""

        def attempt() -> int:
            return sum(
                pq.read_metadata(path, filesystem=self.filesystem).num_rows
                for path in self._file_paths(line)
            )

        return self._retrying(attempt)

    # -- compaction ------------------------------------------------------------------------

    def compact(
        self,
        line: str,
        day: date | str | None = None,
        *,
        before: datetime | None = None,
        lateness: timedelta = DEFAULT_LATENESS,
        min_files: int = DEFAULT_MIN_FILES,
        target_rows: int = DEFAULT_TARGET_ROWS,
    ) -> CompactionResult:
        """Merge the small files (fewer than ``target_rows`` rows) of a line's closed days.

        A day is closed when it ended at or before ``before`` (default: now minus the line's
        ``lateness``), so live appends do not land in it; ``day`` picks one closed day (an open
        one is a ``ValueError``). A partition is compacted once it has ``min_files`` small
        files; see ``compaction.plan``. Safe to interrupt and re-run at any point; a second
        run is a no-op. Even a backfill that appends to a closed day while this runs is safe:
        only the files listed at the start are merged and removed.
        """
        compaction.check_limits(min_files, target_rows)
        cutoff = datetime.now(UTC) - lateness if before is None else _utc(before, "before")
        days = self._days(line)
        if day is not None:
            wanted = _day_string(day)
            if not _closed(wanted, cutoff):
                raise ValueError(
                    f"day {wanted} of line {line!r} is not closed before {cutoff.isoformat()}"
                )
            days = [d for d in days if d == wanted]
        result = CompactionResult()
        for closed_day in days:
            if _closed(closed_day, cutoff):
                result.add(self._compact_partition(line, closed_day, min_files, target_rows))
        if result.compacted or result.removed:
            log.info("offline store: compacted line %s: %s", line, result.as_dict())
        return result

    def compact_all(
        self,
        before: datetime,
        *,
        min_files: int = DEFAULT_MIN_FILES,
        target_rows: int = DEFAULT_TARGET_ROWS,
    ) -> dict[str, CompactionResult]:
        """Compact every line's days that ended at or before ``before``: the maintenance
        job's entry point (run it e.g. daily with ``before`` = now minus the largest allowed
        lateness). Returns what was done per line."""
        cutoff = _utc(before, "before")
        return {
            line: self.compact(line, before=cutoff, min_files=min_files, target_rows=target_rows)
            for line in self.lines()
        }

    def _compact_partition(
        self, line: str, day: str, min_files: int, target_rows: int
    ) -> CompactionResult:
        directory = self._partition(line, day)
        result = CompactionResult(partitions=1)
        self._drop_stale_temporaries(directory)
        # Finish what an interrupted run committed but did not tidy up.
        for name in self._data_names(directory):
            if compaction.is_compacted(name):
                result.removed += self._remove_replaced_by(directory, name)
        visible = self._visible(directory)
        sizes = [
            (name, pq.read_metadata(f"{directory}/{name}", filesystem=self.filesystem).num_rows)
            for name in visible
        ]
        for group in compaction.plan(sizes, min_files=min_files, target_rows=target_rows):
            result.rows += self._merge(directory, group)
            result.compacted += 1
            result.merged += len(group)
            result.removed += self._remove(directory, frozenset(group))
        return result

    def _merge(self, directory: str, group: list[str]) -> int:
        """Write the compacted file replacing ``group`` and commit it; returns its rows."""
        tables = [
            pq.read_table(f"{directory}/{name}", filesystem=self.filesystem, schema=SCHEMA)
            for name in group
        ]
        merged = pa.concat_tables(tables).cast(SCHEMA)
        rows: int = merged.num_rows
        digest = compaction.checksum(merged)
        order = pc.sort_indices(merged, sort_keys=[("timestamp", "ascending")])  # stable
        ordered = merged.take(order).replace_schema_metadata(
            compaction.footer_metadata(group, rows, digest)
        )
        data = _serialise(ordered, "zstd")
        # Verify the bytes that will be committed before committing them.
        check = pq.read_table(pa.BufferReader(data), schema=SCHEMA).cast(SCHEMA)
        if check.num_rows != rows or compaction.checksum(check) != digest:
            raise CompactionError(
                f"{directory}: compacted file of {group} holds {check.num_rows} rows "
                f"(expected {rows}) or a different checksum; nothing committed"
            )
        name = compaction.compacted_name(group)
        final = f"{directory}/{name}"
        if self.is_local:
            tmp = Path(directory) / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
            with tmp.open("wb") as out:
                out.write(data.to_pybytes())
                if self._fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp, final)  # the commit point
            if self._fsync:
                _sync_to_disk(Path(directory))  # durable before any replaced file is removed
        else:
            self._put(final, data)  # the commit point
        self._covers[final] = frozenset(group)
        return rows

    def _remove(self, directory: str, names: frozenset[str]) -> int:
        """Delete replaced files that still exist; a replaced compacted file's own replaced
        files go first, so no file is ever orphaned from the record that covers it."""
        present = set(self._data_names(directory))
        removed = 0
        for name in sorted(names & present):
            if compaction.is_compacted(name):
                removed += self._remove_replaced_by(directory, name)
            try:
                self._delete(f"{directory}/{name}")
            except FileNotFoundError:  # another run removed it
                continue
            self._covers.pop(f"{directory}/{name}", None)
            removed += 1
        return removed

    def _remove_replaced_by(self, directory: str, name: str) -> int:
        try:
            replaced = self._replaced(directory, name)
        except FileNotFoundError:  # itself replaced and removed meanwhile
            return 0
        return self._remove(directory, replaced)

    def _drop_stale_temporaries(self, directory: str) -> None:
        """Temporary files of compactions that crashed before their rename (local disks only;
        an append's own temporary is never touched: it may belong to a live append)."""
        if not self.is_local:
            return
        prefix = f".{compaction.COMPACTED_PREFIX}"
        for info in self._entries(directory):
            if info.base_name.startswith(prefix) and info.base_name.endswith(".tmp"):
                try:
                    self._delete(info.path)
                except FileNotFoundError:
                    continue

    def _delete(self, path: str) -> None:
        self.filesystem.delete_file(path)
