"""`lineops predict`: ask a QualityModel's served champion to judge a work unit.

The endpoint is the model's ``status.serving.endpoint`` as the cluster holds it (or
``--endpoint``); the answer comes from the quality inspector the operator rolled out, with the
work unit's newest online features, and the prediction is logged with the lot by the service.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from typing import Any

from lineops.api.kinds import QUALITY_MODEL
from lineops.backends.serving.client import InspectorClient, InspectorError, Prediction
from lineops.cli.errors import CliError, http_url, number_in
from lineops.cli.line_source import object_from_cluster, parse_line_ref


def register(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="ask a QualityModel's served champion to judge a work unit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--line", required=True, metavar="[NS/]NAME", help="the ProductionLine")
    p.add_argument("--model", required=True, metavar="NAME", help="the QualityModel")
    p.add_argument("--work-unit", required=True, metavar="NAME", help="the work unit to judge")
    p.add_argument("--lot", metavar="LOT", help="the lot being made (logged with the prediction)")
    p.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="SENSOR=VALUE",
        help="a raw reading to log with the prediction (repeatable)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        type=http_url,
        help="the inspector's URL (default: the model's status)",
    )
    p.add_argument(
        "--timeout",
        type=number_in(0.001, 3600),
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the served champion's answer (default 30)",
    )
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")
    p.add_argument("--kubeconfig", metavar="FILE", help="default: in-cluster or $KUBECONFIG")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    namespace, line = parse_line_ref(args.line)
    readings = _readings(args.reading)
    endpoint = args.endpoint or _endpoint(namespace, line, args.model, args.kubeconfig)
    client = InspectorClient(endpoint, timeout=args.timeout)
    try:
        prediction = client.predict(args.work_unit, lot=args.lot, readings=readings)
    except InspectorError as exc:
        where = f"{QUALITY_MODEL.kind} {namespace}/{args.model} at {endpoint}"
        if exc.status is None:
            raise CliError(f"{where}: {exc.message}") from None
        raise CliError(f"{where} refused ({exc.status}): {exc.message}") from None
    if args.json:
        print(json.dumps(asdict(prediction), sort_keys=True))
    else:
        print(_human(prediction))
    return 0


def _readings(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        sensor, sep, value = item.partition("=")
        try:
            if not sep or not sensor:
                raise ValueError
            number = float(value)
        except ValueError:
            raise CliError(f"--reading: expected SENSOR=NUMBER, got {item!r}") from None
        if not math.isfinite(number):  # the request body would be NaN: not JSON
            raise CliError(f"--reading: {sensor!r} is not finite: {value!r}")
        if sensor in out:  # the first value was dropped without a word
            raise CliError(f"--reading: {sensor!r} given twice")
        out[sensor] = number
    return out


def _endpoint(namespace: str, line: str, model: str, kubeconfig: str | None) -> str:
    """The model's serving endpoint from its status; why there is none, from its condition."""
    hint = "; or give the inspector's URL with --endpoint"
    obj = object_from_cluster(QUALITY_MODEL, namespace, model, kubeconfig, hint)
    ref = f"{QUALITY_MODEL.kind} {namespace}/{model}"
    line_ref = (obj.get("spec") or {}).get("lineRef")
    if line_ref != line:
        raise CliError(f"--line: {ref} belongs to line {line_ref!r}, not {line!r}")
    status = obj.get("status") or {}
    serving = status.get("serving") or {}
    endpoint = serving.get("endpoint")
    if not endpoint:
        condition: dict[str, Any] = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "Serving"), {}
        )
        why = condition.get("message") or serving.get("message") or "no serving status yet"
        raise CliError(f"{ref} is not served: {why}")
    return str(endpoint)


def _human(p: Prediction) -> str:
    if p.label is not None:
        verdict = f"label {p.label}"
        if p.raw_label is not None and p.raw_label != p.label:
            verdict += f" (most probable class {p.raw_label}, not told from normal)"
        if p.probabilities:
            top = max(p.probabilities.items(), key=lambda kv: kv[1])
            verdict += f", p({top[0]}) = {top[1]:.3f}"
    elif p.score is not None:
        verdict = f"score {p.score:.4g}, alarm {'yes' if p.alarm else 'no'}"
        if p.rul is not None:
            verdict += f", remaining useful life {p.rul:.1f} h"
    else:
        verdict = (
            f"no answer yet: {p.history_rows} of {p.rows_needed} rows the model's window needs"
        )
    lot = f" lot {p.lot}" if p.lot else ""
    return (
        f"{p.namespace}/{p.line} {p.work_unit}{lot}: {verdict}\n"
        f"  model {p.model} tag {p.model_tag} ({p.task}); features {p.feature_service} "
        f"at {p.feature_timestamp} ({p.feature_age_seconds:.1f} s old)"
    )
