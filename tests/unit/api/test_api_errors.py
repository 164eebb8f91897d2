from __future__ import annotations

from typing import Any

import pytest
from lineops.api import ProductionLine, ProductionLineSpec, describe_validation_error
from lineops.api.errors import format_path
from pydantic import ValidationError

LINE: dict[str, Any] = {
    "site": "plant-a",
    "area": "stamping",
    "workUnits": [
        {"name": "press-01", "idealCycleTime": "1s"},
        {
            "name": "press-02",
            "idealCycleTime": "1s",
            "sensors": [{"name": "v", "unit": "mm/s", "validRange": ["9", "1"]}],
        },
    ],
}


def errors_of(model: Any, data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return caught.value


@pytest.mark.parametrize(
    ("parts", "root", "text"),
    [
        (
            ("workUnits", 1, "sensors", 0, "validRange"),
            "spec",
            "spec.workUnits[1].sensors[0].validRange",
        ),
        (("workUnits", 1), "", "workUnits[1]"),
        ((), "spec", "spec"),
        ((), "", ""),
        (("a",), "spec", "spec.a"),
    ],
)
def test_format_path(parts: tuple[str | int, ...], root: str, text: str) -> None:
    assert format_path(parts, root) == text


def test_the_brief_example() -> None:
    exc = errors_of(ProductionLineSpec, LINE)
    assert describe_validation_error(exc) == (
        "spec.workUnits[1].sensors[0].validRange: min must be below max"
    )


def test_whole_object_uses_an_empty_root() -> None:
    exc = errors_of(ProductionLine, {"kind": "ProductionLine", "spec": LINE})
    assert describe_validation_error(exc, root="") == (
        "spec.workUnits[1].sensors[0].validRange: min must be below max"
    )


def test_several_problems_are_joined_in_order() -> None:
    data = {**LINE, "site": "Plant A", "bogus": 1}
    del data["area"]
    message = describe_validation_error(errors_of(ProductionLineSpec, data))
    parts = message.split("; ")
    assert parts[0].startswith("spec.site: string should match pattern")
    assert "spec.area: required value" in parts
    assert "spec.bogus: unknown field" in parts


def test_messages_start_lower_case_without_pydantic_prefix() -> None:
    data = {**LINE, "workUnits": [{"name": "p", "idealCycleTime": "0s"}]}
    message = describe_validation_error(errors_of(ProductionLineSpec, data))
    assert message == "spec.workUnits[0].idealCycleTime: must be positive"
    assert "Value error" not in message
