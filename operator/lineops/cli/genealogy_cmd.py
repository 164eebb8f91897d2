"""`lineops lots trace|recall|epcis`: the genealogy, read from a running data plane (``--url``)
or straight from its database (``--db``).

``register(actions)`` adds the three commands to the ``lots`` group (its sub-parsers), which
:mod:`lineops.cli.lots_cmd` defines with the write commands. Human output is an indented
tree with the quantity on each edge; ``--json`` prints what the data plane's route answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from lineops.cli.errors import CliError, http_url, integer_in, one_line


def _connection(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--url", type=http_url, help="a running data plane, e.g. http://127.0.0.1:8081"
    )
    where.add_argument("--db", help="the data plane's database URL (reads it directly)")
    parser.add_argument("--line", required=True, metavar="NAMESPACE/NAME", help="the line")
    parser.add_argument("--token-file", default=None, help="bearer token (with --url)")


def register(actions: Any) -> None:
    """Add trace, recall and epcis to the ``lots`` group's sub-parsers."""
    trace = actions.add_parser(
        "trace", help="what a lot was made from (--backward) or what was made from it"
    )
    way = trace.add_mutually_exclusive_group(required=True)
    way.add_argument("--backward", action="store_true", help="inputs, recursively")
    way.add_argument("--forward", action="store_true", help="outputs, recursively")
    way.add_argument(
        "--between-repairs",
        nargs="+",
        metavar="MAINTENANCE",
        help="M1 [M2]: the lots made on M1's work unit after maintenance record M1 and before "
        "M2 (or until now); no LOT",
    )
    trace.add_argument("lot", metavar="LOT", nargs="?")
    trace.add_argument(
        "--depth",
        type=integer_in(1, MAX_DEPTH, "levels"),
        default=None,
        help="levels (default: all)",
    )
    trace.add_argument(
        "--maintenance",
        action="store_true",
        help="show the last planned and unplanned maintenance before each production lot",
    )
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    _connection(trace)
    trace.set_defaults(func=run_trace)

    recall = actions.add_parser("recall", help="everything made from a supplier lot")
    recall.add_argument("--supplier-lot", required=True, metavar="X")
    recall.add_argument(
        "--depth",
        type=integer_in(1, MAX_DEPTH, "levels"),
        default=None,
        help="levels (default: all)",
    )
    recall.add_argument("--json", action="store_true", help="print the recall as JSON")
    _connection(recall)
    recall.set_defaults(func=run_recall)

    epcis = actions.add_parser(
        "epcis", help="receipts and production in a time window as EPCIS 2.0 JSON-LD"
    )
    epcis.add_argument("--from", dest="start", required=True, metavar="T", help="ISO 8601")
    epcis.add_argument("--to", dest="end", required=True, metavar="T", help="ISO 8601 (excl.)")
    epcis.add_argument("--out", default=None, help="write the document here (default: stdout)")
    _connection(epcis)
    epcis.set_defaults(func=run_epcis)


MAX_DEPTH = 1000


def _line(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name or "/" in name:
        raise CliError(f"--line: {text!r} is not namespace/name")
    return namespace, name


# ------------------------------------------------------------------------------- reading


def _http(args: argparse.Namespace, route: str, query: dict[str, Any]) -> Any:
    from lineops.dataplane.app import read_token

    namespace, name = _line(args.line)
    headers = {"Accept": "application/json, application/ld+json"}
    if args.token_file is not None:
        try:
            headers["Authorization"] = f"Bearer {read_token(Path(args.token_file))}"
        except ValueError as exc:
            raise CliError(f"--token-file: {exc}") from None
    params = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    url = (
        f"{args.url.rstrip('/')}/v1/namespaces/{urllib.parse.quote(namespace)}/lines/"
        f"{urllib.parse.quote(name)}/{route}" + (f"?{params}" if params else "")
    )
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=120
        ) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail", exc.reason)
        except ValueError:
            detail = exc.reason
        raise CliError(f"{url}: {exc.code} {detail}") from None
    except urllib.error.URLError as exc:
        raise CliError(f"{url}: {exc.reason}") from None


def _direct(args: argparse.Namespace, read: Any) -> Any:
    """``read(engine, line)`` against the database, errors as CLI errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.dataplane.db.engine import SchemaError, check_schema, new_engine
    from lineops.dataplane.lines import LineRef
    from lineops.dataplane.repositories.genealogy import UnknownLot

    line = LineRef(*_line(args.line))
    try:
        engine = new_engine(args.db, must_exist=True)
    except (SchemaError, SQLAlchemyError) as exc:  # ArgumentError: not a database URL
        raise CliError(f"--db: {one_line(exc)}") from None
    try:
        check_schema(engine, args.db, create_empty=False)
        return read(engine, line)
    except UnknownLot as exc:
        raise CliError(str(exc)) from None
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"--db: {one_line(exc)}") from None
    finally:
        engine.dispose()


def fetch_trace(args: argparse.Namespace, lot: str, direction: str) -> dict[str, Any]:
    query = {"direction": direction, "depth": args.depth}
    if args.maintenance:
        query["maintenance"] = "true"
    if args.url is not None:
        route = f"lots/{urllib.parse.quote(lot, safe='')}/trace"
        answer: dict[str, Any] = _http(args, route, query)
        return answer

    def read(engine: Any, line: Any) -> dict[str, Any]:
        from lineops.dataplane.genealogy_api import trace_json
        from lineops.dataplane.record_json import maintenance_json
        from lineops.dataplane.repositories.genealogy import GenealogyRepository
        from lineops.dataplane.repositories.lot_links import LotLinksRepository

        trace = GenealogyRepository(engine).trace(line, lot, direction, args.depth)  # type: ignore[arg-type]
        out = trace_json(trace)
        if args.maintenance:
            links = LotLinksRepository(engine)
            out["maintenance"] = {
                name: [maintenance_json(r) for r in links.preceding_maintenance(line, info)]
                for name, info in sorted(trace.lots.items())
                if info.kind == "production"
            }
        return out

    answer = _direct(args, read)
    return answer


def fetch_recall(args: argparse.Namespace) -> dict[str, Any]:
    if args.url is not None:
        answer: dict[str, Any] = _http(
            args, "recall", {"supplierLot": args.supplier_lot, "depth": args.depth}
        )
        return answer

    def read(engine: Any, line: Any) -> dict[str, Any]:
        from lineops.dataplane.genealogy_api import trace_json
        from lineops.dataplane.repositories.genealogy import GenealogyRepository

        trace = GenealogyRepository(engine).recall(line, args.supplier_lot, args.depth)
        out = trace_json(trace)
        out["supplierLot"] = args.supplier_lot
        out["affectedLots"] = trace.reached
        out["maintenance"] = trace.maintenance
        return out

    answer = _direct(args, read)
    return answer


# ------------------------------------------------------------------------------- printing


def _describe(lots: dict[str, Any], name: str) -> str:
    info = lots.get(name)
    if info is None:
        return f"{name}  (not in the lots table)"
    parts = [name, info["kind"], info["material"]]
    if info["kind"] == "material":
        parts.append(f"from {info.get('supplier', '?')} lot {info.get('supplierLot', '?')}")
    else:
        run = f"{info.get('startedAt', '?')}..{info.get('endedAt') or 'open'}"
        parts.append(f"on {info.get('workUnit', '?')} {run}")
    return "  ".join(parts)


def render_tree(trace: dict[str, Any]) -> list[str]:
    """The trace as an indented tree from each start, one edge per line with its quantity.
    A lot reached again (a shared input) is printed once and then referred to; an edge that
    closes a cycle is marked instead of followed."""
    backward = trace["direction"] == "backward"
    children: dict[str, list[dict[str, Any]]] = {}
    for edge in trace["edges"]:
        near = edge["outputLot"] if backward else edge["inputLot"]
        children.setdefault(near, []).append(edge)
    lots: dict[str, Any] = trace["lots"]
    maintenance: dict[str, list[dict[str, Any]]] = trace.get("maintenance") or {}
    if not isinstance(maintenance, dict):
        maintenance = {}
    lines: list[str] = []
    shown: set[str] = set()

    def notes(name: str, prefix: str) -> None:
        for record in maintenance.get(name, []):
            lines.append(
                f"{prefix}  after {record['kind']} maintenance {record['maintenance']} "
                f"({_reason_and(record)})"
            )

    def walk(name: str, prefix: str, path: tuple[str, ...]) -> None:
        # Depth first with a stack of its own (each frame: the edges of a lot, the next one
        # to print): recursion stopped a trace of 1,000 levels (the largest --depth) with a
        # RecursionError.
        stack = [(children.get(name, []), 0, prefix, path)]
        while stack:
            edges, i, prefix, path = stack.pop()
            if i >= len(edges):
                continue
            stack.append((edges, i + 1, prefix, path))
            edge = edges[i]
            last = i == len(edges) - 1
            branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
            far = edge["inputLot"] if backward else (edge["outputLot"] or edge["maintenance"])
            amount = f"{edge['quantity']} {edge['unit']}"
            if edge["outputLot"] is None and not backward:
                lines.append(f"{prefix}{branch}{amount} into maintenance {far}")
                continue
            if far in path:
                lines.append(f"{prefix}{branch}{amount}  {far}  (CYCLE: already on this path)")
                continue
            if far in shown and far in children:
                lines.append(f"{prefix}{branch}{amount}  {far}  (shown above)")
                continue
            lines.append(f"{prefix}{branch}{amount}  {_describe(lots, far)}")
            shown.add(far)
            notes(far, prefix + below)
            stack.append((children.get(far, []), 0, prefix + below, (*path, far)))

    for start in trace["starts"]:
        lines.append(_describe(lots, start))
        shown.add(start)
        notes(start, "")
        walk(start, "", (start,))
    if trace.get("truncated"):
        lines.append(f"(cut at depth {trace['depth']}: the genealogy goes further)")
    for cycle in trace.get("cycles", []):
        lines.append("cycle in the recorded genealogy: " + " -> ".join(cycle))
    return lines


def run_trace(args: argparse.Namespace) -> int:
    if args.between_repairs is not None:
        return run_between_repairs(args)
    if args.lot is None:
        raise CliError("trace: give the LOT to trace (or --between-repairs M1 [M2])")
    direction = "backward" if args.backward else "forward"
    trace = fetch_trace(args, args.lot, direction)
    if args.json:
        print(json.dumps(trace, indent=2))
        return 0
    depth = "all levels" if trace["depth"] is None else f"depth {trace['depth']}"
    print(f"{direction} trace of {args.lot} ({depth}):")
    print("\n".join(render_tree(trace)))
    return 0


def fetch_between_repairs(args: argparse.Namespace) -> dict[str, Any]:
    first, *rest = args.between_repairs
    second = rest[0] if rest else None
    if len(rest) > 1 or args.lot is not None:
        raise CliError("--between-repairs: give one or two maintenance records and no LOT")
    if args.url is not None:
        query = {"afterMaintenance": first, "beforeMaintenance": second}
        answer: dict[str, Any] = _http(args, "lots", query)
        return answer

    def read(engine: Any, line: Any) -> dict[str, Any]:
        from lineops.dataplane.genealogy_api import lot_json
        from lineops.dataplane.record_json import maintenance_json
        from lineops.dataplane.repositories.lot_links import LotLinksRepository

        try:
            after, until, found = LotLinksRepository(engine).between_maintenance(
                line, first, second
            )
        except (KeyError, ValueError) as exc:
            raise CliError(f"--between-repairs: {exc}") from None
        return {
            "workUnit": after.work_unit,
            "after": maintenance_json(after),
            "before": None if until is None else maintenance_json(until),
            "lots": [lot_json(i) for i in found],
        }

    answer = _direct(args, read)
    return answer


def run_between_repairs(args: argparse.Namespace) -> int:
    """What was produced on a work unit between two repairs."""
    found = fetch_between_repairs(args)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    after, before = found["after"], found["before"]
    until = "now" if before is None else f"{before['maintenance']} ({before['start']})"
    print(
        f"made on {found['workUnit']} after {after['kind']} maintenance {after['maintenance']} "
        f"({_reason_and(after)}) until {until}: {len(found['lots'])} lot(s)"
    )
    for lot in found["lots"]:
        print(f"  {_describe({lot['lot']: lot}, lot['lot'])}")
    return 0


def run_recall(args: argparse.Namespace) -> int:
    recall = fetch_recall(args)
    if args.json:
        print(json.dumps(recall, indent=2))
        return 0
    affected = recall["affectedLots"]
    print(
        f"recall of supplier lot {args.supplier_lot}: {len(recall['starts'])} lot(s) received, "
        f"{len(affected)} lot(s) made from them"
        + (
            f", spare parts in maintenance {', '.join(recall['maintenance'])}"
            if recall["maintenance"]
            else ""
        )
    )
    print("\n".join(render_tree(recall)))
    return 0


def run_epcis(args: argparse.Namespace) -> int:
    if args.url is not None:
        document = _http(args, "epcis", {"from": args.start, "to": args.end})
    else:
        from lineops.dataplane.epcis import export, line_has_lots
        from lineops.dataplane.repositories.lot_links import utc_text

        try:
            start, end = utc_text(args.start, "--from"), utc_text(args.end, "--to")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if end <= start:
            raise CliError(f"--to: {args.end} is not after --from ({args.start})")
        document, known = _direct(
            args,
            lambda engine, line: (export(engine, line, start, end), line_has_lots(engine, line)),
        )
        if not known:
            print(
                f"lineops: note: line {args.line} has no lots in this database; check the "
                "line's namespace/name",
                file=sys.stderr,
            )
    text = json.dumps(document, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--out: {exc}") from None
    events = len(document["epcisBody"]["eventList"])
    print(f"wrote {args.out}: {events} EPCIS event(s)")
    return 0


def _reason_and(record: dict[str, Any]) -> str:
    """ "reason, start", or just the start when the record gave no reason."""
    return ", ".join(str(part) for part in (record.get("reason"), record["start"]) if part)
