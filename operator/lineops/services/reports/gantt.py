"""A production plan as a Gantt chart: PNG (matplotlib) and an interactive HTML page
(Plotly), with tardiness per order and utilisation per work unit, in the style and with
the helpers of the SPC reports (``pages.page``, ``facts_table``, ``figure_div``, the
report index).

One row per work unit; a bar per operation, coloured by order; blocked windows (off shift,
maintenance, breakdown) hatched grey with their reason; late orders' bars outlined red.
Times are dates when the plan has an origin (an order book), plain numbers otherwise (a
job-shop instance).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import plotly.graph_objects as go
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from lineops.planning.calendar import after
from lineops.planning.problem import Problem
from lineops.planning.schedule import Schedule, tardiness, utilisation, weighted_tardiness
from lineops.services.reports import png
from lineops.services.reports.content import percent
from lineops.services.reports.files import write_file
from lineops.services.reports.pages import Fact, facts_table, figure_div, page
from lineops.services.reports.style import VIOLATION
from lineops.services.reports.writer import Artifact, file_stem

BLOCKED: Final = "#bdbdbd"
# Hours between time-axis ticks of the PNG: the first that gives at most MAX_TICKS ticks,
# else whole weeks.
_TICK_HOURS: Final = (1, 2, 3, 4, 6, 12, 24, 48, 168)
MAX_TICKS: Final = 12
# Twenty distinguishable colours; orders beyond twenty reuse them (hover names the order).
_PALETTE: Final = [to_hex(colormaps["tab20"](i)) for i in range(20)]


@dataclass(frozen=True)
class Bar:
    work_unit: str
    label: str  # order, e.g. "WO-7"
    index: int  # operation index in the routing
    start: int
    end: int
    color: str
    late: bool


@dataclass(frozen=True)
class Blocked:
    work_unit: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class GanttContent:
    title: str
    work_units: list[str]
    bars: list[Bar]
    blocked: list[Blocked]
    tardiness: dict[str, int]  # order -> time late (0: on time or no due date)
    due: dict[str, int | None]
    utilisation: dict[str, float]
    facts: list[Fact]
    origin: datetime | None  # times are seconds from it; None: unitless numbers

    def when(self, value: int) -> datetime | int:
        # elapsed seconds, not wall-clock ones: the plan's times across a DST change
        return value if self.origin is None else after(self.origin, timedelta(seconds=value))

    def span(self, value: int) -> str:
        """A length of time as a planner reads it."""
        if self.origin is None:
            return str(value)
        hours, rest = divmod(value, 3600)
        return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"

    def stamp(self, value: int) -> str:
        when = self.when(value)
        return when.isoformat(timespec="minutes") if isinstance(when, datetime) else str(when)

    def clock(self, value: int) -> datetime:
        """The local wall-clock time, without its UTC offset (plotly.js drops offsets)."""
        when = self.when(value)
        assert isinstance(when, datetime), "a plan without an origin has no clock times"
        return when.replace(tzinfo=None)


def gantt_content(
    title: str, problem: Problem, schedule: Schedule, origin: datetime | None = None
) -> GanttContent:
    late = tardiness(problem, schedule)
    colors = {job.name: _PALETTE[i % len(_PALETTE)] for i, job in enumerate(problem.jobs)}
    bars = [
        Bar(a.work_unit, a.job, a.index, a.start, a.end, colors[a.job], late[a.job] > 0)
        for a in sorted(schedule.assignments, key=lambda a: (a.work_unit, a.start))
    ]
    end = max(schedule.makespan, 1)
    # Only what falls within the plan, 0 .. makespan: a shift that ended before the plan's
    # start was drawn left of it, and one running over the start began before the axis.
    blocked = [
        Blocked(w.work_unit, max(w.start, 0), min(w.end, end), w.reason)
        for w in problem.blocked
        if w.start < end and w.end > 0
    ]
    due = {job.name: job.due for job in problem.jobs}
    late_orders = sum(1 for t in late.values() if t > 0)
    content = GanttContent(
        title=title,
        work_units=list(problem.work_units),
        bars=bars,
        blocked=blocked,
        tardiness=late,
        due=due,
        utilisation=utilisation(problem, schedule),
        facts=[],
        origin=origin,
    )
    solver = schedule.method.value + (f" ({schedule.status})" if schedule.status else "")
    content.facts.extend(
        [
            Fact("Planned by", solver),
            Fact("Orders / operations", f"{len(problem.jobs)} / {len(schedule.assignments)}"),
            Fact("Makespan", f"{content.span(schedule.makespan)} (ends {content.stamp(end)})"),
            Fact("Orders late", str(late_orders), late_orders == 0),
            Fact("Weighted tardiness", content.span(weighted_tardiness(problem, schedule))),
        ]
    )
    if schedule.bound is not None and schedule.objectives:
        first = next(iter(schedule.objectives))
        fact = f"{schedule.objectives[first]} (proven lower bound {schedule.bound})"
        content.facts.append(Fact(f"Objective: {first}", fact))
    content.facts.extend(Fact("Note", note) for note in schedule.notes)
    return content


# ------------------------------------------------------------------------------------- PNG


def gantt_png(content: GanttContent, path: Path) -> Path:
    rows = {unit: i for i, unit in enumerate(content.work_units)}
    fig = Figure(figsize=(12, 1.6 + 0.55 * len(rows)), layout="constrained")
    ax = fig.subplots()
    dates = content.origin is not None

    # Hours from the origin, labelled with the local date and time; plain units otherwise.
    scale = 1 / 3600 if dates else 1.0

    def at(value: float) -> float:
        return value * scale

    def width(start: int, end: int) -> float:
        return (end - start) * scale

    for b in content.blocked:
        ax.barh(
            rows[b.work_unit],
            width(b.start, b.end),
            left=at(b.start),
            height=0.8,
            color=BLOCKED,
            hatch="//",
            edgecolor="white",
            linewidth=0,
        )
    for bar in content.bars:
        ax.barh(
            rows[bar.work_unit],
            width(bar.start, bar.end),
            left=at(bar.start),
            height=0.6,
            color=bar.color,
            edgecolor=VIOLATION if bar.late else "white",
            linewidth=1.6 if bar.late else 0.5,
        )
        if len(content.bars) <= 60:  # labels only where they can be read
            ax.text(
                at((bar.start + bar.end) / 2),
                rows[bar.work_unit],
                bar.label,
                ha="center",
                va="center",
                fontsize=7,
                clip_on=True,
                **png.PLAIN,
            )
    ax.set_yticks(range(len(rows)), list(rows), **png.PLAIN)
    ax.invert_yaxis()
    ax.set_xlabel("Time" if dates else "Time units")
    if content.origin is not None:
        origin = content.origin
        low, high = ax.get_xlim()
        # Ticks on whole steps from the plan's start (often a shift start).
        ax.xaxis.set_major_locator(MultipleLocator(tick_hours(high - low)))
        ax.xaxis.set_major_formatter(
            FuncFormatter(
                lambda hours, _: after(origin, timedelta(hours=hours)).strftime("%a %d %b %H:%M")
            )
        )
        fig.autofmt_xdate()
    ax.grid(True, axis="x", alpha=0.3)
    legend = [Patch(facecolor=BLOCKED, hatch="//", label="Blocked (shift, maintenance)")]
    legend.append(Patch(facecolor="white", edgecolor=VIOLATION, label="Late order"))
    fig.legend(handles=legend, loc="outside lower right", ncols=2, fontsize=8, frameon=False)
    late = sum(1 for t in content.tardiness.values() if t > 0)
    ax.set_title(f"{content.title}: production plan · {late} order(s) late", **png.PLAIN)
    return png.save(fig, path)


def tick_hours(hours: float) -> int:
    """Hours between ticks so that an axis of ``hours`` has at most ``MAX_TICKS`` of them
    (a multi-week plan had one every 24 h, dozens of overlapping labels)."""
    most = MAX_TICKS - 1  # intervals
    for step in _TICK_HOURS:
        if hours / step <= most:
            return step
    return 168 * math.ceil(hours / (168 * most))


# ------------------------------------------------------------------------------------ HTML


def gantt_figure(content: GanttContent) -> go.Figure:
    dates = content.origin is not None

    # plotly.js reads an ISO time's clock and ignores its UTC offset, while a bar's length is
    # elapsed milliseconds: across a DST change a bar ended an hour off its hover text. Both
    # ends are therefore local clock times and the length is their difference (an 8-hour
    # night shift into winter time is drawn 22:00 to 05:00, 7 clock hours long), except
    # where that difference runs back (see length).
    def x(value: int) -> str | int:
        return content.clock(value).isoformat() if dates else value

    def length(start: int, end: int) -> int:
        if not dates:
            return end - start
        clocked = (content.clock(end) - content.clock(start)) // timedelta(milliseconds=1)
        # Within the hour the autumn change repeats, the clock runs backwards (02:40 CEST to
        # 02:10 CET): such a bar was drawn leftwards over earlier work. It gets its real
        # length instead; the hover gives both times with their offsets.
        return clocked if clocked > 0 or end <= start else (end - start) * 1000

    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=[b.work_unit for b in content.blocked],
            x=[length(b.start, b.end) for b in content.blocked],
            base=[x(b.start) for b in content.blocked],
            orientation="h",
            name="Blocked",
            marker={"color": BLOCKED, "pattern": {"shape": "/"}},
            text=[
                f"{b.reason} ({content.stamp(b.start)} - {content.stamp(b.end)})"
                for b in content.blocked
            ],
            textposition="none",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    for label in dict.fromkeys(b.label for b in content.bars):
        mine = [b for b in content.bars if b.label == label]
        late = content.tardiness.get(label, 0)
        fig.add_trace(
            go.Bar(
                y=[b.work_unit for b in mine],
                x=[length(b.start, b.end) for b in mine],
                base=[x(b.start) for b in mine],
                orientation="h",
                name=label + (" (late)" if late else ""),
                marker={
                    "color": mine[0].color,
                    "line": {"color": VIOLATION if late else "white", "width": 2 if late else 0.5},
                },
                text=[
                    f"{b.label} op {b.index}: {content.stamp(b.start)} - {content.stamp(b.end)}"
                    f" ({content.span(b.end - b.start)})"
                    for b in mine
                ],
                textposition="none",
                hovertemplate="%{y}<br>%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        template="plotly_white",
        barmode="overlay",
        height=180 + 45 * len(content.work_units),
        title=f"{content.title}: production plan",
        xaxis={"type": "date" if dates else "linear", "title": "Time" if dates else "Time units"},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(reversed(content.work_units)),
            "title": "Work unit",
        },
    )
    return fig


def gantt_page(content: GanttContent, div_id: str = "gantt") -> str:
    rows = []
    for name, late in content.tardiness.items():
        due = content.due[name]
        rows.append(
            f"<tr><td>{html.escape(name)}</td>"
            f'<td class="num">{"-" if due is None else content.stamp(due)}</td>'
            f'<td class="num{" bad" if late else ""}">{content.span(late)}</td></tr>'
        )
    orders = "".join(rows)
    units = "".join(
        f'<tr><td>{html.escape(unit)}</td><td class="num">{percent(share)}</td></tr>'
        for unit, share in content.utilisation.items()
    )
    reasons = sorted({(b.work_unit, b.reason, b.start, b.end) for b in content.blocked})
    windows = "".join(
        f"<li>{html.escape(unit)}: {html.escape(reason)} "
        f"({content.stamp(start)} - {content.stamp(end)})</li>"
        for unit, reason, start, end in reasons
    )
    body = (
        figure_div(gantt_figure(content), div_id)
        + facts_table(content.facts)
        + "<h2>Orders</h2><table><tr><th>Order</th><th>Due</th><th>Late by</th></tr>"
        + orders
        + "</table><h2>Work units</h2><table><tr><th>Work unit</th><th>Utilisation</th></tr>"
        + units
        + "</table>"
        + (f"<h2>Blocked windows</h2><ul>{windows}</ul>" if windows else "")
    )
    return page(f"{content.title} — production plan", body)


def write_gantt(content: GanttContent, out_dir: Path, stem: str = "plan") -> Artifact:
    base = f"{file_stem(stem)}-gantt"
    late = sum(1 for t in content.tardiness.values() if t > 0)
    html_path = write_file(out_dir / f"{base}.html", gantt_page(content, base))
    return Artifact(
        title=f"{content.title}: production plan",
        png=gantt_png(content, out_dir / f"{base}.png"),
        html=html_path,
        summary="all orders on time" if late == 0 else f"{late} order(s) late",
        ok=late == 0,
    )
