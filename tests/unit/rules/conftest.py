"""The example line and variants of it, as validated specs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from lineops.api.productionline import ProductionLine, ProductionLineSpec

from tests.support.controlplane import REPO

EXAMPLE = REPO / "examples" / "productionline.yaml"
NAMESPACE = "plant-a"
LINE = "press-line-1"


def example_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return document


def spec_with(**monitoring: Any) -> ProductionLineSpec:
    """The example spec with ``monitoring`` fields replaced (camelCase keys)."""
    document = copy.deepcopy(example_document())
    document["spec"]["monitoring"].update(monitoring)
    return ProductionLine.model_validate(document).spec


@pytest.fixture
def example_spec() -> ProductionLineSpec:
    return ProductionLine.model_validate(example_document()).spec
