"""`lineops plan` and `lineops plan jssp`: output, Gantt chart files and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from lineops.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
LINE = ROOT / "examples" / "productionline.yaml"
ORDERS = ROOT / "examples" / "orders.yaml"
FAST = ["--time-limit", "5", "--workers", "1"]


def test_jssp_prints_makespan_and_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "tiny.txt"
    instance.write_text("# two jobs\n2 2\n0 3 1 2\n1 4 0 1\n")
    assert main(["plan", "jssp", "--instance", str(instance), "--json", *FAST]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["makespan"] == 6
    assert result["status"] == "OPTIMAL"
    assert {tuple(sorted(row)) for row in result["schedule"]} == {
        ("end", "index", "job", "machine", "start")
    }
    job0 = [row for row in result["schedule"] if row["job"] == 0]
    assert [(row["index"], row["machine"], row["end"] - row["start"]) for row in job0] == [
        (0, 0, 3),
        (1, 1, 2),
    ]
    assert main(["plan", "jssp", "--instance", str(instance), *FAST]) == 0
    text = capsys.readouterr().out
    assert text.startswith("makespan 6 (cp-sat OPTIMAL, lower bound 6)\nschedule\n")


def test_plan_options_before_jssp_are_refused_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan --json jssp` printed text and `plan --time-limit 0 jssp` solved anyway: the
    subcommand's defaults overwrote what was given to `plan`."""
    instance = tmp_path / "tiny.txt"
    instance.write_text("\ufeff2 2\r\n0 3 1 2\r\n1 4 0 1\r\n")  # a BOM and CRLF: fine
    for before in (["--json"], ["--time-limit", "0"], ["--orders", str(ORDERS)]):
        assert main(["plan", *before, "jssp", "--instance", str(instance), *FAST]) == 2
        err = capsys.readouterr().err
        assert f"plan jssp: {before[0]} given before 'jssp'" in err, err
    assert main(["plan", "jssp", "--instance", str(instance), "--json", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["makespan"] == 6


@pytest.mark.parametrize("workers", ["0", "1025", "3000000000"])
def test_workers_out_of_range_are_refused_by_name(
    workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "tiny.txt"
    instance.write_text("2 2\n0 3 1 2\n1 4 0 1\n")
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "jssp", "--instance", str(instance), "--workers", workers])
    assert exit_.value.code == 2
    assert f"--workers: {workers} is not 1..1024 workers" in capsys.readouterr().err


def test_a_bad_jssp_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instance = tmp_path / "bad.txt"
    instance.write_text("# header next\n1 2\n0 3 7 2\n")
    assert main(["plan", "jssp", "--instance", str(instance), *FAST]) == 2
    assert capsys.readouterr().err == (
        f"lineops: error: {instance}: line 3: machine 7 is out of 0..1\n"
    )


def test_plan_writes_json_and_a_gantt_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    args = ["plan", "--orders", str(ORDERS), "--line-file", str(LINE), "--json"]
    assert main([*args, *FAST, "--gantt", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    book = yaml.safe_load(ORDERS.read_text())
    assert {row["order"] for row in report["schedule"]} == {o["id"] for o in book["orders"]}
    assert len(report["schedule"]) == 4 * len(book["orders"])  # four-step routings
    assert set(report["tardiness"]) == {o["id"] for o in book["orders"]}
    reasons = {w["reason"] for w in report["blocked"]}
    assert reasons == {"planned die maintenance", "predicted spindle bearing failure (p=0.82)"}
    assert set(report["utilisation"]) == {"press-01", "furnace-01", "grinder-01", "gauge-01"}
    page = (out / "plan-gantt.html").read_text()
    assert "WO-1001" in page and "predicted spindle bearing failure" in page
    assert (out / "plan-gantt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plan-gantt.html" in (out / "index.html").read_text()
    assert (out / "plotly.min.js").exists()


def test_a_gantt_chart_that_cannot_be_drawn_is_a_message_after_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lineops.services.reports.gantt as gantt

    def broken(*_args: object) -> None:  # a renderer's own error, as matplotlib raises them
        raise ValueError("Expected end of text, found '$'")

    monkeypatch.setattr(gantt, "write_gantt", broken)
    args = ["plan", "--orders", str(ORDERS), "--line-file", str(LINE), "--json"]
    assert main([*args, *FAST, "--gantt", str(tmp_path / "plan")]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["schedule"]  # the plan was printed first
    assert err.strip() == (
        "lineops: error: --gantt: cannot draw the chart: ValueError: Expected end of text, "
        "found '$'"
    )


def test_a_bad_order_book_names_the_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = yaml.safe_load(ORDERS.read_text())
    book["orders"][2]["due"] = "2026-12-01T00:00:00"
    orders = tmp_path / "orders.yaml"
    orders.write_text(yaml.safe_dump(book))
    assert main(["plan", "--orders", str(orders), "--line-file", str(LINE), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lineops: error: {orders}: order WO-1003: due 2026-12-01T00:00:00+01:00")


def test_an_order_the_horizon_cannot_hold_says_when_second_zero_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = yaml.safe_load(ORDERS.read_text())
    book["horizon"] = "2d"
    book["orders"][2]["release"] = "2026-12-08T23:00:00"
    book["orders"][2].pop("due", None)
    orders = tmp_path / "orders.yaml"
    orders.write_text(yaml.safe_dump(book))
    assert main(["plan", "--orders", str(orders), "--line-file", str(LINE), *FAST]) == 2
    err = capsys.readouterr().err
    assert "order WO-1003: released at" in err, err
    assert err.rstrip().endswith("(times in s from the plan start, 2026-12-07T06:00:00+01:00)")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--time-limit", "inf"], "--time-limit: must be a finite number of seconds > 0, got inf"),
        (["--time-limit", "0"], "--time-limit: must be a finite number of seconds > 0, got 0"),
        (["--horizon", "99999999999d"], "--horizon: 99999999999d is beyond the limit of"),
        # was refused under the order book's name, as if the file held it
        (["--horizon", "0d"], "--horizon: must be positive, got '0d'"),
    ],
)
def test_bad_plan_options_are_named(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--orders", str(ORDERS), "--line-file", str(LINE), "--workers", "1"]
    assert main([*args, *extra]) == 2
    assert capsys.readouterr().err.startswith(f"lineops: error: {message}")
    # Before anything is read, as the docs say (a missing order book was reported instead).
    missing = ["plan", "--orders", "no-such-book.yaml", "--line-file", "no-such-line.yaml"]
    assert main([*missing, "--workers", "1", *extra]) == 2
    assert capsys.readouterr().err.startswith(f"lineops: error: {message}")


def test_a_gantt_path_that_is_a_file_fails_before_the_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "chart"
    taken.write_text("mine")
    for args in (
        ["plan", "--orders", str(ORDERS), "--line-file", str(LINE)],
        ["plan", "jssp", "--instance", str(ORDERS)],  # the check comes before any reading
    ):
        assert main([*args, *FAST, "--gantt", str(taken)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # nothing solved, nothing printed
        assert captured.err == (
            f"lineops: error: --gantt: {taken} is a file; give a directory (it is created if "
            "missing)\n"
        )
    assert taken.read_text() == "mine"


def test_plan_needs_both_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--orders", str(ORDERS)]) == 2
    assert "give --orders FILE and --line-file FILE" in capsys.readouterr().err


@pytest.mark.parametrize("rule", ["edd", "wspt", "mwkr"])
def test_plan_fallback_rule_is_used_when_cp_sat_finds_nothing(
    rule: str, cp_sat_without_time: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--orders", str(ORDERS), "--line-file", str(LINE), "--json"]
    assert main([*args, *FAST, "--fallback", rule]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == rule
    assert report["status"] == "fallback: CP-SAT found no schedule in 5 s"
    book = yaml.safe_load(ORDERS.read_text())
    assert len(report["schedule"]) == 4 * len(book["orders"])


def test_plan_rejects_an_unknown_fallback_rule(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--orders", str(ORDERS), "--line-file", str(LINE), "--fallback", "fifo"]
    with pytest.raises(SystemExit):
        main(args)
    assert "invalid choice: 'fifo'" in capsys.readouterr().err


def test_lateness_under_an_hour_is_not_printed_as_zero_hours() -> None:
    from lineops.cli.plan_cmd import _late

    assert [_late(s) for s in (5, 65, 3600, 5400)] == ["5 s", "1 min 5 s", "1.0 h", "1.5 h"]
