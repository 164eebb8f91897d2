"""Genealogy traces on a generated plant history, on SQLite and on a real PostgreSQL.

Thousands of lots over eight levels (shared inputs, splits, merges), plus cycles written
straight into the table (as data from before validation could hold them). Every trace is
checked against an independent computation: a plain breadth-first search in Python over
the same edges.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter

import pytest
from lineops.dataplane.db.database import Database, open_database
from lineops.dataplane.db.tables import consumptions, lots
from lineops.dataplane.epcis import export
from lineops.dataplane.epcis_check import check
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.genealogy import GenealogyRepository, Trace, UnknownLot
from sqlalchemy import insert

from tests.support.plant_history import EDGE_COLUMNS, HASH, LOT_COLUMNS, History, history

LINE = LineRef("plant", "line-1")
N_LOTS = 4_000
Edge = tuple[str, str, str | None, str | None, int]


def _cycles(plant: History) -> list[Edge]:
    """Edges that close cycles: a level-4 lot fed back into a level-1 lot it descends from
    (found by walking the generated edges), a two-lot loop and a self-loop."""
    parents: dict[str, list[str]] = {}
    for _, source, target, _, _ in plant.edge_list():
        if target is not None:
            parents.setdefault(target, []).append(source)
    top = next(str(row[2]) for row in reversed(plant.lots) if str(row[2]).startswith("L4-"))
    ancestor = top
    while not ancestor.startswith("L1-"):
        ancestor = sorted(parents[ancestor])[0]
    mid = next(
        str(row[2]) for row in plant.lots[len(plant.lots) // 2 :] if str(row[2]).startswith("L2-")
    )
    child = sorted(parents[mid])[0]
    self_loop = next(
        str(row[2]) for row in plant.lots[len(plant.lots) // 3 :] if str(row[2]).startswith("L3-")
    )
    return [
        ("legacy-1", top, ancestor, None, 1_000_000),
        ("legacy-2", mid, child, None, 2_000_000),
        ("legacy-3", self_loop, self_loop, None, 3_000_000),
    ]


@pytest.fixture(scope="module")
def plant() -> History:
    generated = history(N_LOTS, namespace=LINE.namespace, line=LINE.name)
    for name, source, target, _, quantity in _cycles(generated):
        generated.edges.append(
            (
                LINE.namespace,
                LINE.name,
                name,
                HASH,
                "2026-02-01T00:00:00+00:00",
                source,
                target,
                None,
                quantity,
                "kg",
                "2026-02-01T00:00:00+00:00",
            )
        )
    # A spare part consumed by a maintenance record (a leaf of forward traces).
    part = next(str(row[2]) for row in generated.lots if row[5] == "material")
    generated.edges.append(
        (
            LINE.namespace,
            LINE.name,
            "repair-parts",
            HASH,
            "2026-01-06T00:00:00+00:00",
            part,
            None,
            "mnt-1",
            1_000_000,
            "kg",
            "2026-01-06T00:00:00+00:00",
        )
    )
    return generated


@pytest.fixture
def db(db_url: str, plant: History) -> Iterator[Database]:
    database = open_database(db_url)
    with database.engine.begin() as conn:
        conn.execute(insert(lots), [dict(zip(LOT_COLUMNS, r, strict=True)) for r in plant.lots])
        conn.execute(
            insert(consumptions), [dict(zip(EDGE_COLUMNS, r, strict=True)) for r in plant.edges]
        )
    try:
        yield database
    finally:
        database.close()


def expected(
    plant: History, starts: list[str], direction: str, max_depth: int | None
) -> dict[tuple[str, str], int]:
    """(consumption, input lot) -> shortest depth, by breadth-first search in Python."""
    adjacency: dict[str, list[Edge]] = {}
    for edge in plant.edge_list():
        _, source, target, _, _ = edge
        near = target if direction == "backward" else source
        if near is not None:
            adjacency.setdefault(near, []).append(edge)
    distance = dict.fromkeys(starts, 0)
    queue = deque(starts)
    out: dict[tuple[str, str], int] = {}
    while queue:
        node = queue.popleft()
        if max_depth is not None and distance[node] >= max_depth:
            continue
        for name, source, target, _, _ in adjacency.get(node, []):
            out.setdefault((name, source), distance[node] + 1)
            far = source if direction == "backward" else target
            if far is not None and far not in distance:
                distance[far] = distance[node] + 1
                queue.append(far)
    return out


def has_cycle(plant: History, reached: set[tuple[str, str]]) -> bool:
    graph: dict[str, set[str]] = {}
    for name, source, target, _, _ in plant.edge_list():
        if (name, source) in reached and target is not None:
            graph.setdefault(target, set()).add(source)
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError:
        return True
    return False


def got(trace: Trace) -> dict[tuple[str, str], int]:
    return {(e.consumption, e.input_lot): e.depth for e in trace.edges}


def _check_cycles(plant: History, trace: Trace, want: dict[tuple[str, str], int]) -> None:
    assert bool(trace.cycles) == has_cycle(plant, set(want))
    pairs = {(s, t) for _, s, t, _, _ in plant.edge_list()}
    for cycle in trace.cycles:
        assert cycle[0] == cycle[-1]
        for a, b in itertools.pairwise(cycle):
            # A cycle follows real edges, in the direction of the trace.
            assert ((b, a) if trace.direction == "backward" else (a, b)) in pairs


def test_traces_match_an_in_memory_search(db: Database, plant: History) -> None:
    repo = GenealogyRepository(db.engine)
    rng = random.Random(3)
    names = [str(r[2]) for r in plant.lots]
    cycle_lots = [lot for _, s, t, _, _ in _cycles(plant) for lot in (s, t) if lot is not None]
    sample = [*rng.sample(names, 25), *cycle_lots]
    checked = 0
    for lot in sample:
        for direction in ("backward", "forward"):
            for depth in (None, 1, 3, 5):
                trace = repo.trace(LINE, lot, direction, depth)
                want = expected(plant, [lot], direction, depth)
                assert got(trace) == want, (lot, direction, depth)
                _check_cycles(plant, trace, want)
                checked += len(want)
    assert checked > 1_000  # the sample reached a real part of the genealogy


def test_cycles_terminate_and_are_reported(db: Database, plant: History) -> None:
    repo = GenealogyRepository(db.engine)
    for name, source, target, _, _ in _cycles(plant):
        assert target is not None
        trace = repo.trace(LINE, target, "backward")
        assert any(source in c and target in c for c in trace.cycles), (name, trace.cycles)
        assert name in {e.consumption for e in trace.edges}


def test_quantities_and_lot_details_come_along(db: Database, plant: History) -> None:
    repo = GenealogyRepository(db.engine)
    top = next(str(r[2]) for r in plant.lots if str(r[2]).startswith("L4-"))
    trace = repo.trace(LINE, top, "backward")
    quantities = {(e[0], e[1]): e[4] for e in plant.edge_list()}
    for edge in trace.edges:
        assert edge.quantity_micros == quantities[(edge.consumption, edge.input_lot)]
        assert edge.input_lot in trace.lots
    assert {trace.lots[lot].kind for lot in trace.reached} == {"material", "production"}
    assert trace.truncated is False
    shallow = repo.trace(LINE, top, "backward", 1)
    assert shallow.truncated is True and {e.depth for e in shallow.edges} == {1}


def test_recall_from_a_supplier_lot(db: Database, plant: History) -> None:
    repo = GenealogyRepository(db.engine)
    by_supplier_lot: dict[str, list[str]] = {}
    for row in plant.lots:
        if row[12] is not None:
            by_supplier_lot.setdefault(str(row[12]), []).append(str(row[2]))
    split = next(k for k, v in by_supplier_lot.items() if len(v) > 1)
    for supplier_lot in [split, *random.Random(5).sample(sorted(by_supplier_lot), 10)]:
        starts = by_supplier_lot[supplier_lot]
        trace = repo.recall(LINE, supplier_lot)
        assert sorted(trace.starts) == sorted(starts)
        assert got(trace) == expected(plant, starts, "forward", None)
    part = next(str(row[2]) for row in plant.lots if row[5] == "material")
    assert "mnt-1" in repo.trace(LINE, part, "forward").maintenance


def test_unknown_lots_are_named(db: Database) -> None:
    repo = GenealogyRepository(db.engine)
    with pytest.raises(UnknownLot, match="'nope'") as exc:
        repo.trace(LINE, "nope", "backward")
    assert exc.value.field == "path.lot"
    with pytest.raises(UnknownLot) as exc:
        repo.recall(LINE, "no-such-supplier-lot")
    assert exc.value.field == "query.supplierLot"
    # Another line's lots are not this line's.
    with pytest.raises(UnknownLot):
        repo.trace(LineRef("plant", "line-2"), "L0-00000000", "backward")
    with pytest.raises(ValueError, match="depth"):
        repo.trace(LINE, "L0-00000000", "backward", 0)


def test_epcis_export_of_the_whole_history_validates(db: Database, plant: History) -> None:
    document = export(db.engine, LINE, "2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    assert check(document) == []
    events = document["epcisBody"]["eventList"]
    materials = sum(1 for r in plant.lots if r[5] == "material")
    production = sum(1 for r in plant.lots if r[5] == "production")
    kinds = [(e["type"], e.get("bizStep")) for e in events]
    assert kinds.count(("ObjectEvent", "receiving")) == materials
    assert kinds.count(("TransformationEvent", "commissioning")) == production
    # The spare part consumed by maintenance record mnt-1: inputs only, with its id.
    repairs = [e for e in events if e.get("bizStep") == "repairing"]
    assert len(repairs) == 1 and repairs[0]["transformationID"].endswith(":mnt-1")
    # Every consumption edge into a lot appears once as an input of its lot's event.
    inputs = sum(len(e.get("inputQuantityList", [])) for e in events)
    assert inputs == len(plant.edges)
