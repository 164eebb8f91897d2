"""``lineops rules export``: formats, namespaces, and errors that name the culprit."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from lineops.cli.main import main

from tests.unit.rules.conftest import EXAMPLE, example_document


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["rules", "export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_prometheus_rule_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = export(
        capsys,
        "--line-file",
        str(EXAMPLE),
        "--namespace",
        "plant-a",
        "--label",
        "release=prometheus",
    )
    assert code == 0
    manifest = yaml.safe_load(out)
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"]["namespace"] == "plant-a"
    assert manifest["metadata"]["labels"]["release"] == "prometheus"
    assert (
        'namespace="plant-a",line="press-line-1"'
        in manifest["spec"]["groups"][0]["rules"][0]["expr"]
    )


def test_rule_file_defaults_to_metadata_namespace_then_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = export(capsys, "--line-file", str(EXAMPLE), "--format", "rulefile")
    assert code == 0
    assert yaml.safe_load(out)["groups"][0]["name"] == "lineops.default.press-line-1.oee"
    document = example_document()
    document["metadata"]["namespace"] = "line-ns"
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, out, _ = export(capsys, "--line-file", str(path), "--format", "rulefile")
    assert yaml.safe_load(out)["groups"][0]["name"] == "lineops.line-ns.press-line-1.oee"


def test_multi_document_file_exports_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = copy.deepcopy(example_document())
    second["metadata"]["name"] = "press-line-2"
    model = {"apiVersion": "lineops.io/v1alpha1", "kind": "QualityModel", "metadata": {}}
    path = tmp_path / "lines.yaml"
    path.write_text(yaml.safe_dump_all([example_document(), model, second]), encoding="utf-8")
    out_file = tmp_path / "out.yaml"
    assert main(["rules", "export", "--line-file", str(path), "--out", str(out_file)]) == 0
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(out_file.read_text())]
    assert names == ["press-line-1-lineops", "press-line-2-lineops"]


def test_a_line_twice_in_one_namespace_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two rule groups of one name: promtool refused the file that was written with exit 0.
    path = tmp_path / "lines.yaml"
    path.write_text(yaml.safe_dump_all([example_document(), example_document()]), encoding="utf-8")
    for fmt in ("rulefile", "prometheusrule"):
        code, _, err = export(capsys, "--line-file", str(path), "--format", fmt)
        assert code == 2
        assert "/press-line-1 appears twice (lines 1 and 2 of the file's" in err
    ok = ["--line-file", str(EXAMPLE), "--label", "team.example.com/owner=line-1"]
    assert export(capsys, *ok)[0] == 0


def test_note_when_the_operator_would_not_create_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = example_document()
    document["spec"]["monitoring"]["prometheusRule"] = False
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, out, err = export(capsys, "--line-file", str(path))
    assert code == 0 and out
    assert "prometheusRule: false" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("spec: [\n", "not valid YAML: "),
        ("- a\n- b\n", "document 1 is not a mapping"),
        ("kind: QualityModel\n", "no ProductionLine found"),
        (
            "kind: ProductionLine\nmetadata: {name: l}\n"
            "spec: {site: a, area: b, workUnits: [{name: w, idealCycleTime: 0s}]}\n",
            "spec.workUnits[0].idealCycleTime: must be positive",
        ),
        (
            "kind: ProductionLine\nmetadata: {name: l}\n"
            "spec: {site: a, area: b, workUnits: [{name: w, idealCycleTime: 1s}], bogus: 1}\n",
            "spec.bogus: unknown field",
        ),
        (
            "kind: ProductionLine\nspec: {site: a, area: b, workUnits: [{name: w, "
            "idealCycleTime: 1s}]}\n",
            "metadata.name: required value",
        ),
    ],
)
def test_bad_line_files_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "line.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = export(capsys, "--line-file", str(path))
    assert code == 2 and not out
    assert err.startswith(f"lineops: error: {path}: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--line-file", "/nonexistent/line.yaml"], "no such file"),
        (["--line-file", str(EXAMPLE), "--namespace", "Bad_NS"], "is not a DNS label"),
        (["--line-file", str(EXAMPLE), "--label", "nolabel"], "is not KEY=VALUE"),
        (["--line-file", str(EXAMPLE), "--format", "rulefile", "--label", "a=b"], "--label"),
        # Each was written with exit 0, and refused later by the API server.
        (["--line-file", str(EXAMPLE), "--namespace", ""], "is not a DNS label"),
        (["--line-file", str(EXAMPLE), "--label", "bad key=v"], "'bad key' is not a Kubernetes"),
        (["--line-file", str(EXAMPLE), "--label", "Team.io/x=v"], "is not a Kubernetes label key"),
        (["--line-file", str(EXAMPLE), "--label", "team=a b"], "'a b' is not a Kubernetes label"),
    ],
)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = export(capsys, *args)
    assert code == 2
    assert message in err
