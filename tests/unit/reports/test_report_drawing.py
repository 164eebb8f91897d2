"""What the figures show: readable limits, user text drawn as typed, whole OEE bars, the
Phase I marker and constant limits as lines in the interactive chart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lineops.cli.main import main
from lineops.mes.data import ChartData
from lineops.mes.oee import oee_from_totals
from lineops.services.reports import png
from lineops.services.reports.content import (
    ControlChartContent,
    capability_content,
    control_chart_content,
    oee_content,
    waterfall_bars,
)
from lineops.services.reports.pages import (
    capability_page,
    control_chart_figure,
    control_chart_page,
)
from matplotlib.figure import Figure
from matplotlib.text import Text

from tests.unit.reports.conftest import Inputs

# A characteristic around 1250 with sigma about 0.004: ".5g" printed every limit as "1250".
NEAR_1250 = [
    1250 + d for d in (0.000, 0.004, -0.002, 0.003, 0.001, -0.004, 0.002, -0.001, 0.005, -0.003)
]
# Fails to parse as mathtext ("$_$"): the figure, and the whole report, failed.
DOLLARS = "cost $_$ per ring"


def _near_1250() -> ControlChartContent:
    return control_chart_content(
        "imr", ChartData.individuals(NEAR_1250), ["weco-1"], title="bore", unit="mm"
    )


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if isinstance(t, Text)]


def test_limits_near_1250_are_told_apart_in_table_png_and_hover(
    tmp_path: Path, drawn: list[Figure]
) -> None:
    content = _near_1250()
    i_panel = content.panels[0]
    sigma = (i_panel.ucl[0] - i_panel.center) / 3
    assert sigma < 0.01  # the case of the bug

    page = control_chart_page(content)
    row = re.search(r"Individual value \(I\): center / limits</th>\s*<td[^>]*>([^<]+)</td>", page)
    assert row, "no centre/limits row for the I panel"
    center, lcl, ucl = re.split(r" / | \.\. ", row.group(1))
    assert len({center, lcl, ucl}) == 3
    for text, value in ((center, i_panel.center), (lcl, i_panel.lcl[0]), (ucl, i_panel.ucl[0])):
        assert float(text) == pytest.approx(value, abs=sigma / 10)
    decimals = len(center.partition(".")[2])
    assert decimals == len(lcl.partition(".")[2]) == len(ucl.partition(".")[2]) > 0

    png.control_chart_png(content, tmp_path / "bore.png")
    labels = {t.get_text() for t in _texts(drawn[-1])}
    for name, shown in (("UCL", ucl), ("CL", center), ("LCL", lcl)):
        assert f"{name} {shown}" in labels  # the PNG prints what the table says

    # Plotly hovers with the same decimals (d3-format reads ".5f" as Python does).
    fig = control_chart_figure(content)
    spec = f"%{{y:.{decimals}f}}"
    points = next(t for t in fig.data if t.mode == "lines+markers")
    assert spec in points.hovertemplate
    assert all(spec in t.hovertemplate for t in fig.data if t.name in ("UCL", "LCL"))


def test_capability_mean_and_spec_limits_keep_their_decimals(
    tmp_path: Path, drawn: list[Figure]
) -> None:
    data = ChartData.individuals(NEAR_1250)
    cap = capability_content(data, 1249.995, 1250.005, title="bore", target=1250.0005)
    mean = cap.result.mean
    page = capability_page(cap)
    shown = re.search(r"<th>Mean</th>\s*<td[^>]*>([^<]+)</td>", page)
    assert shown and float(shown.group(1)) == pytest.approx(mean, abs=1e-5)
    png.capability_png(cap, tmp_path / "cap.png")
    legend = {t.get_text() for t in _texts(drawn[-1])}
    assert {"LSL 1249.995", "USL 1250.005", "Target 1250.0005"} <= legend
    (mean_label,) = [label for label in legend if label.startswith("Mean ")]
    assert float(mean_label.removeprefix("Mean ")) == pytest.approx(mean, abs=1e-5)


def test_dollars_in_user_text_are_drawn_as_typed(tmp_path: Path, drawn: list[Figure]) -> None:
    data = ChartData.individuals(NEAR_1250)
    chart = control_chart_content("imr", data, ["weco-1"], title=DOLLARS, unit="$")
    png.control_chart_png(chart, tmp_path / "chart.png")
    cap = capability_content(data, 1249.99, None, title=DOLLARS, unit="$US")
    png.capability_png(cap, tmp_path / "cap.png")
    oee = oee_from_totals(3600, 600, 1.0, 2800, 2700)
    png.waterfall_png(oee_content(DOLLARS, oee), tmp_path / "oee.png")
    assert len(drawn) == 3
    for fig in drawn:
        with_dollars = [t for t in _texts(fig) if "$" in t.get_text()]
        assert any(DOLLARS in t.get_text() for t in with_dollars)
        assert all(not t.get_parse_math() for t in with_dollars)


def test_a_dollar_title_makes_a_report(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["report", "--csv", str(inputs.rings), "--chart", "xbar-r", "--title", DOLLARS]
    assert main([*args, "--out", str(out)]) == 0
    assert (out / "index.html").is_file()


def test_a_chart_that_cannot_be_drawn_is_a_message_and_writes_nothing(
    inputs: Inputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(content: object, path: Path) -> Path:
        path.write_bytes(b"half a PNG")
        raise ValueError("unknown symbol\nat char 0")

    monkeypatch.setattr(png, "capability_png", fail)
    out = tmp_path / "out"
    args = ["report", "--csv", str(inputs.rings), "--chart", "xbar-r", "--usl", "74.05"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "lineops: error: cannot draw the report: ValueError: unknown symbol at char 0" in err
    assert not out.exists()  # not even the control chart drawn before it


def test_waterfall_above_100_percent_performance_is_not_clipped(
    tmp_path: Path, drawn: list[Figure]
) -> None:
    # 3600 parts at an ideal 1.3 s in one hour: performance 130 %, a speed "loss" of -18 min.
    content = oee_content("fast", oee_from_totals(3600, 0, 1.3, 3600, 3600))
    assert content.oee.performance == pytest.approx(1.3)
    png.waterfall_png(content, tmp_path / "oee.png")
    (ax,) = drawn[-1].axes
    top = max(b.bottom + max(b.height, 0.0) for b in waterfall_bars(content))
    assert top == pytest.approx(78.0)  # net run time, minutes
    assert ax.get_ylim()[1] > top
    labels = [t.get_text() for t in ax.texts]
    assert "+18 min\n+30.0%" in labels  # a negative loss adds time
    assert not any("−-" in label or "--" in label for label in labels)


def test_interactive_chart_marks_the_end_of_phase_one() -> None:
    rows = [[float(i % 3), float(i % 2), 1.0] for i in range(30)]
    content = control_chart_content(
        "xbar-r", ChartData.subgroups(rows), ["weco-1"], title="d", phase1=20
    )
    fig = control_chart_figure(content)
    marks = [s for s in fig.layout.shapes if s.x0 == s.x1 == 20.5]
    assert len(marks) == len(content.panels)  # one per panel, as in the PNG
    assert any("Phase I" in (a.text or "") for a in fig.layout.annotations)


def test_constant_limits_of_a_single_point_are_lines() -> None:
    # Two individuals: the MR panel has one point, its limits a trace of one point drew
    # nothing.
    content = control_chart_content("imr", ChartData.individuals([1.0, 3.0]), [], title="i")
    mr = content.panels[1]
    assert mr.x == [2]
    fig = control_chart_figure(content)
    for name in ("UCL", "LCL", "Center line"):
        traces = [t for t in fig.data if t.name == name]
        assert len(traces) == 2
        line = traces[1]  # the MR panel's
        assert list(line.x) == [0.5, 2.5]  # across the shared axis
        assert len(set(line.y)) == 1
    ucl = next(t for t in fig.data if t.name == "UCL" and t.xaxis == "x2")
    assert ucl.y[0] == pytest.approx(mr.ucl[0])
