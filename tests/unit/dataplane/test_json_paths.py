"""non_finite_path: the path an error names for a number JSON cannot hold."""

from __future__ import annotations

import math

import pytest
from lineops.dataplane.json_paths import non_finite_path


@pytest.mark.parametrize(
    ("value", "field", "path"),
    [
        ({"a": 1.0, "b": [0.5, {"c": math.nan}]}, "records[2].result", "records[2].result.b[1].c"),
        ([1, 2, -math.inf], "x", "x[2]"),
        ({"a": math.inf, "b": math.nan}, "", "a"),  # the first one, in document order
        (math.nan, "score", "score"),
        (math.nan, "", "(the document)"),
        ({"a": [1, "NaN", None, True, 10**30]}, "doc", ""),  # text, null and ints are fine
    ],
)
def test_names_the_first_non_finite_number(value: object, field: str, path: str) -> None:
    assert non_finite_path(value, field) == path
