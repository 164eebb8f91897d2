"""``lineops report``: control charts, capability and OEE as PNG and HTML in one folder.

Three ways in: one characteristic from a CSV (``--csv`` with ``--chart`` and optional spec
limits); a whole line from files (``--line-file`` with ``--data DIR`` holding
``<characteristic>.csv`` per quality characteristic); or a line live (``--line
[NAMESPACE/]NAME``: the spec from the cluster, or from ``--line-file``, and the records the
operator stored in its MES store under ``--data-dir``). For a line, chart type, subgroup
size, run rules, limits and targets come from the ProductionLine. The file modes may add an
OEE waterfall from a machine-state log and part counts; the live mode adds it when the store
holds machine events. Every mode turns its input into the same chart data and OEE records,
and everything is computed before anything is written, so bad input leaves no half-written
report behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from lineops.api.productionline import ProductionLine, QualityCharacteristic
from lineops.cli.errors import CliError, cannot_draw, one_line
from lineops.cli.line_source import line_from_cluster, parse_line_ref
from lineops.cli.mes_cmd import (
    Table,
    chart_data,
    ideal_cycle_time,
    in_file,
    read_records,
    read_table,
    spc_rules,
    spec_limit,
)
from lineops.cli.rules_cmd import load_lines
from lineops.dataplane.db.database import DB_FILE, open_database, sqlite_url
from lineops.dataplane.db.engine import SchemaError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.mes import MesRepository
from lineops.mes.capability import WithinMethod
from lineops.mes.chart_tracker import PHASE1_SUBGROUPS
from lineops.mes.charts import MIN_SUBGROUPS, ChartKind
from lineops.mes.data import ChartData
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    combine_oee,
    counts_from_records,
    events_from_records,
    oee_from_events,
)
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
from lineops.services.reports.files import write_file
from lineops.services.reports.live import count_records, event_records, stored_subgroups
from lineops.settings import load_settings

T = TypeVar("T")
Writer = Callable[[Path], Artifact]
# Turns an analytics error into a message naming where the data came from (file row,
# stored subgroup).
Locate = Callable[[MesInputError], CliError]
Records = list[dict[str, str | None]]

EVENT_COLUMNS = ("timestamp", "work_unit", "state")
COUNT_COLUMNS = ("timestamp", "work_unit", "total", "good")
STORE_FILE = DB_FILE
DEFAULT_RULES = "weco"


@dataclass
class Plan:
    """Charts computed and ready to draw, in index order, plus notes for the index."""

    title: str
    writers: list[Writer]
    notes: list[str]


@dataclass(frozen=True)
class Series:
    """One characteristic's chart input, whichever mode it came from."""

    data: ChartData
    locate: Locate
    phase1: int | None  # limits from the first N subgroups; None: all
    source: str  # where the data came from, for messages: a file, the store


# A line mode's way to a characteristic's data; None (with a note) when there is none.
Source = Callable[[QualityCharacteristic, list[str]], Series | None]


def _in_table(table: Table) -> Locate:
    return lambda exc: in_file(table, exc)


def _in_store(path: Path, what: str) -> Locate:
    def locate(exc: MesInputError) -> CliError:
        if exc.row is not None:
            return CliError(f"{path}: {exc.located(f'{what} {exc.row + 1}')}")
        return CliError(f"{path}: {what}: {exc}")

    return locate


def _on(locate: Locate, call: Callable[[], T]) -> T:
    try:
        return call()
    except MesInputError as exc:
        raise locate(exc) from None


# ----------------------------------------------------------------------- charts, all modes


def _spc_writers(
    locate: Locate,
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
    where: str | None = None,
) -> list[Writer]:
    """``where`` names the characteristic and its data when --phase1 is one for several."""
    try:
        chart = control_chart_content(kind, data, rules, title=title, unit=unit, phase1=phase1)
    except MesInputError as exc:
        if exc.field == "phase1":
            raise CliError(f"--phase1: {where + ': ' if where else ''}{exc.detail}") from None
        raise locate(exc) from None
    stem = title
    writers: list[Writer] = [lambda out: write_control_chart(chart, out, stem)]
    if lsl is None and usl is None:
        return writers
    within: WithinMethod = "s" if kind is ChartKind.XBAR_S else "r"
    cap = _on(
        locate,
        lambda: capability_content(
            data, lsl, usl, title=title, unit=unit, target=target, within=within
        ),
    )
    writers.append(lambda out: write_capability(cap, out, stem, cpk_target))
    return writers


# --------------------------------------------------------------------------- one CSV file


def _plan_csv(args: argparse.Namespace, plan: Plan) -> None:
    kind = ChartKind(args.chart)
    if kind.is_attribute and (args.lsl is not None or args.usl is not None):
        raise CliError(f"--lsl/--usl: capability needs measurements; {kind} is an attribute chart")
    if args.lsl is not None and args.usl is not None and not args.lsl < args.usl:
        raise CliError(f"--lsl ({args.lsl:g}) must be below --usl ({args.usl:g})")
    if args.subgroup_size is not None and args.subgroup_size < 1:
        raise CliError(f"--subgroup-size must be positive, got {args.subgroup_size}")
    rules = spc_rules(DEFAULT_RULES if args.rules is None else args.rules)
    table = read_table(args.csv)
    data = chart_data(table, kind, args.subgroup_size)
    title = args.title or Path(args.csv).stem
    plan.writers += _spc_writers(
        _in_table(table),
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


# ---------------------------------------------------------------------------- a whole line


def _plan_line(line: ProductionLine, source: Source, plan: Plan) -> int:
    """Charts of every characteristic ``source`` has data for; returns how many had."""
    cpk_target = line.spec.monitoring.cpk_target_value
    charted = 0
    for qc in line.spec.quality_characteristics:
        series = source(qc, plan.notes)
        if series is None:
            continue
        kind = qc.chart
        measured = not kind.is_attribute
        plan.writers += _spc_writers(
            series.locate,
            kind,
            series.data,
            rules=[r.value for r in qc.rules],
            title=qc.name,
            unit=qc.unit,
            phase1=series.phase1,
            lsl=qc.lsl_value if measured else None,
            usl=qc.usl_value if measured else None,
            target=qc.target_value,
            cpk_target=cpk_target,
            where=f"{qc.name} ({series.source})",
        )
        charted += 1
    return charted


def _line_title(args: argparse.Namespace, line: ProductionLine) -> str:
    return args.title or f"Line {line.metadata.name} ({line.spec.site} / {line.spec.area})"


def _csv_source(data_dir: Path, phase1: int | None) -> Source:
    """``<characteristic>.csv`` in ``data_dir``, one subgroup per row."""

    def source(qc: QualityCharacteristic, notes: list[str]) -> Series | None:
        path = data_dir / f"{qc.name}.csv"
        if not path.is_file():
            notes.append(f"no data for {qc.name} (expected {path})")
            return None
        table = read_table(str(path))
        data = chart_data(table, qc.chart, qc.subgroup_size)
        return Series(data, _in_table(table), phase1, str(path))

    return source


def _plan_line_files(args: argparse.Namespace, line: ProductionLine, plan: Plan) -> None:
    plan.title = _line_title(args, line)
    if args.data is None:
        return
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise CliError(f"--data: {data_dir} is not a directory")
    if not _plan_line(line, _csv_source(data_dir, args.phase1), plan):
        names = ", ".join(f"{qc.name}.csv" for qc in line.spec.quality_characteristics)
        raise CliError(f"--data: {data_dir} holds none of {names or 'no characteristics'}")


def _single_line(path: str) -> ProductionLine:
    lines = load_lines(path)
    if len(lines) > 1:
        raise CliError(f"{path}: holds {len(lines)} ProductionLines; give a file with one")
    return lines[0]


# ------------------------------------------------------------------------------------- OEE


def _plan_oee(
    args: argparse.Namespace,
    line: ProductionLine | None,
    events: tuple[Records, Locate],
    counts: tuple[Records, Locate],
    plan: Plan,
) -> None:
    """The waterfall from state-change and count records, whichever mode read them."""
    ideal: float | dict[str, float] | None = None
    if args.ideal_cycle_time:
        ideal = ideal_cycle_time(args.ideal_cycle_time)
    elif line is not None:
        ideal = {unit.name: unit.ideal_cycle_seconds for unit in line.spec.work_units}
    (ev_rows, ev_where), (ct_rows, ct_where) = events, counts
    states = _on(ev_where, lambda: events_from_records(ev_rows))
    parts = _on(ct_where, lambda: counts_from_records(ct_rows))
    try:
        report = oee_from_events(states, parts, ideal_cycle_time=ideal)
    except MesInputError as exc:
        # An empty event log is the events source's fault, not the counts'; "events" names
        # the source itself, not a column in it.
        if exc.field == "events":
            raise ev_where(MesInputError(exc.detail)) from None
        raise ct_where(exc) from None
    title = f"Line {line.metadata.name}" if line is not None else (args.title or "All work units")
    content = oee_content(title, combine_oee(report.work_units.values()), report.work_units)
    target = line.spec.monitoring.oee_target_value if line is not None else None
    plan.writers.append(lambda out: write_oee(content, out, "oee", target))
    start, end = report.window
    plan.notes.append(f"OEE window {start.isoformat()} .. {end.isoformat()}")
    if report.counts_outside:
        plan.notes.append(
            f"{report.counts_outside} count record(s) fall outside the OEE window "
            "(the first to the last state event) and are not counted"
        )


def _oee_files(args: argparse.Namespace) -> tuple[tuple[Records, Locate], tuple[Records, Locate]]:
    ev_rows, ev_table = read_records(args.oee_events, EVENT_COLUMNS)
    ct_rows, ct_table = read_records(args.oee_counts, COUNT_COLUMNS)
    return (ev_rows, _in_table(ev_table)), (ct_rows, _in_table(ct_table))


# ------------------------------------------------------------------------- a line, live


def _store_path(data_dir: str | None) -> Path:
    """The operator's MES store, checked before opening (opening would create it)."""
    directory = Path(data_dir) if data_dir else load_settings().data_dir
    if not directory.exists():
        raise CliError(f"--data-dir: {directory} does not exist (the operator's --data-dir)")
    if not directory.is_dir():
        raise CliError(f"--data-dir: {directory} is not a directory")
    path = directory / STORE_FILE
    if not path.is_file():
        raise CliError(f"--data-dir: no MES store in {directory} (expected {path})")
    return path


def _named_line(path: str, name: str) -> ProductionLine:
    lines = load_lines(path)
    for line in lines:
        if line.metadata.name == name:
            return line
    found = ", ".join(line.metadata.name for line in lines)
    raise CliError(f"{path}: no ProductionLine named {name} (the file holds {found})")


def _store_source(store: MesRepository, key: LineRef, path: Path, phase1: int | None) -> Source:
    """Stored measurements grouped as the operator groups them; Phase I as it judges."""

    def source(qc: QualityCharacteristic, notes: list[str]) -> Series | None:
        stored = stored_subgroups(qc, [m for _, m in store.measurements(key, qc.name)])
        if stored.count < MIN_SUBGROUPS:
            notes.append(
                f"{qc.name}: skipped, {stored.count} subgroup(s) stored "
                f"(a chart needs at least {MIN_SUBGROUPS})"
            )
            return None
        if stored.pending:
            notes.append(
                f"{qc.name}: {stored.pending} value(s) of an incomplete subgroup of "
                f"{stored.size} not charted yet"
            )
        if phase1 is None and stored.count < PHASE1_SUBGROUPS:
            notes.append(
                f"{qc.name}: trial limits from all {stored.count} subgroups; the operator "
                f"judges the chart once {PHASE1_SUBGROUPS} are stored"
            )
        locate = _in_store(path, f"{qc.name} subgroup")
        data = _on(locate, stored.chart_data)
        phase1_or_trial = phase1 or min(PHASE1_SUBGROUPS, stored.count)
        return Series(data, locate, phase1_or_trial, f"{stored.count} subgroups stored in {path}")

    return source


def _plan_live(args: argparse.Namespace, plan: Plan) -> None:
    namespace, name = parse_line_ref(args.line)
    key = LineRef(namespace, name)
    path = _store_path(args.data_dir)
    if args.line_file:
        line = _named_line(args.line_file, name)
    else:
        line = line_from_cluster(namespace, name, args.kubeconfig)
    plan.title = _line_title(args, line)
    try:
        db = open_database(sqlite_url(path), create_empty=False)
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"{path}: cannot open the MES store: {one_line(exc)}") from None
    store = db.mes
    try:
        charted = _plan_line(line, _store_source(store, key, path, args.phase1), plan)
        events, counts = store.events(key), store.counts(key)
        measured = charted or any(
            store.measurements(key, qc.name) for qc in line.spec.quality_characteristics
        )
    except SQLAlchemyError as exc:
        raise CliError(f"{path}: cannot read the MES store: {one_line(exc)}") from None
    finally:
        db.close()
    if not (measured or events or counts):
        raise CliError(f"{path}: no MES records for line {key}")
    if events:
        ev_where, ct_where = _in_store(path, "machine event"), _in_store(path, "count")
        _plan_oee(
            args, line, (event_records(events), ev_where), (count_records(counts), ct_where), plan
        )
    elif counts:
        plan.notes.append("production counts but no machine events stored: no OEE waterfall")
    if not plan.writers:
        raise CliError(f"{path}: nothing to chart yet for line {key}: {'; '.join(plan.notes)}")


# -------------------------------------------------------------------------------- command


def _check_arguments(args: argparse.Namespace) -> None:
    if args.line:
        for flag, value in (("--csv", args.csv), ("--data", args.data)):
            if value:
                raise CliError(f"{flag} does not go with --line (records come from --data-dir)")
        if args.oee_events or args.oee_counts:
            raise CliError("--oee-events/--oee-counts do not go with --line (the store has them)")
        if args.chart:
            raise CliError("--chart applies to --csv; the line names each characteristic's chart")
    else:
        for flag, value in (("--data-dir", args.data_dir), ("--kubeconfig", args.kubeconfig)):
            if value:
                raise CliError(f"{flag} needs --line")
    if args.csv and args.line_file:
        raise CliError("give --csv or --line-file, not both")
    if bool(args.oee_events) != bool(args.oee_counts):
        raise CliError("--oee-events and --oee-counts go together")
    if args.data and not args.line_file:
        raise CliError("--data needs --line-file")
    if not (args.csv or args.line_file or args.oee_events or args.line):
        raise CliError(
            "give --csv (with --chart), --line-file (with --data), --line or --oee-events"
        )
    if args.csv and not args.chart:
        raise CliError("--csv needs --chart")
    if args.chart and not args.csv:
        raise CliError("--chart applies to --csv; a line file names each characteristic's chart")
    if not args.csv:
        # A line's characteristics bring their own; OEE has none. Ignoring them silently left
        # a user believing e.g. --lsl had been applied.
        why = "; a line sets it per characteristic" if args.line or args.line_file else ""
        for flag, value in (
            ("--subgroup-size", args.subgroup_size),
            ("--rules", args.rules),
            ("--lsl", args.lsl),
            ("--usl", args.usl),
            ("--target", args.target),
            ("--unit", args.unit),
        ):
            if value is not None:
                raise CliError(f"{flag} applies to --csv{why}")
    if args.line_file and not (args.data or args.oee_events or args.line):
        raise CliError("--line-file needs --data DIR (one <characteristic>.csv each) or --line")
    if args.phase1 is not None and args.phase1 < 2:
        raise CliError(f"--phase1 must be at least 2 subgroups, got {args.phase1}")


def _plan(args: argparse.Namespace) -> Plan:
    plan = Plan(title=args.title or "lineops report", writers=[], notes=[])
    if args.line:
        _plan_live(args, plan)
        return plan
    line = _single_line(args.line_file) if args.line_file else None
    if args.csv:
        _plan_csv(args, plan)
    if line is not None:
        _plan_line_files(args, line, plan)
    if args.oee_events:
        _plan_oee(args, line, *_oee_files(args), plan)
    return plan


def _draw(plan: Plan, stage: Path) -> list[Artifact]:
    """Every chart's files in ``stage``. A chart that cannot be drawn is a message, not a
    traceback, and ``--out`` is not touched yet."""
    try:
        return [write(stage) for write in plan.writers]
    except OSError:
        raise
    except Exception as exc:
        raise cannot_draw("cannot draw the report", exc) from None


def _publish(drawn: Artifact, out: Path) -> Artifact:
    """A drawn chart's files moved into ``out``, each replaced whole."""
    png, page = (write_file(out / path.name, path.read_bytes()) for path in (drawn.png, drawn.html))
    return dataclasses.replace(drawn, png=png, html=page)


def run_report(args: argparse.Namespace) -> int:
    _check_arguments(args)
    plan = _plan(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out: {out} exists and is not a directory")
    try:
        # Drawn apart first: a failure while drawing leaves the folder as it was.
        with tempfile.TemporaryDirectory(prefix="lineops-report-") as stage:
            drawn = _draw(plan, Path(stage))
            prepare(out)
            artifacts = [_publish(artifact, out) for artifact in drawn]
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
    one.add_argument("--rules", help=f"nelson | weco | all | comma list (default: {DEFAULT_RULES})")
    one.add_argument("--lsl", type=spec_limit, help="lower specification limit (adds capability)")
    one.add_argument("--usl", type=spec_limit, help="upper specification limit (adds capability)")
    one.add_argument(
        "--target", type=spec_limit, help="nominal value, drawn on the histogram"
    )  # finite and within ±1e100, as --lsl/--usl: "nan" drew "Target nan"
    one.add_argument("--unit", help="engineering unit for axis titles, e.g. mm")
    line = report.add_argument_group("a whole production line")
    line.add_argument("--line-file", metavar="FILE.yaml", help="a ProductionLine manifest")
    line.add_argument("--data", metavar="DIR", help="folder with <characteristic>.csv files")
    live = report.add_argument_group("a production line, live from the operator's MES store")
    live.add_argument(
        "--line",
        metavar="[NAMESPACE/]NAME",
        help="the ProductionLine (namespace default); its spec from the cluster, or from "
        "--line-file",
    )
    live.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the operator's data folder holding lineops.db (default: $LINEOPS_DATA_DIR or "
        ".lineops)",
    )
    live.add_argument("--kubeconfig", metavar="FILE", help="default: in-cluster or $KUBECONFIG")
    oee = report.add_argument_group("OEE waterfall")
    oee.add_argument("--oee-events", metavar="FILE", help="timestamp,work_unit,state[,reason]")
    oee.add_argument("--oee-counts", metavar="FILE", help="timestamp,work_unit,total,good")
    oee.add_argument(
        "--ideal-cycle-time",
        metavar="DURATION",
        help="e.g. 1.2s; default: each work unit's idealCycleTime from --line-file",
    )
    report.add_argument(
        "--phase1",
        type=int,
        metavar="N",
        help=f"limits from the first N subgroups (default: all; --line: {PHASE1_SUBGROUPS})",
    )
    report.add_argument("--title", help="report title (default: the CSV name or the line)")
    report.add_argument("--out", required=True, metavar="DIR", help="report folder (created)")
    report.set_defaults(func=run_report)
