"""The Python models reject what the API server rejects (same cases as the integration test).

The operator validates every body it reads, so a spec that slipped past an older CRD still
ends up as a Ready=False condition rather than a crash.
"""

from __future__ import annotations

import pytest
from lineops.api import ProductionLine, QualityModel, describe_validation_error
from pydantic import ValidationError

from tests.integration.test_crd_validation import CASES, Case, minimal_line, minimal_model


def test_base_bodies_are_valid() -> None:
    ProductionLine.model_validate(minimal_line())
    QualityModel.model_validate(minimal_model())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_python_models_reject(case: Case) -> None:
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
