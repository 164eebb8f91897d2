from __future__ import annotations

import pytest
from lineops.api.cron import check_cron
from lineops.api.quantities import parse_decimal, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1.2s", 1.2),
        ("500ms", 0.5),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("1m30s", 90.0),
        ("1h0.5m", 3630.0),
        ("0s", 0.0),
        ("1m500ms", 60.5),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "1.s", "-1s", "1w", "1hh", "5min", "1e3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("74.000", 74.0), ("73.950", 73.95), ("-3", -3.0), ("0", 0.0), ("0.005", 0.005)],
)
def test_parse_decimal(text: str, value: float) -> None:
    assert parse_decimal(text) == value


@pytest.mark.parametrize(
    "text", ["", "74,000", "7.4e1", "nan", "inf", "+1", ".5", "5.", "1 ", "0x10", "--1"]
)
def test_parse_decimal_rejects_what_the_api_server_would(text: str) -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        parse_decimal(text)


@pytest.mark.parametrize(
    "expression",
    [
        "0 3 * * *",
        "*/15 * * * *",
        "30 2 * * 1",
        "0 6-22/2 * * mon-fri",
        "0 0 1,15 jan,jul *",
        "0 0 29 2 *",  # leap years only, but it does fire
        "0 3 31 2 1",  # with a weekday too, cron fires on either: every Monday in February
        "0 0 31 apr-jul *",  # July has a 31st
        "5/15 * * * *",
    ],
)
def test_check_cron_accepts(expression: str) -> None:
    check_cron(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "minute: 61 is out of 0-59"),
        ("0 24 * * *", "hour: 24 is out of 0-23"),
        ("0 0 0 * *", "day of month: 0 is out of 1-31"),
        ("0 0 * 13 *", "month: 13 is out of 1-12"),
        ("0 0 * * 8", "day of week: 8 is out of 0-7"),
        ("0 0 * * 5-1", "day of week: range '5-1' is reversed"),
        ("*/0 * * * *", "minute: '\\*/0' is not a cron item"),
        ("0 3 * *", "expected 5 fields"),
        # Accepted before, and then the model never (or hourly) retrained without a word:
        ("0 3 31 2 *", "day of month: no month of '2' has day '31'"),
        ("0 0 30,31 feb *", "no month of 'feb' has day '30,31'"),
        ("*/90 * * * *", "minute: step 90 of '\\*/90' is longer than its range \\(0-59\\)"),
        ("0 1-5/10 * * *", "hour: step 10 of '1-5/10' is longer than its range \\(1-5\\)"),
    ],
)
def test_check_cron_rejects(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_cron(expression)
