"""The committed dashboards are what the builders produce, and they name only real series."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lineops.cli.main import main
from lineops.dashboards import generate, panel_queries

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "helm" / "lineops" / "dashboards"
# Where every lineops_* series is defined (the serving series are the bentos' own).
METRIC_SOURCES = [
    REPO / "operator/lineops/backends/metrics.py",
    REPO / "operator/lineops/backends/mes_metrics.py",
    REPO / "operator/lineops/dataplane/ingestion/metrics.py",
    REPO / "operator/lineops/dataplane/mes_api.py",
    REPO / "operator/lineops/dataplane/predictions_api.py",
    *sorted(REPO.glob("bentos/*/metrics.py")),
]
# Suffixes Prometheus adds to what the code declares (counters, histograms).
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def test_committed_json_is_what_the_builders_generate() -> None:
    files = generate()
    assert sorted(p.name for p in COMMITTED.glob("*.json")) == sorted(files)
    for name, text in files.items():
        assert (COMMITTED / name).read_text() == text, f"{name}: run `lineops dashboards generate`"


def test_generate_check_fails_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "generate", "--out", str(tmp_path)]) == 0
    assert main(["dashboards", "generate", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "lineops-line.json").write_text("{}")
    assert main(["dashboards", "generate", "--out", str(tmp_path), "--check"]) == 2
    assert "lineops-line.json differ" in capsys.readouterr().err


def _declared() -> set[str]:
    names = set()
    for path in METRIC_SOURCES:
        names |= set(re.findall(r'"(lineops_[a-z_]+)"', path.read_text()))
    return names


def test_every_query_names_only_declared_series() -> None:
    declared = _declared()
    for name, text in generate().items():
        for title, expr in panel_queries(json.loads(text)):
            for metric in set(re.findall(r"\blineops_[a-z_]+", expr)):
                base = next((metric[: -len(s)] for s in SUFFIXES if metric.endswith(s)), metric)
                assert metric in declared or base in declared, f"{name} {title}: {metric}"


def test_panels_have_ids_ref_ids_and_the_datasource_variable() -> None:
    for name, text in generate().items():
        dashboard = json.loads(text)
        variables = {v["name"] for v in dashboard["templating"]["list"]}
        assert {"datasource", "namespace"} <= variables, name
        panels = dashboard["panels"]
        ids = [p["id"] for p in panels]
        assert len(set(ids)) == len(ids), name
        for panel in panels:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            refs = [t["refId"] for t in panel["targets"]]
            assert refs and len(set(refs)) == len(refs) and all(refs), panel["title"]


def test_line_dashboard_has_the_line_variables() -> None:
    dashboard = json.loads(generate()["lineops-line.json"])
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"namespace", "line", "characteristic"} <= variables
