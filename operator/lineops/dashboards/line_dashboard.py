"""One line's dashboard: OEE and its factors, SPC state, violations and control limits,
capability, drift, ingestion, and the models serving the line (anomaly rate, tag, latency).

Template variables pick the namespace, the line and its characteristics. The MES series
(lineops.backends.mes_metrics) carry namespace and line; ingestion and serving series carry
the line only (the data plane and a bento serve one namespace's lines), so those panels
filter by line.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat

from lineops.dashboards.common import (
    LINES_SERIES,
    datasource_variable,
    graph,
    grid,
    label_variable,
    query,
    single,
    thresholds,
)

UID = "lineops-line"
LINE = 'namespace=~"$namespace", line=~"$line"'
CHAR = f'{LINE}, characteristic=~"$characteristic"'
# Ratios: red below 0.6, orange below 0.85 (the usual "world-class OEE" mark).
RATIO = thresholds((None, "red"), (0.6, "orange"), (0.85, "green"))


def _oee_stat(component: str) -> stat.Panel:
    # work_unit="" is the line as a whole (mes_metrics leaves it empty for the line).
    return (
        single(
            "OEE" if component == "oee" else component.capitalize(),
            f"lineops_oee_ratio component={component} for the whole line.",
            query(
                f'lineops_oee_ratio{{{LINE}, work_unit="", component="{component}"}}',
                instant=True,
            ),
        )
        .unit("percentunit")
        .min(0)
        .max(1)
        .thresholds(RATIO)
    )


def build() -> db.Dashboard:
    dash = (
        db.Dashboard("lineops / line")
        .uid(UID)
        .description("OEE, SPC, capability, drift and the models of one production line.")
        .tags(["lineops", "generated"])
        .refresh("30s")
        .time("now-24h", "now")
        .timezone("browser")
        .with_variable(datasource_variable())
        .with_variable(label_variable("namespace", "namespace", LINES_SERIES))
        .with_variable(
            label_variable("line", "name", LINES_SERIES[:-1] + ', namespace=~"$namespace"}')
        )
        .with_variable(
            label_variable(
                "characteristic",
                "characteristic",
                'lineops_spc_in_control{namespace=~"$namespace", line=~"$line"}',
                multi=True,
            )
        )
        .with_row(db.Row("OEE"))
    )
    for component in ("oee", "availability", "performance", "quality"):
        dash = dash.with_panel(_oee_stat(component))
    return (
        dash.with_panel(
            graph(
                "OEE and its factors",
                "lineops_oee_ratio for the whole line (ISO 22400-2).",
                query(f'lineops_oee_ratio{{{LINE}, work_unit=""}}', "{{component}}"),
            )
            .unit("percentunit")
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "OEE per work unit",
                "lineops_oee_ratio component=oee per work unit.",
                query(
                    f'lineops_oee_ratio{{{LINE}, work_unit!="", component="oee"}}',
                    "{{work_unit}}",
                ),
            )
            .unit("percentunit")
            .min(0)
            .max(1)
        )
        .with_row(db.Row("SPC"))
        .with_panel(
            grid(
                "In control",
                "lineops_spc_in_control: 1 when no run rule fired within the last 25 points "
                "of the characteristic's charts.",
                query(f"lineops_spc_in_control{{{CHAR}}}", table=True),
            ).span(8)
        )
        .with_panel(
            grid(
                "Violations by rule",
                "lineops_spc_violations_total per characteristic, chart and rule since the "
                "operator started.",
                query(
                    "sum by (characteristic, chart, rule) "
                    f"(lineops_spc_violations_total{{{CHAR}}})",
                    table=True,
                ),
            ).span(16)
        )
        .with_panel(
            graph(
                "Violations per hour",
                "Rate of new run-rule violations.",
                query(
                    "sum by (characteristic, rule) (rate(lineops_spc_violations_total"
                    f"{{{CHAR}}}[$__rate_interval])) * 3600",
                    "{{characteristic}} {{rule}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Control chart: $characteristic",
                "Latest plotted point against the centre line and the control limits, per "
                "chart (xbar, r, s, i, mr).",
                query(f"lineops_spc_last_value{{{CHAR}}}", "{{chart}} point"),
                query(f"lineops_spc_center{{{CHAR}}}", "{{chart}} CL"),
                query(f"lineops_spc_ucl{{{CHAR}}}", "{{chart}} UCL"),
                query(f"lineops_spc_lcl{{{CHAR}}}", "{{chart}} LCL"),
            )
            .repeat("characteristic")
            .repeat_direction("h")
        )
        .with_panel(
            graph(
                "Subgroups charted",
                "lineops_spc_subgroups: points charted so far per characteristic.",
                query(f"lineops_spc_subgroups{{{CHAR}}}", "{{characteristic}}"),
            )
        )
        .with_row(db.Row("Capability and drift"))
        .with_panel(
            graph(
                "Cpk and Ppk",
                "Cpk (within-subgroup sigma) and Ppk (overall sigma); 1.33 is the usual minimum.",
                query(f"lineops_capability_cpk{{{CHAR}}}", "Cpk {{characteristic}}"),
                query(f"lineops_capability_ppk{{{CHAR}}}", "Ppk {{characteristic}}"),
            ).thresholds(thresholds((None, "red"), (1.0, "orange"), (1.33, "green")))
        )
        .with_panel(
            graph(
                "Drift (PSI)",
                "Population stability index per feature, recent vs reference; above 0.25 "
                "is a shift worth retraining for.",
                query(f"lineops_drift_psi{{{LINE}}}", "{{feature}}"),
            ).thresholds(thresholds((None, "green"), (0.1, "orange"), (0.25, "red")))
        )
        .with_row(db.Row("Models"))
        .with_panel(
            graph(
                "Anomaly rate",
                "lineops_serving_anomaly_rate: share of the last 100 answered predictions "
                "that were not normal, per model and model tag.",
                query('lineops_serving_anomaly_rate{line=~"$line"}', "{{model}} {{model_tag}}"),
            )
            .unit("percentunit")
            .min(0)
            .max(1)
        )
        .with_panel(
            grid(
                "Model tags serving",
                "The model tags answering predictions for the line, with their counts.",
                query(
                    'sum by (model, model_tag) (lineops_serving_predictions_total{line=~"$line"})',
                    table=True,
                ),
            )
        )
        .with_panel(
            graph(
                "Prediction latency (p95)",
                "From the lineops_serving_latency_seconds histogram, per model tag and endpoint.",
                query(
                    "histogram_quantile(0.95, sum by (model_tag, endpoint, le) (rate("
                    'lineops_serving_latency_seconds_bucket{line=~"$line"}'
                    "[$__rate_interval])))",
                    "{{model_tag}} {{endpoint}}",
                ),
            ).unit("s")
        )
        .with_panel(
            graph(
                "Predictions refused",
                "lineops_serving_refused_total by reason (unknown work unit, stale features, ...).",
                query(
                    "sum by (model, reason) (rate(lineops_serving_refused_total"
                    '{line=~"$line"}[$__rate_interval]))',
                    "{{model}} {{reason}}",
                ),
            ).unit("rps")
        )
        .with_row(db.Row("Data in"))
        .with_panel(
            graph(
                "Readings per second",
                "lineops_ingest_readings_total by outcome (accepted, quarantined).",
                query(
                    "sum by (outcome) (rate(lineops_ingest_readings_total"
                    '{line=~"$line"}[$__rate_interval]))',
                    "{{outcome}}",
                ),
            ).unit("rps")
        )
        .with_panel(
            graph(
                "MES records per second",
                "lineops_mes_records_total by kind and outcome.",
                query(
                    f"sum by (kind, outcome) (rate(lineops_mes_records_total{{{LINE}}}"
                    "[$__rate_interval]))",
                    "{{kind}} {{outcome}}",
                ),
            ).unit("rps")
        )
    )
