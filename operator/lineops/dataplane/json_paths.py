"""Where in a decoded JSON document a value JSON cannot hold sits: the path an error names.

Python's ``json`` decodes the tokens NaN and Infinity (and a number too large for a float
as an infinity), which no JSON reader takes back once stored; the routes that store a
document refuse it, naming the first such number by its path.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any, Final

MAX_FLOAT: Final = sys.float_info.max


def non_finite_path(value: Any, field: str) -> str:
    """The path of the first NaN or infinite number, or integer beyond a float (10**400:
    JavaScript reads it as Infinity, some readers refuse it), in ``value`` (``field`` itself,
    or ``field.key`` / ``field[index]`` below it), or "" when there is none."""
    if isinstance(value, float) and not math.isfinite(value):
        return field or "(the document)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_FLOAT:
        return field or "(the document)"
    children = (
        value.items()
        if isinstance(value, Mapping)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        path = f"{field}[{key}]" if isinstance(key, int) else f"{field}.{key}" if field else key
        found = non_finite_path(child, path)
        if found:
            return found
    return ""
