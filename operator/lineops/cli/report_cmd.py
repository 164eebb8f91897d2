"""``lineops report``: control charts, capability and OEE as PNG and HTML in one folder.

Two ways in: one characteristic from a CSV (``--csv`` with ``--chart`` and optional spec
limits), or a whole line (``--line-file`` with ``--data DIR`` holding ``<characteristic>.csv``
per quality characteristic; chart type, subgroup size, run rules, limits and targets then
come from the ProductionLine). Either may add an OEE waterfall from a machine-state log and
part counts. Everything is computed before anything is written, so bad input leaves no
half-written report behind.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from lineops.api.productionline import SUBGROUP_CHARTS, ProductionLine, QualityCharacteristic
from lineops.cli.errors import CliError
from lineops.cli.mes_cmd import Table, chart_data, parse_duration, read_records, read_table
from lineops.cli.rules_cmd import load_lines
from lineops.mes.capability import WithinMethod
from lineops.mes.charts import ChartKind
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.oee import Oee, counts_from_records, events_from_records, oee_from_events
from lineops.mes.rules import parse_rules
from lineops.services.reports import (
    Artifact,
    capability_content,
    control_chart_content,
    oee_content,
    prepare,
    write_capability,
    write_control_chart,
    write_index,
    write_oee,
)

T = TypeVar("T")
Writer = Callable[[Path], Artifact]

EVENT_COLUMNS = ("timestamp", "work_unit", "state")
COUNT_COLUMNS = ("timestamp", "work_unit", "total", "good")


@dataclass
class Plan:
    """Charts computed and ready to draw, in index order, plus notes for the index."""

    title: str
    writers: list[Writer]
    notes: list[str]


def _located(table: Table, exc: MesInputError) -> CliError:
    if exc.row is not None and 0 <= exc.row < len(table.lines):
        return CliError(f"{table.path}: {exc.located(table.line(exc.row))}")
    return CliError(f"{table.path}: {exc}")


def _on(table: Table, call: Callable[[], T]) -> T:
    try:
        return call()
    except MesInputError as exc:
        raise _located(table, exc) from None


# --------------------------------------------------------------------------- one CSV file


def _spc_writers(
    table: Table,
    kind: ChartKind,
    data: ChartData,
    *,
    rules: Sequence[str],
    title: str,
    unit: str,
    phase1: int | None,
    lsl: float | None,
    usl: float | None,
    target: float | None,
    cpk_target: float | None,
) -> list[Writer]:
    try:
        chart = control_chart_content(kind, data, rules, title=title, unit=unit, phase1=phase1)
    except MesInputError as exc:
        if exc.field == "phase1":
            raise CliError(f"--phase1: {exc.detail}") from None
        raise _located(table, exc) from None
    stem = title
    writers: list[Writer] = [lambda out: write_control_chart(chart, out, stem)]
    if lsl is None and usl is None:
        return writers
    within: WithinMethod = "s" if kind is ChartKind.XBAR_S else "r"
    cap = _on(
        table,
        lambda: capability_content(
            data, lsl, usl, title=title, unit=unit, target=target, within=within
        ),
    )
    writers.append(lambda out: write_capability(cap, out, stem, cpk_target))
    return writers


def _plan_csv(args: argparse.Namespace, plan: Plan) -> None:
    kind = ChartKind(args.chart)
    if kind.is_attribute and (args.lsl is not None or args.usl is not None):
        raise CliError(f"--lsl/--usl: capability needs measurements; {kind} is an attribute chart")
    if args.lsl is not None and args.usl is not None and not args.lsl < args.usl:
        raise CliError(f"--lsl ({args.lsl:g}) must be below --usl ({args.usl:g})")
    if args.subgroup_size is not None and args.subgroup_size < 1:
        raise CliError(f"--subgroup-size must be positive, got {args.subgroup_size}")
    rules = _rules(args.rules)
    table = read_table(args.csv)
    data = chart_data(table, kind, args.subgroup_size)
    title = args.title or Path(args.csv).stem
    plan.writers += _spc_writers(
        table,
        kind,
        data,
        rules=rules,
        title=title,
        unit=args.unit or "",
        phase1=args.phase1,
        lsl=args.lsl,
        usl=args.usl,
        target=args.target,
        cpk_target=None,
    )


def _rules(text: str) -> tuple[str, ...]:
    try:
        return parse_rules(text)
    except MesInputError as exc:
        raise CliError(f"--rules: {exc.detail}") from None


# ---------------------------------------------------------------------------- a whole line


def _plan_characteristic(
    qc: QualityCharacteristic, path: Path, phase1: int | None, cpk_target: float
) -> list[Writer]:
    table = read_table(str(path))
    kind = ChartKind(qc.chart.value)
    data = chart_data(table, kind, qc.subgroup_size)
    measured = qc.chart in SUBGROUP_CHARTS or kind is ChartKind.IMR
    return _spc_writers(
        table,
        kind,
        data,
        rules=[r.value for r in qc.rules],
        title=qc.name,
        unit=qc.unit,
        phase1=phase1,
        lsl=qc.lsl_value if measured else None,
        usl=qc.usl_value if measured else None,
        target=qc.target_value,
        cpk_target=cpk_target,
    )


def _plan_line(args: argparse.Namespace, line: ProductionLine, plan: Plan) -> None:
    plan.title = args.title or f"Line {line.metadata.name} ({line.spec.site} / {line.spec.area})"
    if args.data is None:
        return
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise CliError(f"--data: {data_dir} is not a directory")
    cpk_target = line.spec.monitoring.cpk_target_value
    for qc in line.spec.quality_characteristics:
        path = data_dir / f"{qc.name}.csv"
        if not path.is_file():
            plan.notes.append(f"no data for {qc.name} (expected {path})")
            continue
        plan.writers += _plan_characteristic(qc, path, args.phase1, cpk_target)
    if not plan.writers:
        names = ", ".join(f"{qc.name}.csv" for qc in line.spec.quality_characteristics)
        raise CliError(f"--data: {data_dir} holds none of {names or 'no characteristics'}")


def _single_line(path: str) -> ProductionLine:
    lines = load_lines(path)
    if len(lines) > 1:
        raise CliError(f"{path}: holds {len(lines)} ProductionLines; give a file with one")
    return lines[0]


# ------------------------------------------------------------------------------------- OEE


def _total(parts: Mapping[str, Oee]) -> Oee:
    """The line aggregate: times and counts of the work units added up."""
    reasons: dict[str, float] = {}
    for p in parts.values():
        for reason, seconds in p.downtime_by_reason.items():
            reasons[reason] = reasons.get(reason, 0.0) + seconds
    values = list(parts.values())
    return Oee(
        planned_production_time=sum(p.planned_production_time for p in values),
        run_time=sum(p.run_time for p in values),
        down_time=sum(p.down_time for p in values),
        idle_time=sum(p.idle_time for p in values),
        changeover_time=sum(p.changeover_time for p in values),
        planned_stop_time=sum(p.planned_stop_time for p in values),
        ideal_production_time=sum(p.ideal_production_time for p in values),
        total_count=sum(p.total_count for p in values),
        good_count=sum(p.good_count for p in values),
        failures=sum(p.failures for p in values),
        downtime_by_reason=dict(sorted(reasons.items())),
    )


def _plan_oee(args: argparse.Namespace, line: ProductionLine | None, plan: Plan) -> None:
    ideal: float | dict[str, float] | None = None
    if args.ideal_cycle_time:
        ideal = parse_duration(args.ideal_cycle_time, "--ideal-cycle-time")
    elif line is not None:
        ideal = {unit.name: unit.ideal_cycle_seconds for unit in line.spec.work_units}
    ev_rows, ev_table = read_records(args.oee_events, EVENT_COLUMNS)
    ct_rows, ct_table = read_records(args.oee_counts, COUNT_COLUMNS)
    events = _on(ev_table, lambda: events_from_records(ev_rows))
    counts = _on(ct_table, lambda: counts_from_records(ct_rows))
    report = _on(ct_table, lambda: oee_from_events(events, counts, ideal_cycle_time=ideal))
    title = f"Line {line.metadata.name}" if line is not None else (args.title or "All work units")
    content = oee_content(title, _total(report.work_units), report.work_units)
    target = line.spec.monitoring.oee_target_value if line is not None else None
    plan.writers.append(lambda out: write_oee(content, out, "oee", target))
    start, end = report.window
    plan.notes.append(f"OEE window {start.isoformat()} .. {end.isoformat()}")


# -------------------------------------------------------------------------------- command


def _check_arguments(args: argparse.Namespace) -> None:
    if args.csv and args.line_file:
        raise CliError("give --csv or --line-file, not both")
    if bool(args.oee_events) != bool(args.oee_counts):
        raise CliError("--oee-events and --oee-counts go together")
    if args.data and not args.line_file:
        raise CliError("--data needs --line-file")
    if not (args.csv or args.line_file or args.oee_events):
        raise CliError("give --csv (with --chart), --line-file (with --data) or --oee-events")
    if args.csv and not args.chart:
        raise CliError("--csv needs --chart")
    if args.chart and not args.csv:
        raise CliError("--chart applies to --csv; a line file names each characteristic's chart")
    if args.line_file and not (args.data or args.oee_events):
        raise CliError("--line-file needs --data DIR (one <characteristic>.csv each)")
    if args.phase1 is not None and args.phase1 < 2:
        raise CliError(f"--phase1 must be at least 2 subgroups, got {args.phase1}")


def run_report(args: argparse.Namespace) -> int:
    _check_arguments(args)
    plan = Plan(title=args.title or "lineops report", writers=[], notes=[])
    line = _single_line(args.line_file) if args.line_file else None
    if args.csv:
        _plan_csv(args, plan)
    if line is not None:
        _plan_line(args, line, plan)
    if args.oee_events:
        _plan_oee(args, line, plan)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out: {out} exists and is not a directory")
    try:
        prepare(out)
        artifacts = [write(out) for write in plan.writers]
        index = write_index(out, plan.title, artifacts, plan.notes)
    except OSError as exc:
        raise CliError(f"--out: cannot write the report: {exc}") from None
    for artifact in artifacts:
        print(f"{artifact.title}: {artifact.summary}")
    for note in plan.notes:
        print(f"note: {note}")
    print(f"wrote {index} ({len(artifacts)} chart(s), PNG and HTML)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report",
        help="control-chart, capability and OEE report (PNG + HTML) into a folder",
        description="Write control charts (center line, limits, 1/2-sigma zones, flagged "
        "violations), a capability histogram with spec limits and fitted normal curves, and "
        "an OEE waterfall, each as PNG and interactive HTML, plus index.html.",
    )
    one = report.add_argument_group("one characteristic from a CSV")
    one.add_argument("--csv", metavar="FILE", help="one subgroup per row (attribute: count,n)")
    one.add_argument("--chart", choices=[k.value for k in ChartKind])
    one.add_argument("--subgroup-size", type=int, metavar="N")
    one.add_argument("--rules", default="weco", help="nelson | weco | all | comma list")
    one.add_argument("--lsl", type=float, help="lower specification limit (adds capability)")
    one.add_argument("--usl", type=float, help="upper specification limit (adds capability)")
    one.add_argument("--target", type=float, help="nominal value, drawn on the histogram")
    one.add_argument("--unit", help="engineering unit for axis titles, e.g. mm")
    line = report.add_argument_group("a whole production line")
    line.add_argument("--line-file", metavar="FILE.yaml", help="a ProductionLine manifest")
    line.add_argument("--data", metavar="DIR", help="folder with <characteristic>.csv files")
    oee = report.add_argument_group("OEE waterfall")
    oee.add_argument("--oee-events", metavar="FILE", help="timestamp,work_unit,state[,reason]")
    oee.add_argument("--oee-counts", metavar="FILE", help="timestamp,work_unit,total,good")
    oee.add_argument(
        "--ideal-cycle-time",
        metavar="DURATION",
        help="e.g. 1.2s; default: each work unit's idealCycleTime from --line-file",
    )
    report.add_argument("--phase1", type=int, metavar="N", help="limits from the first N subgroups")
    report.add_argument("--title", help="report title (default: the CSV name or the line)")
    report.add_argument("--out", required=True, metavar="DIR", help="report folder (created)")
    report.set_defaults(func=run_report)
