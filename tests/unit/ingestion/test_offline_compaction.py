"""Compaction of the offline store's small files: merged, sorted, nothing lost or doubled,
idempotent, and safe to interrupt at every step.

Every store test runs on a local directory and on pyarrow's in-memory ``mock://`` filesystem,
which stands in for S3 because no S3-compatible server runs here (the object-store path: the
compacted file is uploaded straight to its final key).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lineops.dataplane import compaction
from lineops.dataplane.compaction import CompactionError
from lineops.dataplane.offline_store import SCHEMA, OfflineStore

from tests.unit.ingestion.test_offline_store import (
    DAY,
    LINE,
    digest,
    readings,
    stored_names,
    table_digest,
)

CLOSED = datetime(2024, 3, 5, tzinfo=UTC)  # DAY (2024-03-01) ended before this


class Crash(RuntimeError):
    """A simulated process death at one step of a compaction."""


@pytest.fixture(params=["local", "mock"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> OfflineStore:
    if request.param == "local":
        return OfflineStore(tmp_path / "offline")
    return OfflineStore.from_uri("mock:///bucket/offline")


def fill(
    store: OfflineStore, parts: int, rows: int = 20, *, day: pd.Timestamp = DAY
) -> list[pa.Table]:
    tables = [readings(rows, day=day, seed=i) for i in range(parts)]
    for table in tables:
        store.append(LINE, table)
    return tables


def reopen(store: OfflineStore) -> OfflineStore:
    """The same root seen by a fresh process (no cached footers)."""
    if store.is_local:
        return OfflineStore(Path(store.root))
    return OfflineStore(str(store.root), filesystem=store.filesystem)


def assert_exactly_once(store: OfflineStore, tables: list[pa.Table]) -> None:
    expected = table_digest(tables)
    for view in (store, reopen(store)):
        assert view.count(LINE) == expected[0]
        assert digest(view.read(LINE)) == expected
        assert digest(view.recent(LINE, 20 * 365 * 86_400 * 10**9)) == expected
        files = view.files(LINE)
        assert (
            sum(pq.read_metadata(str(f), filesystem=view.filesystem).num_rows for f in files)
            == (expected[0])
        )


def test_compaction_merges_sorted_and_second_run_is_a_no_op(store: OfflineStore) -> None:
    tables = fill(store, 10)
    before = stored_names(store)
    result = store.compact(LINE, before=CLOSED, min_files=4, target_rows=1000)
    assert result.as_dict() == {
        "partitions": 1,
        "compacted": 1,
        "merged": 10,
        "removed": 10,
        "rows": 200,
    }
    names = stored_names(store)
    assert names == [compaction.compacted_name(before)]
    assert_exactly_once(store, tables)
    path = str(store.files(LINE)[0])
    written = pq.read_table(path, filesystem=store.filesystem)
    assert written.schema.remove_metadata().equals(SCHEMA)
    stamps = written.column("timestamp").cast(pa.int64())
    assert pc.all(pc.greater_equal(stamps.slice(1), stamps.slice(0, len(stamps) - 1))).as_py()
    footer = pq.read_metadata(path, filesystem=store.filesystem).metadata
    assert compaction.replaced_by(footer) == frozenset(before)
    assert int(footer[compaction.ROWS_KEY]) == 200
    assert int(footer[compaction.CHECKSUM_KEY]) == table_digest(tables)[1]

    again = store.compact(LINE, before=CLOSED, min_files=4, target_rows=1000)
    assert again.compacted == again.removed == again.rows == 0
    assert stored_names(store) == names
    assert reopen(store).compact(LINE, before=CLOSED, min_files=2, target_rows=1000).compacted == 0


def test_target_rows_splits_into_groups_and_leaves_big_files(store: OfflineStore) -> None:
    tables = fill(store, 7, rows=30)
    small = stored_names(store)
    tables.append(readings(500, seed=99))
    store.append(LINE, tables[-1])  # already big: never rewritten
    (big,) = set(stored_names(store)) - set(small)
    result = store.compact(LINE, before=CLOSED, min_files=2, target_rows=100)
    # 7 small files of 30 rows: [30,30,30,30] -> 120, [30,30,30] -> 90 (the remainder).
    assert (result.compacted, result.merged, result.rows) == (2, 7, 210)
    assert_exactly_once(store, tables)
    assert sorted(stored_names(store)) == sorted(
        [big, compaction.compacted_name(small[:4]), compaction.compacted_name(small[4:])]
    )
    assert store.compact(LINE, before=CLOSED, min_files=2, target_rows=100).compacted == 0


def test_too_few_small_files_is_left_alone(store: OfflineStore) -> None:
    fill(store, 3)
    names = stored_names(store)
    assert store.compact(LINE, before=CLOSED, min_files=4, target_rows=1000).compacted == 0
    assert stored_names(store) == names


def test_only_closed_days_are_compacted(store: OfflineStore) -> None:
    today = pd.Timestamp(datetime.now(UTC).date(), tz="UTC")
    old = fill(store, 3, day=DAY)
    live = fill(store, 3, day=today)
    result = store.compact(LINE, min_files=2, target_rows=1000)  # before = now - lateness
    assert result.partitions == 1 and result.compacted == 1
    assert len(stored_names(store, today.strftime("%Y-%m-%d"))) == 3
    with pytest.raises(ValueError, match="not closed"):
        store.compact(LINE, today.date(), min_files=2, target_rows=1000)
    with pytest.raises(ValueError, match="not closed"):
        store.compact(LINE, "2024-03-04", before=CLOSED - timedelta(hours=1), min_files=2)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.compact(LINE, before=datetime(2024, 3, 5), min_files=2)
    with pytest.raises(ValueError, match="min_files"):
        store.compact(LINE, before=CLOSED, min_files=1)
    # The ``day`` argument picks one closed day; a day without data is a no-op.
    assert store.compact(LINE, date(2024, 2, 1), before=CLOSED, min_files=2).partitions == 0
    assert_exactly_once(store, old + live)


def test_compact_all_covers_every_line(store: OfflineStore) -> None:
    fill(store, 3)
    for i in range(3):
        store.append("other-line", readings(10, seed=50 + i))
    done = store.compact_all(CLOSED, min_files=2, target_rows=1000)
    assert sorted(done) == ["other-line", LINE]
    assert done[LINE].compacted == 1 and done["other-line"].rows == 30
    assert store.count("other-line") == 30 and store.count(LINE) == 60
    assert all(r.compacted == 0 for r in store.compact_all(CLOSED, min_files=2).values())


def failing_after(
    calls: int, real: Callable[[str], None], seen: list[str]
) -> Callable[[str], None]:
    def delete(path: str) -> None:
        if len(seen) >= calls:
            raise Crash(f"killed before deleting {path}")
        seen.append(path)
        real(path)

    return delete


@pytest.mark.parametrize("deleted_before_crash", [0, 1, 3, 5])
def test_crash_between_commit_and_removal(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch, deleted_before_crash: int
) -> None:
    tables = fill(store, 6)
    parts = stored_names(store)
    seen: list[str] = []
    monkeypatch.setattr(store, "_delete", failing_after(deleted_before_crash, store._delete, seen))
    with pytest.raises(Crash):
        store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    names = stored_names(store)
    assert sum(compaction.is_compacted(n) for n in names) == 1
    assert len(names) == 1 + 6 - deleted_before_crash  # compacted + replaced parts still there
    assert_exactly_once(store, tables)  # the replaced parts are ignored, not counted twice
    monkeypatch.undo()

    rerun = reopen(store).compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    assert rerun.compacted == 0 and rerun.removed == 6 - deleted_before_crash
    assert stored_names(store) == [compaction.compacted_name(parts)]
    assert_exactly_once(store, tables)
    assert store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000).as_dict() == {
        "partitions": 1,
        "compacted": 0,
        "merged": 0,
        "removed": 0,
        "rows": 0,
    }


def test_crash_before_commit_leaves_the_parts(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = fill(store, 5)
    parts = stored_names(store)
    if store.is_local:
        # Killed after writing the temporary file, before the rename.
        import lineops.dataplane.offline_store as module

        real_replace = module.os.replace

        def replace(src: object, dst: object) -> None:
            if ".compacted-" in str(src):
                raise Crash("killed before the rename")
            real_replace(src, dst)  # type: ignore[arg-type]

        monkeypatch.setattr(module.os, "replace", replace)
    else:
        # Killed during the upload: an object store never shows a partial PUT.
        def put(path: str, data: pa.Buffer) -> None:
            raise Crash(f"killed uploading {path}")

        monkeypatch.setattr(store, "_put", put)
    with pytest.raises(Crash):
        store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    left = stored_names(store)
    assert [n for n in left if not n.startswith(".")] == parts
    assert sum(n.startswith(".compacted-") for n in left) == (1 if store.is_local else 0)
    assert_exactly_once(store, tables)
    monkeypatch.undo()

    rerun = store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    assert rerun.compacted == 1 and rerun.removed == 5
    assert stored_names(store) == [compaction.compacted_name(parts)]  # temporary dropped
    assert_exactly_once(store, tables)


@pytest.mark.parametrize("deleted_before_crash", [0, 1, 2])
def test_crash_while_replacing_an_earlier_compacted_file(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch, deleted_before_crash: int
) -> None:
    """A backfill lands in a compacted day; the next run merges the earlier (small)
    compacted file with the new parts. Crash after that commit: still exactly once."""
    tables = fill(store, 3)
    store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    late = [readings(15, seed=70 + i, batch="late") for i in range(2)]
    for table in late:
        store.append(LINE, table)
    replaced = stored_names(store)  # the first compacted file and the two late parts
    monkeypatch.setattr(store, "_delete", failing_after(deleted_before_crash, store._delete, []))
    with pytest.raises(Crash):
        store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    assert len(stored_names(store)) == 1 + len(replaced) - deleted_before_crash
    assert_exactly_once(store, tables + late)
    monkeypatch.undo()
    store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    assert len(stored_names(store)) == 1
    assert_exactly_once(store, tables + late)


def test_append_during_compaction_is_kept(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill into a closed day while it is compacted: only the files listed at the start
    are merged and removed, the new part stays and counts."""
    tables = fill(store, 4)
    late = readings(9, seed=80, batch="backfill")
    real_merge = store._merge

    def merge(directory: str, group: list[str]) -> int:
        store.append(LINE, late)
        return real_merge(directory, group)

    monkeypatch.setattr(store, "_merge", merge)
    store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    names = stored_names(store)
    assert len(names) == 2 and sum(compaction.is_part(n) for n in names) == 1
    assert_exactly_once(store, [*tables, late])


def test_read_retries_when_compaction_removes_a_listed_file(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = fill(store, 4)
    reader = reopen(store)
    real_dataset = reader._dataset
    calls: list[int] = []

    def dataset(files: list[str]) -> object:
        if not calls:  # between the reader's listing and its read, a compaction commits
            store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
        calls.append(len(files))
        return real_dataset(files)

    monkeypatch.setattr(reader, "_dataset", dataset)
    assert digest(reader.read(LINE)) == table_digest(tables)
    assert calls == [4, 1]


def test_a_wrong_compacted_file_is_never_committed(
    store: OfflineStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lineops.dataplane.offline_store as module

    tables = fill(store, 3)
    parts = stored_names(store)
    real = module._serialise
    monkeypatch.setattr(module, "_serialise", lambda t, c: real(t.slice(1), c))  # loses a row
    with pytest.raises(CompactionError, match="nothing committed"):
        store.compact(LINE, before=CLOSED, min_files=2, target_rows=1000)
    assert stored_names(store) == parts
    assert_exactly_once(store, tables)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 300), max_size=40),
    min_files=st.integers(2, 6),
    target_rows=st.integers(1, 400),
)
def test_plan_converges_in_one_run(sizes: list[int], min_files: int, target_rows: int) -> None:
    files = [(f"part-{i:03d}.parquet", n) for i, n in enumerate(sizes)]
    groups = compaction.plan(files, min_files=min_files, target_rows=target_rows)
    rows = dict(files)
    grouped = [name for group in groups for name in group]
    assert len(grouped) == len(set(grouped)) and all(rows[n] < target_rows for n in grouped)
    assert all(len(g) >= 2 for g in groups)
    after = [(n, r) for n, r in files if n not in set(grouped)] + [
        (compaction.compacted_name(g), sum(rows[n] for n in g)) for g in groups
    ]
    assert sum(r for _, r in after) == sum(sizes)
    assert compaction.plan(after, min_files=min_files, target_rows=target_rows) == []


def test_checksum_is_order_independent_and_sees_duplicates() -> None:
    table = readings(50)
    reordered = table.take(pa.array(list(range(49, -1, -1))))
    assert compaction.checksum(table) == compaction.checksum(reordered)
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    assert compaction.checksum(doubled) != compaction.checksum(table)
    changed = table.set_column(3, "value", pc.add(table.column("value"), 1e-9))
    assert compaction.checksum(changed) != compaction.checksum(table)
