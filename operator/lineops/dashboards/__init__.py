"""Grafana dashboards for lineops, built with grafana-foundation-sdk's typed builders.

The JSON under helm/lineops/dashboards/ is generated from here (``lineops dashboards
generate``) and shipped by the chart as ConfigMaps; a test keeps the two in step and runs
every panel's PromQL against a real Prometheus.
"""

from __future__ import annotations

from lineops.dashboards.render import DASHBOARDS, dashboard_json, generate, panel_queries

__all__ = ["DASHBOARDS", "dashboard_json", "generate", "panel_queries"]
