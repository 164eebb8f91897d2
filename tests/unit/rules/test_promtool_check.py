"""``promtool check rules`` accepts what we generate for the example and its variants."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from lineops.api.productionline import ProductionLine
from lineops.cli.main import main
from lineops.services.prometheus_rules import rule_file_for_line

from tests.unit.rules import promtool
from tests.unit.rules.conftest import EXAMPLE, LINE, NAMESPACE, example_document


def _variant(name: str) -> dict[str, Any]:
    document = copy.deepcopy(example_document())
    spec = document["spec"]
    if name == "oee-only":
        spec["monitoring"].update(spc=False)
    elif name == "spc-only-all-rules":
        spec["monitoring"].update(oee=False, cpkTarget="2")
        for qc in spec["qualityCharacteristics"]:
            if qc["chart"] not in ("xbar-r", "xbar-s", "imr"):
                continue
            qc["rules"] = [f"nelson-{i}" for i in range(1, 9)] + [f"weco-{i}" for i in range(1, 5)]
    elif name == "attribute-charts-only":
        spec["qualityCharacteristics"] = [
            qc for qc in spec["qualityCharacteristics"] if qc["chart"] == "p"
        ]
    elif name == "nothing-enabled":
        spec["monitoring"].update(oee=False, spc=False, oeeTarget="0")
        for unit in spec["workUnits"]:
            unit["sensors"] = []
    return document


@pytest.mark.parametrize(
    "variant",
    ["example", "oee-only", "spc-only-all-rules", "attribute-charts-only", "nothing-enabled"],
)
def test_promtool_accepts_generated_rules(tmp_path: Path, variant: str) -> None:
    spec = ProductionLine.model_validate(_variant(variant)).spec
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule_file_for_line(NAMESPACE, LINE, spec)), encoding="utf-8")
    result = promtool.check_rules(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_accepts_the_cli_export(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    assert (
        main(
            [
                "rules",
                "export",
                "--line-file",
                str(EXAMPLE),
                "--format",
                "rulefile",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = promtool.check_rules(out)
    assert result.returncode == 0, result.stdout + result.stderr
    # 2 OEE records + 2 OEE alerts, 3 SPC records + 10 run-rule alerts, 3 Cpk, 1 drift,
    # 1 low stock.
    assert "22 rules found" in result.stdout


def test_promtool_accepts_the_groups_of_the_prometheus_rule(tmp_path: Path) -> None:
    out = tmp_path / "rule.yaml"
    assert main(["rules", "export", "--line-file", str(EXAMPLE), "--out", str(out)]) == 0
    manifest = yaml.safe_load(out.read_text(encoding="utf-8"))
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"groups": manifest["spec"]["groups"]}), encoding="utf-8")
    result = promtool.check_rules(plain)
    assert result.returncode == 0, result.stdout + result.stderr
