"""Dashboards to JSON, and the PromQL each panel runs (for docs and the Prometheus test)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from lineops.dashboards import line_dashboard, operator_dashboard

# File name under helm/lineops/dashboards/ -> builder.
DASHBOARDS: Final[dict[str, Callable[[], db.Dashboard]]] = {
    "lineops-operator.json": operator_dashboard.build,
    "lineops-line.json": line_dashboard.build,
}


def dashboard_json(build: Callable[[], db.Dashboard]) -> str:
    dashboard = build().build()
    # The builders leave panel ids at 0 and refIds empty; Grafana wants both unique (panel
    # links, "view panel", and which query a legend or override belongs to).
    for number, panel in enumerate(dashboard.panels or [], start=1):
        panel.id_val = number
        for index, target in enumerate(getattr(panel, "targets", None) or []):
            target.ref_id = chr(ord("A") + index)
    # Sorted keys and a trailing newline: the committed files diff cleanly and the drift
    # test compares bytes.
    return JSONEncoder(sort_keys=True, indent=2).encode(dashboard) + "\n"


def generate() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {name: dashboard_json(build) for name, build in DASHBOARDS.items()}


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target, in panel order."""
    out: list[tuple[str, str]] = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            out.append((str(panel.get("title", "")), str(target["expr"])))
    return out


def loads(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
