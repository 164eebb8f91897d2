"""Prometheus recording and alerting rules for one production line.

The operator exports live MES metrics (OEE, SPC, capability, drift) labelled with
``namespace`` and ``line``; the rules here watch exactly one line, so every selector pins both
labels and every alert names the line, the work unit or the characteristic it is about. The
thresholds come from ``spec.monitoring`` and the run rules from each quality characteristic,
so changing the spec changes the alerts.

Two shapes of the same groups: a ``monitoring.coreos.com/v1`` PrometheusRule for clusters
running the Prometheus Operator, and a plain rule file (``{"groups": [...]}``) for a
Prometheus configured by hand. Both are pure data; creating or patching the object (and
adding owner references) is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from lineops.api.constants import LABEL_COMPONENT, LABEL_LINE, LABEL_MANAGED_BY, MANAGED_BY
from lineops.api.productionline import ProductionLineSpec, QualityCharacteristic, RunRule
from lineops.mes.rules import RULES

Rule = dict[str, Any]
Group = dict[str, Any]

PROMETHEUS_RULE_API_VERSION: Final = "monitoring.coreos.com/v1"
PROMETHEUS_RULE_KIND: Final = "PrometheusRule"
RULE_NAME_SUFFIX: Final = "-lineops"
COMPONENT: Final = "alerts"

# Metrics the operator exports (lineops.backends.metrics); the rules must use these names.
OEE_RATIO: Final = "lineops_oee_ratio"
OEE_NEWEST: Final = "lineops_oee_newest_record_timestamp_seconds"
SPC_VIOLATIONS: Final = "lineops_spc_violations_total"
SPC_IN_CONTROL: Final = "lineops_spc_in_control"
SPC_LAST_VALUE: Final = "lineops_spc_last_value"
SPC_CENTER: Final = "lineops_spc_center"
SPC_UCL: Final = "lineops_spc_ucl"
CAPABILITY_CPK: Final = "lineops_capability_cpk"
DRIFT_PSI: Final = "lineops_drift_psi"
# Exported by the data plane (lineops.dataplane.lots_api): 1 while stock is below threshold.
MATERIAL_LOW_STOCK: Final = "lineops_material_low_stock"

# Recording rules, named level:metric:operations as the Prometheus docs recommend.
RECORD_OEE_AVG5M: Final = "lineops:oee_ratio:avg5m"
RECORD_OEE_AVG1H: Final = "lineops:oee_ratio:avg1h"
RECORD_SPC_VIOLATIONS_5M: Final = "lineops:spc_violations:increase5m"
RECORD_SPC_OUT_OF_CONTROL: Final = "lineops:spc_out_of_control:sum"
RECORD_SPC_ZSCORE: Final = "lineops:spc_last_value:zscore"

ALERT_SPC_RULE: Final = "LineopsSpcRuleViolation"
ALERT_OEE_LOW: Final = "LineopsOeeBelowTarget"
ALERT_OEE_ABSENT: Final = "LineopsOeeMetricsAbsent"
ALERT_CPK_LOW: Final = "LineopsCapabilityBelowTarget"
ALERT_DRIFT: Final = "LineopsFeatureDrift"
ALERT_LOW_STOCK: Final = "LineopsMaterialLowStock"

# A violation counter is read over this window: long enough to span a few scrapes (rate
# functions need two samples), short enough that the alert resolves soon after the signal.
SPC_WINDOW: Final = "5m"
# OEE, Cpk and PSI are recomputed from rolling windows; a dip that lasts one recompute is
# noise, one that lasts a quarter of an hour is a trend worth a person's attention.
OEE_FOR: Final = "15m"
CPK_FOR: Final = "15m"
DRIFT_FOR: Final = "15m"
# Stock changes only when a receipt or consumption is recorded; a few minutes absorb a
# consumption recorded just before its replenishing receipt.
LOW_STOCK_FOR: Final = "5m"
# The operator refreshes OEE every minute; half an hour without it means it stopped.
ABSENT_FOR: Final = "30m"

SEVERITY_CRITICAL: Final = "critical"
SEVERITY_WARNING: Final = "warning"
# A point beyond the 3-sigma limits is the classic "stop and look" signal; the pattern rules
# (runs, trends, zones) point at slower shifts and warn.
CRITICAL_RULES: Final = frozenset({RunRule.NELSON_1, RunRule.WECO_1})

_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Go-template fragments Prometheus fills in per alert (kept out of f-strings' brace escaping).
_VALUE_2F: Final = '{{ $value | printf "%.2f" }}'
_VALUE_PCT: Final = "{{ $value | humanizePercentage }}"
_CHART: Final = "{{ $labels.chart }}"
_FEATURE: Final = "{{ $labels.feature }}"
_MATERIAL: Final = "{{ $labels.material }}"
_WORK_UNIT_TEXT: Final = (
    "{{ if $labels.work_unit }}work unit {{ $labels.work_unit }}{{ else }}the line as a whole"
    "{{ end }}"
)


def rule_name(line: str) -> str:
    """metadata.name of the line's PrometheusRule."""
    return f"{line}{RULE_NAME_SUFFIX}"


def _check_name(what: str, value: str) -> None:
    # Both end up in label selectors and object names; refuse what Kubernetes would refuse
    # rather than emit a rule that silently matches nothing.
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(f"{what} {value!r} is not a DNS label (lower case, digits, '-')")


def _quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _selector(metric: str, **matchers: str) -> str:
    body = ",".join(f"{key}={_quote(value)}" for key, value in matchers.items())
    return f"{metric}{{{body}}}"


class _Line:
    """What every rule of one line shares: its selector labels and its static alert labels."""

    def __init__(self, namespace: str, name: str, spec: ProductionLineSpec) -> None:
        self.namespace = namespace
        self.name = name
        self.spec = spec
        self.where = f"line {name} (namespace {namespace}, site {spec.site}, area {spec.area})"

    def select(self, metric: str, **matchers: str) -> str:
        return _selector(metric, namespace=self.namespace, line=self.name, **matchers)

    def labels(self, severity: str, **extra: str) -> dict[str, str]:
        # site and area let Alertmanager route by plant without knowing every line name.
        return {
            "severity": severity,
            "namespace": self.namespace,
            "line": self.name,
            "site": self.spec.site,
            "area": self.spec.area,
            **extra,
        }

    def group_name(self, concern: str) -> str:
        # Unique across lines and namespaces, so many lines can share one Prometheus.
        return f"lineops.{self.namespace}.{self.name}.{concern}"


def _record(name: str, expr: str) -> Rule:
    return {"record": name, "expr": expr}


def _alert(
    name: str,
    expr: str,
    labels: Mapping[str, str],
    summary: str,
    description: str,
    duration: str | None = None,
) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if duration is not None:
        rule["for"] = duration
    rule["labels"] = dict(labels)
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


# ------------------------------------------------------------------------------------- OEE


def _oee_group(line: _Line) -> Group:
    monitoring = line.spec.monitoring
    rules: list[Rule] = [
        _record(RECORD_OEE_AVG5M, f"avg_over_time({line.select(OEE_RATIO)}[5m])"),
        _record(RECORD_OEE_AVG1H, f"avg_over_time({line.select(OEE_RATIO)}[1h])"),
    ]
    target = monitoring.oee_target
    # OEE cannot fall below 0, so a zero target means "never alert".
    if monitoring.oee_target_value > 0:
        rules.append(
            _alert(
                ALERT_OEE_LOW,
                f"{line.select(OEE_RATIO, component='oee')} < {target}",
                line.labels(SEVERITY_WARNING),
                f"OEE of {line.name} / {_WORK_UNIT_TEXT} is {_VALUE_PCT}, below the target "
                f"{float(target) * 100:g}%",
                f"Overall equipment effectiveness (availability x performance x quality, "
                f"ISO 22400-2) of {_WORK_UNIT_TEXT} on {line.where} has stayed below "
                f"monitoring.oeeTarget {target} for {OEE_FOR}. Compare the availability, "
                "performance and quality components to find the loss.",
                OEE_FOR,
            )
        )
    rules.append(
        _alert(
            ALERT_OEE_ABSENT,
            f"absent({line.select(OEE_NEWEST)})",
            line.labels(SEVERITY_WARNING),
            f"No OEE metrics for line {line.name}",
            f"The operator has not computed the OEE of {line.where} for {ABSENT_FOR} "
            f"({OEE_NEWEST} is absent), so OEE alerts cannot fire: the operator is not "
            "scraped, or no machine event or count of the line has reached its data plane. "
            "(A line without a part counted in its last 8 recorded hours has no OEE ratio, "
            "which is not this alert; records that stop leave the last OEE in place.)",
            ABSENT_FOR,
        )
    )
    return {"name": line.group_name("oee"), "rules": rules}


# ------------------------------------------------------------------------------------- SPC


def _spc_alert(line: _Line, qc: QualityCharacteristic, rule: RunRule) -> Rule:
    meaning = RULES[rule.value].description
    severity = SEVERITY_CRITICAL if rule in CRITICAL_RULES else SEVERITY_WARNING
    counter = line.select(SPC_VIOLATIONS, characteristic=qc.name, rule=rule.value)
    return _alert(
        ALERT_SPC_RULE,
        f"increase({counter}[{SPC_WINDOW}]) > 0",
        line.labels(severity, characteristic=qc.name, rule=rule.value),
        f"SPC rule {rule.value} fired on {qc.name} ({_CHART} chart) of line {line.name}",
        f"Run rule {rule.value} ({meaning}) signalled on the {_CHART} chart "
        f"of quality characteristic {qc.name} ({qc.chart.value} chart, unit {qc.unit}) on "
        f"{line.where} within the last {SPC_WINDOW}. The process may be out of statistical "
        "control: look for an assignable cause before adjusting it.",
    )


def _spc_group(line: _Line) -> Group:
    rules: list[Rule] = [
        _record(
            RECORD_SPC_VIOLATIONS_5M,
            "sum by (namespace, line, characteristic, rule) "
            f"(increase({line.select(SPC_VIOLATIONS)}[{SPC_WINDOW}]))",
        ),
        # in_control is 1/0 per characteristic: 1 - it, summed, counts those out of control.
        _record(
            RECORD_SPC_OUT_OF_CONTROL,
            f"sum by (namespace, line) (1 - {line.select(SPC_IN_CONTROL)})",
        ),
        # Distance of the latest point from the centre line in sigmas of the plotted
        # statistic (the limits sit at 3 sigma), comparable across charts on one dashboard.
        # Only where the UCL is above the centre: a series that never varied (zero sigma)
        # or a c chart centred on 0 gave NaN or infinities.
        _record(
            RECORD_SPC_ZSCORE,
            f"3 * ({line.select(SPC_LAST_VALUE)} - {line.select(SPC_CENTER)})"
            f" / (({line.select(SPC_UCL)} - {line.select(SPC_CENTER)}) > 0)",
        ),
    ]
    for qc in line.spec.quality_characteristics:
        rules.extend(_spc_alert(line, qc, rule) for rule in qc.rules)
    return {"name": line.group_name("spc"), "rules": rules}


def _limits_text(qc: QualityCharacteristic) -> str:
    parts = [("LSL", qc.lsl), ("USL", qc.usl)]
    return ", ".join(f"{label} {value}" for label, value in parts if value is not None)


def _capability_group(line: _Line, measured: list[QualityCharacteristic]) -> Group:
    target = line.spec.monitoring.cpk_target
    rules = [
        _alert(
            ALERT_CPK_LOW,
            f"{line.select(CAPABILITY_CPK, characteristic=qc.name)} < {target}",
            line.labels(SEVERITY_WARNING, characteristic=qc.name),
            f"Cpk of {qc.name} on line {line.name} is {_VALUE_2F}, below {target}",
            f"Process capability Cpk = min(USL - mu, mu - LSL) / 3 sigma (within-subgroup "
            f"sigma) of quality characteristic {qc.name} ({_limits_text(qc)}, target "
            f"{qc.target} {qc.unit}) on {line.where} has stayed below monitoring.cpkTarget "
            f"{target} for {CPK_FOR}: too many parts will fall outside the specification. "
            "Centre the process or reduce its variation.",
            CPK_FOR,
        )
        for qc in measured
    ]
    return {"name": line.group_name("capability"), "rules": rules}


# ----------------------------------------------------------------------------------- drift


def _drift_group(line: _Line) -> Group:
    threshold = line.spec.monitoring.drift_psi
    rule = _alert(
        ALERT_DRIFT,
        f"{line.select(DRIFT_PSI)} > {threshold}",
        line.labels(SEVERITY_WARNING),
        f"Feature {_FEATURE} of line {line.name} drifts (PSI {_VALUE_2F} > {threshold})",
        f"The population stability index of feature {_FEATURE} on "
        f"{line.where} has stayed above monitoring.driftPsi {threshold} for {DRIFT_FOR} "
        "(PSI bands: below 0.10 stable, 0.10-0.25 moderate, above 0.25 significant). "
        "Quality models trained on older data may degrade; check the sensor and consider "
        "retraining.",
        DRIFT_FOR,
    )
    return {"name": line.group_name("drift"), "rules": [rule]}


# ------------------------------------------------------------------------------- materials


def _materials_group(line: _Line) -> Group:
    rule = _alert(
        ALERT_LOW_STOCK,
        f"{line.select(MATERIAL_LOW_STOCK)} == 1",
        line.labels(SEVERITY_WARNING),
        f"Material {_MATERIAL} of line {line.name} is below its low-stock threshold",
        f"Stock on hand of material {_MATERIAL} on {line.where} (received minus consumed, "
        f"lineops_material_stock) has stayed below the material's low-stock threshold for "
        f"{LOW_STOCK_FOR}. Receive a lot (lineops lots receive) or check the consumptions.",
        LOW_STOCK_FOR,
    )
    return {"name": line.group_name("materials"), "rules": [rule]}


# ------------------------------------------------------------------------------ public API


def rule_groups_for_line(namespace: str, name: str, spec: ProductionLineSpec) -> list[Group]:
    """The rule groups of one line; only what ``spec.monitoring`` enables is included.

    - ``monitoring.oee``: OEE recording rules, OEE-below-target and OEE-metrics-absent alerts;
    - ``monitoring.spc``: SPC recording rules, one alert per enabled run rule per
      characteristic, and a Cpk-below-target alert per measured (variables) characteristic;
    - a drift alert whenever the line has sensors (their features are what drifts);
    - a low-stock alert per material below its threshold (thresholds are data, set through
      the data plane, so the rule is always there and quiet while no material is low).
    """
    _check_name("namespace", namespace)
    _check_name("line name", name)
    line = _Line(namespace, name, spec)
    monitoring = spec.monitoring
    groups: list[Group] = []
    if monitoring.oee:
        groups.append(_oee_group(line))
    if monitoring.spc and spec.quality_characteristics:
        groups.append(_spc_group(line))
        # Capability indices only make sense for measured values; attribute charts count.
        measured = [qc for qc in spec.quality_characteristics if not qc.chart.is_attribute]
        if measured:
            groups.append(_capability_group(line, measured))
    if any(unit.sensors for unit in spec.work_units):
        groups.append(_drift_group(line))
    groups.append(_materials_group(line))
    return groups


def rule_file_for_line(namespace: str, name: str, spec: ProductionLineSpec) -> dict[str, Any]:
    """The plain Prometheus rule-file form, for ``rule_files:`` in prometheus.yml."""
    return {"groups": rule_groups_for_line(namespace, name, spec)}


def prometheus_rule_for_line(
    namespace: str,
    name: str,
    spec: ProductionLineSpec,
    *,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``monitoring.coreos.com/v1`` PrometheusRule named ``<line>-lineops``.

    ``labels`` are added to the object's labels; a Prometheus Operator installation often
    selects rules by a label such as ``release: prometheus``. The operator creates this
    object only when ``spec.monitoring.prometheusRule`` is true.
    """
    metadata_labels = {
        LABEL_MANAGED_BY: MANAGED_BY,
        "app.kubernetes.io/name": "lineops",
        LABEL_LINE: name,
        LABEL_COMPONENT: COMPONENT,
        **(labels or {}),
    }
    return {
        "apiVersion": PROMETHEUS_RULE_API_VERSION,
        "kind": PROMETHEUS_RULE_KIND,
        "metadata": {"name": rule_name(name), "namespace": namespace, "labels": metadata_labels},
        "spec": {"groups": rule_groups_for_line(namespace, name, spec)},
    }


__all__ = [
    "ALERT_CPK_LOW",
    "ALERT_DRIFT",
    "ALERT_OEE_ABSENT",
    "ALERT_OEE_LOW",
    "ALERT_SPC_RULE",
    "prometheus_rule_for_line",
    "rule_file_for_line",
    "rule_groups_for_line",
    "rule_name",
]
