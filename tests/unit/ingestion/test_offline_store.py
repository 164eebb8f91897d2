"""The offline store on a local directory, a ``file://`` URI and an object store.

No S3-compatible server runs here, so pyarrow's in-memory ``mock://`` filesystem stands in for
S3: like an object store it is not a ``LocalFileSystem``, so the store takes its object-store
path (one upload straight to the final key, no temporary name, no rename, no fsync) and reads
through the same filesystem object.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from lineops.dataplane import compaction
from lineops.dataplane.offline_store import COLUMNS, SCHEMA, OfflineStore

LINE = "press-line-1"
DAY = pd.Timestamp("2024-03-01", tz="UTC")


def readings(n: int, *, day: pd.Timestamp = DAY, seed: int = 0, batch: str = "b") -> pa.Table:
    """``n`` readings at shuffled times of ``day``, distinct by value and batch id."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 86_400 * 10**9, n)
    frame = pd.DataFrame(
        {
            "work_unit": rng.choice(["press-01", "grinder-01"], n),
            "sensor": rng.choice(["vibration_rms", "ram_force"], n),
            "timestamp": day + pd.to_timedelta(offsets, unit="ns"),
            "value": rng.normal(size=n),
            "lot": [None if i % 3 == 0 else f"lot-{i % 5}" for i in range(n)],
            "received_at": pd.Timestamp("2024-03-02", tz="UTC"),
            "batch_id": f"{batch}-{seed}",
        }
    )
    return pa.Table.from_pandas(frame, preserve_index=False).cast(SCHEMA)


def digest(frame: pd.DataFrame) -> tuple[int, int]:
    table = pa.Table.from_pandas(frame[list(COLUMNS)], preserve_index=False).cast(SCHEMA)
    return table.num_rows, compaction.checksum(table)


def table_digest(tables: list[pa.Table]) -> tuple[int, int]:
    table = pa.concat_tables(tables)
    return table.num_rows, compaction.checksum(table)


def stored_names(store: OfflineStore, day: str = "2024-03-01") -> list[str]:
    """Every file in a partition, temporaries included."""
    selector = pafs.FileSelector(
        str(store.line_dir(LINE) / f"date={day}"), allow_not_found=True, recursive=False
    )
    return sorted(info.base_name for info in store.filesystem.get_file_info(selector))


def test_path_constructor_round_trip(tmp_path: Path) -> None:
    store = OfflineStore(tmp_path / "offline", fsync=False)
    assert store.is_local and (tmp_path / "offline").is_dir()
    first, second = readings(50, seed=1), readings(30, day=DAY + pd.Timedelta(days=1), seed=2)
    assert store.append(LINE, pa.concat_tables([first, second])) == 80
    files = store.files(LINE)
    assert len(files) == 2 and all(isinstance(f, Path) and f.is_file() for f in files)
    assert files[0].parent.name == "date=2024-03-01"  # what drift's first-day lookup relies on
    assert store.count(LINE) == 80
    assert digest(store.read(LINE)) == table_digest([first, second])
    assert len(store.read(LINE, end=DAY + pd.Timedelta(hours=23, minutes=59, seconds=59))) == 50
    assert len(store.recent(LINE, 10**9 * 3600)) > 0
    assert store.read("other-line").empty and store.count("other-line") == 0
    assert not any(name.startswith(".") for name in stored_names(store))


@pytest.mark.parametrize("form", ["plain", "file-uri"])
def test_from_uri_local(tmp_path: Path, form: str) -> None:
    root = tmp_path / "offline"
    uri = str(root) if form == "plain" else root.as_uri()
    store = OfflineStore.from_uri(uri)
    assert store.is_local and isinstance(store.filesystem, pafs.LocalFileSystem)
    table = readings(40)
    store.append(LINE, table)
    # The same files through the Path constructor every current caller uses.
    again = OfflineStore(root)
    assert again.count(LINE) == 40 and digest(again.read(LINE)) == table_digest([table])
    assert [Path(f) for f in store.files(LINE)] == again.files(LINE)


def test_subtree_of_a_local_disk_keeps_the_rename_protocol(tmp_path: Path) -> None:
    subtree = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    store = OfflineStore("offline", filesystem=subtree)
    assert store.is_local and store.root == tmp_path / "offline"
    store.append(LINE, readings(10))
    assert OfflineStore(tmp_path / "offline").count(LINE) == 10


def test_object_store_stand_in(tmp_path: Path) -> None:
    """``mock://`` stands in for S3 (no S3-compatible server runs here)."""
    store = OfflineStore.from_uri("mock:///bucket/lineops/offline")
    assert not store.is_local and store.filesystem.type_name == "mock"
    first, second = readings(25, seed=1), readings(35, seed=2)
    store.append(LINE, first)
    store.append(LINE, second)
    files = store.files(LINE)
    assert len(files) == 2 and all(isinstance(f, PurePosixPath) for f in files)
    assert str(files[0]).startswith("bucket/lineops/offline/line=press-line-1/date=2024-03-01/")
    # Written straight to the final key: no temporary object, nothing on the local disk.
    assert all(compaction.is_part(n) for n in stored_names(store))
    assert store.count(LINE) == 60
    assert digest(store.read(LINE)) == table_digest([first, second])
    assert len(store.read(LINE, work_units=["press-01"])) == sum(
        (t.column("work_unit").to_numpy(zero_copy_only=False) == "press-01").sum()
        for t in (first, second)
    )
    assert len(store.recent(LINE, 86_400 * 10**9)) == 60
    assert store.lines() == [LINE]


def test_s3_uri_is_parsed_without_a_server() -> None:
    """``from_uri`` takes S3 URIs with an endpoint override; nothing is contacted until the
    store reads or writes (a real bucket is exercised in the cluster profile only)."""
    filesystem, path = pafs.FileSystem.from_uri(
        "s3://lineops/offline?endpoint_override=127.0.0.1:9&scheme=http"
    )
    assert filesystem.type_name == "s3" and path == "lineops/offline"
    store = OfflineStore(path, filesystem=filesystem)
    assert not store.is_local and str(store.root) == "lineops/offline"


def test_relative_and_trailing_slash_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = OfflineStore.from_uri("rel/offline/")
    store.append(LINE, readings(5))
    assert OfflineStore(tmp_path / "rel" / "offline").count(LINE) == 5
    mock = OfflineStore.from_uri("mock:///bucket/offline/")
    mock.append(LINE, readings(5))
    assert mock.count(LINE) == 5


def test_written_schema_is_the_store_schema(tmp_path: Path) -> None:
    store = OfflineStore(tmp_path, fsync=False)
    store.append(LINE, readings(3))
    written = pq.read_schema(store.files(LINE)[0])
    assert written.remove_metadata().equals(SCHEMA)


@pytest.mark.parametrize("where", ["local", "object-store"])
def test_a_batch_over_midnight_that_fails_on_its_second_day_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """All or nothing: the first day's file was kept, and the retry the failure asks for
    stored those readings twice."""
    store = (
        OfflineStore(tmp_path / "offline")
        if where == "local"
        else OfflineStore.from_uri(f"mock:///bucket/{tmp_path.name}/offline")
    )
    batch = pa.concat_tables(
        [readings(5, seed=1), readings(5, day=DAY + pd.Timedelta(days=1), seed=2)]
    )
    import lineops.dataplane.offline_store as module

    calls = {"n": 0}
    real_write, real_put = module.pq.write_table, OfflineStore._put

    def second_fails() -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")

    def write_table(*args: object, **kwargs: object) -> None:
        second_fails()
        real_write(*args, **kwargs)  # type: ignore[arg-type]

    def put(self: OfflineStore, path: str, data: pa.Buffer) -> None:
        second_fails()
        real_put(self, path, data)

    # The object store serialises with write_table too: count the step that publishes.
    if where == "local":
        monkeypatch.setattr(module.pq, "write_table", write_table)
    else:
        monkeypatch.setattr(OfflineStore, "_put", put)
    with pytest.raises(OSError, match="No space left"):
        store.append(LINE, batch)
    assert store.count(LINE) == 0
    assert [n for n in stored_names(store) if not n.startswith(".")] == []

    store.append(LINE, batch)  # the retry
    assert store.count(LINE) == 10
