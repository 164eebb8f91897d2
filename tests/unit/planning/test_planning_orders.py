"""An order book read against a ProductionLine: processing times, shifts, changeovers,
maintenance before a predicted failure, and errors naming the order or product."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lineops.api.productionline import ProductionLine
from lineops.planning import PlanningInputError, SolveOptions, solve, violations
from lineops.planning.calendar import OFF_SHIFT
from lineops.planning.orders import order_book

BERLIN = ZoneInfo("Europe/Berlin")


def _line(shifts: list[dict[str, str]] | None = None) -> ProductionLine:
    return ProductionLine.model_validate(
        {
            "apiVersion": "lineops.io/v1alpha1",
            "kind": "ProductionLine",
            "metadata": {"name": "ring-line"},
            "spec": {
                "site": "plant-a",
                "area": "rings",
                "schedule": {
                    "timezone": "Europe/Berlin",
                    "shifts": shifts
                    if shifts is not None
                    else [
                        {"name": "early", "start": "06:00", "end": "14:00"},
                        {"name": "late", "start": "14:00", "end": "22:00"},
                    ],
                },
                "workUnits": [
                    {"name": "press-01", "idealCycleTime": "1.2s"},
                    {"name": "grinder-01", "idealCycleTime": "2.4s"},
                    {"name": "grinder-02", "idealCycleTime": "3s"},
                ],
            },
        }
    )


def _book(**changes: Any) -> dict[str, Any]:
    book: dict[str, Any] = {
        "start": "2026-12-01T06:00:00",
        "horizon": "3d",
        "products": [
            {
                "name": "ring-a",
                "routing": [
                    {"workUnits": ["press-01"]},
                    {"workUnits": ["grinder-01", {"name": "grinder-02", "ratePerHour": 1500}]},
                ],
            },
            {
                "name": "ring-b",
                "routing": [
                    {"workUnits": [{"name": "press-01", "cycleTime": "2s"}]},
                    {"workUnits": ["grinder-01"]},
                ],
            },
        ],
        "orders": [
            {
                "id": "WO-1",
                "product": "ring-a",
                "quantity": 3000,
                "release": "2026-12-01T06:00:00",
                "due": "2026-12-01T18:00:00",
                "priority": 3,
            },
            {
                "id": "WO-2",
                "product": "ring-b",
                "quantity": 2000,
                "release": "2026-12-01T08:00:00+01:00",
                "due": "2026-12-02T10:00:00",
                "after": ["WO-1"],
            },
        ],
        "changeovers": [
            {"workUnit": "press-01", "time": "30m"},
            {"workUnit": "press-01", "from": "ring-a", "to": "ring-b", "time": "45m"},
        ],
        "maintenance": [
            {
                "workUnit": "grinder-01",
                "predictedFailure": "2026-12-01T20:00:00",
                "duration": "2h",
                "lead": "4h",
                "reason": "predicted spindle bearing failure",
            }
        ],
    }
    book.update(changes)
    return book


def test_times_come_from_the_routing_or_the_ideal_cycle_time() -> None:
    book = order_book(_book(), _line())
    wo1, wo2 = book.problem.jobs
    assert book.origin == datetime(2026, 12, 1, 6, tzinfo=BERLIN)
    assert [(a.work_unit, a.duration) for a in wo1.operations[1].alternatives] == [
        ("grinder-01", 7200),  # 3000 x 2.4 s (idealCycleTime)
        ("grinder-02", 7200),  # 3000 / 1500 per hour
    ]
    assert wo1.operations[0].alternatives[0].duration == 3600  # 3000 x 1.2 s
    assert wo2.operations[0].alternatives[0].duration == 4000  # 2000 x 2 s (cycleTime)
    assert (wo1.release, wo1.due, wo1.weight) == (0, 12 * 3600, 3)
    assert (wo2.release, wo2.after, wo2.weight) == (2 * 3600, ("WO-1",), 1)
    assert book.problem.horizon == 3 * 86400


def test_shifts_block_the_night_and_a_prediction_blocks_its_window() -> None:
    problem = order_book(_book(), _line()).problem
    nights = [w for w in problem.blocked if w.reason == OFF_SHIFT and w.work_unit == "press-01"]
    # 22:00-06:00 Berlin on the first two nights, and from 22:00 to the horizon's end.
    assert [(w.start, w.end) for w in nights] == [
        (16 * 3600, 24 * 3600),
        (40 * 3600, 48 * 3600),
        (64 * 3600, 72 * 3600),
    ]
    (maintenance,) = [w for w in problem.blocked if w.reason != OFF_SHIFT]
    # Failure predicted at 20:00; 4 h lead; 2 h long: 14:00-16:00.
    assert (maintenance.work_unit, maintenance.start, maintenance.end) == (
        "grinder-01",
        8 * 3600,
        10 * 3600,
    )


def test_no_shifts_means_around_the_clock() -> None:
    problem = order_book(_book(maintenance=[]), _line(shifts=[])).problem
    assert problem.blocked == ()


def test_a_specific_changeover_overrides_the_wildcard() -> None:
    problem = order_book(_book(), _line()).problem
    assert problem.changeover("press-01", "ring-a", "ring-b") == 45 * 60
    assert problem.changeover("press-01", "ring-b", "ring-a") == 30 * 60
    assert problem.changeover("grinder-01", "ring-b", "ring-a") == 0


def test_the_plan_keeps_off_shift_and_maintenance_free() -> None:
    book = order_book(_book(), _line())
    schedule = solve(book.problem, SolveOptions(time_limit=5, workers=1))
    assert violations(book.problem, schedule) == []
    for a in schedule.assignments:
        start = book.at(a.start).astimezone(BERLIN)
        assert 6 <= start.hour < 22, a


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"products": [{"name": "ring-a", "routing": [{"workUnits": ["lathe-9"]}]}]},
            "product ring-a, operation 0: unknown work unit 'lathe-9'",
        ),
        (
            {
                "orders": [
                    {
                        "id": "WO-9",
                        "product": "ring-a",
                        "quantity": 5,
                        "release": "2026-12-01T10:00:00",
                        "due": "2026-12-01T09:00:00",
                    }
                ]
            },
            "order WO-9: due 2026-12-01T09:00:00+01:00 is before release",
        ),
        (
            {
                "orders": [
                    {
                        "id": "WO-9",
                        "product": "ring-z",
                        "quantity": 5,
                        "release": "2026-12-01T10:00:00",
                    }
                ]
            },
            "order WO-9: unknown product 'ring-z'",
        ),
        (
            {
                "orders": [
                    {
                        "id": "WO-9",
                        "product": "ring-a",
                        "quantity": -5,
                        "release": "2026-12-01T10:00:00",
                    }
                ]
            },
            "order WO-9: quantity must be a positive whole number, got -5",
        ),
        (
            {
                "orders": [
                    {"id": "WO-9", "product": "ring-a", "quantity": 5, "release": "yesterday"}
                ]
            },
            "order WO-9: release: 'yesterday' is not an ISO 8601 time",
        ),
        (
            {
                "orders": [
                    {
                        "id": "WO-9",
                        "product": "ring-a",
                        "quantity": 5,
                        "release": "2026-12-01T07:00:00",
                        "priority": 0,
                    }
                ]
            },
            "order WO-9: priority must be a whole number >= 1, got 0",
        ),
        (
            {"changeovers": [{"workUnit": "press-01", "time": "-5m"}]},
            "changeovers[0]: time: not a duration: '-5m'",
        ),
        (
            {
                "maintenance": [
                    {
                        "workUnit": "oven",
                        "start": "2026-12-01T07:00:00",
                        "end": "2026-12-01T08:00:00",
                        "reason": "PM",
                    }
                ]
            },
            "maintenance[0]: unknown work unit 'oven'",
        ),
        (
            {
                "products": [
                    {
                        "name": "ring-a",
                        "routing": [{"workUnits": [{"name": "press-01", "cycleTime": "0s"}]}],
                    }
                ]
            },
            "product ring-a, operation 0: press-01: the time per unit must be positive",
        ),
        (
            {
                "products": [
                    {
                        "name": "ring-a",
                        "routing": [{"workUnits": [{"name": "press-01", "ratePerHour": 1e-320}]}],
                    }
                ]
            },
            "product ring-a, operation 0: press-01: the time per unit is beyond the limit of "
            "1000000000 s",
        ),
        (
            {"changeovers": [{"workUnit": "press-01", "from": ["ring-a"], "time": "5m"}]},
            "changeovers[0]: from: expected a non-empty string, got ['ring-a']",
        ),
        ({"horizon": "99999999999d"}, "horizon: 99999999999d is beyond the limit of 1000000000 s"),
        (
            {
                "maintenance": [
                    {
                        "workUnit": "grinder-01",
                        "predictedFailure": "2026-12-01T20:00:00",
                        "duration": "99999999999d",
                        "reason": "bearing",
                    }
                ]
            },
            "maintenance[0]: duration: 99999999999d is beyond the limit of 1000000000 s",
        ),
        (
            {
                "maintenance": [
                    {
                        "workUnit": "grinder-01",
                        "predictedFailure": "0001-01-01T01:00:00+00:00",
                        "duration": "2h",
                        "reason": "bearing",
                    }
                ]
            },
            "maintenance[0]: the window falls before year 1",
        ),
    ],
)
def test_bad_order_books_name_the_record(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanningInputError) as caught:
        order_book(_book(**change), _line())
    assert str(caught.value).startswith(message)


def test_a_quantity_off_by_orders_of_magnitude_is_refused_naming_the_order() -> None:
    book = _book()
    book["orders"][0]["quantity"] = 10**12  # a number, but 1.2e12 s of work
    with pytest.raises(PlanningInputError) as caught:
        order_book(book, _line())
    assert str(caught.value) == (
        "order WO-1, operation 0: 1e+12 units on press-01 take 1.2e+12 s, beyond the limit "
        "of 1000000000 s"
    )
    # Beyond a float, or one whose time is: tracebacks (OverflowError) before.
    for quantity in (10**400, 1.0e306):
        book["orders"][0]["quantity"] = quantity
        with pytest.raises(PlanningInputError, match=r"^order WO-1: quantity: expected a number"):
            order_book(book, _line())


def test_waiting_orders_in_a_cycle_are_refused_when_planned() -> None:
    book = _book()
    book["orders"][0]["after"] = ["WO-2"]
    problem = order_book(book, _line()).problem
    with pytest.raises(
        PlanningInputError, match=r"order WO-1: orders wait for each other: WO-1 -> WO-2 -> WO-1"
    ):
        solve(problem, SolveOptions(time_limit=1, workers=1))


def test_naive_times_are_local_to_the_line() -> None:
    book = order_book(_book(), _line())
    assert book.at(book.problem.jobs[0].due or 0) == datetime(2026, 12, 1, 17, tzinfo=UTC)
    assert book.at(0) + timedelta(hours=2) == datetime(2026, 12, 1, 8, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(horizion="1d"), "order book: unknown key 'horizion'"),
        (lambda b: b["orders"][0].update(priorty=5), "order WO-1: unknown key 'priorty'"),
        (lambda b: b["orders"][1].update(afer=["WO-1"]), "order WO-2: unknown key 'afer'"),
        (
            lambda b: b["products"][1]["routing"][0]["workUnits"][0].update(cycletime="60s"),
            "product ring-b, operation 0: press-01: unknown key 'cycletime'",
        ),
        (lambda b: b["products"][0].update(routeing=[]), "product ring-a: unknown key 'routeing'"),
        (lambda b: b["changeovers"][0].update(tme="1h"), "changeovers[0]: unknown key 'tme'"),
        (
            lambda b: b["maintenance"][0].update(start="2026-12-01T10:00:00"),
            "maintenance[0]: give predictedFailure (with duration, lead) or start and end",
        ),
        (
            lambda b: b["changeovers"].append(
                {"workUnit": "press-01", "from": "ring-a", "to": "ring-a", "time": "1h"}
            ),
            "changeovers[2]: from and to are both 'ring-a'",
        ),
        (
            lambda b: b["changeovers"].append(
                {"workUnit": "press-01", "from": "ring-a", "to": "ring-b", "time": "5m"}
            ),
            "changeovers[2]: the same changeover as changeovers[1]",
        ),
    ],
)
def test_what_was_ignored_or_overwritten_without_a_word_is_refused(
    change: Any, message: str
) -> None:
    """Found by a review of planning inputs (stop 35): a misspelt key planned as if it were
    absent (horizion: 1d planned 14 days), a second way to give a maintenance window dropped
    the first, a same-product changeover vanished and a repeated one overwrote the first."""
    book = _book()
    change(book)
    with pytest.raises(PlanningInputError) as caught:
        order_book(book, _line())
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_changeover_under_a_second_rounds_up_like_a_processing_time() -> None:
    book = _book(changeovers=[{"workUnit": "press-01", "time": "500ms"}])
    changeovers = order_book(book, _line()).problem.changeovers
    assert changeovers[("press-01", "ring-a", "ring-b")] == 1  # was 0: no changeover


def test_seconds_are_real_time_across_a_daylight_saving_change() -> None:
    """Europe/Berlin falls back at 03:00 on 2026-10-25: the night from 22:00 to 06:00 lasts
    nine hours. Aware datetimes of one zone were subtracted by wall clock (eight)."""
    book = _book(start="2026-10-24T12:00:00", horizon="2d")
    book["orders"][0].update(release="2026-10-24T12:00:00", due="2026-10-25T06:00:00")
    book["orders"][1].update(release="2026-10-24T12:00:00", due="2026-10-26T06:00:00")
    book["maintenance"] = []
    parsed = order_book(book, _line(shifts=[]))
    due = {job.name: job.due for job in parsed.problem.jobs}
    assert due == {"WO-1": 18 * 3600 + 3600, "WO-2": 42 * 3600 + 3600}
    assert parsed.problem.horizon == 48 * 3600  # a duration is elapsed time
    # And back: second 19 h after the start is 06:00 local, on the winter offset.
    assert parsed.at(19 * 3600).isoformat() == "2026-10-25T06:00:00+01:00"


def test_a_start_with_an_offset_gives_times_on_the_lines_clock() -> None:
    """A start written with the summer offset (or an unquoted YAML timestamp) is the same
    instant, but the plan's times are shown in the line's zone: after the change, 06:00 is
    06:00+01:00 on the wall, not 07:00+02:00."""
    book = _book(start="2026-10-24T12:00:00+02:00", horizon="2d")
    book["orders"][0].update(release="2026-10-24T12:00:00+02:00", due="2026-10-25T06:00:00")
    book["orders"][1].update(release="2026-10-24T12:00:00+02:00", due="2026-10-26T06:00:00")
    book["maintenance"] = []
    parsed = order_book(book, _line(shifts=[]))
    assert parsed.at(19 * 3600).isoformat() == "2026-10-25T06:00:00+01:00"
    assert parsed.origin.isoformat() == "2026-10-24T12:00:00+02:00"


def test_a_quantity_times_a_rate_is_not_a_second_longer_from_float_error() -> None:
    # 12000 x 1.1 s is 13200.000000000002 in floats: it went up to 13201 s.
    book = _book()
    book["products"][1]["routing"][0]["workUnits"][0]["cycleTime"] = "1.1s"
    book["orders"][1]["quantity"] = 12000
    wo2 = order_book(book, _line()).problem.jobs[1]
    assert wo2.operations[0].alternatives[0].duration == 13200


def test_fractions_of_a_second_never_put_work_before_a_shift_or_release() -> None:
    # A start from datetime.now().isoformat(): the plan's second 0 is its whole second, a
    # release with a fraction is the next whole second, and a blocked window ends on the
    # whole second after its end (it was 0.3 s short: work started before the shift).
    book = _book(start="2026-12-01T05:00:00.700", maintenance=[])
    book["orders"][0]["release"] = "2026-12-01T05:00:00.700"
    book["orders"][1]["release"] = "2026-12-01T08:00:00.200+01:00"
    parsed = order_book(book, _line())
    assert parsed.origin == datetime(2026, 12, 1, 5, tzinfo=BERLIN)
    assert [job.release for job in parsed.problem.jobs] == [1, 3 * 3600 + 1]
    night = next(w for w in parsed.problem.blocked if w.reason == OFF_SHIFT)
    assert (night.start, night.end) == (0, 3600)  # 05:00-06:00, the end of the first night


def test_an_unquoted_yaml_date_is_the_lines_midnight_like_a_quoted_one() -> None:
    book = _book()
    book["orders"][1]["due"] = datetime(2026, 12, 3).date()  # YAML's `due: 2026-12-03`
    quoted = _book()
    quoted["orders"][1]["due"] = "2026-12-03"
    assert order_book(book, _line()).problem == order_book(quoted, _line()).problem


def test_changeovers_as_specific_with_other_times_for_one_pair_are_refused() -> None:
    # {from: ring-a} and {to: ring-b} both cover ring-a -> ring-b: whichever came last won.
    both = [
        {"workUnit": "press-01", "from": "ring-a", "time": "10m"},
        {"workUnit": "press-01", "to": "ring-b", "time": "2h"},
    ]
    for entries in (both, both[::-1]):
        with pytest.raises(PlanningInputError) as caught:
            order_book(_book(changeovers=entries), _line())
        assert str(caught.value) == (
            "changeovers[1]: overlaps changeovers[0] from 'ring-a' to 'ring-b' on press-01 with "
            "another time; give that pair a changeover with both from and to"
        )
    # The pair given (anywhere in the list) settles it; the same time is no conflict.
    pair = {"workUnit": "press-01", "from": "ring-a", "to": "ring-b", "time": "30m"}
    for entries in ([*both, pair], [pair, *both]):
        changeovers = order_book(_book(changeovers=entries), _line()).problem.changeovers
        assert changeovers[("press-01", "ring-a", "ring-b")] == 1800
    same = [{**both[0], "time": "1h"}, {**both[1], "time": "1h"}]
    assert order_book(_book(changeovers=same), _line()).problem.changeovers == {
        ("press-01", "ring-a", "ring-b"): 3600
    }


def test_a_due_in_its_releases_second_and_a_tiny_operation_stay_plannable() -> None:
    # Found by a review of the rounding above: a release going up and a due going down
    # inside one second refused the order, and a very high rate rounded to a 0 s operation.
    book = _book(start="2026-12-01T06:00:00", maintenance=[])
    book["orders"][1].update(
        release="2026-12-01T09:00:00.400+01:00", due="2026-12-01T09:00:00.700+01:00"
    )
    book["products"][1]["routing"][0]["workUnits"][0] = {"name": "press-01", "ratePerHour": 1e10}
    book["orders"][1]["quantity"] = 1
    wo2 = order_book(book, _line()).problem.jobs[1]
    assert (wo2.release, wo2.due) == (3 * 3600 + 1, 3 * 3600 + 1)
    assert wo2.operations[0].alternatives[0].duration == 1
