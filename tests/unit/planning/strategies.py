"""Random planning problems for the property tests: small enough for CP-SAT to answer in
milliseconds, rich enough to use every kind of constraint."""

from __future__ import annotations

from hypothesis import strategies as st
from lineops.planning import Alternative, Job, Operation, Problem, Window

PRODUCTS = ("a", "b", "c")


@st.composite
def problems(draw: st.DrawFn, max_jobs: int = 5, max_units: int = 3, max_ops: int = 3) -> Problem:
    units = tuple(f"u{i}" for i in range(draw(st.integers(1, max_units))))
    jobs = []
    for j in range(draw(st.integers(1, max_jobs))):
        operations = []
        for _ in range(draw(st.integers(1, max_ops))):
            eligible = draw(st.lists(st.sampled_from(units), min_size=1, max_size=2, unique=True))
            operations.append(
                Operation(tuple(Alternative(u, draw(st.integers(1, 12))) for u in eligible))
            )
        release = draw(st.integers(0, 20))
        due = draw(st.none() | st.integers(release, release + 60))
        # Waiting only for earlier orders keeps the data acyclic.
        after = (
            draw(st.lists(st.sampled_from([f"j{k}" for k in range(j)]), max_size=1)) if j else []
        )
        jobs.append(
            Job(
                name=f"j{j}",
                operations=tuple(operations),
                product=draw(st.sampled_from(PRODUCTS)),
                release=release,
                due=due,
                weight=draw(st.integers(1, 5)),
                after=tuple(after),
            )
        )
    windows = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 60))
        windows.append(
            Window(
                draw(st.sampled_from(units)), start, start + draw(st.integers(1, 15)), "maintenance"
            )
        )
    changeovers = {}
    for unit in draw(st.lists(st.sampled_from(units), max_size=2, unique=True)):
        for before in PRODUCTS:
            for after_product in PRODUCTS:
                if before != after_product:
                    changeovers[(unit, before, after_product)] = draw(st.integers(0, 6))
    return Problem(tuple(jobs), units, tuple(windows), changeovers)
