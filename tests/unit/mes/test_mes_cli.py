"""`lineops spc | capability | oee` through the real entry point, with files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lineops.cli.main import main

from .conftest import CIRCUIT_BOARDS, MORTGAGE_COSTS, ORANGE_JUICE, PISTON_RINGS


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return str(path)


def _rings_csv(tmp_path: Path, header: bool = True) -> str:
    rows = [",".join(line.split()) for line in PISTON_RINGS.strip().splitlines()]
    head = "subgroup,x1,x2,x3,x4,x5\n" if header else ""
    body = "\n".join(f"{i + 1},{r}" if header else r for i, r in enumerate(rows))
    return _write(tmp_path, "rings.csv", head + body)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_spc_xbar_r_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "spc", "--csv", _rings_csv(tmp_path), "--chart", "xbar-r", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["xbar"]["ucl"] == pytest.approx(74.014, abs=1e-3)
    assert report["r"]["ucl"] == pytest.approx(0.049, abs=5e-4)
    assert len(report["xbar"]["points"]) == 25
    assert report["violations"] == [] and report["in_control"] is True


def test_spc_headerless_and_phase1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _rings_csv(tmp_path, header=False)
    with open(path, "a", encoding="utf-8") as f:
        f.write("74.05,74.04,74.06,74.05,74.05\n")  # a shifted Phase II subgroup
    code, out, _ = _run(
        capsys, "spc", "--csv", path, "--chart", "xbar-s", "--phase1", "25",
        "--rules", "nelson-1,nelson-5", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["phase1"] == 25
    assert {"rule": "nelson-1", "chart": "xbar", "index": 25} in report["violations"]
    assert "s" in report and len(report["s"]["points"]) == 26


def test_spc_p_chart_varying_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = "\n".join(f"{d},{50 if i % 2 else 100}" for i, d in enumerate(ORANGE_JUICE))
    path = _write(tmp_path, "p.csv", "defectives,n\n" + rows)
    code, out, _ = _run(capsys, "spc", "--csv", path, "--chart", "p", "--json")
    report = json.loads(out)
    assert code == 0
    assert isinstance(report["p"]["ucl"], list) and len(report["p"]["ucl"]) == 30


@pytest.mark.parametrize("chart", ["p", "np"])
def test_spc_orange_juice(tmp_path: Path, capsys: pytest.CaptureFixture[str], chart: str) -> None:
    path = _write(tmp_path, "oj.csv", "\n".join(str(d) for d in ORANGE_JUICE))
    code, out, _ = _run(
        capsys, "spc", "--csv", path, "--chart", chart, "--subgroup-size", "50",
        "--rules", "nelson-1", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0
    assert [v["index"] for v in report["violations"]] == [14, 22]


def test_spc_c_u_imr_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c_path = _write(tmp_path, "c.csv", "defects\n" + "\n".join(map(str, CIRCUIT_BOARDS)))
    code, out, _ = _run(capsys, "spc", "--csv", c_path, "--chart", "c", "--json")
    assert code == 0 and json.loads(out)["c"]["ucl"] == pytest.approx(33.22, abs=0.01)
    # Equal inspection units may be given; the limits do not change.
    rows = "\n".join(f"{c},100" for c in CIRCUIT_BOARDS)
    same = _write(tmp_path, "c-n.csv", "defects,n\n" + rows)
    code, out, _ = _run(capsys, "spc", "--csv", same, "--chart", "c", "--json")
    assert code == 0 and json.loads(out)["c"]["ucl"] == pytest.approx(33.22, abs=0.01)
    u_path = _write(tmp_path, "u.csv", "defects,units\n3,2\n5,2\n2,3\n4,2\n1,1")
    code, out, _ = _run(capsys, "spc", "--csv", u_path, "--chart", "u", "--json")
    assert code == 0 and isinstance(json.loads(out)["u"]["ucl"], list)
    i_path = _write(tmp_path, "i.csv", "\n".join(map(str, MORTGAGE_COSTS)))
    code, out, _ = _run(capsys, "spc", "--csv", i_path, "--chart", "imr", "--rules", "nelson")
    assert code == 0
    assert "mr" in out and "center" in out


def test_c_chart_refuses_sample_sizes_that_vary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "\n".join(f"{c},{100 if i != 3 else 50}" for i, c in enumerate(CIRCUIT_BOARDS))
    path = _write(tmp_path, "c.csv", "defects,n\n" + rows)
    err = _fails(capsys, "spc", "--csv", path, "--chart", "c")
    assert err == (
        f"lineops: error: {path}: row 5: column 'n': sample size 50 differs from 100 in the "
        "first row; a c chart needs equal inspection units (use a u chart)\n"
    )


def test_capability_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "capability", "--csv", _rings_csv(tmp_path), "--lsl", "73.95", "--usl", "74.05",
        "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0
    assert report["cp"] == pytest.approx(1.68, abs=0.015)
    assert set(report) >= {"cp", "cpk", "pp", "ppk", "mean", "sigma_within", "sigma_overall"}
    code, out, _ = _run(
        capsys, "capability", "--csv", _rings_csv(tmp_path), "--usl", "74.05", "--json"
    )
    one_sided = json.loads(out)
    assert one_sided["cp"] is None and one_sided["pp"] is None and one_sided["cpk"] > 0


def test_capability_single_column_cut_into_subgroups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = "\n".join(v for line in PISTON_RINGS.split() for v in [line])
    path = _write(tmp_path, "flat.csv", "diameter\n" + values)
    code, out, _ = _run(
        capsys, "capability", "--csv", path, "--lsl", "73.95", "--usl", "74.05",
        "--subgroup-size", "5", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["subgroup_size"] == 5


def _oee_totals(capsys: pytest.CaptureFixture[str], ict: str, *extra: str) -> tuple[int, str, str]:
    """The textbook shift (Hansen's example): 420 min planned, 47 down, 19,271 parts."""
    return _run(
        capsys, "oee", "--planned-time", "420m", "--downtime", "47m", "--ideal-cycle-time",
        ict, "--total-count", "19271", "--good-count", "18848", *extra,
    )  # fmt: skip


def test_oee_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _oee_totals(capsys, "1s", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["availability"] == pytest.approx(0.8881, abs=5e-5)
    assert report["oee"] == pytest.approx(0.7479, abs=5e-5)


def test_oee_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = _write(
        tmp_path,
        "events.csv",
        """
timestamp,line,work_unit,state,reason
2024-03-01T21:00:00,L1,press-01,running,
2024-03-01T23:00:00,L1,press-01,down,hydraulics
2024-03-01T23:30:00,L1,press-01,running,
2024-03-02T02:00:00,L1,press-01,planned-stop,break
2024-03-02T02:30:00,L1,press-01,running,
2024-03-02T07:00:00,L1,press-01,idle,
""",
    )
    counts = _write(
        tmp_path,
        "counts.csv",
        """
timestamp,work_unit,total,good
2024-03-01T21:30:00,press-01,100,100
2024-03-02T01:00:00,press-01,1000,990
2024-03-02T05:00:00,press-01,800,790
""",
    )
    code, out, _ = _run(
        capsys, "oee", "--events", events, "--counts", counts, "--shift",
        "2024-03-01@22:00-06:00", "--ideal-cycle-time", "10s", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0
    assert report["planned_production_time_s"] == 450 * 60
    assert report["availability"] == pytest.approx(420 / 450)
    assert report["performance"] == pytest.approx(1800 * 10 / (420 * 60))
    assert report["downtime_by_reason"] == {"hydraulics": 1800.0}
    assert report["mttr"] == 1800.0 and report["mtbf"] == 420 * 60
    assert report["lines"]["L1"]["oee"] == pytest.approx(report["oee"])
    assert report["counts_outside_window"] == 1  # the 21:30 row, before the shift
    code, out, _ = _run(
        capsys, "oee", "--events", events, "--counts", counts, "--window",
        "2024-03-01T22:00/2024-03-02T06:00", "--ideal-cycle-time", "10s",
    )  # fmt: skip
    assert code == 0 and "press-01" in out and "hydraulics" in out
    assert out.splitlines()[-1] == (
        f"note: 1 row(s) of {counts} fall outside the window and are not counted "
        "(the window defaults to the first to the last state event)"
    )
    code, out, _ = _run(
        capsys, "oee", "--events", events, "--counts", counts, "--ideal-cycle-time", "10s"
    )
    assert code == 0 and "note:" not in out  # the log's span holds every count


def test_oee_shift_of_a_log_with_offsets_takes_a_timezone_and_real_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Berlin's clocks go back on 2026-10-25: the night shift 22:00-06:00 lasts nine real
    hours. A log with UTC offsets needs --timezone (a naive shift window cannot be compared
    with it, and the message says what to give)."""
    events = _write(
        tmp_path,
        "events.csv",
        """
timestamp,line,work_unit,state,reason
2026-10-24T18:00:00+00:00,L1,press-01,running,
2026-10-25T12:00:00+00:00,L1,press-01,idle,
""",
    )
    counts = _write(tmp_path, "counts.csv", "timestamp,work_unit,total,good\n")
    argv = ["oee", "--events", events, "--counts", counts, "--shift", "2026-10-24@22:00-06:00"]
    code, _, err = _run(capsys, *argv, "--ideal-cycle-time", "10s")
    assert code != 0 and "--shift" in err and "--timezone" in err
    code, out, _ = _run(
        capsys, *argv, "--timezone", "Europe/Berlin", "--ideal-cycle-time", "10s", "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["planned_production_time_s"] == 9 * 3600
    assert report["window"] == {
        "start": "2026-10-24T22:00:00+02:00",
        "end": "2026-10-25T06:00:00+01:00",
    }
    code, _, err = _run(capsys, *argv, "--timezone", "Mars/Olympus")
    assert code != 0 and "--timezone: 'Mars/Olympus' is not a known IANA time zone" in err


def test_oee_totals_options_are_refused_with_an_event_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _write(
        tmp_path, "events.csv", "timestamp,work_unit,state\n2024-03-01T21:00:00,p1,running\n"
    )
    counts = _write(tmp_path, "counts.csv", "timestamp,work_unit,total,good\n")
    err = _fails(
        capsys, "oee", "--events", events, "--counts", counts, "--ideal-cycle-time", "1s",
        "--planned-time", "8h", "--good-count", "5",
    )  # fmt: skip
    assert err == (
        "lineops: error: --planned-time, --good-count: not used with --events and --counts "
        "(times come from the event log, counts from the counts file)\n"
    )


# ----------------------------------------------------------------------------- bad input


def _fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("lineops: error: ")
    return err


def test_ragged_subgroup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "r.csv", "x1,x2,x3\n1,2,3\n4,5,6\n7,8\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert "row 4: subgroup has 2 values, expected 3" in err


def test_wrong_subgroup_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "r.csv", "1,2,3\n4,5,6\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r", "--subgroup-size", "5")
    assert "row 1: subgroup has 3 values, expected 5" in err


def test_non_numeric_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "r.csv", "x1,x2\n1,2\n3,abc\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert "row 3: column 'x2': 'abc' is not a number" in err


def test_negative_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "c.csv", "defects\n3\n-1\n4\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "c")
    assert "row 3, column 'count': count -1 is negative" in err


def test_defectives_exceed_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.csv", "defectives,n\n3,50\n60,50\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "p")
    assert "row 3, column 'count': count 60 exceeds sample size 50" in err


def test_good_exceeds_total(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "oee", "--planned-time", "1h", "--ideal-cycle-time", "1s", "--total-count",
        "10", "--good-count", "12",
    )  # fmt: skip
    assert "--good-count (12) exceeds --total-count (10)" in err
    events = _write(tmp_path, "e.csv", "timestamp,work_unit,state\n2024-01-01T00:00,a,running")
    counts = _write(tmp_path, "k.csv", "timestamp,work_unit,total,good\n2024-01-01T00:10,a,10,12")
    err = _fails(capsys, "oee", "--events", events, "--counts", counts)
    assert "k.csv: row 2, column 'good': good count 12 exceeds total count 10" in err


def test_negative_count_flag(capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "oee", "--planned-time", "1h", "--ideal-cycle-time", "1s", "--total-count",
        "-5", "--good-count", "0",
    )  # fmt: skip
    assert "--total-count: count -5 is negative" in err
    err = _fails(
        capsys, "oee", "--planned-time", "1h", "--ideal-cycle-time", "1s", "--total-count",
        "9" * 29, "--good-count", "5",
    )  # fmt: skip
    assert f"--total-count: count {'9' * 29} is beyond 1e+15" in err  # was "column 'total'"


def test_bad_duration(capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "oee", "--planned-time", "7 days", "--ideal-cycle-time", "1s",
        "--total-count", "1", "--good-count", "1",
    )  # fmt: skip
    assert "--planned-time: '7 days' is not a duration" in err


def test_lsl_not_below_usl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "capability", "--csv", _rings_csv(tmp_path), "--lsl", "74.05", "--usl", "73.95"
    )
    assert "--lsl (74.05) must be below --usl (73.95)" in err


def test_too_few_subgroups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "one.csv", "1,2,3\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert "need at least 2 subgroups to estimate limits, got 1" in err
    # The file has enough; the option asks for too few, so the error names the option.
    err = _fails(capsys, "spc", "--csv", _rings_csv(tmp_path), "--chart", "xbar-r", "--phase1", "1")
    assert err == (
        "lineops: error: --phase1: phase1 (1) must be between 2 and the number of subgroups (25)\n"
    )


def test_phase1_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "spc", "--csv", _rings_csv(tmp_path), "--chart", "xbar-r", "--phase1", "40"
    )
    assert "--phase1" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.csv")
    err = _fails(capsys, "spc", "--csv", missing, "--chart", "imr")
    assert f"{missing}: no such file" in err
    err = _fails(capsys, "capability", "--csv", missing, "--usl", "1")
    assert "no such file" in err


def test_unknown_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(
        capsys, "spc", "--csv", _rings_csv(tmp_path), "--chart", "xbar-r", "--rules", "nelson-9"
    )
    assert err.startswith("lineops: error: --rules: unknown rule 'nelson-9'")


def test_unknown_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = _write(
        tmp_path, "e.csv", "timestamp,work_unit,state\n2024-01-01T00:00,a,running\n"
        "2024-01-01T01:00,a,exploded"
    )  # fmt: skip
    counts = _write(tmp_path, "k.csv", "timestamp,work_unit,total,good\n")
    err = _fails(capsys, "oee", "--events", events, "--counts", counts, "--ideal-cycle-time", "1s")
    assert "e.csv: row 3, column 'state': unknown state 'exploded'" in err


def test_cells_beyond_the_header_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "r.csv", "x1,x2,x3\n1,2,3\n4,5,6,7\n7,8,9\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert err == f"lineops: error: {path}: row 3: 4 cells, but the header names 3 columns\n"
    events = _write(
        tmp_path,
        "events.csv",
        "timestamp,work_unit,state\n2024-03-01T21:00:00,p1,running,surplus\n",
    )
    counts = _write(tmp_path, "counts.csv", "timestamp,work_unit,total,good\n")
    err = _fails(capsys, "oee", "--events", events, "--counts", counts)
    assert err == (f"lineops: error: {events}: row 2: more cells than the header's 3 columns\n")


def test_a_byte_order_mark_is_not_part_of_the_first_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _rings_csv(tmp_path, header=False)
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + Path(plain).read_bytes())
    results = []
    for path in (plain, str(marked)):
        code, out, _ = _run(capsys, "spc", "--csv", path, "--chart", "xbar-r", "--json")
        assert code == 0
        results.append(json.loads(out))
    assert results[0] == results[1]


def test_values_and_limits_beyond_any_measurement_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Finite, but their squares overflow: the statistics would come out inf or nan.
    path = _write(tmp_path, "h.csv", "x1,x2\n1e308,1.1e308\n1.3e308,1e308\n1e308,1.2e308\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert err == f"lineops: error: {path}: row 2: column 'x1': '1e308' is beyond ±1e+100\n"
    for limit in ("inf", "nan", "1e308"):
        with pytest.raises(SystemExit):
            main(["capability", "--csv", _rings_csv(tmp_path), "--lsl", "73.95", "--usl", limit])
        assert (
            f"argument --usl: {limit!r} is not a finite number within ±1e+100"
            in capsys.readouterr().err
        )


def test_digit_groups_are_not_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Python's float() reads "1_000" as 1000; no CSV writer writes it, so it is a typo.
    path = _write(tmp_path, "g.csv", "x1,x2\n1,2\n1_000,3\n2,4\n")
    err = _fails(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert err == f"lineops: error: {path}: row 3: column 'x1': '1_000' is not a number\n"
    with pytest.raises(SystemExit):
        main(["capability", "--csv", _rings_csv(tmp_path), "--lsl", "7_3", "--usl", "75"])
    assert "argument --lsl: '7_3' is not a number" in capsys.readouterr().err


def test_an_ideal_cycle_time_of_zero_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fails(
        capsys, "oee", "--planned-time", "420m", "--ideal-cycle-time", "0",
        "--total-count", "10", "--good-count", "9",
    )  # fmt: skip
    assert err == "lineops: error: --ideal-cycle-time: ideal cycle time (0 s) must be positive\n"
    # The library's upper bound too, named by the option (one check, oee's).
    err = _fails(
        capsys, "oee", "--planned-time", "420m", "--ideal-cycle-time", "2000000000s",
        "--total-count", "10", "--good-count", "9",
    )  # fmt: skip
    assert (
        err == "lineops: error: --ideal-cycle-time: ideal cycle time (2e+09 s) is beyond 1e+09 s\n"
    )
    events = _write(
        tmp_path,
        "events.csv",
        "timestamp,work_unit,state\n2024-03-01T21:00:00,p1,running\n2024-03-01T23:00:00,p1,idle\n",
    )
    counts = _write(
        tmp_path,
        "counts.csv",
        "timestamp,work_unit,total,good,ideal_cycle_time\n2024-03-01T22:00:00,p1,10,9,0\n",
    )
    err = _fails(capsys, "oee", "--events", events, "--counts", counts)
    assert "row 2, column 'ideal_cycle_time': ideal cycle time 0 must be positive" in err


def test_performance_above_one_is_printed_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _oee_totals(capsys, "10s")
    assert code == 0
    assert out.splitlines()[-1] == (
        "note: performance above 100 % (total): more parts than the ideal cycle time allows "
        "in the run time; the ideal cycle time is too long"
    )
    code, out, _ = _oee_totals(capsys, "1s")
    assert code == 0 and "note:" not in out


def test_oee_errors_name_the_event_log_or_the_window_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = _write(tmp_path, "ev.csv", "timestamp,line,work_unit,state,reason\n")
    events = _write(
        tmp_path,
        "events.csv",
        "timestamp,work_unit,state\n2024-03-01T21:00:00,p1,running\n2024-03-02T07:00:00,p1,idle\n",
    )
    counts = _write(tmp_path, "counts.csv", "timestamp,work_unit,total,good\n")
    oee = ["oee", "--counts", counts, "--ideal-cycle-time", "1s"]
    err = _fails(capsys, *oee, "--events", empty)
    assert err == f"lineops: error: {empty}: the state event log is empty\n"
    err = _fails(capsys, *oee, "--events", events, "--window", "2024-03-02T06:00/2024-03-01T22:00")
    assert err.startswith("lineops: error: --window: window start 2024-03-02 06:00:00 must be")


def test_spc_text_prints_limits_that_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The piston rings moved to a 1250 mm shaft: .6g printed centre and limits as one number.
    rows = [
        [1250 + (float(v) - 74) / 10 for v in line.split()]
        for line in PISTON_RINGS.strip().splitlines()
    ]
    path = _write(tmp_path, "shaft.csv", "\n".join(",".join(f"{v:.5f}" for v in r) for r in rows))
    code, out, _ = _run(capsys, "spc", "--csv", path, "--chart", "xbar-r")
    assert code == 0
    xbar = next(line.split() for line in out.splitlines() if line.startswith("xbar "))
    center, lcl, ucl = xbar[1:4]
    assert len({center, lcl, ucl}) == 3, xbar
    assert float(lcl) < float(center) < float(ucl)
