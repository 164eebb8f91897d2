"""Running promtool from tests, and the expected alerts it compares against.

promtool is the reference implementation of rule loading and evaluation, so the tests
hand it the generated rules instead of re-implementing PromQL. In CI (CI=true) a missing
promtool fails the run; on a laptop without it the promtool tests skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.controlplane import in_ci

# The Debian package that ships promtool (Makefile system dependency).
PROMTOOL_PACKAGE = "prometheus"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        message = f"promtool not found; install the Debian package {PROMTOOL_PACKAGE!r}"
        if in_ci():
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=60, check=False
    )


def check_rules(path: Path) -> subprocess.CompletedProcess[str]:
    return run("check", "rules", str(path))


def run_unit_tests(
    tmp_path: Path, rule_file: dict[str, Any], tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` of ``tests`` against ``rule_file``, both written to tmp_path."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_file, sort_keys=False), encoding="utf-8")
    unit = tmp_path / "unit.yaml"
    unit.write_text(
        yaml.safe_dump(
            {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests},
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return run("test", "rules", str(unit))


def series(metric: str, labels: dict[str, str]) -> str:
    """Series notation: ``metric{a="1",b="2"}``; empty values mean "no such label"."""
    body = ",".join(f'{k}="{v}"' for k, v in labels.items() if v)
    return f"{metric}{{{body}}}"


# ------------------------------------------------------------------- expected annotations
#
# promtool compares annotations exactly, so every expected alert carries them. They are
# rendered here from the generated rule with a renderer for the few Go-template constructs
# the rules use; separate golden-string tests pin the wording itself.

_IF = re.compile(r"\{\{ if \$labels\.(\w+) \}\}(.*?)\{\{ else \}\}(.*?)\{\{ end \}\}", re.S)
_LABEL = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def _go_g4(value: float) -> str:
    # Go's %.4g and Python's agree for the plain values the tests use.
    return f"{value:.4g}"


def render(template: str, labels: dict[str, str], value: float) -> str:
    text = _IF.sub(lambda m: m.group(2) if labels.get(m.group(1)) else m.group(3), template)
    text = _LABEL.sub(lambda m: labels.get(m.group(1), ""), text)
    text = text.replace("{{ $value | humanizePercentage }}", _go_g4(value * 100) + "%")
    text = text.replace('{{ $value | printf "%.2f" }}', f"{value:.2f}")
    assert "{{" not in text, f"renderer does not know a construct in {template!r}"
    return text


def expected_alert(
    rule: dict[str, Any], series_labels: dict[str, str], value: float
) -> dict[str, Any]:
    """exp_labels/exp_annotations of ``rule`` firing on a series with ``series_labels``."""
    labels = {k: v for k, v in series_labels.items() if v}
    labels.update(rule["labels"])
    annotations = {k: render(v, labels, value) for k, v in rule["annotations"].items()}
    return {"exp_labels": labels, "exp_annotations": annotations}
