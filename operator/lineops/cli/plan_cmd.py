"""``lineops plan``: a production plan from an order book and a ProductionLine, and
``lineops plan jssp``: a job-shop benchmark instance, for comparing with published results.

The plan is CP-SAT's (OR-Tools) within ``--time-limit``; when it finds none in time, the
dispatch rule's (``--fallback``), and the output says so. ``--gantt DIR`` writes the Gantt
chart (PNG and interactive HTML) with an index, as ``lineops report`` does.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from lineops.api.productionline import ProductionLine
from lineops.cli.errors import CliError, cannot_draw, integer_in, yaml_problem
from lineops.cli.rules_cmd import load_lines
from lineops.planning import (
    Method,
    Objective,
    PlanInfeasibleError,
    PlanningInputError,
    Problem,
    Schedule,
    SolveOptions,
    solve,
    tardiness,
    utilisation,
    weighted_tardiness,
)
from lineops.planning.jssp import parse_jssp
from lineops.planning.orders import OrderBook, duration, order_book


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # a BOM is not part of line 1
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None


def _options(args: argparse.Namespace, objective: Objective) -> SolveOptions:
    if not 0 < args.time_limit < math.inf:
        raise CliError(
            f"--time-limit: must be a finite number of seconds > 0, got {args.time_limit:g}"
        )
    if args.workers < 1:
        raise CliError(f"--workers: must be at least 1, got {args.workers}")
    return SolveOptions(
        objective=objective,
        time_limit=args.time_limit,
        workers=args.workers,
        fallback=Method(getattr(args, "fallback", Method.EDD.value)),
    )


def _solve(
    problem: Problem, options: SolveOptions, source: str, origin: datetime | None = None
) -> Schedule:
    try:
        return solve(problem, options)
    except (PlanningInputError, PlanInfeasibleError) as exc:
        # The model's times are seconds from the plan's start: say which instant that is,
        # or "released at 522000 s" is arithmetic left to the reader.
        at = "" if origin is None else f" (times in s from the plan start, {origin.isoformat()})"
        raise CliError(f"{source}: {exc}{at}") from None


# ------------------------------------------------------------------------ the order book


def _line(path: str, name: str | None) -> ProductionLine:
    lines = load_lines(path)
    if name is not None:
        for line in lines:
            if line.metadata.name == name:
                return line
        found = ", ".join(line.metadata.name for line in lines)
        raise CliError(f"{path}: no ProductionLine named {name} (the file holds {found})")
    if len(lines) > 1:
        raise CliError(f"{path}: holds {len(lines)} ProductionLines; name one with --line")
    return lines[0]


def _horizon(args: argparse.Namespace) -> timedelta | None:
    if args.horizon is None:
        return None
    try:
        horizon = duration(args.horizon, "--horizon")
    except PlanningInputError as exc:
        raise CliError(str(exc)) from None
    if horizon <= timedelta(0):  # refused later under the order book's name otherwise
        raise CliError(f"--horizon: must be positive, got {args.horizon!r}")
    return horizon


def _book(args: argparse.Namespace, line: ProductionLine, horizon: timedelta | None) -> OrderBook:
    try:
        data = yaml.safe_load(_read(args.orders))
    except yaml.YAMLError as exc:
        raise CliError(f"{args.orders}: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise CliError(f"{args.orders}: expected a mapping with products and orders")
    try:
        return order_book(data, line, horizon=horizon)
    except PlanningInputError as exc:
        raise CliError(f"{args.orders}: {exc}") from None


def plan_report(book: OrderBook, schedule: Schedule) -> dict[str, Any]:
    """The plan as JSON: times as ISO 8601, lengths of time in seconds."""
    problem = book.problem
    late = tardiness(problem, schedule)
    return {
        "method": schedule.method.value,
        "status": schedule.status,
        "objectives": schedule.objectives,
        "bound": schedule.bound,
        "start": book.origin.isoformat(),
        "end": book.at(schedule.makespan).isoformat(),
        "weightedTardiness": weighted_tardiness(problem, schedule),
        "lateOrders": sorted(name for name, t in late.items() if t > 0),
        "schedule": [
            {
                "order": a.job,
                "index": a.index,
                "workUnit": a.work_unit,
                "start": book.at(a.start).isoformat(),
                "end": book.at(a.end).isoformat(),
            }
            for a in schedule.assignments
        ],
        "tardiness": late,
        "utilisation": {
            unit: round(share, 4) for unit, share in utilisation(problem, schedule).items()
        },
        "blocked": [
            {
                "workUnit": w.work_unit,
                "start": book.at(w.start).isoformat(),
                "end": book.at(w.end).isoformat(),
                "reason": w.reason,
            }
            for w in sorted(problem.blocked, key=lambda w: (w.start, w.work_unit))
        ],
        "notes": list(schedule.notes),
    }


def _print_plan(report: dict[str, Any], title: str) -> None:
    print(f"{title}: {report['method']} ({report['status']}), {report['start']} .. {report['end']}")
    for row in report["schedule"]:
        print(
            f"  {row['start']}  {row['end']}  {row['workUnit']:<14} "
            f"{row['order']} op {row['index']}"
        )
    late = report["lateOrders"]
    print(f"late orders: {', '.join(late) if late else 'none'}")
    for name in late:
        print(f"  {name}: {_late(report['tardiness'][name])} late")
    print("utilisation: " + ", ".join(f"{u} {s:.0%}" for u, s in report["utilisation"].items()))
    for note in report["notes"]:
        print(f"note: {note}")


def _gantt(
    out: str, title: str, problem: Problem, schedule: Schedule, book: OrderBook | None
) -> Path:
    # Drawing pulls in matplotlib and plotly: only when a chart is asked for.
    from lineops.services.reports import prepare, write_index
    from lineops.services.reports.gantt import gantt_content, write_gantt

    directory = Path(out)
    content = gantt_content(title, problem, schedule, book.origin if book else None)
    try:
        prepare(directory)
        artifact = write_gantt(content, directory)
        return write_index(directory, title, [artifact])
    except OSError as exc:
        raise CliError(f"--gantt: cannot write into {out}: {exc}") from None
    except Exception as exc:  # the plan was made (and printed with --json): a traceback hid that
        raise cannot_draw("--gantt: cannot draw the chart", exc) from None


def _check_gantt(out: str | None) -> None:
    """A --gantt path that cannot be a directory fails before the solve, not after it."""
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise CliError(f"--gantt: {out} is a file; give a directory (it is created if missing)")


def run_plan(args: argparse.Namespace) -> int:
    # The plan-level defaults (None in the parser: see _solver_arguments).
    if args.time_limit is None:
        args.time_limit = DEFAULT_TIME_LIMIT
    if args.workers is None:
        args.workers = DEFAULT_WORKERS
    if args.objective is None:
        args.objective = Objective.LEXICOGRAPHIC.value
    if args.fallback is None:
        args.fallback = Method.EDD.value
    if not (args.orders and args.line_file):
        raise CliError(
            "give --orders FILE and --line-file FILE (or: lineops plan jssp --instance FILE)"
        )
    _check_gantt(args.gantt)
    # The options first, as the docs say: a bad --time-limit or --horizon was reported only
    # after the order book had been read (or as its missing file).
    options = _options(args, Objective(args.objective))
    horizon = _horizon(args)
    line = _line(args.line_file, args.line)
    book = _book(args, line, horizon)
    schedule = _solve(book.problem, options, args.orders, book.origin)
    report = plan_report(book, schedule)
    title = f"Line {line.metadata.name}"
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_plan(report, title)
    if args.gantt:
        index = _gantt(args.gantt, title, book.problem, schedule, book)
        if not args.json:
            print(f"gantt chart: {index}")
    return 0


# ------------------------------------------------------------------------ job-shop files


# Options of `lineops plan` that `plan jssp` does not take before its name: argparse lets
# the subcommand's defaults overwrite them, so `plan --json jssp` printed text and
# `plan --time-limit 0 jssp` solved anyway.
PLAN_ONLY: Final = (
    ("orders", "--orders"),
    ("line_file", "--line-file"),
    ("line", "--line"),
    ("horizon", "--horizon"),
)


def _jssp_args(args: argparse.Namespace) -> argparse.Namespace:
    """The jssp subcommand's own options (dest ``jssp_*``) as the solver options; refuses
    plan-level options given before ``jssp``."""
    given = [flag for dest, flag in PLAN_ONLY if getattr(args, dest, None) is not None]
    given += [
        flag
        for dest, flag in (
            ("time_limit", "--time-limit"),
            ("workers", "--workers"),
            ("gantt", "--gantt"),
        )
        if getattr(args, dest) is not None
    ]
    given += ["--json"] if args.json else []
    given += ["--objective"] if args.objective is not None else []
    given += ["--fallback"] if args.fallback is not None else []
    if given:
        raise CliError(
            f"plan jssp: {', '.join(given)} given before 'jssp' "
            "(jssp takes --instance, --time-limit, --workers, --json and --gantt after its name)"
        )
    return argparse.Namespace(
        instance=args.instance,
        time_limit=args.jssp_time_limit,
        workers=args.jssp_workers,
        json=args.jssp_json,
        gantt=args.jssp_gantt,
    )


def run_jssp(args: argparse.Namespace) -> int:
    args = _jssp_args(args)
    _check_gantt(args.gantt)
    try:
        problem = parse_jssp(_read(args.instance), args.instance)
    except PlanningInputError as exc:
        raise CliError(str(exc)) from None
    schedule = _solve(problem, _options(args, Objective.MAKESPAN), args.instance)
    rows = [
        {
            "job": int(a.job),
            "index": a.index,
            "machine": int(a.work_unit),
            "start": a.start,
            "end": a.end,
        }
        for a in sorted(schedule.assignments, key=lambda a: (int(a.job), a.index))
    ]
    if args.json:
        result = {
            "makespan": schedule.makespan,
            "status": schedule.status,
            "bound": schedule.bound,
            "method": schedule.method.value,
            "schedule": rows,
        }
        print(json.dumps(result, indent=2))
    else:
        bound = "" if schedule.bound is None else f", lower bound {schedule.bound}"
        print(f"makespan {schedule.makespan} ({schedule.method.value} {schedule.status}{bound})")
        print("schedule")
        for row in rows:
            print(
                f"  job {row['job']} op {row['index']} machine {row['machine']}: "
                f"{row['start']}-{row['end']}"
            )
    if args.gantt:
        index = _gantt(args.gantt, Path(args.instance).name, problem, schedule, None)
        if not args.json:
            print(f"gantt chart: {index}")
    return 0


DEFAULT_TIME_LIMIT: Final = 30.0
JSSP_TIME_LIMIT: Final = 60.0
DEFAULT_WORKERS: Final = 2


def _solver_arguments(
    parser: argparse.ArgumentParser, time_limit: float, prefix: str = "", unset: bool = False
) -> None:
    """``unset``: defaults None (run_plan applies them), so that `plan jssp` can tell an
    option given to `plan` from one left alone."""
    parser.add_argument(
        "--time-limit",
        dest=f"{prefix}time_limit",
        type=float,
        default=None if unset else time_limit,
        metavar="S",
        help=f"CP-SAT wall time in seconds (default {time_limit:g})",
    )
    parser.add_argument(
        "--workers",
        dest=f"{prefix}workers",
        # Past a few thousand CP-SAT fails (a traceback past 2**31); more workers than
        # cores only time-slice them.
        type=integer_in(1, 1024, "workers"),
        default=None if unset else DEFAULT_WORKERS,
        metavar="N",
        help=f"CP-SAT search workers, 1..1024 (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--json", dest=f"{prefix}json", action="store_true", help="print the plan as JSON"
    )
    parser.add_argument(
        "--gantt",
        dest=f"{prefix}gantt",
        metavar="DIR",
        help="write the Gantt chart (PNG + HTML + index.html) into DIR",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="production plan (CP-SAT) from an order book and a ProductionLine",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    plan.add_argument(
        "--orders", metavar="FILE", help="order book (YAML or JSON; see docs/planning.md)"
    )
    plan.add_argument("--line-file", metavar="FILE.yaml", help="a ProductionLine manifest")
    plan.add_argument(
        "--line", metavar="NAME", help="the ProductionLine in --line-file, when it holds several"
    )
    plan.add_argument(
        "--horizon",
        metavar="DURATION",
        help="plan window, e.g. 7d (default: the order book's, else 14d)",
    )
    plan.add_argument(
        "--objective",
        choices=[o.value for o in Objective],
        default=None,
        help="tardiness (weighted by priority), makespan, or lexicographic: tardiness, then "
        "makespan (default)",
    )
    plan.add_argument(
        "--fallback",
        choices=[Method.EDD.value, Method.WSPT.value, Method.MWKR.value],
        default=None,
        help="dispatch rule when CP-SAT finds no plan in time: earliest due date, weighted "
        "shortest processing time or most work remaining (default edd)",
    )
    _solver_arguments(plan, DEFAULT_TIME_LIMIT, unset=True)
    plan.set_defaults(func=run_plan)
    sub = plan.add_subparsers(dest="plan_command", metavar="COMMAND")
    jssp = sub.add_parser(
        "jssp",
        help="solve a job-shop instance (standard format) for makespan",
        description="Reads the standard job-shop format: '#' comments, a 'jobs machines' line, "
        "then one line per job of 'machine duration' pairs (machines from 0).",
    )
    jssp.add_argument("--instance", required=True, metavar="FILE", help="the instance file")
    _solver_arguments(jssp, JSSP_TIME_LIMIT, prefix="jssp_")
    jssp.set_defaults(func=run_jssp)


def _late(seconds: float) -> str:
    """Hours, or minutes and seconds under an hour: 5 s late printed as '0.0 h late'."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
