"""The ProductionLines whose feature views this repo declares (not Feast objects itself).

Feature views are generated per line from its spec, exactly as the operator does. By default
the example line; set LINEOPS_LINE_FILES=a.yaml:b.yaml to iterate on other lines locally.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from lineops.api.productionline import ProductionLine
from lineops.backends.feast_store import LineFeaturePlan
from lineops.dataplane.features import plan_line_features

REPO = Path(__file__).resolve().parent
DEFAULT_FILES = [REPO.parent / "examples" / "productionline.yaml"]


def line_files() -> list[Path]:
    configured = os.environ.get("LINEOPS_LINE_FILES")
    return [Path(p) for p in configured.split(":")] if configured else DEFAULT_FILES


def plans() -> list[LineFeaturePlan]:
    out = []
    for path in line_files():
        line = ProductionLine.model_validate(yaml.safe_load(path.read_text()))
        assert line.metadata.name, f"{path}: metadata.name is required"
        out.append(plan_line_features(line.metadata.name, line.spec, REPO / "data" / "aggregates"))
    return out


PLANS = plans()
