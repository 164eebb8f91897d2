"""`lineops features training-set` through the real entry point: a set from a real offline
store, and bad input as one line naming the option, file, row or work unit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from lineops.cli.main import main
from lineops.dataplane.offline_store import SCHEMA, OfflineStore

from tests.support.controlplane import REPO

LINE_FILE = str(REPO / "examples" / "productionline.yaml")
T0 = pd.Timestamp("2026-01-05T06:00:00Z")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """An offline store with ram_force readings of press-01, one a minute for an hour."""
    stamps = [T0 + pd.Timedelta(minutes=m) for m in range(60)]
    table = pa.table(
        {
            "work_unit": ["press-01"] * 60,
            "sensor": ["ram_force"] * 60,
            "timestamp": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
            "value": [float(m) for m in range(60)],
            "lot": [None] * 60,
            "received_at": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
            "batch_id": ["b"] * 60,
        },
        schema=SCHEMA,
    )
    OfflineStore(tmp_path / "data" / "offline").append("press-line-1", table)
    return tmp_path / "data"


def _lots(tmp_path: Path, rows: str) -> str:
    path = tmp_path / "lots.csv"
    path.write_text("lot,work_unit,start,end\n" + rows, encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], data: Path, lots: str, *extra: str) -> tuple[int, str]:
    argv = ["features", "training-set", "--line-file", LINE_FILE, "--data", str(data)]
    code = main([*argv, "--lots", lots, *extra])
    out, err = capsys.readouterr()
    return code, out + err


def test_a_training_set_from_the_offline_store(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lots = _lots(
        tmp_path,
        f"L1,press-01,{T0.isoformat()},{(T0 + pd.Timedelta(minutes=9)).isoformat()}\n"
        f"L2,press-01,{(T0 + pd.Timedelta(minutes=10)).isoformat()},"
        f"{(T0 + pd.Timedelta(minutes=19)).isoformat()}\n",
    )
    out = tmp_path / "train.csv"
    code, text = _run(capsys, data, lots, "--out", str(out))
    assert code == 0, text
    frame = pd.read_csv(out)
    assert frame["lot"].tolist() == ["L1", "L2"]
    assert frame["ram_force__max"].tolist() == [9.0, 19.0]  # nothing after a lot's end


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ("", ["--from", ""], "--from: not a time: ''"),
        ("", ["--from", "2026-02-01", "--to", "2026-01-01"], "--to (2026-01-01) is before --from"),
        ("", ["--out", "{tmp}/train.txt"], "name a .parquet or .csv file"),
        ("", ["--out", "{tmp}/nowhere/train.csv"], "no such directory"),
        ("L1,press-99,2026-01-05T06:00Z,2026-01-05T06:09Z\n", [], "work unit 'press-99' is not"),
        ("L1,press-01,2026-01-05T06:00Z,2026-01-05T06:09Z\n", ["--to", "2026-01-01"], "no lots"),
        (
            "L1,press-01,2026-01-05T06:00Z,2026-01-05T06:09Z\n"
            "L1,press-01,2026-01-05T06:10Z,2026-01-05T06:19Z\n",
            [],
            "lots row 1: lot 'L1' on 'press-01' is already in row 0",
        ),
    ],
)
def test_bad_input_is_one_line_naming_it(
    data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: str,
    extra: list[str],
    message: str,
) -> None:
    lots = _lots(tmp_path, rows or "L1,press-01,2026-01-05T06:00Z,2026-01-05T06:09Z\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "train.parquet")]
    code, text = _run(capsys, data, lots, *args)
    assert code == 2 and text.startswith("lineops: error: ") and text.count("\n") == 1, text
    assert message in text


def test_a_data_directory_without_an_offline_store_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lots = _lots(tmp_path, "L1,press-01,2026-01-05T06:00Z,2026-01-05T06:09Z\n")
    code, text = _run(capsys, tmp_path / "empty", lots, "--out", str(tmp_path / "t.parquet"))
    assert code == 2 and "no offline store" in text


def test_an_offline_store_without_the_lots_readings_is_named(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lots a week after the stored hour: every feature was empty, exit 0."""
    lots = _lots(tmp_path, "L1,press-01,2026-01-12T06:00Z,2026-01-12T06:09Z\n")
    out = tmp_path / "t.csv"
    code, text = _run(capsys, data, lots, "--out", str(out))
    assert code == 2 and "no readings of line press-line-1" in text, text
    assert not out.exists()
