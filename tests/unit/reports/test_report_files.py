"""``lineops report`` writes every chart as PNG and HTML, and an index linking them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lineops.cli.main import main

from tests.support.controlplane import REPO
from tests.unit.reports.conftest import Inputs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXAMPLE_LINE = REPO / "examples" / "productionline.yaml"


def plot_data(page: Path) -> list[dict[str, object]]:
    """The traces passed to Plotly.newPlot in a page (the first JSON array argument)."""
    text = page.read_text(encoding="utf-8")
    match = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", text, re.S)
    assert match, f"no Plotly.newPlot call in {page.name}"
    traces: list[dict[str, object]] = json.loads(match.group(1))
    return traces


def assert_report_files(out: Path, stems: list[str]) -> None:
    assert (out / "plotly.min.js").stat().st_size > 1_000_000  # the bundle, not a stub
    index = (out / "index.html").read_text(encoding="utf-8")
    for stem in stems:
        png, html = out / f"{stem}.png", out / f"{stem}.html"
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        assert png.stat().st_size > 10_000
        page = html.read_text(encoding="utf-8")
        assert '<script src="plotly.min.js"></script>' in page
        # No page reaches for the network (a CDN, fonts): the plant may be offline.
        assert not re.search(r"(src|href)=\"(https?:)?//", page)
        assert f'href="{html.name}"' in index and f'src="{png.name}"' in index


def test_single_csv_report_with_capability_and_oee(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(
        [
            "report",
            "--csv",
            str(inputs.rings),
            "--chart",
            "xbar-r",
            "--phase1",
            "25",
            "--rules",
            "nelson-1,nelson-5",
            "--lsl",
            "73.95",
            "--usl",
            "74.05",
            "--target",
            "74",
            "--unit",
            "mm",
            "--oee-events",
            str(inputs.events),
            "--oee-counts",
            str(inputs.counts),
            "--ideal-cycle-time",
            "1.2s",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    stdout = capsys.readouterr().out
    assert "run-rule violation" in stdout and "index.html" in stdout
    assert_report_files(
        out, ["ring_diameter-control-chart", "ring_diameter-capability", "oee-waterfall"]
    )
    # The interactive chart carries the data: first subgroup mean of Montgomery's rings.
    traces = plot_data(out / "ring_diameter-control-chart.html")
    points = next(t for t in traces if t.get("mode") == "lines+markers")
    assert points["y"][0] == pytest.approx(74.0102)  # type: ignore[index]
    flagged = [t for t in traces if t.get("name") == "Run-rule violation"]
    assert flagged and all(x > 25 for x in flagged[0]["x"])  # type: ignore[attr-defined]
    page = (out / "ring_diameter-control-chart.html").read_text(encoding="utf-8")
    assert "nelson-5: 2 of 3 points beyond 2 sigma, same side" in page
    histogram = plot_data(out / "ring_diameter-capability.html")[0]
    assert histogram["type"] == "histogram" and len(histogram["x"]) == 185  # type: ignore[arg-type]
    assert "Cpk" in (out / "ring_diameter-capability.html").read_text(encoding="utf-8")
    waterfall = plot_data(out / "oee-waterfall.html")
    labels = [label for t in waterfall for label in t["x"]]  # type: ignore[attr-defined]
    assert {"Planned production time", "Speed loss", "Fully productive time"} <= set(labels)
    oee_page = (out / "oee-waterfall.html").read_text(encoding="utf-8")
    assert "die jam" in oee_page and "press-01" in oee_page


def test_line_report_takes_charts_rules_and_limits_from_the_spec(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "line-report"
    code = main(
        [
            "report",
            "--line-file",
            str(EXAMPLE_LINE),
            "--data",
            str(inputs.rings.parent),
            "--oee-events",
            str(inputs.events),
            "--oee-counts",
            str(inputs.counts),
            "--phase1",
            "25",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert_report_files(
        out,
        [
            "ring_diameter-control-chart",
            "ring_diameter-capability",
            "reject_fraction-control-chart",  # a p chart: no capability
            "oee-waterfall",
        ],
    )
    assert not (out / "reject_fraction-capability.png").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    # Characteristics without a CSV are listed, not silently dropped.
    assert "no data for ring_width" in index and "no data for surface_roughness" in index
    assert "Line press-line-1" in index
    page = (out / "ring_diameter-control-chart.html").read_text(encoding="utf-8")
    for rule in ("nelson-1", "nelson-2", "nelson-5"):  # the rules the example enables
        assert f"<li>{rule}:" in page
    # Ideal cycle times come from the spec's work units (press 1.2 s, grinder 2.4 s):
    # A = 880/960 min, P = (18400 x 1.2 + 9600 x 2.4) s / 880 min, Q = 27640/28000.
    assert "OEE 77.3% (A 91.7%, P 85.5%, Q 98.7%)" in capsys.readouterr().out


def test_oee_only_report(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "oee"
    assert (
        main(
            [
                "report",
                "--oee-events",
                str(inputs.events),
                "--oee-counts",
                str(inputs.counts),
                "--ideal-cycle-time",
                "1.2s",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert_report_files(out, ["oee-waterfall"])


def test_attribute_chart_report(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert (
        main(
            [
                "report",
                "--csv",
                str(inputs.rejects),
                "--chart",
                "p",
                "--rules",
                "nelson-1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert_report_files(out, ["reject_fraction-control-chart"])
    (p,) = [
        t
        for t in plot_data(out / "reject_fraction-control-chart.html")
        if t.get("mode") == "lines+markers"
    ]
    assert p["y"][:3] == pytest.approx([12 / 50, 15 / 50, 8 / 50])  # type: ignore[index]


def test_rewriting_a_report_folder_is_stable(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "again"
    args = ["report", "--csv", str(inputs.rings), "--chart", "xbar-r", "--out", str(out)]
    assert main(args) == 0
    first = (out / "ring_diameter-control-chart.html").read_bytes()
    assert main(args) == 0
    assert (out / "ring_diameter-control-chart.html").read_bytes() == first


def test_one_csv_without_rules_is_judged_by_the_weco_rules(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "weco"
    assert main(["report", "--csv", str(inputs.rings), "--chart", "xbar-r", "--out", str(out)]) == 0
    page = (out / "ring_diameter-control-chart.html").read_text(encoding="utf-8")
    assert "<li>weco-1:" in page and "<li>weco-4:" in page and "nelson-" not in page
