"""``lineops rules export``: a line's Prometheus alerts, without a cluster.

The same rules the operator puts into a PrometheusRule, written from a ProductionLine YAML
file, either as that PrometheusRule or as a plain rule file for ``rule_files:`` in a
Prometheus configured by hand. Check the output with ``promtool check rules``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from lineops.api.errors import describe_validation_error
from lineops.api.kinds import PRODUCTION_LINE
from lineops.api.productionline import ProductionLine
from lineops.cli.errors import CliError, yaml_problem
from lineops.services.prometheus_rules import prometheus_rule_for_line, rule_groups_for_line
from lineops.settings import label_problem

FORMAT_PROMETHEUS_RULE: Final = "prometheusrule"
FORMAT_RULE_FILE: Final = "rulefile"
DEFAULT_NAMESPACE: Final = "default"


def load_lines(path: str) -> list[ProductionLine]:
    """Every ProductionLine in a (possibly multi-document) YAML file, validated.

    Other kinds (a QualityModel kept in the same file) are skipped; a file without any
    ProductionLine is an error.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read: {exc}") from None
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise CliError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    lines: list[ProductionLine] = []
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            raise CliError(f"{path}: document {index + 1} is not a mapping")
        if document.get("kind") != PRODUCTION_LINE.kind:
            continue
        lines.append(_validate(path, document))
    if not lines:
        raise CliError(f"{path}: no {PRODUCTION_LINE.kind} found")
    return lines


def _validate(path: str, document: dict[str, Any]) -> ProductionLine:
    try:
        line = ProductionLine.model_validate(document)
    except ValidationError as exc:
        # Locations start at the document root ("spec.workUnits[0]..."), hence root "".
        raise CliError(f"{path}: {describe_validation_error(exc, root='')}") from None
    if not line.metadata.name:
        raise CliError(f"{path}: metadata.name: required value")
    return line


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--label: {pair!r} is not KEY=VALUE")
        problem = label_problem(key, value)
        # The API server would refuse the PrometheusRule at apply time.
        if problem == "key":
            raise CliError(f"--label: {key!r} is not a Kubernetes label key")
        if problem == "value":
            raise CliError(f"--label: {value!r} is not a Kubernetes label value")
        labels[key] = value
    return labels


def _dump(document: dict[str, Any]) -> str:
    # Insertion order keeps "record"/"alert" above "expr" in each rule, as people write them.
    return yaml.safe_dump(document, sort_keys=False, width=120, allow_unicode=True)


def render(
    lines: list[ProductionLine], namespace: str | None, fmt: str, labels: dict[str, str]
) -> str:
    """The export text: one rule file for all lines, or one PrometheusRule per line."""
    try:
        if fmt == FORMAT_RULE_FILE:
            groups = [
                group
                for line in lines
                for group in rule_groups_for_line(
                    _namespace(line, namespace), line.metadata.name, line.spec
                )
            ]
            return _dump({"groups": groups})
        manifests = [
            prometheus_rule_for_line(
                _namespace(line, namespace), line.metadata.name, line.spec, labels=labels
            )
            for line in lines
        ]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return "---\n".join(_dump(m) for m in manifests)


def _namespace(line: ProductionLine, override: str | None) -> str:
    return override if override is not None else line.metadata.namespace or DEFAULT_NAMESPACE


def run_export(args: argparse.Namespace) -> int:
    lines = load_lines(args.line_file)
    seen: dict[tuple[str, str], int] = {}
    for index, line in enumerate(lines):
        key = (_namespace(line, args.namespace), str(line.metadata.name))
        if key in seen:
            # Two rule groups or PrometheusRules of one name: promtool and the API refuse them.
            raise CliError(
                f"{args.line_file}: ProductionLine {key[0]}/{key[1]} appears twice "
                f"(lines {seen[key] + 1} and {index + 1} of the file's ProductionLines)"
            )
        seen[key] = index
    labels = _labels(args.label)
    if labels and args.format == FORMAT_RULE_FILE:
        raise CliError("--label applies to --format prometheusrule only")
    text = render(lines, args.namespace, args.format, labels)
    if args.format == FORMAT_PROMETHEUS_RULE:
        for line in lines:
            if not line.spec.monitoring.prometheus_rule:
                # Still exported: the user asked for it, but the operator would not create it.
                print(
                    f"lineops: note: {line.metadata.name} has monitoring.prometheusRule: false; "
                    "the operator does not create this PrometheusRule",
                    file=sys.stderr,
                )
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{args.out}: cannot write: {exc}") from None
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = subparsers.add_parser(
        "rules",
        help="Prometheus alerting and recording rules of a production line",
        description="Prometheus alerting and recording rules of a production line.",
    )
    sub = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    export = sub.add_parser(
        "export",
        help="write the rules of the lines in a ProductionLine YAML file",
        description="Write the PrometheusRule (or plain rule file) the operator derives from "
        "a ProductionLine; validate it with `promtool check rules`.",
    )
    export.add_argument("--line-file", required=True, metavar="FILE.yaml")
    export.add_argument(
        "--namespace",
        metavar="NS",
        help="namespace the line runs in (default: metadata.namespace, else 'default')",
    )
    export.add_argument(
        "--format",
        choices=[FORMAT_PROMETHEUS_RULE, FORMAT_RULE_FILE],
        default=FORMAT_PROMETHEUS_RULE,
        help="a monitoring.coreos.com/v1 PrometheusRule (default) or a plain rule file",
    )
    export.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra label on the PrometheusRule, e.g. release=prometheus (repeatable)",
    )
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    export.set_defaults(func=run_export)
