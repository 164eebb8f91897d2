"""Prometheus series for the MES analytics of each line (the names the alert rules use)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

LINE_LABELS = ["namespace", "line"]


class MesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.oee_ratio = Gauge(
            "lineops_oee_ratio",
            "OEE and its factors (ISO 22400-2); work_unit is empty for the line.",
            [*LINE_LABELS, "work_unit", "component"],
            registry=registry,
        )
        self.oee_newest_record = Gauge(
            "lineops_oee_newest_record_timestamp_seconds",
            "Time of the line's newest machine event or production count, the end of the "
            "window its live OEE is computed over (Unix seconds). Present while the operator "
            "computes the line's OEE, also when a ratio has no value (no part counted).",
            LINE_LABELS,
            registry=registry,
        )
        self.spc_violations = Counter(
            "lineops_spc_violations_total",
            "Run-rule violations found on a control chart.",
            [*LINE_LABELS, "characteristic", "rule", "chart"],
            registry=registry,
        )
        self.spc_in_control = Gauge(
            "lineops_spc_in_control",
            "1 when no run rule fired within the last 25 points of the characteristic's charts.",
            [*LINE_LABELS, "characteristic"],
            registry=registry,
        )
        self.spc_subgroups = Gauge(
            "lineops_spc_subgroups",
            "Subgroups (points) charted so far for the characteristic.",
            [*LINE_LABELS, "characteristic"],
            registry=registry,
        )
        chart = [*LINE_LABELS, "characteristic", "chart"]
        self.spc_last = Gauge(
            "lineops_spc_last_value", "Latest plotted point.", chart, registry=registry
        )
        self.spc_center = Gauge("lineops_spc_center", "Centre line.", chart, registry=registry)
        self.spc_ucl = Gauge("lineops_spc_ucl", "Upper control limit.", chart, registry=registry)
        self.spc_lcl = Gauge("lineops_spc_lcl", "Lower control limit.", chart, registry=registry)
        self.cpk = Gauge(
            "lineops_capability_cpk",
            "Cpk from within-subgroup sigma.",
            [*LINE_LABELS, "characteristic"],
            registry=registry,
        )
        self.ppk = Gauge(
            "lineops_capability_ppk",
            "Ppk from overall sigma.",
            [*LINE_LABELS, "characteristic"],
            registry=registry,
        )
        self.drift_psi = Gauge(
            "lineops_drift_psi",
            "Population stability index of a feature, recent vs reference.",
            [*LINE_LABELS, "feature"],
            registry=registry,
        )
        self.plan_orders = Gauge(
            "lineops_plan_orders",
            "Work orders in the line's current production plan.",
            LINE_LABELS,
            registry=registry,
        )
        self.plan_orders_late = Gauge(
            "lineops_plan_orders_late",
            "Orders the current plan finishes after their due date.",
            LINE_LABELS,
            registry=registry,
        )
        self.plan_next_maintenance = Gauge(
            "lineops_plan_next_maintenance_timestamp_seconds",
            "Start of the first maintenance window of the current plan not yet over (Unix time).",
            [*LINE_LABELS, "work_unit"],
            registry=registry,
        )

        self.shift_oee_ratio = Gauge(
            "lineops_shift_oee_ratio",
            "OEE and its factors over a planned shift (ISO 22400-2): shift is current (so "
            "far) or previous (the last one ended).",
            [*LINE_LABELS, "shift", "component"],
            registry=registry,
        )
        self.shift_start = Gauge(
            "lineops_shift_start_timestamp_seconds",
            "Start of the current or previous planned shift (Unix time).",
            [*LINE_LABELS, "shift"],
            registry=registry,
        )

    def forget(self, namespace: str, line: str) -> None:
        """Drop every series of a deleted line: a gauge left behind would keep reporting
        the last OEE or control state of a line that no longer exists."""
        labels = {"namespace": namespace, "line": line}
        for metric in (
            self.oee_ratio,
            self.spc_violations,
            self.spc_in_control,
            self.spc_subgroups,
            self.spc_last,
            self.spc_center,
            self.spc_ucl,
            self.spc_lcl,
            self.cpk,
            self.ppk,
            self.drift_psi,
            self.plan_orders,
            self.plan_orders_late,
            self.plan_next_maintenance,
            self.shift_oee_ratio,
            self.shift_start,
            self.oee_newest_record,
        ):
            metric.remove_by_labels(labels)
