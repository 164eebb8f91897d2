"""Latest cron slot at a time (UTC), with Vixie-cron day semantics."""

from __future__ import annotations

from datetime import UTC, datetime

from lineops.services.training_cron import Cron, slot_id


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def test_nightly_slot_is_today_after_it_and_yesterday_before_it() -> None:
    cron = Cron.parse("0 3 * * *")
    assert cron.latest(_at("2025-03-10 03:00")) == _at("2025-03-10 03:00")
    assert cron.latest(_at("2025-03-10 14:59")) == _at("2025-03-10 03:00")
    assert cron.latest(_at("2025-03-10 02:59")) == _at("2025-03-09 03:00")


def test_weekday_names_steps_ranges_and_lists() -> None:
    # 2025-03-10 is a Monday.
    assert Cron.parse("30 2 * * mon").latest(_at("2025-03-09 12:00")) == _at("2025-03-03 02:30")
    assert Cron.parse("*/15 * * * *").latest(_at("2025-03-10 10:44")) == _at("2025-03-10 10:30")
    assert Cron.parse("5,50 8-9 * * *").latest(_at("2025-03-10 10:00")) == _at("2025-03-10 09:50")
    assert Cron.parse("0 0 * * 7").latest(_at("2025-03-10 00:00")) == _at("2025-03-09 00:00")


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    cron = Cron.parse("0 12 1 * fri")  # the 1st, or any Friday
    assert cron.latest(_at("2025-03-08 00:00")) == _at("2025-03-07 12:00")  # a Friday
    assert cron.latest(_at("2025-03-02 00:00")) == _at("2025-03-01 12:00")  # the 1st


def test_rare_slots_are_found_and_named_by_minute() -> None:
    leap = Cron.parse("0 0 29 feb *").latest(_at("2027-01-01 00:00"))
    assert leap == _at("2024-02-29 00:00")
    assert slot_id(_at("2025-03-10 03:00")) == "202503100300"
