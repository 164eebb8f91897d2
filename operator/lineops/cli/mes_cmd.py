"""`lineops spc`, `lineops capability` and `lineops oee`: MES analytics over CSV files.

Rows in messages are 1-based line numbers of the file, as an editor shows them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from lineops.cli.errors import CliError
from lineops.mes import charts
from lineops.mes.capability import Capability, capability
from lineops.mes.charts import ChartKind, ChartSeries
from lineops.mes.data import MAX_VALUE, ChartData, decimal
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    MAX_COUNT,
    Oee,
    check_ideal_cycle_time,
    combine_oee,
    counts_from_records,
    events_from_records,
    oee_from_events,
    oee_from_totals,
    shift_window,
)
from lineops.mes.phases import analyze
from lineops.mes.rules import not_applicable, parse_rules
from lineops.services.reports.formatting import spread_format

T = TypeVar("T")

# Header names (case-insensitive) that label a subgroup instead of holding a measurement.
ID_COLUMNS = {"subgroup", "sample", "id", "index", "timestamp", "time", "date", "lot", "batch"}
# Accepted header names of the attribute-chart columns.
COUNT_COLUMNS = ("count", "defectives", "nonconforming", "defects", "nonconformities", "d", "c")
SIZE_COLUMNS = ("n", "sample_size", "size", "units", "inspected")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0}


# ------------------------------------------------------------------------------- CSV input


@dataclass(frozen=True)
class Table:
    path: str
    header: list[str] | None
    rows: list[list[str]]
    lines: list[int]  # file line of each row

    def line(self, index: int | None) -> str:
        return f"row {self.lines[index]}" if index is not None else ""

    def fail(self, index: int, message: str) -> CliError:
        return CliError(f"{self.path}: row {self.lines[index]}: {message}")


def _is_number(text: str) -> bool:
    try:
        decimal(text)
    except ValueError:
        return False
    return True


def read_table(path: str) -> Table:
    """A CSV file; its first row is a header when none of its cells is a number."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            raw = [(i, row) for i, row in enumerate(csv.reader(handle), start=1)]
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None
    kept = [
        (i, [c.strip() for c in row])
        for i, row in raw
        if any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not kept:
        raise CliError(f"{path}: no data rows")
    header = None
    if not any(_is_number(c) for c in kept[0][1] if c):
        header = [c.lower() for c in kept[0][1]]
        kept = kept[1:]
    if not kept:
        raise CliError(f"{path}: no data rows after the header")
    return Table(path, header, [r for _, r in kept], [i for i, _ in kept])


def _cell(table: Table, index: int, col: int, text: str) -> float:
    name = _name(table, col)
    try:
        value = decimal(text)
    except ValueError:
        raise table.fail(index, f"column '{name}': {text!r} is not a number") from None
    if not math.isfinite(value):
        raise table.fail(index, f"column '{name}': {text!r} is not finite")
    if abs(value) > MAX_VALUE:
        raise table.fail(index, f"column '{name}': {text!r} is beyond ±{MAX_VALUE:g}")
    return value


def spec_limit(text: str) -> float:
    """An --lsl/--usl value: a finite number within ±MAX_VALUE (argparse type)."""
    try:
        value = decimal(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number within ±{MAX_VALUE:g}")
    return value


def ideal_cycle_time(text: str) -> float:
    """--ideal-cycle-time: positive seconds (0 would make every performance 0 %)."""
    seconds = parse_duration(text, "--ideal-cycle-time")
    try:
        check_ideal_cycle_time(seconds)
    except MesInputError as exc:
        raise CliError(f"--ideal-cycle-time: {exc.detail}") from None
    return seconds


def measurement_rows(table: Table, subgroup_size: int | None) -> list[list[float]]:
    """Numeric subgroups, one per row, identifier columns dropped; all rows equally long."""
    keep = list(range(max(len(r) for r in table.rows)))
    if table.header is not None:
        keep = [j for j, name in enumerate(table.header) if name not in ID_COLUMNS]
    rows: list[list[float]] = []
    expected = subgroup_size
    for i, row in enumerate(table.rows):
        if table.header is not None and any(row[len(table.header) :]):
            raise table.fail(
                i, f"{len(row)} cells, but the header names {len(table.header)} columns"
            )
        cells = [(j, row[j]) for j in keep if j < len(row)]
        # Trailing empty cells (a spreadsheet's ragged export) are a short subgroup.
        while cells and not cells[-1][1]:
            cells.pop()
        values = [_cell(table, i, j, text) for j, text in cells]
        if expected is None:
            expected = len(values)
        if len(values) != expected:
            raise table.fail(i, f"subgroup has {len(values)} values, expected {expected}")
        rows.append(values)
    return rows


def _column(table: Table, names: Sequence[str], fallback: int | None) -> int | None:
    if table.header is not None:
        for name in names:
            if name in table.header:
                return table.header.index(name)
        return None
    return fallback


def _mes(table: Table, call: Callable[[], T]) -> T:
    try:
        return call()
    except MesInputError as exc:
        raise in_file(table, exc) from None


def in_file(table: Table, exc: MesInputError) -> CliError:
    """The error located in ``table``'s file: its path and, for a row, the row's line."""
    if exc.row is not None and 0 <= exc.row < len(table.lines):
        return CliError(f"{table.path}: {exc.located(table.line(exc.row))}")
    return CliError(f"{table.path}: {exc}")


def spc_rules(text: str) -> tuple[str, ...]:
    """--rules, with errors naming the option (spc and report)."""
    try:
        return parse_rules(text)
    except MesInputError as exc:
        raise CliError(f"--rules: {exc.detail}") from None


def _plain(call: Callable[[], T]) -> T:
    try:
        return call()
    except MesInputError as exc:
        raise CliError(str(exc)) from None


# ------------------------------------------------------------------------------------- spc


def chart_data(table: Table, kind: ChartKind, subgroup_size: int | None) -> ChartData:
    if not kind.is_attribute:
        rows = measurement_rows(table, 1 if kind is ChartKind.IMR else subgroup_size)
        return _mes(table, lambda: charts.chart_data(kind, rows=rows))
    count_col = _column(table, COUNT_COLUMNS, 0)
    if count_col is None:
        raise CliError(f"{table.path}: no count column; name it one of {', '.join(COUNT_COLUMNS)}")
    size_col = _column(table, SIZE_COLUMNS, 1)
    counts = [_cell(table, i, count_col, _at(table, i, count_col)) for i in range(len(table.rows))]
    sizes: list[float] | float | None = None
    if size_col is not None and (table.header is not None or len(table.rows[0]) > 1):
        sizes = [_cell(table, i, size_col, _at(table, i, size_col)) for i in range(len(counts))]
        if kind is ChartKind.C:
            _equal_sizes(table, size_col, sizes)
    elif subgroup_size is not None:
        sizes = float(subgroup_size)
    if kind is not ChartKind.C and sizes is None:
        raise CliError(
            f"{table.path}: {kind} chart needs sample sizes: add a column named "
            f"{' or '.join(SIZE_COLUMNS[:2])} or pass --subgroup-size"
        )
    return _mes(table, lambda: charts.chart_data(kind, counts=counts, sizes=sizes))


def _equal_sizes(table: Table, col: int, sizes: list[float]) -> None:
    # A c chart's limits assume the same inspection unit for every count; quietly ignoring
    # sizes that vary would chart the wrong thing.
    for i, size in enumerate(sizes):
        if size != sizes[0]:
            raise table.fail(
                i,
                f"column '{_name(table, col)}': sample size {size:g} differs from {sizes[0]:g} "
                "in the first row; a c chart needs equal inspection units (use a u chart)",
            )


def _name(table: Table, col: int) -> str:
    return table.header[col] if table.header and col < len(table.header) else str(col + 1)


def _at(table: Table, index: int, col: int) -> str:
    row = table.rows[index]
    if col >= len(row) or not row[col]:
        raise table.fail(index, f"column '{_name(table, col)}': missing value")
    return row[col]


def _limits(values: np.ndarray[Any, Any]) -> float | list[float]:
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return [float(v) for v in values]


def _series_json(s: ChartSeries) -> dict[str, Any]:
    return {
        "center": s.center,
        "ucl": _limits(s.ucl),
        "lcl": _limits(s.lcl),
        "points": [float(v) for v in s.points],
    }


def run_spc(args: argparse.Namespace) -> int:
    kind = ChartKind(args.chart)
    rules = spc_rules(args.rules)
    if args.subgroup_size is not None and args.subgroup_size < 1:
        raise CliError(f"--subgroup-size must be positive, got {args.subgroup_size}")
    table = read_table(args.csv)
    data = chart_data(table, kind, args.subgroup_size)
    try:
        one, result = analyze(
            kind, data, rules, phase1=args.phase1, remove_out_of_control=args.remove_ooc
        )
    except MesInputError as exc:
        if exc.field == "phase1":
            raise CliError(f"--phase1: {exc.detail}") from None
        raise in_file(table, exc) from None
    report: dict[str, Any] = {
        "chart": kind.value,
        "subgroups": len(data),
        "phase1": args.phase1,
        "phase1_removed": list(one.removed),
        "rules": list(rules),
        # Asked for but not evaluated on this kind of chart (rules.applies): zone rules on
        # attribute charts. On R, S and MR only the 3-sigma rule runs (docs/mes.md).
        "rules_not_applicable": list(not_applicable(kind.is_attribute, rules)),
    }
    if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S, ChartKind.NP):
        report["subgroup_size"] = one.params.n
    if not kind.is_attribute:
        report["sigma"] = one.params.sigma
    for s in result.series:
        report[s.name] = _series_json(s)
    report["violations"] = [
        {"rule": v.rule, "chart": v.chart, "index": v.index} for v in result.violations
    ]
    report["in_control"] = result.in_control
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{kind.value} chart, {len(data)} subgroups, rules {', '.join(rules)}")
    if report["rules_not_applicable"]:
        print(
            f"  not evaluated on a {kind.value} chart (zone rules assume normal data): "
            + ", ".join(report["rules_not_applicable"])
        )
    print(f"{'chart':<6} {'center':>12} {'lcl':>12} {'ucl':>12} {'points':>7} {'signals':>8}")
    for s in result.series:
        # Decimals from the spread, as the reports print them: .6g printed a 1250 mm shaft's
        # limits 0.012 apart as one number.
        spec = spread_format(float(s.sigma.min()))
        lcl = "varies" if s.varying_limits else format(float(s.lcl[0]), spec)
        ucl = "varies" if s.varying_limits else format(float(s.ucl[0]), spec)
        center = format(float(s.center), spec)
        signals = sum(1 for v in result.violations if v.chart == s.name)
        print(f"{s.name:<6} {center:>12} {lcl:>12} {ucl:>12} {s.points.size:>7} {signals:>8}")
    for v in result.violations[:20]:
        print(f"  {v.rule} on {v.chart} at point {v.index}")
    if len(result.violations) > 20:
        print(f"  ... {len(result.violations) - 20} more (use --json)")
    return 0


# ------------------------------------------------------------------------------ capability


def _capability_json(c: Capability) -> dict[str, Any]:
    return {
        "cp": c.cp,
        "cpk": c.cpk,
        "cpl": c.cpl,
        "cpu": c.cpu,
        "pp": c.pp,
        "ppk": c.ppk,
        "ppl": c.ppl,
        "ppu": c.ppu,
        "mean": c.mean,
        "sigma_within": c.sigma_within,
        "sigma_overall": c.sigma_overall,
        "sigma_within_method": c.within_method,
        "lsl": c.lsl,
        "usl": c.usl,
        "count": c.count,
        "subgroup_size": c.subgroup_size,
    }


def run_capability(args: argparse.Namespace) -> int:
    if args.lsl is None and args.usl is None:
        raise CliError("give --lsl, --usl or both")
    if args.lsl is not None and args.usl is not None and not args.lsl < args.usl:
        raise CliError(f"--lsl ({args.lsl:g}) must be below --usl ({args.usl:g})")
    table = read_table(args.csv)
    size = args.subgroup_size
    rows = measurement_rows(table, None)
    if size is not None:
        if size < 1:
            raise CliError(f"--subgroup-size must be positive, got {size}")
        if len(rows[0]) == 1 and size > 1:
            # One column of consecutive values: cut it into subgroups of ``size``.
            flat = [r[0] for r in rows]
            if len(flat) % size:
                raise CliError(
                    f"{table.path}: {len(flat)} values do not split into subgroups of {size}"
                )
            rows = [flat[i : i + size] for i in range(0, len(flat), size)]
        elif len(rows[0]) != size:
            raise table.fail(0, f"subgroup has {len(rows[0])} values, expected {size}")
    result = _mes(table, lambda: capability(rows, args.lsl, args.usl, within=args.within))
    report = _capability_json(result)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for key in ("cp", "cpk", "pp", "ppk", "mean", "sigma_within", "sigma_overall"):
        value = report[key]
        print(f"{key:<14} {'-' if value is None else f'{value:.4f}'}")
    return 0


# ------------------------------------------------------------------------------------- oee


def parse_duration(text: str, flag: str) -> float:
    """Seconds from "420m", "1.5h", "30s" or a bare number of seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise CliError(f"{flag}: {text!r} is not a duration such as 420m, 1.5h or 30s")
    return float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


def _count(value: int | None, flag: str) -> int:
    if value is None:
        raise CliError(f"{flag} is required without --events")
    if value < 0:
        raise CliError(f"{flag}: count {value} is negative")
    if value > MAX_COUNT:  # checked here, or the refusal named a CSV column 'total'
        raise CliError(f"{flag}: count {value} is beyond {MAX_COUNT:g}")
    return value


def _parse_time(text: str, flag: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"{flag}: {text!r} is not an ISO 8601 timestamp") from None


def _window(args: argparse.Namespace) -> tuple[datetime, datetime] | None:
    if args.window and args.shift:
        raise CliError("give --window or --shift, not both")
    if args.window:
        start, sep, end = args.window.partition("/")
        if not sep:
            raise CliError(f"--window: {args.window!r} is not START/END")
        return _parse_time(start, "--window"), _parse_time(end, "--window")
    if args.shift:
        match = re.match(r"^(\d{4}-\d{2}-\d{2})@(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$", args.shift)
        if match is None:
            raise CliError(f"--shift: {args.shift!r} is not DATE@HH:MM-HH:MM")
        try:
            day = date.fromisoformat(match.group(1))
            start_t, end_t = (time.fromisoformat(g.zfill(5)) for g in match.groups()[1:])
        except ValueError as exc:
            raise CliError(f"--shift: {exc}") from None
        return shift_window(day, start_t, end_t, _zone(args.timezone))
    if args.timezone:
        raise CliError("--timezone: only with --shift (a --window carries its own offsets)")
    return None


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise CliError(f"--timezone: {name!r} is not a known IANA time zone") from None


def read_records(path: str, required: Sequence[str]) -> tuple[list[dict[str, str | None]], Table]:
    """Rows of a CSV with a header, keys lower-cased; the Table maps rows to file lines."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise CliError(f"{path}: missing column(s) {', '.join(missing)}")
            records: list[dict[str, str | None]] = []
            lines: list[int] = []
            for row in reader:
                extra = row.get(None)  # DictReader's restkey: cells beyond the header
                if extra and any(str(cell).strip() for cell in extra):
                    raise CliError(
                        f"{path}: row {reader.line_num}: more cells than the header's "
                        f"{len(header)} columns"
                    )
                records.append({(k or "").strip().lower(): v for k, v in row.items()})
                lines.append(reader.line_num)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None
    return records, Table(path, header, [], lines)


def _oee_json(o: Oee) -> dict[str, Any]:
    return {
        "availability": o.availability,
        "performance": o.performance,
        "quality": o.quality,
        "oee": o.oee,
        "planned_production_time_s": o.planned_production_time,
        "run_time_s": o.run_time,
        "down_time_s": o.down_time,
        "idle_time_s": o.idle_time,
        "changeover_time_s": o.changeover_time,
        "planned_stop_time_s": o.planned_stop_time,
        "total_count": o.total_count,
        "good_count": o.good_count,
        "failures": o.failures,
        "mtbf_s": o.mtbf,
        "mttr_s": o.mttr,
        "mtbf": o.mtbf,
        "mttr": o.mttr,
        "downtime_by_reason": o.downtime_by_reason,
    }


def _print_oee(rows: Iterator[tuple[str, Oee]]) -> None:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    print(f"{'scope':<16} {'avail':>7} {'perf':>7} {'qual':>7} {'oee':>7}")
    fast = []
    for name, o in rows:
        print(
            f"{name:<16} {pct(o.availability):>7} {pct(o.performance):>7}"
            f" {pct(o.quality):>7} {pct(o.oee):>7}"
        )
        if o.performance is not None and o.performance > 1:
            fast.append(name)
    if fast:
        # Reported as computed (docs/mes.md), but a reader should not take it for a result.
        print(
            f"note: performance above 100 % ({', '.join(fast)}): more parts than the ideal "
            "cycle time allows in the run time; the ideal cycle time is too long"
        )


def run_oee(args: argparse.Namespace) -> int:
    ict = ideal_cycle_time(args.ideal_cycle_time) if args.ideal_cycle_time else None
    if args.events or args.counts:
        if not (args.events and args.counts):
            raise CliError("--events and --counts go together")
        totals = [
            flag
            for flag, value in (
                ("--planned-time", args.planned_time),
                ("--downtime", args.downtime),
                ("--total-count", args.total_count),
                ("--good-count", args.good_count),
            )
            if value is not None
        ]
        if totals:
            # Silently ignoring them would report figures the user did not ask for.
            raise CliError(
                f"{', '.join(totals)}: not used with --events and --counts "
                "(times come from the event log, counts from the counts file)"
            )
        return _oee_events(args, ict)
    if args.planned_time is None or ict is None:
        raise CliError("give --planned-time and --ideal-cycle-time, or --events and --counts")
    planned = parse_duration(args.planned_time, "--planned-time")
    down = parse_duration(args.downtime, "--downtime") if args.downtime else 0.0
    total = _count(args.total_count, "--total-count")
    good = _count(args.good_count, "--good-count")
    if good > total:
        raise CliError(f"--good-count ({good}) exceeds --total-count ({total})")
    if down > planned:
        raise CliError(f"--downtime ({args.downtime}) exceeds --planned-time ({args.planned_time})")
    result = _plain(lambda: oee_from_totals(planned, down, ict, total, good))
    if args.json:
        print(json.dumps(_oee_json(result), indent=2))
    else:
        _print_oee(iter([("total", result)]))
    return 0


def _oee_error(exc: MesInputError, args: argparse.Namespace, counts: Table) -> CliError:
    """Point an OEE error at what it is about: the event log, the window option or a count."""
    if exc.field == "events":
        return CliError(f"{args.events}: {exc.detail}")
    if exc.field == "window":
        given = "--window" if args.window else "--shift" if args.shift else "the event log's span"
        hint = ""
        if args.shift and not args.timezone and "UTC offset" in exc.detail:
            hint = " (give --timezone ZONE: the shift's wall times are then that zone's)"
        return CliError(f"{given}: {exc.detail}{hint}")
    return in_file(counts, exc)


def _oee_events(args: argparse.Namespace, ict: float | None) -> int:
    ev_rows, ev_table = read_records(args.events, ("timestamp", "work_unit", "state"))
    ct_rows, ct_table = read_records(args.counts, ("timestamp", "work_unit", "total", "good"))
    events = _mes(ev_table, lambda: events_from_records(ev_rows))
    counts = _mes(ct_table, lambda: counts_from_records(ct_rows))
    window = _window(args)
    try:
        report = oee_from_events(events, counts, window=window, ideal_cycle_time=ict)
    except MesInputError as exc:
        raise _oee_error(exc, args, ct_table) from None
    overall = combine_oee(report.work_units.values())
    out: dict[str, Any] = {
        "window": {"start": report.window[0].isoformat(), "end": report.window[1].isoformat()},
        **_oee_json(overall),
        "counts_outside_window": report.counts_outside,
        "counts_before_first_event": report.counts_before_events,
        "lines": {name: _oee_json(o) for name, o in report.lines.items()},
        "work_units": {
            name: {"line": report.line_of[name], **_oee_json(o)}
            for name, o in report.work_units.items()
        },
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"window {out['window']['start']} .. {out['window']['end']}")
    _print_oee(
        iter(
            [
                *((f"line {n}", o) for n, o in report.lines.items()),
                *report.work_units.items(),
            ]
        )
    )
    if overall.downtime_by_reason:
        print("downtime by reason:")
        for reason, secs in overall.downtime_by_reason.items():
            print(f"  {reason:<24} {secs / 60:8.1f} min")
    if report.counts_outside:
        print(_outside_note(report.counts_outside, args.counts))
    if report.counts_before_events:
        print(
            f"note: {report.counts_before_events} row(s) of {args.counts} are stamped before "
            "their work unit's first state event (time not known) and are not counted"
        )
    return 0


def _outside_note(rows: int, counts: str) -> str:
    return (
        f"note: {rows} row(s) of {counts} fall outside the window and are not counted "
        "(the window defaults to the first to the last state event)"
    )


# -------------------------------------------------------------------------------- register


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    spc = subparsers.add_parser(
        "spc",
        help="control chart limits and run-rule violations from a CSV",
        description="Shewhart control chart from a CSV with one subgroup per row.",
    )
    spc.add_argument("--csv", required=True, metavar="FILE")
    spc.add_argument("--chart", required=True, choices=[k.value for k in ChartKind])
    spc.add_argument("--subgroup-size", type=int, metavar="N")
    spc.add_argument(
        "--phase1", type=int, metavar="N", help="estimate limits from the first N subgroups"
    )
    spc.add_argument(
        "--remove-ooc",
        action="store_true",
        help="in Phase I, drop subgroups beyond the limits and re-estimate until none remain",
    )
    spc.add_argument(
        "--rules", default="weco", help="nelson | weco | all | comma list (default: weco)"
    )
    spc.add_argument("--json", action="store_true")
    spc.set_defaults(func=run_spc)

    cap = subparsers.add_parser("capability", help="Cp, Cpk, Pp, Ppk from a CSV of measurements")
    cap.add_argument("--csv", required=True, metavar="FILE")
    cap.add_argument("--lsl", type=spec_limit)
    cap.add_argument("--usl", type=spec_limit)
    cap.add_argument("--subgroup-size", type=int, metavar="N")
    cap.add_argument(
        "--within", choices=["r", "s"], default="r", help="within sigma from R-bar or s-bar"
    )
    cap.add_argument("--json", action="store_true")
    cap.set_defaults(func=run_capability)

    oee = subparsers.add_parser("oee", help="OEE from shift totals or a machine-state log")
    oee.add_argument("--planned-time", metavar="DURATION")
    oee.add_argument("--downtime", metavar="DURATION")
    oee.add_argument("--ideal-cycle-time", metavar="DURATION")
    oee.add_argument("--total-count", type=int)
    oee.add_argument("--good-count", type=int)
    oee.add_argument("--events", metavar="FILE", help="state log: timestamp,work_unit,state,...")
    oee.add_argument("--counts", metavar="FILE", help="counts: timestamp,work_unit,total,good")
    oee.add_argument("--window", metavar="START/END", help="ISO 8601 timestamps")
    oee.add_argument("--shift", metavar="DATE@HH:MM-HH:MM", help="e.g. 2024-03-01@22:00-06:00")
    oee.add_argument(
        "--timezone",
        metavar="ZONE",
        help="IANA zone of --shift's wall times (e.g. Europe/Berlin); needed when the event "
        "log's timestamps carry UTC offsets",
    )
    oee.add_argument("--json", action="store_true")
    oee.set_defaults(func=run_oee)
