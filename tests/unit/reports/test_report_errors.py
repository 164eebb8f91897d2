"""Bad input stops ``lineops report`` with one line naming the file, row or flag."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lineops.cli.main import main

from tests.support.controlplane import REPO
from tests.unit.reports.conftest import Inputs

EXAMPLE_LINE = str(REPO / "examples" / "productionline.yaml")


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["report", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --csv (with --chart), --line-file (with --data), --line or --oee-events"),
        (["--csv", "x.csv"], "--csv needs --chart"),
        (["--csv", "x.csv", "--chart", "p", "--line-file", "l.yaml"], "not both"),
        (["--oee-events", "e.csv"], "--oee-events and --oee-counts go together"),
        (["--line-file", EXAMPLE_LINE], "--line-file needs --data"),
        (["--data", "somewhere"], "--data needs --line-file"),
        (["--csv", "/nonexistent.csv", "--chart", "xbar-r"], "/nonexistent.csv: no such file"),
    ],
)
def test_argument_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = report(capsys, *args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in err
    assert not (tmp_path / "out").exists()  # nothing written on bad input


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--lsl", "74.05", "--usl", "73.95"], "--lsl (74.05) must be below --usl (73.95)"),
        (["--rules", "nelson-9"], "--rules: unknown rule 'nelson-9'"),
        (["--phase1", "99"], "--phase1: phase1 (99) must be between 2 and"),
        (["--subgroup-size", "4"], "subgroup has 5 values, expected 4"),
    ],
)
def test_spc_input_errors(
    inputs: Inputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    code, err = report(
        capsys, "--csv", str(inputs.rings), "--chart", "xbar-r", *extra, "--out", str(out)
    )
    assert code == 2
    assert message in err
    assert not out.exists()


def test_bad_cell_names_the_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2\n1.0,2.0\n1.5,oops\n2.0,2.5\n", encoding="utf-8")
    code, err = report(
        capsys, "--csv", str(path), "--chart", "xbar-r", "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert f"{path}: row 3: column 'x2': 'oops' is not a number" in err


def test_capability_on_an_attribute_chart_is_refused(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = report(
        capsys,
        "--csv",
        str(inputs.rejects),
        "--chart",
        "p",
        "--usl",
        "0.3",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2
    assert "capability needs measurements" in err


def _oee(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, events: Path, counts: Path, *extra: str
) -> tuple[int, str]:
    return report(
        capsys, "--oee-events", str(events), "--oee-counts", str(counts), *extra,
        "--out", str(tmp_path / "o"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (
            "timestamp,work_unit,state\n2024-03-01T06:00:00,press-01,running\n"
            "2024-03-01T07:00:00,press-01,sleeping\n",
            "row 3, column 'state': unknown state 'sleeping'",
        ),
        ("timestamp,work_unit,state\n", "the state event log is empty"),
    ],
)
def test_oee_event_log_errors_name_the_events_file_not_the_counts(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str], log: str, message: str
) -> None:
    events = tmp_path / "events.csv"
    events.write_text(log, encoding="utf-8")
    code, err = _oee(capsys, tmp_path, events, inputs.counts, "--ideal-cycle-time", "1s")
    assert code == 2
    assert f"{events}: {message}" in err and str(inputs.counts) not in err


def test_oee_counts_errors(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "counts.csv"
    missing.write_text("timestamp,work_unit,total\n", encoding="utf-8")
    code, err = _oee(capsys, tmp_path, inputs.events, missing)
    assert code == 2 and f"{missing}: " in err and "missing column(s) good" in err
    code, err = _oee(capsys, tmp_path, inputs.events, inputs.counts)  # no cycle time anywhere
    assert code == 2
    assert "no ideal cycle time for work unit" in err


def test_line_data_folder_without_any_characteristic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = report(
        capsys, "--line-file", EXAMPLE_LINE, "--data", str(empty), "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "holds none of ring_diameter.csv, ring_width.csv" in err


def test_invalid_line_file_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = tmp_path / "line.yaml"
    line.write_text(
        "kind: ProductionLine\nmetadata: {name: l}\nspec: {site: a, area: b, workUnits: [],"
        " qualityCharacteristics: []}\n",
        encoding="utf-8",
    )
    code, err = report(
        capsys, "--line-file", str(line), "--data", str(tmp_path), "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "spec.workUnits:" in err


def test_out_must_be_a_folder(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "file"
    file.write_text("x", encoding="utf-8")
    code, err = report(capsys, "--csv", str(inputs.rings), "--chart", "xbar-r", "--out", str(file))
    assert code == 2
    assert "is not a directory" in err


def test_phase1_error_of_a_line_names_the_characteristic_and_its_file(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = report(
        capsys,
        "--line-file", EXAMPLE_LINE, "--data", str(inputs.rings.parent), "--phase1", "99",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2
    assert f"--phase1: ring_diameter ({inputs.rings}): phase1 (99) must be between 2 and" in err
    assert not (tmp_path / "o").exists()


CSV_ONLY = [
    ["--lsl", "73.95"],
    ["--usl", "74.05"],
    ["--target", "74"],
    ["--rules", "nelson"],
    ["--unit", "mm"],
    ["--subgroup-size", "5"],
]


@pytest.mark.parametrize("option", CSV_ONLY, ids=lambda o: o[0])
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(
            lambda i: ["--line-file", EXAMPLE_LINE, "--data", str(i.rings.parent)], id="files"
        ),
        pytest.param(lambda i: ["--line", "plant-a/press-line-1"], id="live"),
    ],
)
def test_line_modes_refuse_the_options_of_one_csv(
    inputs: Inputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mode: Callable[[Inputs], list[str]],
    option: list[str],
) -> None:
    # A line's characteristics carry their own limits, rules, unit and subgroup size: the
    # options were ignored without a word.
    code, err = report(capsys, *mode(inputs), *option, "--out", str(tmp_path / "o"))
    assert code == 2
    assert f"{option[0]} applies to --csv; a line sets it per characteristic" in err
    assert not (tmp_path / "o").exists()


def test_an_oee_report_refuses_the_options_of_one_csv(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _oee(capsys, tmp_path, inputs.events, inputs.counts, "--unit", "mm")
    assert code == 2
    assert "--unit applies to --csv" in err
