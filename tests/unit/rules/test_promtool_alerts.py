"""Each alert fires when it should and stays silent when it should not, as promtool sees it.

Synthetic input series (one sample a minute) stand in for the operator's metrics. Every case
also feeds series that must not fire: another line, a disabled run rule, a healthy work
unit, a component other than OEE, so a selector that is too broad shows up as an extra alert.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lineops.api.productionline import ProductionLineSpec
from lineops.services.prometheus_rules import (
    ALERT_CPK_LOW,
    ALERT_DRIFT,
    ALERT_LOW_STOCK,
    ALERT_OEE_ABSENT,
    ALERT_OEE_LOW,
    ALERT_SPC_RULE,
    rule_file_for_line,
)

from tests.unit.rules.conftest import LINE, NAMESPACE
from tests.unit.rules.promtool import expected_alert, run_unit_tests, series

PIN = {"namespace": NAMESPACE, "line": LINE}
OTHER_LINE = {"namespace": NAMESPACE, "line": "other-line"}


@pytest.fixture
def rule_file(example_spec: ProductionLineSpec) -> dict[str, Any]:
    return rule_file_for_line(NAMESPACE, LINE, example_spec)


def find_rule(rule_file: dict[str, Any], alert: str, **labels: str) -> dict[str, Any]:
    for group in rule_file["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert and labels.items() <= rule["labels"].items():
                found: dict[str, Any] = rule
                return found
    raise AssertionError(f"no {alert} rule with {labels}")


def assert_passes(tmp_path: Path, rule_file: dict[str, Any], test: dict[str, Any]) -> None:
    result = run_unit_tests(tmp_path, rule_file, [{"interval": "1m", **test}])
    assert result.returncode == 0, result.stdout + result.stderr


def test_spc_rule_alert_fires_on_a_new_violation_only(
    tmp_path: Path, rule_file: dict[str, Any]
) -> None:
    counter = "lineops_spc_violations_total"
    fired = {**PIN, "characteristic": "ring_diameter", "rule": "nelson-1", "chart": "xbar"}
    rule = find_rule(rule_file, ALERT_SPC_RULE, characteristic="ring_diameter", rule="nelson-1")
    test = {
        "input_series": [
            # One violation at minute 6, then nothing new.
            {"series": series(counter, fired), "values": "0x5 1x24"},
            # nelson-4 is not enabled on ring_diameter: its counter must not alert.
            {"series": series(counter, {**fired, "rule": "nelson-4"}), "values": "0x5 3x24"},
            # The same characteristic on another line belongs to that line's rules.
            {"series": series(counter, {**fired, **OTHER_LINE}), "values": "0x5 1x24"},
            # A counter reset (operator restart) is not a violation.
            {"series": series(counter, {**fired, "rule": "nelson-2"}), "values": "4x5 0x24"},
        ],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": ALERT_SPC_RULE, "exp_alerts": []},
            {
                "eval_time": "8m",
                "alertname": ALERT_SPC_RULE,
                "exp_alerts": [expected_alert(rule, fired, 1.0)],
            },
            # Five minutes after the last increase the window no longer holds it.
            {"eval_time": "20m", "alertname": ALERT_SPC_RULE, "exp_alerts": []},
        ],
    }
    expected = expected_alert(rule, fired, 1.0)
    assert expected["exp_labels"]["severity"] == "critical"
    assert expected["exp_annotations"]["summary"] == (
        "SPC rule nelson-1 fired on ring_diameter (xbar chart) of line press-line-1"
    )
    assert_passes(tmp_path, rule_file, test)


def test_oee_alert_needs_fifteen_minutes_below_target(
    tmp_path: Path, rule_file: dict[str, Any]
) -> None:
    metric = "lineops_oee_ratio"
    press = {**PIN, "work_unit": "press-01", "component": "oee"}
    whole = {**PIN, "work_unit": "", "component": "oee"}
    rule = find_rule(rule_file, ALERT_OEE_LOW)
    test = {
        "input_series": [
            # Drops to 70 % at minute 11 and stays there.
            {"series": series(metric, press), "values": "0.9x10 0.7x30"},
            # The line aggregate (work_unit="") dips for 10 minutes only.
            {"series": series(metric, whole), "values": "0.9x10 0.8x9 0.9x20"},
            {"series": series(metric, {**press, "work_unit": "grinder-01"}), "values": "0.9x40"},
            {"series": series(metric, {**press, "component": "availability"}), "values": "0.5x40"},
            {"series": series(metric, {**press, **OTHER_LINE}), "values": "0.1x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": ALERT_OEE_LOW, "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": ALERT_OEE_LOW,
                "exp_alerts": [expected_alert(rule, press, 0.7)],
            },
        ],
    }
    summary = expected_alert(rule, press, 0.7)["exp_annotations"]["summary"]
    assert summary == "OEE of press-line-1 / work unit press-01 is 70%, below the target 85%"
    line_summary = expected_alert(rule, whole, 0.7)["exp_annotations"]["summary"]
    assert "the line as a whole" in line_summary
    assert_passes(tmp_path, rule_file, test)


def test_oee_alert_on_the_line_aggregate(tmp_path: Path, rule_file: dict[str, Any]) -> None:
    whole = {**PIN, "work_unit": "", "component": "oee"}
    rule = find_rule(rule_file, ALERT_OEE_LOW)
    test = {
        "input_series": [{"series": series("lineops_oee_ratio", whole), "values": "0.5x40"}],
        "alert_rule_test": [
            {
                "eval_time": "20m",
                "alertname": ALERT_OEE_LOW,
                "exp_alerts": [expected_alert(rule, whole, 0.5)],
            }
        ],
    }
    assert_passes(tmp_path, rule_file, test)


def test_oee_absent_alert_only_without_metrics(tmp_path: Path, rule_file: dict[str, Any]) -> None:
    rule = find_rule(rule_file, ALERT_OEE_ABSENT)
    # absent() labels its result with the selector's equality matchers.
    absent_labels = dict(PIN)
    newest = "lineops_oee_newest_record_timestamp_seconds"
    # Computed, though without an OEE ratio (no part counted in the last hours): silent.
    silent = {
        "input_series": [{"series": series(newest, PIN), "values": "1.8e9x60"}],
        "alert_rule_test": [{"eval_time": "50m", "alertname": ALERT_OEE_ABSENT, "exp_alerts": []}],
    }
    firing = {
        "input_series": [
            {"series": series(newest, OTHER_LINE), "values": "1.8e9x60"},
            {
                "series": series("lineops_oee_ratio", {**PIN, "component": "oee"}),
                "values": "0.9x60",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": ALERT_OEE_ABSENT, "exp_alerts": []},
            {
                "eval_time": "50m",
                "alertname": ALERT_OEE_ABSENT,
                "exp_alerts": [expected_alert(rule, absent_labels, 1.0)],
            },
        ],
    }
    assert_passes(tmp_path, rule_file, silent)
    assert_passes(tmp_path, rule_file, firing)


def test_cpk_alert_for_measured_characteristics(tmp_path: Path, rule_file: dict[str, Any]) -> None:
    metric = "lineops_capability_cpk"
    diameter = {**PIN, "characteristic": "ring_diameter"}
    rule = find_rule(rule_file, ALERT_CPK_LOW, characteristic="ring_diameter")
    test = {
        "input_series": [
            {"series": series(metric, diameter), "values": "1.5x10 1.1x30"},
            {"series": series(metric, {**PIN, "characteristic": "ring_width"}), "values": "1.4x40"},
            # A p chart has no Cpk alert even if a value were exported for it.
            {
                "series": series(metric, {**PIN, "characteristic": "reject_fraction"}),
                "values": "0.2x40",
            },
            {"series": series(metric, {**diameter, **OTHER_LINE}), "values": "0.2x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": ALERT_CPK_LOW, "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": ALERT_CPK_LOW,
                "exp_alerts": [expected_alert(rule, diameter, 1.1)],
            },
        ],
    }
    summary = expected_alert(rule, diameter, 1.1)["exp_annotations"]["summary"]
    assert summary == "Cpk of ring_diameter on line press-line-1 is 1.10, below 1.33"
    assert_passes(tmp_path, rule_file, test)


def test_drift_alert_above_psi_threshold(tmp_path: Path, rule_file: dict[str, Any]) -> None:
    metric = "lineops_drift_psi"
    vibration = {**PIN, "feature": "vibration_rms"}
    rule = find_rule(rule_file, ALERT_DRIFT)
    test = {
        "input_series": [
            {"series": series(metric, vibration), "values": "0.05x10 0.4x30"},
            # Moderate drift (0.10..0.25) stays below the configured 0.25.
            {"series": series(metric, {**PIN, "feature": "ram_force"}), "values": "0.2x40"},
            {"series": series(metric, {**vibration, **OTHER_LINE}), "values": "0.9x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": ALERT_DRIFT, "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": ALERT_DRIFT,
                "exp_alerts": [expected_alert(rule, vibration, 0.4)],
            },
        ],
    }
    assert_passes(tmp_path, rule_file, test)


def test_low_stock_alert_per_material_while_below(
    tmp_path: Path, rule_file: dict[str, Any]
) -> None:
    """The data plane's gauge is 1 while a material is below its threshold: the alert fires
    for that material after 5 minutes, not for a material that is fine, one that dipped for
    a moment, or another line's."""
    metric = "lineops_material_low_stock"
    resin = {**PIN, "material": "resin"}
    rule = find_rule(rule_file, ALERT_LOW_STOCK)
    test = {
        "input_series": [
            {"series": series(metric, resin), "values": "0x10 1x30"},
            {"series": series(metric, {**PIN, "material": "steel"}), "values": "0x40"},
            {"series": series(metric, {**PIN, "material": "oil"}), "values": "0x10 1x3 0x27"},
            {"series": series(metric, {**resin, **OTHER_LINE}), "values": "1x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "13m", "alertname": ALERT_LOW_STOCK, "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": ALERT_LOW_STOCK,
                "exp_alerts": [expected_alert(rule, resin, 1)],
            },
        ],
    }
    assert_passes(tmp_path, rule_file, test)


def test_recording_rules(tmp_path: Path, rule_file: dict[str, Any]) -> None:
    xbar = {**PIN, "characteristic": "ring_diameter", "chart": "xbar"}
    flat = {**PIN, "characteristic": "ring_width", "chart": "imr"}
    test = {
        "input_series": [
            {
                "series": series("lineops_oee_ratio", {**PIN, "component": "oee"}),
                "values": "0.8x10",
            },
            {
                "series": series(
                    "lineops_spc_in_control", {**PIN, "characteristic": "ring_diameter"}
                ),
                "values": "0x10",
            },
            {
                "series": series("lineops_spc_in_control", {**PIN, "characteristic": "ring_width"}),
                "values": "1x10",
            },
            {"series": series("lineops_spc_last_value", xbar), "values": "74.02x10"},
            {"series": series("lineops_spc_center", xbar), "values": "74x10"},
            {"series": series("lineops_spc_ucl", xbar), "values": "74.015x10"},
            # a characteristic that never varied: UCL = centre, no z-score (was NaN / Inf)
            {"series": series("lineops_spc_last_value", flat), "values": "5x10"},
            {"series": series("lineops_spc_center", flat), "values": "5x10"},
            {"series": series("lineops_spc_ucl", flat), "values": "5x10"},
        ],
        "promql_expr_test": [
            {
                "expr": "lineops:oee_ratio:avg5m",
                "eval_time": "10m",
                "exp_samples": [
                    {
                        "labels": series("lineops:oee_ratio:avg5m", {**PIN, "component": "oee"}),
                        "value": 0.8,
                    }
                ],
            },
            {
                "expr": "lineops:spc_out_of_control:sum",
                "eval_time": "10m",
                "exp_samples": [
                    {"labels": series("lineops:spc_out_of_control:sum", PIN), "value": 1}
                ],
            },
            {
                # 0.02 above the centre with 3 sigma = 0.015: 4 sigma out.
                "expr": "round(lineops:spc_last_value:zscore, 0.001)",
                "eval_time": "10m",
                "exp_samples": [{"labels": series("", xbar), "value": 4}],
            },
        ],
    }
    assert_passes(tmp_path, rule_file, test)
