"""Shape of the generated rules: which groups and alerts a spec yields, names and labels."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lineops.api.productionline import ProductionLine, ProductionLineSpec
from lineops.services.prometheus_rules import (
    ALERT_CPK_LOW,
    ALERT_DRIFT,
    ALERT_OEE_ABSENT,
    ALERT_OEE_LOW,
    ALERT_SPC_RULE,
    prometheus_rule_for_line,
    rule_file_for_line,
    rule_groups_for_line,
    rule_name,
)

from tests.unit.rules.conftest import LINE, NAMESPACE, example_document, spec_with


def alerts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def records(groups: list[dict[str, Any]]) -> list[str]:
    return [rule["record"] for group in groups for rule in group["rules"] if "record" in rule]


def test_prometheus_rule_manifest_shape(example_spec: ProductionLineSpec) -> None:
    manifest = prometheus_rule_for_line(
        NAMESPACE, LINE, example_spec, labels={"release": "prometheus"}
    )
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    meta = manifest["metadata"]
    assert meta["name"] == rule_name(LINE) == "press-line-1-lineops"
    assert meta["namespace"] == NAMESPACE
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "lineops"
    assert meta["labels"]["lineops.io/line"] == LINE
    assert meta["labels"]["release"] == "prometheus"
    assert set(manifest) == {"apiVersion", "kind", "metadata", "spec"}
    # The manifest and the plain rule file carry the same groups.
    assert manifest["spec"] == rule_file_for_line(NAMESPACE, LINE, example_spec)


def test_example_yields_every_kind_of_rule(example_spec: ProductionLineSpec) -> None:
    groups = rule_groups_for_line(NAMESPACE, LINE, example_spec)
    names = [g["name"] for g in groups]
    assert names == [
        "lineops.plant-a.press-line-1.oee",
        "lineops.plant-a.press-line-1.spc",
        "lineops.plant-a.press-line-1.capability",
        "lineops.plant-a.press-line-1.drift",
        "lineops.plant-a.press-line-1.materials",
    ]
    assert {
        "lineops:oee_ratio:avg5m",
        "lineops:spc_violations:increase5m",
        "lineops:spc_out_of_control:sum",
    } <= set(records(groups))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for rule in alerts(groups):
        by_name.setdefault(rule["alert"], []).append(rule)
    # One SPC alert per enabled run rule per characteristic: 3 + 4 + 2 + 1.
    spc = {(r["labels"]["characteristic"], r["labels"]["rule"]) for r in by_name[ALERT_SPC_RULE]}
    assert len(by_name[ALERT_SPC_RULE]) == len(spc) == 10
    assert ("ring_width", "weco-3") in spc and ("reject_fraction", "nelson-1") in spc
    # Cpk only for measured characteristics; reject_fraction is a p chart.
    cpk = {r["labels"]["characteristic"] for r in by_name[ALERT_CPK_LOW]}
    assert cpk == {"ring_diameter", "ring_width", "surface_roughness"}
    assert len(by_name[ALERT_OEE_LOW]) == len(by_name[ALERT_OEE_ABSENT]) == 1
    assert len(by_name[ALERT_DRIFT]) == 1


def test_thresholds_and_selectors_come_from_the_spec() -> None:
    spec = spec_with(oeeTarget="0.6", cpkTarget="1.67", driftPsi="0.1")
    rules: dict[str, dict[str, Any]] = {}
    for rule in alerts(rule_groups_for_line("ns-2", "l2", spec)):
        rules.setdefault(rule["alert"], rule)  # the first of each kind
    pin = 'namespace="ns-2",line="l2"'
    assert rules[ALERT_OEE_LOW]["expr"] == f'lineops_oee_ratio{{{pin},component="oee"}} < 0.6'
    assert rules[ALERT_OEE_LOW]["for"] == "15m"
    assert rules[ALERT_CPK_LOW]["expr"].endswith("< 1.67")
    assert rules[ALERT_DRIFT]["expr"] == f"lineops_drift_psi{{{pin}}} > 0.1"
    assert rules[ALERT_SPC_RULE]["expr"] == (
        f'increase(lineops_spc_violations_total{{{pin},characteristic="ring_diameter",'
        'rule="nelson-1"}[5m]) > 0'
    )


def test_every_alert_names_where_it_fires_and_how_bad(example_spec: ProductionLineSpec) -> None:
    for rule in alerts(rule_groups_for_line(NAMESPACE, LINE, example_spec)):
        labels, notes = rule["labels"], rule["annotations"]
        assert labels["severity"] in ("critical", "warning")
        assert (labels["namespace"], labels["line"], labels["site"]) == (NAMESPACE, LINE, "plant-a")
        assert set(notes) == {"summary", "description"}
        assert LINE in notes["summary"] and LINE in notes["description"]
        if "characteristic" in labels:
            assert labels["characteristic"] in notes["summary"]
    spc = [
        r
        for r in alerts(rule_groups_for_line(NAMESPACE, LINE, example_spec))
        if "rule" in r["labels"]
    ]
    severities = {r["labels"]["rule"]: r["labels"]["severity"] for r in spc}
    assert severities["nelson-1"] == severities["weco-1"] == "critical"
    assert severities["nelson-2"] == severities["weco-4"] == "warning"


@pytest.mark.parametrize(
    ("monitoring", "absent", "present"),
    [
        ({"oee": False}, {ALERT_OEE_LOW, ALERT_OEE_ABSENT}, {ALERT_SPC_RULE, ALERT_CPK_LOW}),
        ({"spc": False}, {ALERT_SPC_RULE, ALERT_CPK_LOW}, {ALERT_OEE_LOW, ALERT_DRIFT}),
        ({"oeeTarget": "0"}, {ALERT_OEE_LOW}, {ALERT_OEE_ABSENT}),
    ],
)
def test_only_what_monitoring_enables(
    monitoring: dict[str, Any], absent: set[str], present: set[str]
) -> None:
    names = {
        r["alert"] for r in alerts(rule_groups_for_line(NAMESPACE, LINE, spec_with(**monitoring)))
    }
    assert not names & absent
    assert present <= names


def test_only_the_low_stock_group_when_nothing_is_enabled() -> None:
    """Thresholds are data of the data plane, not spec: the low-stock rule stays."""
    document = copy.deepcopy(example_document())
    document["spec"]["monitoring"].update(oee=False, spc=False)
    for unit in document["spec"]["workUnits"]:
        unit["sensors"] = []
    spec = ProductionLine.model_validate(document).spec
    groups = rule_file_for_line(NAMESPACE, LINE, spec)["groups"]
    assert [g["name"] for g in groups] == [f"lineops.{NAMESPACE}.{LINE}.materials"]


@pytest.mark.parametrize(("namespace", "name"), [("Plant_A", LINE), (NAMESPACE, 'x"}'), ("", LINE)])
def test_names_that_are_not_dns_labels_are_refused(
    example_spec: ProductionLineSpec, namespace: str, name: str
) -> None:
    with pytest.raises(ValueError, match="DNS label"):
        rule_groups_for_line(namespace, name, example_spec)
