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


def test_a_stepped_star_is_a_star_as_in_vixie_cron() -> None:
    # "*/2" in the day of month: odd days that are Mondays (2025-03-17 is one; the 10th is
    # an even Monday, the 11th an odd Tuesday), not odd days or Mondays.
    cron = Cron.parse("0 3 */2 * mon")
    assert cron.latest(_at("2025-03-17 12:00")) == _at("2025-03-17 03:00")
    assert cron.latest(_at("2025-03-16 12:00")) == _at("2025-03-03 03:00")


def test_rare_slots_are_found_and_named_by_minute() -> None:
    leap = Cron.parse("0 0 29 feb *").latest(_at("2027-01-01 00:00"))
    assert leap == _at("2024-02-29 00:00")
    assert slot_id(_at("2025-03-10 03:00")) == "202503100300"


def test_slots_are_wall_clock_times_of_the_lines_time_zone() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    nightly = Cron.parse("0 3 * * *")
    # 03:00 CET is 02:00 UTC in winter and 01:00 UTC in summer.
    assert nightly.latest(_at("2025-03-10 02:30"), berlin) == _at("2025-03-10 02:00")
    assert nightly.latest(_at("2025-03-10 01:59"), berlin) == _at("2025-03-09 02:00")
    assert nightly.latest(_at("2025-07-10 01:30"), berlin) == _at("2025-07-10 01:00")
    # The local day decides the weekday: Monday 00:30 in Berlin is Sunday 23:30 UTC.
    assert Cron.parse("30 0 * * mon").latest(_at("2025-03-09 23:45"), berlin) == _at(
        "2025-03-09 23:30"
    )


def test_daylight_saving_gaps_skip_a_slot_and_repeats_fire_once() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    half_past_two = Cron.parse("30 2 * * *")
    # 2025-03-30 02:30 does not exist in Berlin (02:00 -> 03:00): the latest is the day before.
    assert half_past_two.latest(_at("2025-03-30 12:00"), berlin) == _at("2025-03-29 01:30")
    # 2025-10-26 02:30 happens twice (00:30 and 01:30 UTC): only the first is a slot.
    assert half_past_two.latest(_at("2025-10-26 01:45"), berlin) == _at("2025-10-26 00:30")


def test_unknown_zones_fall_back_to_utc_with_a_note() -> None:
    from lineops.services.training_cron import zone_of

    assert zone_of(None) == (UTC, "")
    zone, note = zone_of("Mars/Olympus_Mons")
    assert zone is UTC and "Mars/Olympus_Mons" in note
