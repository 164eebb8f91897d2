"""`promtool check rules` and `promtool test rules` on every rule the chart and the operator
produce, together, as one Prometheus would load them: the chart's PrometheusRule (operator
health) and the rules the operator generates for the example line.

The unit tests are generated from the rules themselves: for each alert, input series built
from the selector and the threshold in its expression (a counter that keeps rising for
increase()/rate(), a value on the alerting side of the comparison, nothing at all for
absent()), evaluated past its `for`, and the alert must be firing. A new alert therefore
gets a test without anyone writing one, and an alert whose expression cannot fire on the
series it names fails here. Annotations and the quiet cases are pinned per rule in
tests/unit/rules/test_promtool_alerts.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.services.prometheus_rules import rule_file_for_line

from tests.support import resources as res
from tests.support.chart import MONITORING, of_kind, render
from tests.support.scrape_config import rule_groups
from tests.unit.rules import promtool

pytestmark = pytest.mark.integration

SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)="([^"]*)"')
THRESHOLD = re.compile(r"(<|>|==)\s*(-?[0-9.]+)\s*$")
EVAL_TIME = "60m"  # past every `for` of the rules (the longest is 30m)


def _all_rules() -> dict[str, Any]:
    chart = rule_groups(of_kind(render(MONITORING), "PrometheusRule"))
    manifest = res.example("productionline.yaml")
    spec = ProductionLineSpec.model_validate(manifest["spec"])
    line = rule_file_for_line("plant-a", manifest["metadata"]["name"], spec)
    assert chart["groups"] and line["groups"]
    return {"groups": chart["groups"] + line["groups"]}


def _case(rule: dict[str, Any]) -> dict[str, Any]:
    """A promtool test case in which ``rule`` (an alert) must be firing at EVAL_TIME."""
    expr = " ".join(rule["expr"].split())
    metric, body = SELECTOR.search(expr).groups()  # type: ignore[union-attr]
    labels = dict(MATCHER.findall(body))
    series = "{}{{{}}}".format(metric, ",".join(f'{k}="{v}"' for k, v in labels.items()))
    if "absent(" in expr:
        # Nothing of the metric at all; one unrelated series so the test has input.
        inputs = [{"series": 'up{job="unrelated"}', "values": "1x90"}]
    elif "increase(" in expr or "rate(" in expr:
        # 10 per minute: above every rate threshold the chart allows by default (0.05/s).
        inputs = [{"series": series, "values": "0+10x90"}]
    else:
        match = THRESHOLD.search(expr)
        assert match, f"{rule['alert']}: no threshold in {expr!r}"
        op, number = match.group(1), float(match.group(2))
        value = {"<": number / 2 if number > 0 else number - 1, ">": number * 2 + 1, "==": number}
        inputs = [{"series": series, "values": f"{value[op]}x90"}]
    which = {k: v for k, v in labels.items() if k in ("characteristic", "rule")}
    alerts = ",".join(
        [f'alertname="{rule["alert"]}"', 'alertstate="firing"']
        + [f'{k}="{v}"' for k, v in which.items()]
    )
    return {
        "name": f"{rule['alert']} {which or ''}".strip(),
        "interval": "1m",
        "input_series": inputs,
        "promql_expr_test": [
            {
                "expr": f"count(ALERTS{{{alerts}}})",
                "eval_time": EVAL_TIME,
                "exp_samples": [{"value": 1}],
            }
        ],
    }


def test_promtool_checks_every_rule_of_the_chart_and_the_operator(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(_all_rules(), sort_keys=False))
    result = promtool.check_rules(path)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_alert_of_the_chart_and_the_operator_fires_on_its_condition(tmp_path: Path) -> None:
    rules = _all_rules()
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    names = {r["alert"] for r in alerts}
    # Both sources are in: the operator's health (chart) and the line's analytics (operator).
    assert {"LineopsOperatorDown", "LineopsTrainingFailed"} <= names
    assert {"LineopsSpcRuleViolation", "LineopsOeeMetricsAbsent", "LineopsFeatureDrift"} <= names
    assert "LineopsMaterialLowStock" in names  # the data plane's stock gauge (issue #22)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    unit = tmp_path / "unit.yaml"
    unit.write_text(
        yaml.safe_dump(
            {
                "rule_files": ["rules.yaml"],
                "evaluation_interval": "1m",
                "tests": [_case(rule) for rule in alerts],
            },
            sort_keys=False,
        )
    )
    result = promtool.run("test", "rules", str(unit))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert len(alerts) >= 22  # the example line's 18 alerts and the chart's 5


def test_serving_down_fires_for_a_failed_champion_only(tmp_path: Path) -> None:
    """LineopsServingDown: a model whose Serving condition is False because its champion
    failed, keeps restarting or never became ready, for `servingDownFor` (5m), also when
    the reason changes meanwhile (each reason is its own series, which restarted `for`); not
    a model deliberately off (Disabled), one without a champion yet (NoChampion), one in a
    canary step or after a rolled-back canary (the previous champion answers), or a served
    one."""
    chart = rule_groups(of_kind(render(MONITORING), "PrometheusRule"))
    rule = next(
        r for g in chart["groups"] for r in g["rules"] if r.get("alert") == "LineopsServingDown"
    )
    job = re.search(r'job="([^"]+)"', rule["expr"]).group(1)  # type: ignore[union-attr]
    base = {"job": job, "kind": "QualityModel", "type": "Serving", "namespace": "plant-a"}
    failed = {**base, "name": "press-inspector", "reason": "ServingFailed"}
    quiet = [
        {**base, "name": "off-model", "reason": "Disabled"},
        {**base, "name": "new-model", "reason": "NoChampion"},
        {**base, "name": "canary-model", "reason": "Canary"},
        {**base, "name": "rolled-back-model", "reason": "CanaryRolledBack"},
        {**base, "name": "ok-model", "reason": "Deployed"},
    ]
    gauge = "lineops_resource_condition"
    # Restarting for 3 minutes, then served again: shorter than `for`, no alert.
    flapping = {**base, "name": "flaky-model", "reason": "Restarting"}
    inputs = [{"series": promtool.series(gauge, failed), "values": "0x30"}]
    inputs += [{"series": promtool.series(gauge, q), "values": "0x30"} for q in quiet[:4]]
    inputs.append({"series": promtool.series(gauge, quiet[4]), "values": "1x30"})
    inputs.append({"series": promtool.series(gauge, flapping), "values": "0x2 _x28"})
    # Down all along, its reason switching every 4 minutes (Restarting <-> ServingFailed).
    switching = {**base, "name": "switching-model"}
    for first, reason in ((0, "Restarting"), (4, "ServingFailed")):
        values = " ".join("0" if (minute // 4) % 2 == first // 4 else "_" for minute in range(31))
        inputs.append(
            {"series": promtool.series(gauge, {**switching, "reason": reason}), "values": values}
        )
    description = (
        "Serving=False for 5m: the current champion does not answer (failed, restarting or "
        "not ready); kubectl describe shows the condition's reason and message (the failing "
        "process, its exit code or log line, and whether an earlier version answers "
        "meanwhile)."
    )

    def firing(labels: dict[str, str]) -> dict[str, Any]:
        without_reason = {k: v for k, v in labels.items() if k != "reason"}
        return {
            "exp_labels": {**without_reason, "severity": "critical"},
            "exp_annotations": {
                "summary": f"QualityModel plant-a/{labels['name']} is not served",
                "description": description,
            },
        }

    result = promtool.run_unit_tests(
        tmp_path,
        chart,
        [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": "LineopsServingDown", "exp_alerts": []},
                    {
                        "eval_time": "10m",
                        "alertname": "LineopsServingDown",
                        "exp_alerts": [firing(failed), firing(switching)],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
