"""SPC, capability and OEE reports: PNG figures, interactive HTML pages and an index.

``content`` turns MES analytics into plain numbers, ``png`` (static) and ``pages``
(interactive HTML) draw them, and ``writer`` lays out the report folder.
"""

from __future__ import annotations

from lineops.services.reports.content import (
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    capability_content,
    control_chart_content,
    oee_content,
)
from lineops.services.reports.writer import (
    INDEX,
    Artifact,
    prepare,
    write_capability,
    write_control_chart,
    write_index,
    write_oee,
)

__all__ = [
    "INDEX",
    "Artifact",
    "CapabilityContent",
    "ControlChartContent",
    "OeeContent",
    "capability_content",
    "control_chart_content",
    "oee_content",
    "prepare",
    "write_capability",
    "write_control_chart",
    "write_index",
    "write_oee",
]
