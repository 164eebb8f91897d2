"""Decimal and duration strings: the spec's non-integer numbers, their patterns and parsers.

Kubernetes API conventions keep floats out of specs (they do not round-trip through every
client), so limits, targets and durations travel as strings and are parsed here.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, StringConstraints

DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"
NON_NEGATIVE_DECIMAL_PATTERN: Final = r"^[0-9]+(\.[0-9]+)?$"
# 0 <= x <= 1, written as a pattern so the API server needs no CEL rule for it.
FRACTION_PATTERN: Final = r"^(0(\.[0-9]+)?|1(\.0+)?)$"
DURATION_PATTERN: Final = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"

# Bounded lengths keep the CEL cost estimate of rules that parse these strings small.
DECIMAL_MAX_LENGTH: Final = 32
DURATION_MAX_LENGTH: Final = 32

Decimal = Annotated[str, StringConstraints(pattern=DECIMAL_PATTERN, max_length=DECIMAL_MAX_LENGTH)]
NonNegativeDecimal = Annotated[
    str, StringConstraints(pattern=NON_NEGATIVE_DECIMAL_PATTERN, max_length=DECIMAL_MAX_LENGTH)
]
Fraction = Annotated[
    str, StringConstraints(pattern=FRACTION_PATTERN, max_length=DECIMAL_MAX_LENGTH)
]
# No setting of a line or model needs more; far longer ones (1000000000d) overflowed the
# timedeltas they become (a Feast TTL, a cooldown) with a traceback in the reconcile.
MAX_DURATION: Final = "3650d"


def _not_too_long(value: str) -> str:
    if parse_duration(value) > parse_duration(MAX_DURATION):
        raise ValueError(
            f"{value} is longer than {MAX_DURATION}, the longest duration lineops takes"
        )
    return value


Duration = Annotated[
    str,
    StringConstraints(pattern=DURATION_PATTERN, max_length=DURATION_MAX_LENGTH),
    AfterValidator(_not_too_long),
]


def _positive(value: str) -> str:
    if parse_duration(value) <= 0:
        raise ValueError("must be positive")
    return value


# A duration of zero is a unit or typing slip (a window, a cycle time, a push interval).
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]

_DECIMAL_RE: Final = re.compile(DECIMAL_PATTERN)
_DURATION_RE: Final = re.compile(DURATION_PATTERN)
# "ms" must be tried before "m", or "5ms" would read as five minutes followed by junk.
_DURATION_PART_RE: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_decimal(value: str) -> float:
    """Parse a decimal string such as ``"74.050"`` or ``"-3"``; raise ValueError otherwise.

    Exponents, signs other than a leading minus, ``nan`` and ``inf`` are rejected: the API
    server applies the same pattern, so anything ``float()`` alone would accept but the
    pattern would not is a spec that never reached the cluster.
    """
    if not _DECIMAL_RE.match(value):
        raise ValueError(f"not a decimal number: {value!r}")
    return float(value)


def parse_duration(value: str) -> float:
    """Parse a duration such as ``"1.2s"``, ``"500ms"``, ``"5m"`` or ``"1h30m"`` into seconds."""
    if not _DURATION_RE.match(value):
        raise ValueError(f"not a duration: {value!r} (expected e.g. 500ms, 1.2s, 5m, 1h30m, 2d)")
    return sum(
        float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART_RE.findall(value)
    )


def optional_decimal(value: str | None) -> float | None:
    """``parse_decimal`` for optional fields."""
    return None if value is None else parse_decimal(value)
