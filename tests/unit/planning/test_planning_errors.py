"""Bad input fails before any solving, with a message naming the order/operation."""

from __future__ import annotations

import pytest
from lineops.planning import (
    Alternative,
    Job,
    Operation,
    PlanInfeasibleError,
    PlanningInputError,
    Problem,
    SolveOptions,
    Window,
    dispatch,
    solve,
    validate,
)


def _job(name: str, *units: tuple[str, int], **fields: object) -> Job:
    return Job(name, tuple(Operation((Alternative(u, d),)) for u, d in units), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        (
            (_job("WO-1", ("press", 5), ("lathe-9", 3)),),
            "order WO-1, operation 1: unknown work unit 'lathe-9' in the routing",
        ),
        (
            (_job("WO-2", ("press", -4)),),
            "order WO-2, operation 0: negative processing time -4 on press",
        ),
        ((_job("WO-3", ("press", 5), release=-1),), "order WO-3: negative release time -1"),
        (
            (_job("WO-4", ("press", 5), release=50, due=40),),
            "order WO-4: due (40) is before release (50)",
        ),
        ((_job("WO-5", ("press", 5), weight=0),), "order WO-5: priority weight must be positive"),
        (
            (_job("WO-6", ("press", 5)), _job("WO-6", ("press", 5))),
            "order WO-6: order id used twice",
        ),
        (
            (_job("WO-7", ("press", 5), after=("WO-0",)),),
            "order WO-7: waits for unknown order 'WO-0'",
        ),
        (
            (
                _job("A", ("press", 5), after=("C",)),
                _job("B", ("press", 5), after=("A",)),
                _job("C", ("press", 5), after=("B",)),
            ),
            "order A: orders wait for each other: A -> C -> B -> A",
        ),
        ((Job("WO-8", ()),), "order WO-8: routing has no operations"),
    ],
)
def test_bad_input_names_the_order_and_operation(jobs: tuple[Job, ...], message: str) -> None:
    problem = Problem(jobs, ("press", "grinder"))
    for call in (validate, dispatch, solve):
        with pytest.raises(PlanningInputError) as caught:
            call(problem)  # type: ignore[operator]
        assert str(caught.value).startswith(message)


def test_a_blocked_window_on_an_unknown_unit_is_named() -> None:
    problem = Problem((_job("WO-1", ("press", 5)),), ("press",), (Window("oven", 0, 5, "PM"),))
    with pytest.raises(PlanningInputError, match="blocked window 'PM' on oven: unknown work unit"):
        validate(problem)


def test_orders_that_do_not_fit_the_horizon_are_infeasible_not_a_fallback() -> None:
    problem = Problem(
        (_job("WO-1", ("press", 5), ("grinder", 5)),),
        ("press", "grinder"),
        (Window("grinder", 0, 100, "maintenance"),),
        horizon=60,
    )
    with pytest.raises(PlanInfeasibleError, match="horizon"):
        solve(problem, SolveOptions(time_limit=2, workers=1))
