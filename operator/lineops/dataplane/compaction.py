"""Compaction of the offline store's small part files: the pure half (plan, names, checksum,
the footer record of what a compacted file replaces). The I/O is ``OfflineStore.compact``.

Appends leave one small Parquet file per batch and day. Compaction merges a closed day's small
files into ``compacted-<digest>.parquet`` (rows sorted by timestamp, same schema). The commit
point is one atomic step: the compacted file appearing under its final name (a rename on a
local disk, a single PUT on an object store). Its Parquet footer lists the files it replaces
(``lineops.compaction.replaces``), so from that moment readers ignore those files even while
they still exist, and deleting them afterwards is only tidying: a crash between "written" and
"removed" never double-counts a row, and the next run finishes the removal. The name is a
digest of the replaced names, so a re-run of an interrupted compaction writes the same file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

PART_PREFIX: Final = "part-"
COMPACTED_PREFIX: Final = "compacted-"
SUFFIX: Final = ".parquet"
#: Footer key-value metadata of a compacted file.
REPLACES_KEY: Final = b"lineops.compaction.replaces"
ROWS_KEY: Final = b"lineops.compaction.rows"
CHECKSUM_KEY: Final = b"lineops.compaction.checksum"


class CompactionError(RuntimeError):
    """A compacted file would not hold exactly the rows it replaces; nothing was committed."""


def is_part(name: str) -> bool:
    return name.startswith(PART_PREFIX) and name.endswith(SUFFIX)


def is_compacted(name: str) -> bool:
    return name.startswith(COMPACTED_PREFIX) and name.endswith(SUFFIX)


def is_data_file(name: str) -> bool:
    """A committed data file (temporary names start with a dot and are never data)."""
    return is_part(name) or is_compacted(name)


def compacted_name(replaces: Iterable[str]) -> str:
    """Deterministic name of the file that replaces ``replaces`` (basenames, any order)."""
    digest = hashlib.sha256("\n".join(sorted(replaces)).encode()).hexdigest()[:24]
    return f"{COMPACTED_PREFIX}{digest}{SUFFIX}"


def footer_metadata(replaces: Sequence[str], rows: int, checksum: int) -> dict[bytes, bytes]:
    return {
        REPLACES_KEY: json.dumps(sorted(replaces)).encode(),
        ROWS_KEY: str(rows).encode(),
        CHECKSUM_KEY: str(checksum).encode(),
    }


def replaced_by(metadata: Mapping[bytes, bytes] | None) -> frozenset[str]:
    """The basenames a compacted file's footer says it replaces (none if it says nothing)."""
    raw = (metadata or {}).get(REPLACES_KEY)
    if raw is None:
        return frozenset()
    names = json.loads(raw)
    return frozenset(str(n) for n in names)


def checksum(table: pa.Table) -> int:
    """Order-independent content checksum: the sum (mod 2**64) of one 64-bit hash per row, so
    the same multiset of rows in any order gives the same value and a lost or duplicated row
    changes it. Callers cast both sides to the same schema first."""
    if table.num_rows == 0:
        return 0
    hashes = pd.util.hash_pandas_object(table.to_pandas(), index=False).to_numpy(dtype=np.uint64)
    return int(hashes.sum(dtype=np.uint64))


def check_limits(min_files: int, target_rows: int) -> None:
    if min_files < 2:
        raise ValueError(f"min_files must be at least 2, got {min_files}")
    if target_rows < 1:
        raise ValueError(f"target_rows must be positive, got {target_rows}")


def plan(files: Sequence[tuple[str, int]], *, min_files: int, target_rows: int) -> list[list[str]]:
    """Groups of small files (``rows < target_rows``) to merge, one compacted file each.

    Nothing happens unless the partition has at least ``min_files`` small files. Small files
    are taken in name order and a group closes once it holds ``target_rows`` rows, so every
    closed group's output is not small any more; the remainder is merged if it has two or more
    files. After a run at most one small file is left, so a second run plans nothing.
    """
    check_limits(min_files, target_rows)
    small = sorted((name, rows) for name, rows in files if rows < target_rows)
    if len(small) < min_files:
        return []
    groups: list[list[str]] = []
    current: list[str] = []
    total = 0
    for name, rows in small:
        current.append(name)
        total += rows
        if total >= target_rows:
            groups.append(current)
            current, total = [], 0
    if len(current) >= 2:
        groups.append(current)
    return groups


@dataclass
class CompactionResult:
    """What one compaction run did (summed over partitions)."""

    partitions: int = 0  # closed partitions examined
    compacted: int = 0  # compacted files written
    merged: int = 0  # small files merged into them
    removed: int = 0  # replaced files deleted, including those an interrupted run left
    rows: int = 0  # rows rewritten

    def add(self, other: CompactionResult) -> None:
        self.partitions += other.partitions
        self.compacted += other.compacted
        self.merged += other.merged
        self.removed += other.removed
        self.rows += other.rows

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
