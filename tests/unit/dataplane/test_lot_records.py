"""Exact quantities of lot records (issue #22): a JSON number or decimal string becomes an
integer of millionths without rounding, and anything that is not a positive decimal with at
most six decimals is refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lot_records import consumption, decode, quantity
from lineops.dataplane.repositories.lots import micros_text


@pytest.mark.parametrize(
    ("body", "micros"),
    [
        (b"0.1", 100_000),
        (b"25.5", 25_500_000),
        (b"3", 3_000_000),
        (b"1e2", 100_000_000),
        (b"0.000001", 1),
        (b'" 12.250 "', 12_250_000),
        (b"9223372036854.775807", 2**63 - 1),
        (b"2.500000000000000000000000000000000", 2_500_000),  # trailing zeros are exact
        (b"0E-12", None),
        (b"0E+500", None),
    ],
)
def test_quantities_are_exact_micros(body: bytes, micros: int | None) -> None:
    if micros is None:  # zero, where zero is allowed (a count, a threshold)
        assert quantity(decode(body), "q", zero=True) == 0
        return
    assert quantity(decode(body), "q") == micros


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"0", "positive"),
        (b"-1", "positive"),
        (b"-0.0", "positive"),
        (b"0.0000001", "6 decimals"),
        (b'"1,5"', "not a decimal"),
        (b'"NaN"', "not finite"),
        (b'"Infinity"', "not finite"),
        (b"true", "expected a decimal"),
        (b"null", "expected a decimal"),
        (b"[1]", "expected a decimal"),
        (b"9223372036854.775808", "too large"),
        (b"1e400", "too large"),
        (b"1.0000000000000000000000000001", "6 decimals"),  # beyond Decimal's 28 digits
        (b'"0.' + b"0" * 300 + b'1"', "6 decimals"),
        (b"9" * 5000, "too large"),  # beyond int()'s digits: was a 400 "not valid JSON"
    ],
)
def test_bad_quantities_name_the_field(body: bytes, words: str) -> None:
    with pytest.raises(PayloadError) as caught:
        quantity(decode(body), "inputs[2].quantity")
    assert caught.value.field == "inputs[2].quantity"
    assert words in str(caught.value)


@pytest.mark.parametrize("micros", [1, 100_000, 1_000_000, 15_400_000, 2**63 - 1, 0, -2_500_000])
def test_micros_text_round_trips(micros: int) -> None:
    text = micros_text(micros)
    if micros > 0:
        assert quantity(text, "q") == micros
    assert "e" not in text.lower()


def _consumption(**change: Any) -> dict[str, Any]:
    body = {
        "consumption": "C-1",
        "inputs": [{"lot": "S-1", "quantity": "1", "unit": "kg"}],
        "outputLot": "P-1",
        "consumedAt": "2026-11-02T07:00:00+01:00",
    }
    return {**body, **change}


def test_a_consumption_is_normalised_to_utc_and_micros() -> None:
    parsed = consumption(_consumption())
    assert parsed.consumed_at == "2026-11-02T06:00:00+00:00"
    assert parsed.inputs[0].quantity_micros == 1_000_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inputs": []}, "inputs"),
        ({"inputs": [{"lot": "S-1", "quantity": 1}]}, "inputs[0].unit"),
        ({"inputs": ["S-1"]}, "inputs[0]"),
        ({"maintenance": "M-1"}, "outputLot"),
        ({"outputLot": None}, "outputLot"),
        ({"consumedAt": "2026-11-02T07:00:00"}, "consumedAt"),
        ({"consumption": "x" * 254}, "consumption"),
        ({"consumption": "a\x00b"}, "consumption"),
        # Beyond the nanosecond range of reading times (a lot's run is matched against them).
        ({"consumedAt": "0001-01-01T00:00:00Z"}, "consumedAt"),
        ({"consumedAt": "9999-12-31T00:00:00Z"}, "consumedAt"),
        ({"consumedAt": "0001-01-01T00:00:00+01:00"}, "consumedAt"),
    ],
)
def test_a_bad_consumption_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        consumption(_consumption(**change))
    assert caught.value.field == field


def test_lot_times_stay_within_the_range_of_reading_times() -> None:
    with pytest.raises(PayloadError, match=r"'1600-01-01T00:00:00Z' is outside 1678\.\.2261"):
        consumption(_consumption(consumedAt="1600-01-01T00:00:00Z"))
    assert consumption(_consumption(consumedAt="2261-12-31T23:59:59Z")).consumed_at == (
        "2261-12-31T23:59:59+00:00"
    )
