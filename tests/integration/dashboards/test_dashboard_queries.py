"""Every panel query of the generated dashboards, run against a real Prometheus that scrapes
the real operator after MES records went in: each parses, and each whose series the operator
exports returns data (so a misspelt label or a filter that matches nothing fails here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from lineops.dashboards import panel_queries

from tests.integration.dashboards import line_data
from tests.integration.dashboards.prometheus import running_prometheus
from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).resolve().parents[3] / "helm" / "lineops" / "dashboards"
SERIES_SUFFIXES = ("_bucket", "_count", "_sum")


def substitute(expr: str, namespace: str) -> str:
    """What Grafana sends for the dashboards' variables (the committed JSON is tested, so a
    variable a panel uses but the test does not know stays in and fails to parse)."""
    values = {
        "$__rate_interval": "1m",
        "$__range": "5m",
        "$namespace": namespace,
        "$line": line_data.LINE,
        "$characteristic": ".*",
    }
    for name, value in values.items():
        expr = expr.replace(name, value)
    return expr


def exported_names(metrics_text: str) -> set[str]:
    names = {line.split("{")[0].split(" ")[0] for line in metrics_text.splitlines()}
    return {n for n in names if n and not n.startswith("#")}


def test_every_panel_query_parses_and_returns_the_series_the_operator_exports(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    env = {"LINEOPS_DATA_DIR": str(tmp_path / "data"), "LINEOPS_TRAINING": "off"}
    with run_operator(operator_identity, namespace, extra_env=env) as op:
        line = res.create(api_client, namespace, res.example("productionline.yaml"))
        name = line["metadata"]["name"]
        wait_for(
            lambda: res.has_condition(
                res.get(api_client, namespace, "ProductionLine", name), "Ready", "True"
            ),
            what="line Ready",
        )
        base = f"{op.data_url}/v1/namespaces/{namespace}/lines/{name}"
        line_data.in_control_phase(base)
        line_data.shifted_phase(base)
        line_data.machine_shift(base)
        line_data.readings(base)
        assert line_data.malformed_batch(base) == 422
        # A model on the line, for the training panels (training is off: it stays requested).
        model = res.example("qualitymodel.yaml")
        model["spec"]["lineRef"] = name
        res.create(api_client, namespace, model)
        # The operator exports the line's series once its monitor has charted the records.
        wait_for(
            lambda: (
                "lineops_capability_cpk{" in (text := op.metrics())
                and 'component="oee"' in text
                and "lineops_spc_violations_total{" in text
                and 'kind="QualityModel"' in text
                and "lineops_training_requests_total{" in text
            ),
            timeout=90,
            what="SPC, capability and OEE series on /metrics",
        )
        target = op.metrics_url.removeprefix("http://").removesuffix("/metrics")
        with running_prometheus(tmp_path / "prom", [target]) as prom:
            # Enough scrapes for rate() over the panels' windows (two samples at least).
            wait_for(
                lambda: _values(prom.query("count_over_time(lineops_spc_in_control[1m])")) >= 3,
                timeout=60,
                what="three scrapes of the operator in Prometheus",
            )
            exported = exported_names(op.metrics())
            checked, with_data = _check_all(prom, namespace, exported)
            # The model's one request started its series: increase() alone said 0.
            requests_panel = next(
                expr
                for path in sorted(DASHBOARDS.glob("*.json"))
                for title, expr in panel_queries(json.loads(path.read_text()))
                if title == "Training requests (range)"
            )
            assert _values(prom.query(substitute(requests_panel, namespace))) == 1.0
    # Every query ran; most of them (all but the serving panels, reconcile errors and drift,
    # whose series this run does not produce) had to return data.
    assert checked >= 35 and with_data >= 25, (checked, with_data)


def _check_all(prom: Any, namespace: str, exported: set[str]) -> tuple[int, int]:
    checked = with_data = 0
    failures = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for title, expr in panel_queries(json.loads(path.read_text())):
            promql = substitute(expr, namespace)
            answer = prom.query(promql)
            checked += 1
            if answer.get("status") != "success":
                failures.append(f"{path.name} {title!r}: {promql}: {answer.get('error')}")
                continue
            if _produced(promql, exported):
                with_data += 1
                if not answer["data"]["result"]:
                    failures.append(f"{path.name} {title!r}: no data for {promql}")
    assert not failures, "\n".join(failures)
    return checked, with_data


def _produced(promql: str, exported: set[str]) -> bool:
    """Whether every series the query names is on the operator's /metrics."""
    names = set(re.findall(r"\blineops_[a-z_]+", promql))
    return all(n in exported for n in names)


def _values(answer: dict[str, Any]) -> float:
    result = answer.get("data", {}).get("result", [])
    return min((float(r["value"][1]) for r in result), default=0.0)
