"""The Python models reject what the API server rejects (same cases as the integration test).

The operator validates every body it reads, so a spec that slipped past an older CRD still
ends up as a Ready=False condition rather than a crash.
"""

from __future__ import annotations

import pytest
from lineops.api import (
    PRODUCTION_LINE,
    QUALITY_MODEL,
    ProductionLine,
    QualityModel,
    describe_validation_error,
)
from lineops.api.kinds import name_problem
from pydantic import ValidationError

from tests.integration.test_crd_validation import CASES, Case, minimal_line, minimal_model


def test_base_bodies_are_valid() -> None:
    ProductionLine.model_validate(minimal_line())
    QualityModel.model_validate(minimal_model())


def test_names_at_the_limit_are_usable() -> None:
    assert name_problem(PRODUCTION_LINE, "l" * 56) is None
    assert name_problem(QUALITY_MODEL, "m" * 48) is None
    assert name_problem(PRODUCTION_LINE, "press-line-1") is None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_python_models_reject(case: Case) -> None:
    if case.path == "metadata.name":  # the operator's check of the name, not a model's
        kind = PRODUCTION_LINE if case.kind == "line" else QUALITY_MODEL
        problem = name_problem(kind, case.body()["metadata"]["name"])
        assert problem is not None and problem.startswith("metadata.name: ")
        assert all(fragment in problem for fragment in case.expect[1:]), problem
        return
    model = ProductionLine if case.kind == "line" else QualityModel
    if case.python_accepts:
        model.model_validate(case.body())
        return
    with pytest.raises(ValidationError) as caught:
        model.model_validate(case.body())
    message = describe_validation_error(caught.value, root="")
    # The API server's path for the field, minus its list-item noise, appears in ours too.
    field = case.expect[0].split("[")[0].split(".")[-1]
    assert field in message, message
