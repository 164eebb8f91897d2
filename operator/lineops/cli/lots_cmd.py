"""`lineops lots …`: record lots and materials in a running data plane (``--url``, ``--line``,
``--token-file``), the write side of the ``lots`` group:

    lineops lots receive LOT --material M --quantity Q --unit U --supplier S --supplier-lot X
    lineops lots produce LOT --product P --work-unit W [--start T] [--end T --good N ...]
    lineops lots close LOT [--end T] [--total N --good N --scrap N]
    lineops lots consume --id C --input LOT:QTY:UNIT [--input ...] (--into LOT | --maintenance M)
    lineops lots quality RESULT --lot L --inspection I --outcome pass|fail [--measure K=V ...]
    lineops lots maintenance ID --work-unit W --kind planned|unplanned --reason R --start T
    lineops lots material NAME --unit U [--low-stock Q]
    lineops lots inventory [--material M]
    lineops lots show LOT

Quantities are decimal text, sent as strings so they arrive exact. Ids are the client's:
repeating a command with the same values is safe (the data plane answers the same); the same
id with other values is refused. A time left out is "now", which differs on a repeat: a
script that may repeat a command gives its times (``--received-at``, ``--start``, ``--at``).
``--json`` prints the data plane's answer; a refusal prints its problem detail (which names
the field, the lot and the shortfall) and exits 2. The genealogy commands (trace,
recall, epcis) join the same group from :mod:`lineops.cli.genealogy_cmd`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lineops.cli.errors import CliError, http_url

# The read side of the group (trace, recall, epcis): added when its module is installed.
GENEALOGY_MODULE = "lineops.cli.genealogy_cmd"
# The counts of a production lot, as options and as body fields.
COUNTS = ("total", "good", "scrap")
NOW = "ISO 8601 (default: now)"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        type=http_url,
        required=True,
        help="a running data plane, e.g. http://127.0.0.1:8081",
    )
    parser.add_argument("--line", required=True, metavar="NAMESPACE/NAME", help="the line")
    parser.add_argument("--token-file", default=None, help="bearer token for the data plane")
    parser.add_argument("--json", action="store_true", help="print the data plane's answer")


def _line(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name or "/" in name:
        raise CliError(f"--line: {text!r} is not namespace/name")
    return namespace, name


def call(args: argparse.Namespace, method: str, route: str, body: Any = None) -> tuple[int, Any]:
    """One request to the line's route; a problem document becomes a CliError with its
    detail (which names the field)."""
    from lineops.dataplane.app import read_token

    namespace, name = _line(args.line)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if args.token_file is not None:
        try:
            headers["Authorization"] = f"Bearer {read_token(Path(args.token_file))}"
        except ValueError as exc:
            raise CliError(f"--token-file: {exc}") from None
    url = (
        f"{args.url.rstrip('/')}/v1/namespaces/{urllib.parse.quote(namespace, safe='')}/lines/"
        f"{urllib.parse.quote(name, safe='')}/{route}"
    )
    # allow_nan=False: what is sent is standard JSON, or nothing is sent (1e999 in a recipe)
    try:
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
    except ValueError:
        raise CliError(f"{route}: a number in the body is not finite (NaN or Infinity)") from None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            problem = json.loads(raw)
            detail = problem.get("detail") or problem.get("title") or exc.reason
        except (ValueError, AttributeError):
            detail = raw.decode(errors="replace")[:300] or exc.reason
        raise CliError(f"{method} {route}: {exc.code} {detail}") from None
    except urllib.error.URLError as exc:
        raise CliError(f"{url}: {exc.reason}") from None


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _print(
    args: argparse.Namespace, status: int, answer: Any, line: str, *, replaces: bool = False
) -> int:
    """The answer; a 200 to a POST is the idempotent repeat of a stored record, while a PUT
    (``replaces``) answers 200 for every update, changed or not."""
    if args.json:
        print(json.dumps(answer, indent=2))
    elif replaces:
        print(line + (" (new)" if status == 201 else " (updated)"))
    else:
        print(line + ("" if status == 201 else " (already recorded: unchanged)"))
    return 0


def _fields(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """Body fields taken from the options of the same name (``work_unit`` -> ``workUnit``)."""
    from lineops.dataplane.repositories.lots import column_field

    return {column_field(name): getattr(args, name) for name in names}


def run_receive(args: argparse.Namespace) -> int:
    body = _fields(
        args, "lot", "material", "unit", "quantity", "supplier", "supplier_lot", "expected_at"
    )
    body["receivedAt"] = args.received_at or _now()
    status, lot = call(args, "POST", "material-lots", _drop_none(body))
    return _print(
        args,
        status,
        lot,
        f"received {lot['lot']}: {lot['quantity']} {lot['unit']} of {lot['material']}",
    )


class _NotFinite(ValueError):
    """NaN, Infinity or -Infinity in JSON text: not JSON (RFC 8259), refused by the data plane."""


def _no_constant(name: str) -> Any:
    raise _NotFinite(f"{name} is not a finite number")


def _recipe(text: str | None) -> Any:
    if text is None:
        return None
    try:
        recipe = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise CliError(f"--recipe: not JSON ({exc})") from None
    if not isinstance(recipe, dict):
        raise CliError("--recipe: expected a JSON object")
    return recipe


def run_produce(args: argparse.Namespace) -> int:
    body = _fields(args, "lot", "product", "work_unit", "unit", "work_order", "end", *COUNTS)
    body.update(start=args.start or _now(), recipe=_recipe(args.recipe))
    status, lot = call(args, "POST", "lots", _drop_none(body))
    return _print(
        args, status, lot, f"{lot['status']} {lot['lot']} on {lot['workUnit']} ({lot['material']})"
    )


def run_close(args: argparse.Namespace) -> int:
    body = {"end": args.end or _now(), **_fields(args, *COUNTS)}
    status, lot = call(args, "POST", f"lots/{_quote(args.lot)}:close", _drop_none(body))
    return _print(
        args, status, lot, f"closed {lot['lot']}: {lot['remaining']} {lot['unit']} in stock"
    )


def _input(text: str) -> dict[str, str]:
    # From the right: a lot id may itself hold a colon.
    rest, _, unit = text.rpartition(":")
    lot, _, quantity = rest.rpartition(":")
    if not (lot and quantity and unit):
        raise argparse.ArgumentTypeError(f"{text!r} is not LOT:QUANTITY:UNIT")
    return {"lot": lot, "quantity": quantity, "unit": unit}


def run_consume(args: argparse.Namespace) -> int:
    if (args.into is None) == (args.maintenance is None):
        raise CliError("give exactly one of --into LOT and --maintenance ID")
    body = {
        "consumption": args.id,
        "inputs": args.input,
        "outputLot": args.into,
        "maintenance": args.maintenance,
        "consumedAt": args.at or _now(),
    }
    status, record = call(args, "POST", "consumptions", _drop_none(body))
    target = record["outputLot"] or f"maintenance {record['maintenance']}"
    used = ", ".join(f"{i['quantity']} {i['unit']} of {i['lot']}" for i in record["inputs"])
    return _print(args, status, record, f"{record['consumption']}: {used} into {target}")


def _measure(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except _NotFinite:
        # json.loads reads NaN and Infinity, also inside lists and objects ([NaN]); the
        # data plane refuses them without the name.
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a finite number") from None
    except ValueError:
        return key, value
    if isinstance(parsed, float) and not math.isfinite(parsed):  # 1e999
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a finite number")
    return key, parsed


def run_quality(args: argparse.Namespace) -> int:
    body = _fields(args, "result", "lot", "inspection", "outcome")
    names = [key for key, _ in args.measure]
    twice = sorted({key for key in names if names.count(key) > 1})
    if twice:  # the last value won without a word
        raise CliError(f"--measure: {twice[0]!r} given more than once")
    body.update(measurements=dict(args.measure), inspectedAt=args.at or _now())
    status, result = call(args, "POST", "quality-results", body)
    return _print(args, status, result, f"{result['result']}: {result['lot']} {result['outcome']}")


def run_maintenance(args: argparse.Namespace) -> int:
    body = _fields(args, "maintenance", "work_unit", "kind", "reason", "start", "end")
    status, record = call(args, "POST", "maintenance", _drop_none(body))
    return _print(
        args, status, record, f"{record['maintenance']}: {record['kind']} on {record['workUnit']}"
    )


def run_material(args: argparse.Namespace) -> int:
    body = _drop_none({"unit": args.unit, "lowStock": args.low_stock})
    status, material = call(args, "PUT", f"materials/{_quote(args.material)}", body)
    low = material["lowStock"]
    return _print(
        args,
        status,
        material,
        f"{material['material']} in {material['unit']}"
        + ("" if low is None else f", low stock below {low}"),
        replaces=True,
    )


def run_inventory(args: argparse.Namespace) -> int:
    route = "inventory" + (f"?material={_quote(args.material)}" if args.material else "")
    _status, answer = call(args, "GET", route)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    if not answer["materials"]:  # nothing printed and exit 0 read as "all fine"
        what = f"material {args.material!r}" if args.material else "any material"
        print(f"no stock of {what} recorded on line {args.line}")
    for m in answer["materials"]:
        flag = "  LOW" if m["low"] else ""
        threshold = "" if m["lowStock"] is None else f" (threshold {m['lowStock']})"
        print(f"{m['material']}: {m['onHand']} {m['unit']}{threshold}{flag}")
        for lot in m["lots"]:
            print(
                f"  {lot['lot']}: {lot['remaining']} left of {lot['received']}"
                f" ({lot['consumed']} consumed)"
            )
    return 0


def run_show(args: argparse.Namespace) -> int:
    _status, lot = call(args, "GET", f"lots/{_quote(args.lot)}")
    if args.json:
        print(json.dumps(lot, indent=2))
        return 0
    where = lot["workUnit"] or f"{lot['supplier']} lot {lot['supplierLot']}"
    print(f"{lot['lot']} ({lot['kind']}, {lot['status']}): {lot['material']} from {where}")
    print(f"  quantity {lot['quantity']} {lot['unit']}, remaining {lot['remaining']}")
    for i in lot["inputs"]:
        print(f"  input {i['lot']}: {i['quantity']} {i['unit']} ({i['consumption']})")
    for q in lot["qualityResults"]:
        print(f"  inspection {q['inspection']}: {q['outcome']} ({q['result']})")
    for p in lot["predictions"]:
        print(f"  judged by {p['modelTag']} at {p['timestamp']}: {json.dumps(p['result'])}")
    return 0


Argument = tuple[tuple[str, ...], dict[str, Any]]


def _arg(*flags: str, **options: Any) -> Argument:
    return flags, options


def _command(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help: str,
    run: Callable[[argparse.Namespace], int],
    *arguments: Argument,
) -> None:
    """One write or read command: its own arguments, then the connection options."""
    parser = actions.add_parser(name, help=help)
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    _connection(parser)
    parser.set_defaults(func=_answers_checked(run))


def _answers_checked(
    run: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """``run`` with an answer that lacks what a data plane answers (another service at
    --url) reported as such, not as a KeyError traceback."""

    def checked(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KeyError as exc:
            raise CliError(
                f"--url {args.url}: the answer is not a lineops data plane's (no {exc})"
            ) from None

    return checked


LOT = _arg("lot", metavar="LOT")
AT = _arg("--at", default=None, help=NOW)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("lots", help="lots, materials and genealogy of a line")
    actions = group.add_subparsers(dest="lots_command", metavar="ACTION", required=True)

    _command(
        actions,
        "receive",
        "a material lot received from a supplier",
        run_receive,
        LOT,
        _arg("--material", required=True),
        _arg("--quantity", required=True, help="decimal, at most 6 decimals"),
        _arg("--unit", required=True),
        _arg("--supplier", required=True),
        _arg("--supplier-lot", required=True),
        _arg("--received-at", default=None, help=NOW),
        _arg("--expected-at", default=None, help="the promised date (ISO 8601)"),
    )
    _command(
        actions,
        "produce",
        "open a production lot on a work unit",
        run_produce,
        LOT,
        _arg("--product", required=True),
        _arg("--work-unit", required=True),
        _arg("--start", default=None, help=NOW),
        _arg("--unit", default=None, help="default pcs"),
        _arg("--work-order", default=None),
        _arg("--recipe", default=None, help="JSON object: recipe and parameters"),
        _arg("--end", default=None, help="record it closed at this time"),
        *(_arg(f"--{count}", default=None, help="with --end") for count in COUNTS),
    )
    _command(
        actions,
        "close",
        "close a production lot: good output into stock",
        run_close,
        LOT,
        _arg("--end", default=None, help=NOW),
        *(_arg(f"--{count}", default=None) for count in COUNTS),
    )
    _command(
        actions,
        "consume",
        "input lots into a lot or maintenance record",
        run_consume,
        _arg("--id", required=True, help="the consumption's id (repeat-safe)"),
        _arg("--input", required=True, action="append", type=_input, metavar="LOT:QUANTITY:UNIT"),
        _arg("--into", default=None, metavar="LOT", help="the output lot"),
        _arg("--maintenance", default=None, metavar="ID", help="spare parts used"),
        AT,
    )
    _command(
        actions,
        "quality",
        "an inspection result of a lot",
        run_quality,
        _arg("result", metavar="RESULT", help="the result's id"),
        _arg("--lot", required=True),
        _arg("--inspection", required=True),
        _arg("--outcome", required=True, choices=("pass", "fail")),
        _arg("--measure", action="append", default=[], type=_measure, metavar="K=V"),
        AT,
    )
    _command(
        actions,
        "maintenance",
        "planned or unplanned maintenance",
        run_maintenance,
        _arg("maintenance", metavar="ID"),
        _arg("--work-unit", required=True),
        _arg("--kind", required=True, choices=("planned", "unplanned")),
        _arg("--reason", default=""),
        _arg("--start", required=True, help="ISO 8601"),
        _arg("--end", default=None, help="ISO 8601"),
    )
    _command(
        actions,
        "material",
        "a material's unit and low-stock threshold",
        run_material,
        _arg("material", metavar="NAME"),
        _arg("--unit", required=True),
        _arg("--low-stock", default=None, help="alert below this quantity"),
    )
    _command(
        actions,
        "inventory",
        "stock per material and lot",
        run_inventory,
        _arg("--material", default=None),
    )
    _command(
        actions,
        "show",
        "a lot, its inputs, inspections and predictions",
        run_show,
        LOT,
    )

    try:
        genealogy = importlib.import_module(GENEALOGY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != GENEALOGY_MODULE:
            raise
    else:
        genealogy.register(actions)
