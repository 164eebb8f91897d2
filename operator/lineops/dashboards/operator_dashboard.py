"""The operator's dashboard: reconciles, errors, resource conditions, training, ingestion.

Series from lineops.backends.metrics (reconciles, conditions, training requests) and from the
data plane (ingestion, MES records, prediction log), which the embedded operator serves on
the same /metrics endpoint.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

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

UID = "lineops-operator"
NS = 'namespace=~"$namespace"'


def build() -> db.Dashboard:
    return (
        db.Dashboard("lineops / operator")
        .uid(UID)
        .description("Reconciles, errors, resource conditions, training and ingestion.")
        .tags(["lineops", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(datasource_variable())
        .with_variable(label_variable("namespace", "namespace", LINES_SERIES, multi=True))
        .with_row(db.Row("Reconciles"))
        .with_panel(
            graph(
                "Reconciles per second",
                "lineops_reconcile_total by kind and result (success, error, requeue).",
                query(
                    "sum by (kind, result) (rate(lineops_reconcile_total[$__rate_interval]))",
                    "{{kind}} {{result}}",
                ),
            ).unit("ops")
        )
        .with_panel(
            graph(
                "Reconcile errors per second",
                "lineops_reconcile_errors_total by kind and error class; empty while no "
                "reconcile has failed since the operator started.",
                query(
                    "sum by (kind, error) (rate(lineops_reconcile_errors_total[$__rate_interval]))",
                    "{{kind}} {{error}}",
                ),
            ).unit("ops")
        )
        .with_panel(
            graph(
                "Reconcile duration (p50, p95)",
                "From the lineops_reconcile_duration_seconds histogram.",
                query(
                    "histogram_quantile(0.95, sum by (kind, le) (rate("
                    "lineops_reconcile_duration_seconds_bucket[$__rate_interval])))",
                    "p95 {{kind}}",
                ),
                query(
                    "histogram_quantile(0.5, sum by (kind, le) (rate("
                    "lineops_reconcile_duration_seconds_bucket[$__rate_interval])))",
                    "p50 {{kind}}",
                ),
            ).unit("s")
        )
        .with_panel(
            grid(
                "Ready per resource",
                "The Ready condition of every ProductionLine and QualityModel with its "
                "reason (1 True, 0 False, -1 Unknown); sort by value to see what is not Ready.",
                query(f'lineops_resource_condition{{type="Ready", {NS}}}', table=True),
            )
        )
        .with_row(db.Row("Training"))
        .with_panel(
            single(
                "Training requests (range)",
                "Training requests created in the time range: one per QualityModel spec hash. "
                "A model's series is born at its first request, which increase() does not "
                "see: the first value of series born in the range is added.",
                query(
                    f"sum(increase(lineops_training_requests_total{{{NS}}}[$__range])) "
                    f"+ (sum(min_over_time(lineops_training_requests_total{{{NS}}}"
                    f"[$__range]) unless lineops_training_requests_total{{{NS}}} "
                    "offset $__range) or vector(0))",
                    instant=True,
                ),
            )
        )
        .with_panel(
            grid(
                "Training state per model",
                "The Trained condition of each QualityModel: its reason says where the "
                "newest run stands (TrainingRequested, TrainingRunning, TrainingFailed, ...).",
                query(
                    f'lineops_resource_condition{{kind="QualityModel", type="Trained", {NS}}}',
                    table=True,
                ),
            ).span(18)
        )
        .with_panel(
            graph(
                "Training requests per model",
                "lineops_training_requests_total by namespace and model (a model's first "
                "request starts its series and shows no increase).",
                query(
                    f"sum by (namespace, model) (increase(lineops_training_requests_total"
                    f"{{{NS}}}[$__rate_interval]))",
                    "{{namespace}}/{{model}}",
                ),
            ).span(24)
        )
        .with_row(db.Row("Ingestion"))
        .with_panel(
            graph(
                "Readings per second",
                "lineops_ingest_readings_total by line and outcome (accepted, quarantined).",
                query(
                    "sum by (line, outcome) (rate(lineops_ingest_readings_total"
                    "[$__rate_interval]))",
                    "{{line}} {{outcome}}",
                ),
            ).unit("rps")
        )
        .with_panel(
            graph(
                "Quarantined readings by reason",
                "lineops_ingest_quarantined_total: readings kept aside (not dropped).",
                query(
                    "sum by (line, reason) (increase(lineops_ingest_quarantined_total"
                    "[$__rate_interval]))",
                    "{{line}} {{reason}}",
                ),
            )
        )
        .with_panel(
            graph(
                "MES records per second",
                "lineops_mes_records_total by line, kind and outcome.",
                query(
                    f"sum by (line, kind, outcome) (rate(lineops_mes_records_total{{{NS}}}"
                    "[$__rate_interval]))",
                    "{{line}} {{kind}} {{outcome}}",
                ),
            ).unit("rps")
        )
        .with_panel(
            graph(
                "Rejected payloads",
                "lineops_ingest_batches_total with result=rejected: malformed batches.",
                query(
                    "sum by (line, source) (increase(lineops_ingest_batches_total{result="
                    '"rejected"}[$__rate_interval]))',
                    "{{line}} {{source}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Feature freshness",
                "Age of the newest online features per work unit (now - window end).",
                query(
                    "max by (line, work_unit) (lineops_feature_freshness_seconds)",
                    "{{line}} {{work_unit}}",
                ),
            )
            .unit("s")
            .thresholds(thresholds((None, "green"), (900, "orange"), (3600, "red")))
        )
        .with_panel(
            graph(
                "Predictions logged per second",
                "lineops_predictions_logged_total by line and outcome.",
                query(
                    f"sum by (line, outcome) (rate(lineops_predictions_logged_total{{{NS}}}"
                    "[$__rate_interval]))",
                    "{{line}} {{outcome}}",
                ),
            ).unit("rps")
        )
    )
