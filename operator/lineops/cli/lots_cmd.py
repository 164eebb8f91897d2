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
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lineops.cli.errors import CliError

# The read side of the group (trace, recall, epcis): added when its module is installed.
GENEALOGY_MODULE = "lineops.cli.genealogy_cmd"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", required=True, help="a running data plane, e.g. http://127.0.0.1:8081"
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
    data = None if body is None else json.dumps(body).encode()
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


def _print(args: argparse.Namespace, status: int, answer: Any, line: str) -> int:
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print(line + ("" if status == 201 else " (already recorded: unchanged)"))
    return 0


def run_receive(args: argparse.Namespace) -> int:
    body = {
        "lot": args.lot,
        "material": args.material,
        "unit": args.unit,
        "quantity": args.quantity,
        "supplier": args.supplier,
        "supplierLot": args.supplier_lot,
        "receivedAt": args.received_at or _now(),
        "expectedAt": args.expected_at,
    }
    status, lot = call(args, "POST", "material-lots", _drop_none(body))
    return _print(
        args,
        status,
        lot,
        f"received {lot['lot']}: {lot['quantity']} {lot['unit']} of {lot['material']}",
    )


def _recipe(text: str | None) -> Any:
    if text is None:
        return None
    try:
        recipe = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--recipe: not JSON ({exc})") from None
    if not isinstance(recipe, dict):
        raise CliError("--recipe: expected a JSON object")
    return recipe


def run_produce(args: argparse.Namespace) -> int:
    body = {
        "lot": args.lot,
        "product": args.product,
        "workUnit": args.work_unit,
        "start": args.start or _now(),
        "unit": args.unit,
        "workOrder": args.work_order,
        "recipe": _recipe(args.recipe),
        "end": args.end,
        "total": args.total,
        "good": args.good,
        "scrap": args.scrap,
    }
    status, lot = call(args, "POST", "lots", _drop_none(body))
    return _print(
        args, status, lot, f"{lot['status']} {lot['lot']} on {lot['workUnit']} ({lot['material']})"
    )


def run_close(args: argparse.Namespace) -> int:
    body = {"end": args.end or _now(), "total": args.total, "good": args.good, "scrap": args.scrap}
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
        return key, json.loads(value)
    except ValueError:
        return key, value


def run_quality(args: argparse.Namespace) -> int:
    body = {
        "result": args.result,
        "lot": args.lot,
        "inspection": args.inspection,
        "outcome": args.outcome,
        "measurements": dict(args.measure),
        "inspectedAt": args.at or _now(),
    }
    status, result = call(args, "POST", "quality-results", body)
    return _print(args, status, result, f"{result['result']}: {result['lot']} {result['outcome']}")


def run_maintenance(args: argparse.Namespace) -> int:
    body = {
        "maintenance": args.maintenance,
        "workUnit": args.work_unit,
        "kind": args.kind,
        "reason": args.reason,
        "start": args.start,
        "end": args.end,
    }
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
    )


def run_inventory(args: argparse.Namespace) -> int:
    route = "inventory" + (f"?material={_quote(args.material)}" if args.material else "")
    _status, answer = call(args, "GET", route)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("lots", help="lots, materials and genealogy of a line")
    actions = group.add_subparsers(dest="lots_command", metavar="ACTION", required=True)

    receive = actions.add_parser("receive", help="a material lot received from a supplier")
    receive.add_argument("lot", metavar="LOT")
    receive.add_argument("--material", required=True)
    receive.add_argument("--quantity", required=True, help="decimal, at most 6 decimals")
    receive.add_argument("--unit", required=True)
    receive.add_argument("--supplier", required=True)
    receive.add_argument("--supplier-lot", required=True)
    receive.add_argument("--received-at", default=None, help="ISO 8601 (default: now)")
    receive.add_argument("--expected-at", default=None, help="the promised date (ISO 8601)")
    _connection(receive)
    receive.set_defaults(func=run_receive)

    produce = actions.add_parser("produce", help="open a production lot on a work unit")
    produce.add_argument("lot", metavar="LOT")
    produce.add_argument("--product", required=True)
    produce.add_argument("--work-unit", required=True)
    produce.add_argument("--start", default=None, help="ISO 8601 (default: now)")
    produce.add_argument("--unit", default=None, help="default pcs")
    produce.add_argument("--work-order", default=None)
    produce.add_argument("--recipe", default=None, help="JSON object: recipe and parameters")
    produce.add_argument("--end", default=None, help="record it closed at this time")
    for count in ("--total", "--good", "--scrap"):
        produce.add_argument(count, default=None, help="with --end")
    _connection(produce)
    produce.set_defaults(func=run_produce)

    close = actions.add_parser("close", help="close a production lot: good output into stock")
    close.add_argument("lot", metavar="LOT")
    close.add_argument("--end", default=None, help="ISO 8601 (default: now)")
    for count in ("--total", "--good", "--scrap"):
        close.add_argument(count, default=None)
    _connection(close)
    close.set_defaults(func=run_close)

    consume = actions.add_parser("consume", help="input lots into a lot or maintenance record")
    consume.add_argument("--id", required=True, help="the consumption's id (repeat-safe)")
    consume.add_argument(
        "--input", required=True, action="append", type=_input, metavar="LOT:QUANTITY:UNIT"
    )
    consume.add_argument("--into", default=None, metavar="LOT", help="the output lot")
    consume.add_argument("--maintenance", default=None, metavar="ID", help="spare parts used")
    consume.add_argument("--at", default=None, help="ISO 8601 (default: now)")
    _connection(consume)
    consume.set_defaults(func=run_consume)

    quality = actions.add_parser("quality", help="an inspection result of a lot")
    quality.add_argument("result", metavar="RESULT", help="the result's id")
    quality.add_argument("--lot", required=True)
    quality.add_argument("--inspection", required=True)
    quality.add_argument("--outcome", required=True, choices=("pass", "fail"))
    quality.add_argument("--measure", action="append", default=[], type=_measure, metavar="K=V")
    quality.add_argument("--at", default=None, help="ISO 8601 (default: now)")
    _connection(quality)
    quality.set_defaults(func=run_quality)

    repair = actions.add_parser("maintenance", help="planned or unplanned maintenance")
    repair.add_argument("maintenance", metavar="ID")
    repair.add_argument("--work-unit", required=True)
    repair.add_argument("--kind", required=True, choices=("planned", "unplanned"))
    repair.add_argument("--reason", default="")
    repair.add_argument("--start", required=True, help="ISO 8601")
    repair.add_argument("--end", default=None, help="ISO 8601")
    _connection(repair)
    repair.set_defaults(func=run_maintenance)

    material = actions.add_parser("material", help="a material's unit and low-stock threshold")
    material.add_argument("material", metavar="NAME")
    material.add_argument("--unit", required=True)
    material.add_argument("--low-stock", default=None, help="alert below this quantity")
    _connection(material)
    material.set_defaults(func=run_material)

    inventory = actions.add_parser("inventory", help="stock per material and lot")
    inventory.add_argument("--material", default=None)
    _connection(inventory)
    inventory.set_defaults(func=run_inventory)

    show = actions.add_parser("show", help="a lot, its inputs, inspections and predictions")
    show.add_argument("lot", metavar="LOT")
    _connection(show)
    show.set_defaults(func=run_show)

    try:
        genealogy = importlib.import_module(GENEALOGY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != GENEALOGY_MODULE:
            raise
    else:
        genealogy.register(actions)
