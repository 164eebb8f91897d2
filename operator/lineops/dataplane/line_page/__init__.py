"""The live line page: control charts with limits and flagged points, OEE, current alarms and
the latest predictions of one line, for people at the line without Grafana.

``GET /lines/{namespace}/{line}`` is the HTML page; it polls ``…/live`` (JSON) and redraws
when the line's records changed. The content is the reports' (lineops.mes.report_content).
"""

from __future__ import annotations

from lineops.dataplane.line_page.routes import LinePage

__all__ = ["LinePage"]
