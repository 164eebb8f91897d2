"""``lineops report --line``: a line's report from the operator's MES store.

The store is filled as the ingestion endpoint fills it; the report must chart what the
operator judges (subgroups in arrival order, Phase I = the first 25 subgroups) and match the
``--line-file``/``--data`` report of the same numbers.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from lineops.api.productionline import ProductionLine
from lineops.cli.main import main
from lineops.dataplane.db.database import embedded_url, open_database
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.mes import (
    MachineEvent,
    Measurement,
    MesRepository,
    ProductionCount,
)
from lineops.mes.chart_tracker import ChartTracker
from lineops.mes.charts import ChartKind, apply
from lineops.mes.data import ChartData
from lineops.mes.phases import phase_one
from lineops.mes.textbook import piston_rings_table

from tests.support.controlplane import REPO
from tests.unit.mes.conftest import ORANGE_JUICE
from tests.unit.reports.conftest import EVENTS, SHIFT, START
from tests.unit.reports.test_report_files import assert_report_files, plot_data

EXAMPLE_LINE = REPO / "examples" / "productionline.yaml"
KEY = "plant-a/press-line-1"
REF = LineRef.parse(KEY)
UTC_START = START.replace(tzinfo=UTC)


def ring_rows() -> list[list[float]]:
    """Montgomery's 25 Phase I subgroups, then 12 of them again shifted up (Phase II)."""
    rows = piston_rings_table()
    return rows + [[round(v + SHIFT, 3) for v in row] for row in rows[:12]]


def _stamp(minutes: float) -> str:
    return (UTC_START + timedelta(minutes=minutes)).isoformat()


def fill_store(data_dir: Path, key: str = KEY) -> MesRepository:
    """Records as the ingestion endpoint stores them, for every kind of characteristic."""
    line = LineRef.parse(key)
    store = open_database(embedded_url(data_dir)).mes
    values = [v for row in ring_rows() for v in row] + [74.001, 73.999, 74.0]  # + 3 pending
    store.add_measurements(
        line, [Measurement("ring_diameter", _stamp(i), v) for i, v in enumerate(values)]
    )
    # ring_width: one subgroup of 10 only -> skipped; surface_roughness: nothing stored.
    store.add_measurements(
        line, [Measurement("ring_width", _stamp(i), 16.0 + i / 1000) for i in range(10)]
    )
    store.add_measurements(
        line,
        [Measurement("reject_fraction", _stamp(i), c, 50) for i, c in enumerate(ORANGE_JUICE)],
    )
    store.add_events(
        line,
        [MachineEvent(unit, _stamp(m), state, reason) for unit, m, state, reason in EVENTS],
    )
    store.add_counts(
        line,
        [
            ProductionCount(unit, _stamp(h * 60 + 30), total, good)
            for h in range(8)
            for unit, total, good in (("press-01", 2300, 2270), ("grinder-01", 1200, 1185))
        ],
    )
    return store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "operator-data"
    fill_store(directory).engine.dispose()
    return directory


def live(data_dir: Path, out: Path, *extra: str, line: str = KEY) -> list[str]:
    return [
        "report",
        "--line",
        line,
        "--line-file",
        str(EXAMPLE_LINE),
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        *extra,
    ]


def traces_named(page: Path, name: str) -> list[dict[str, Any]]:
    return [t for t in plot_data(page) if t.get("name") == name]


def test_live_report_charts_what_the_operator_judges(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "live"
    assert main(live(data_dir, out)) == 0
    stdout = capsys.readouterr().out
    assert_report_files(
        out,
        [
            "ring_diameter-control-chart",
            "ring_diameter-capability",
            "reject_fraction-control-chart",
            "oee-waterfall",
        ],
    )
    for skipped in ("ring_width", "surface_roughness", "reject_fraction-capability"):
        assert not list(out.glob(f"{skipped}*"))
    # Characteristics with fewer than 2 subgroups are skipped with a printed note.
    assert "note: ring_width: skipped, 1 subgroup(s) stored" in stdout
    assert "note: surface_roughness: skipped, 0 subgroup(s) stored" in stdout
    assert "note: ring_diameter: 3 value(s) of an incomplete subgroup of 5 not charted" in stdout
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Line press-line-1 (plant-a / stamping)" in index and "ring_width: skipped" in index
    # Same OEE as the file mode of the same records (see test_report_files).
    assert "OEE 77.3% (A 91.7%, P 85.5%, Q 98.7%)" in stdout

    page = out / "ring_diameter-control-chart.html"
    points = next(t for t in plot_data(page) if t.get("mode") == "lines+markers")
    assert len(points["y"]) == 37  # complete subgroups only, in arrival order
    assert points["y"][0] == pytest.approx(74.0102)
    # Phase I = the first 25 subgroups: limits equal a batch computation on those ...
    rows = ring_rows()
    params = phase_one(ChartKind.XBAR_R, ChartData.subgroups(rows[:25])).params
    xbar, r = apply(params, ChartData.subgroups(rows))
    (center_x, center_r) = traces_named(page, "Center line")
    (ucl_x, ucl_r) = traces_named(page, "UCL")
    (lcl_x, _) = traces_named(page, "LCL")
    assert center_x["y"][0] == pytest.approx(xbar.center)
    # Constant limits (subgroups of 5 throughout) are lines across the axis: two points.
    assert len({float(v) for v in xbar.ucl}) == 1 and len({float(v) for v in r.ucl}) == 1
    assert ucl_x["y"] == pytest.approx([float(xbar.ucl[0])] * 2)
    assert lcl_x["y"] == pytest.approx([float(xbar.lcl[0])] * 2)
    assert center_r["y"][0] == pytest.approx(r.center)
    assert ucl_r["y"] == pytest.approx([float(r.ucl[0])] * 2)
    # ... which are Montgomery's trial limits, not limits diluted by the shifted Phase II.
    assert xbar.center == pytest.approx(74.001, abs=5e-4)
    assert float(xbar.ucl[0]) == pytest.approx(74.014, abs=1e-3)
    assert float(xbar.lcl[0]) == pytest.approx(73.988, abs=1e-3)
    flagged = traces_named(page, "Run-rule violation")
    assert flagged and all(x > 25 for x in flagged[0]["x"])
    # ... and the limits the operator's tracker holds for the same records.
    line = ProductionLine.model_validate(yaml.safe_load(EXAMPLE_LINE.read_text()))
    store = open_database(embedded_url(data_dir)).mes
    try:
        for qc in line.spec.quality_characteristics:
            if qc.name not in ("ring_diameter", "reject_fraction"):
                continue
            snap = ChartTracker(qc).add(store.measurements(REF, qc.name))
            assert snap.established
            chart = out / f"{qc.name}-control-chart.html"
            for name, series in snap.series.items():
                panel = next(
                    i for i, s in enumerate(ChartKind(qc.chart.value).statistics) if s == name
                )
                assert traces_named(chart, "Center line")[panel]["y"][0] == pytest.approx(
                    series.center
                )
                assert traces_named(chart, "UCL")[panel]["y"][-1] == pytest.approx(
                    float(series.ucl[-1])
                )
    finally:
        store.engine.dispose()


def test_live_report_equals_the_file_report_of_the_same_data(
    data_dir: Path, tmp_path: Path
) -> None:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "ring_diameter.csv").write_text(
        "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in ring_rows()),
        encoding="utf-8",
    )
    (csv_dir / "reject_fraction.csv").write_text(
        "count,n\n" + "".join(f"{c},50\n" for c in ORANGE_JUICE), encoding="utf-8"
    )
    files = tmp_path / "files"
    args = ["report", "--line-file", str(EXAMPLE_LINE), "--data", str(csv_dir)]
    assert main([*args, "--phase1", "25", "--out", str(files)]) == 0
    assert main(live(data_dir, tmp_path / "live")) == 0
    for name in (
        "ring_diameter-control-chart.html",
        "ring_diameter-capability.html",
        "reject_fraction-control-chart.html",
    ):
        assert (tmp_path / "live" / name).read_text() == (files / name).read_text(), name


def test_phase1_option_overrides_the_operator_default(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    # As in the file mode, --phase1 applies to every chart (the p chart has 30 points).
    assert main(live(data_dir, out, "--phase1", "30")) == 0
    (ucl,) = traces_named(out / "ring_diameter-control-chart.html", "UCL")[:1]
    rows = ring_rows()
    params = phase_one(ChartKind.XBAR_R, ChartData.subgroups(rows[:30])).params
    xbar = apply(params, ChartData.subgroups(rows))[0]
    assert ucl["y"][0] == pytest.approx(float(xbar.ucl[0]))


def test_few_subgroups_give_trial_limits_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "d"
    store = open_database(embedded_url(data_dir)).mes
    rings = [v for row in piston_rings_table()[:10] for v in row]
    store.add_measurements(
        REF, [Measurement("ring_diameter", _stamp(i), v) for i, v in enumerate(rings)]
    )
    store.engine.dispose()
    monkeypatch.setenv("LINEOPS_DATA_DIR", str(data_dir))  # the default --data-dir
    out = tmp_path / "out"
    code = main(["report", "--line", KEY, "--line-file", str(EXAMPLE_LINE), "--out", str(out)])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "ring_diameter: trial limits from all 10 subgroups" in stdout
    assert "OEE" not in stdout  # no machine events stored: no waterfall
    assert not (out / "oee-waterfall.png").exists()
    assert_report_files(out, ["ring_diameter-control-chart", "ring_diameter-capability"])


# ----------------------------------------------------------------------- spec from the cluster


class FakeCustomObjects:
    """CustomObjectsApi serving the example line in namespace plant-a."""

    calls: ClassVar[list[tuple[Any, ...]]] = []
    kubeconfigs: ClassVar[list[str | None]] = []

    def __init__(self, api: object) -> None:
        self.api = api

    def get_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, name: str, **kw: Any
    ) -> dict[str, Any]:
        FakeCustomObjects.calls.append((group, version, namespace, plural, name))
        if (namespace, name) != ("plant-a", "press-line-1"):
            raise ApiException(status=404, reason="Not Found")
        obj: dict[str, Any] = yaml.safe_load(EXAMPLE_LINE.read_text())
        obj["metadata"].update(namespace="plant-a", uid="u-1", generation=3)
        obj["metadata"]["managedFields"] = [{"manager": "kubectl"}]
        obj["status"] = {"observedGeneration": 3, "conditions": []}
        return obj


class FakeApiClient:
    closed = False

    def close(self) -> None:
        FakeApiClient.closed = True


@pytest.fixture
def fake_cluster(monkeypatch: pytest.MonkeyPatch) -> type[FakeCustomObjects]:
    import kubernetes.client
    import lineops.backends.kube

    def new_api_client(kubeconfig: str | None = None) -> FakeApiClient:
        FakeCustomObjects.kubeconfigs.append(kubeconfig)
        return FakeApiClient()

    monkeypatch.setattr(lineops.backends.kube, "new_api_client", new_api_client)
    monkeypatch.setattr(kubernetes.client, "CustomObjectsApi", FakeCustomObjects)
    FakeCustomObjects.calls, FakeCustomObjects.kubeconfigs = [], []
    return FakeCustomObjects


def test_spec_comes_from_the_cluster(
    data_dir: Path, tmp_path: Path, fake_cluster: type[FakeCustomObjects]
) -> None:
    out = tmp_path / "out"
    args = ["report", "--line", KEY, "--data-dir", str(data_dir), "--kubeconfig", "kc.yaml"]
    assert main([*args, "--out", str(out)]) == 0
    assert fake_cluster.kubeconfigs == ["kc.yaml"]
    assert fake_cluster.calls == [
        ("lineops.io", "v1alpha1", "plant-a", "productionlines", "press-line-1")
    ]
    assert FakeApiClient.closed
    assert_report_files(out, ["ring_diameter-control-chart", "oee-waterfall"])


def test_line_missing_in_the_cluster(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_cluster: object
) -> None:
    args = ["report", "--line", "press-line-9", "--data-dir", str(data_dir)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "ProductionLine default/press-line-9 not found in the cluster" in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------- errors


def error(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    assert main(args) == 2
    return capsys.readouterr().err


def test_unreachable_cluster_without_line_file(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    cluster = {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}  # discard
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    out = tmp_path / "out"
    base = ["report", "--line", KEY, "--data-dir", str(data_dir), "--out", str(out)]
    err = error(capsys, [*base, "--kubeconfig", str(kubeconfig)])
    ref = "ProductionLine plant-a/press-line-1"
    assert f"cannot read {ref}: cluster unreachable at https://127.0.0.1:9" in err
    assert "--line-file" in err
    # No kubeconfig at all: the same advice.
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    err = error(capsys, base)
    assert "cannot read ProductionLine plant-a/press-line-1: no cluster configuration" in err
    assert "--line-file" in err
    assert not out.exists()
    # A kubeconfig that is not YAML: one line, not PyYAML's ScannerError traceback.
    broken = tmp_path / "broken-kubeconfig"
    broken.write_text("clusters: [\n  - {name: x\n\tbad", encoding="utf-8")
    err = error(capsys, [*base, "--kubeconfig", str(broken)])
    assert f"cannot read {ref}: the kubeconfig is not valid YAML" in err and err.count("\n") == 1


def test_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    err = error(capsys, live(tmp_path / "nowhere", out))
    assert f"--data-dir: {tmp_path / 'nowhere'} does not exist" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    err = error(capsys, live(empty, out))
    assert f"--data-dir: no MES store in {empty} (expected {empty / 'lineops.db'})" in err
    assert not (empty / "mes.sqlite").exists()  # the check does not create one
    assert not out.exists()


def test_line_without_records_in_the_store(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    err = error(capsys, live(data_dir, out, line="plant-b/press-line-1"))
    assert f"{data_dir / 'lineops.db'}: no MES records for line plant-b/press-line-1" in err
    # The namespace defaults to "default", which has no records either.
    err = error(capsys, live(data_dir, out, line="press-line-1"))
    assert "no MES records for line default/press-line-1" in err
    assert not out.exists()


def test_too_little_data_and_no_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "d"
    store = open_database(embedded_url(data_dir)).mes
    store.add_measurements(REF, [Measurement("ring_diameter", _stamp(i), 74.0) for i in range(7)])
    store.engine.dispose()
    err = error(capsys, live(data_dir, tmp_path / "out"))
    assert "nothing to chart yet for line plant-a/press-line-1" in err
    assert "ring_diameter: skipped, 1 subgroup(s) stored" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--line", "a/b/c"], "--line: expected [NAMESPACE/]NAME, got 'a/b/c'"),
        (["--line", "plant-a/"], "--line: expected [NAMESPACE/]NAME"),
        (["--line", KEY, "--csv", "x.csv"], "--csv does not go with --line"),
        (["--line", KEY, "--data", "d"], "--data does not go with --line"),
        (["--line", KEY, "--oee-events", "e.csv", "--oee-counts", "c.csv"], "do not go with"),
        (["--csv", "x.csv", "--chart", "p", "--data-dir", "d"], "--data-dir needs --line"),
        (
            ["--line-file", str(EXAMPLE_LINE), "--data", "d", "--kubeconfig", "k"],
            "--kubeconfig needs",
        ),
        (["--line", "other", "--line-file", str(EXAMPLE_LINE)], "no ProductionLine named other"),
    ],
)
def test_argument_errors(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    if "--line" in args:
        args = [*args, "--data-dir", str(data_dir)]
    err = error(capsys, ["report", *args, "--out", str(out)])
    assert message in err
    assert not out.exists()
