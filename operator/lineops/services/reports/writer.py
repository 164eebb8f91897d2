"""Writing a report folder: each chart as PNG and HTML, plus an ``index.html`` linking them.

File names derive from a caller-given stem (``ring_diameter-control-chart.png``), so one
folder can hold the charts of every characteristic of a line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Final

from lineops.services.reports import pages
from lineops.services.reports.content import (
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    percent,
)
from lineops.services.reports.files import write_file

INDEX: Final = "index.html"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Artifact:
    """One chart of the report: its two files and a line for the index."""

    title: str
    png: Path
    html: Path
    summary: str
    ok: bool | None = None  # in control / capable / on target; None when not judged


def _png() -> ModuleType:
    """The PNG renderer, imported on first use: matplotlib stays out of every process that
    only parses the CLI (the operator is started through it) or never writes a report."""
    from lineops.services.reports import png

    return png


def file_stem(name: str) -> str:
    """A name safe as a file name on every platform (characteristic names already are)."""
    return _UNSAFE.sub("_", name).strip("._") or "chart"


def write_control_chart(content: ControlChartContent, out_dir: Path, stem: str) -> Artifact:
    base = f"{file_stem(stem)}-control-chart"
    n = content.violation_count
    return Artifact(
        title=f"{content.title}: {content.kind.value} control chart",
        png=_png().control_chart_png(content, out_dir / f"{base}.png"),
        html=write_file(out_dir / f"{base}.html", pages.control_chart_page(content, base)),
        summary="in control" if n == 0 else f"{n} run-rule violation(s)",
        ok=n == 0,
    )


def write_capability(
    content: CapabilityContent, out_dir: Path, stem: str, cpk_target: float | None = None
) -> Artifact:
    base = f"{file_stem(stem)}-capability"
    r = content.result
    pp = "-" if r.ppk is None else f"{r.ppk:.2f}"
    return Artifact(
        title=f"{content.title}: capability",
        png=_png().capability_png(content, out_dir / f"{base}.png"),
        html=write_file(out_dir / f"{base}.html", pages.capability_page(content, base)),
        summary=f"Cpk {r.cpk:.2f}, Ppk {pp}",
        ok=None if cpk_target is None else r.cpk >= cpk_target,
    )


def write_oee(
    content: OeeContent, out_dir: Path, stem: str = "oee", oee_target: float | None = None
) -> Artifact:
    base = f"{file_stem(stem)}-waterfall"
    o = content.oee
    return Artifact(
        title=f"{content.title}: OEE waterfall",
        png=_png().waterfall_png(content, out_dir / f"{base}.png"),
        html=write_file(out_dir / f"{base}.html", pages.oee_page(content, base)),
        summary=f"OEE {percent(o.oee)} (A {percent(o.availability)}, "
        f"P {percent(o.performance)}, Q {percent(o.quality)})",
        ok=None if oee_target is None or o.oee is None else o.oee >= oee_target,
    )


def write_index(
    out_dir: Path, title: str, artifacts: Sequence[Artifact], notes: Sequence[str] = ()
) -> Path:
    """``index.html``: a table of every chart with its verdict, links and a thumbnail."""
    rows = []
    for a in artifacts:
        css = "" if a.ok is None else (' class="good"' if a.ok else ' class="bad"')
        rows.append(
            "<tr>"
            f'<td><a href="{html.escape(a.html.name)}">{html.escape(a.title)}</a></td>'
            f"<td{css}>{html.escape(a.summary)}</td>"
            f'<td><a href="{html.escape(a.png.name)}">PNG</a></td>'
            f'<td><a href="{html.escape(a.html.name)}"><img src="{html.escape(a.png.name)}" '
            f'alt="{html.escape(a.title)}" width="320"></a></td>'
            "</tr>"
        )
    note_list = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    body = (
        "<table><tr><th>Chart</th><th>Result</th><th>Image</th><th>Preview</th></tr>"
        + "\n".join(rows)
        + "</table>"
        + (f"<h2>Notes</h2><ul>{note_list}</ul>" if notes else "")
    )
    return write_file(out_dir / INDEX, pages.page(title, body, back_to_index=False))


def prepare(out_dir: Path) -> None:
    """Create the folder and put the plotly.js bundle in it (pages load it locally)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages.write_plotly_js(out_dir)
