"""Shared pieces of the dashboards: the datasource variable, label variables, panel helpers.

Every panel queries the Prometheus chosen in the ``datasource`` variable, so one JSON file
works in any Grafana whatever its datasource uid is.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prom_model

DATASOURCE: Final = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
# Resource series carry the resource's namespace and name (ServiceMonitor honorLabels), so
# the lines a Prometheus knows are the ProductionLines the operator has reconciled.
LINES_SERIES: Final = 'lineops_resource_condition{kind="ProductionLine", type="Ready"}'


def datasource_variable() -> db.DatasourceVariable:
    return db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def label_variable(name: str, label: str, series: str, *, multi: bool = False) -> db.QueryVariable:
    """A variable filled from ``label_values(series, label)`` whenever the time range moves,
    so a line created since the dashboard was opened shows up."""
    variable = (
        db.QueryVariable(name)
        .label(name.replace("_", " ").capitalize())
        .datasource(DATASOURCE)
        .query(f"label_values({series}, {label})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if multi:
        # ".*" rather than Grafana's own list of values: a regex matcher stays valid however
        # many values there are.
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


def query(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False
) -> prometheus.Dataquery:
    """A PromQL target: a range query for graphs, ``instant`` for stats (the latest value),
    ``table`` for tables (one row per series, labels as columns)."""
    q = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant or table:
        q = q.instant()
    if table:
        q = q.format(prom_model.PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def graph(title: str, description: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
    for q in queries:
        panel = panel.with_target(q)
    return panel.height(8).span(12)


def single(title: str, description: str, q: prometheus.Dataquery) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(q)
        .height(5)
        .span(6)
    )


def grid(title: str, description: str, q: prometheus.Dataquery) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(q)
        .height(8)
        .span(12)
    )
