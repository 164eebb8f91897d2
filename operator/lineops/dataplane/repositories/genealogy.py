"""Lot genealogy: what a lot was made from (backward) and what was made from it (forward).

The genealogy is the ``consumptions`` table: one edge per input lot and quantity consumed
into an output lot (or into a maintenance record, for spare parts). A trace is one
recursive CTE over that table, the same statement on SQLite and PostgreSQL.

Cycles. Validation refuses a consumption that would close a cycle, but rows written before
it existed (or by hand) may hold one, and a trace must still terminate. The CTE's rows are
*edges* (the consumption row's id and the lot it leads to), combined with ``UNION``, which
on both databases discards a row identical to any row produced before: every edge enters
the walk at most once, so the walk ends after at most one pass over the reachable edges,
cycle or not, and a lot shared by many paths (a merge) is expanded once, not once per path
(a path string would enumerate every path: exponential on a plant's diamonds). With a
depth bound the row also carries its depth (so one edge may appear once per depth, at most
``max_depth`` times) and the bound ends the walk. Depths (the shortest distance from the
start) and the cycles themselves are then computed from the returned edges in Python, so
a cycle is reported, lot by lot, instead of looping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Engine, Row, Select, func, literal, select, true

from lineops.dataplane.db.tables import consumptions, lots
from lineops.dataplane.lines import LineRef

Direction = Literal["backward", "forward"]
DIRECTIONS: Final = ("backward", "forward")


class UnknownLot(LookupError):
    """The lot (or supplier lot) is not recorded on the line."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True, slots=True)
class LotInfo:
    """What the lots table says about a lot reached by a trace."""

    lot: str
    kind: str  # material | production
    material: str
    unit: str
    quantity_micros: int
    status: str
    supplier: str | None
    supplier_lot: str | None
    received_at: str | None
    work_order: str | None
    work_unit: str | None
    started_at: str | None
    ended_at: str | None


LOT_COLUMNS: Final = (
    lots.c.lot,
    lots.c.kind,
    lots.c.material,
    lots.c.unit,
    lots.c.quantity_micros,
    lots.c.status,
    lots.c.supplier,
    lots.c.supplier_lot,
    lots.c.received_at,
    lots.c.work_order,
    lots.c.work_unit,
    lots.c.started_at,
    lots.c.ended_at,
)


@dataclass(frozen=True, slots=True)
class TraceEdge:
    """One consumption reached by a trace. ``depth`` is 1 for the edges touching a start lot
    and grows by one per step away from it (the shortest such distance)."""

    consumption: str
    input_lot: str
    output_lot: str | None  # None: consumed by a maintenance record (a spare part)
    maintenance: str | None
    quantity_micros: int
    unit: str
    consumed_at: str
    depth: int

    def near(self, direction: Direction) -> str:
        """The end of the edge closer to the start of the trace."""
        if direction == "backward":
            assert self.output_lot is not None  # backward walks only reach lot outputs
            return self.output_lot
        return self.input_lot

    def far(self, direction: Direction) -> str | None:
        """The end farther from the start: an input lot (backward), an output lot or None
        for a maintenance record (forward)."""
        return self.input_lot if direction == "backward" else self.output_lot


@dataclass
class Trace:
    direction: Direction
    starts: list[str]
    max_depth: int | None
    edges: list[TraceEdge]  # by depth, then consumption time
    lots: dict[str, LotInfo] = field(default_factory=dict)  # starts and every lot reached
    cycles: list[list[str]] = field(default_factory=list)  # each: a, b, ..., a
    truncated: bool = False  # the depth bound cut edges off

    @property
    def reached(self) -> list[str]:
        """Lots reached (not the starts), nearest first."""
        seen: dict[str, None] = {}
        for edge in self.edges:
            far = edge.far(self.direction)
            if far is not None and far not in self.starts:
                seen.setdefault(far, None)
        return list(seen)

    @property
    def maintenance(self) -> list[str]:
        """Maintenance records reached (forward traces of spare parts)."""
        return sorted({e.maintenance for e in self.edges if e.maintenance is not None})


def _of_line(line: LineRef) -> ColumnElement[bool]:
    c = consumptions.c
    return (c.namespace == line.namespace) & (c.line == line.name)


def walk_query(
    line: LineRef,
    direction: Direction,
    starts: Select[tuple[str]] | Sequence[str],
    max_depth: int | None,
) -> Select[tuple[int, int]]:
    """(consumption row id, shortest depth) of every edge the walk reaches (see the module
    docstring for why the rows are edges combined with UNION)."""
    c = consumptions.c
    near, far = (
        (c.output_lot, c.input_lot) if direction == "backward" else (c.input_lot, c.output_lot)
    )
    columns: list[ColumnElement[Any]] = [c.id.label("edge"), far.label("far")]
    if max_depth is not None:
        columns.append(literal(1).label("depth"))
    anchor = select(*columns).where(_of_line(line), near.in_(starts))
    walk = anchor.cte("walk", recursive=True)
    step_columns: list[ColumnElement[Any]] = [c.id, far]
    if max_depth is not None:
        step_columns.append(walk.c.depth + 1)
    step = select(*step_columns).where(_of_line(line), near == walk.c.far)
    if max_depth is not None:
        step = step.where(walk.c.depth < max_depth)
    walk = walk.union(step)
    depth = walk.c.depth if max_depth is not None else literal(0)
    return select(walk.c.edge, depth.label("depth"))


class GenealogyRepository:
    """Traces over a line's consumptions; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def trace(
        self, line: LineRef, lot: str, direction: Direction, max_depth: int | None = None
    ) -> Trace:
        """Backward: everything ``lot`` was made from; forward: everything made from it."""
        _check(direction, max_depth)
        # One statement, one round trip: the start lot's row outer-joined to the whole walk
        # (each edge with the row of the lot it reaches). No row: the lot is unknown; one
        # row without an edge: a lot with no genealogy in that direction.
        walked = _edges_query(line, [lot], direction, max_depth).subquery("walked")
        root = (
            select(*LOT_COLUMNS)
            .where(lots.c.namespace == line.namespace, lots.c.line == line.name, lots.c.lot == lot)
            .subquery("root")
        )
        query = select(*root.c, *walked.c).select_from(root.outerjoin(walked, true()))
        width = len(LOT_COLUMNS)
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query)]
        if not rows:
            raise UnknownLot("path.lot", f"lot {lot!r} is not recorded on line {line}")
        edge_rows = [r[width:] for r in rows if r[width] is not None]
        return _assemble(edge_rows, [lot], direction, max_depth, {lot: _info(rows[0][:width])})

    def recall(self, line: LineRef, supplier_lot: str, max_depth: int | None = None) -> Trace:
        """Forward from every lot received under ``supplier_lot``: what a recall concerns."""
        _check("forward", max_depth)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*LOT_COLUMNS)
                .where(
                    lots.c.namespace == line.namespace,
                    lots.c.line == line.name,
                    lots.c.supplier_lot == supplier_lot,
                )
                .order_by(lots.c.lot)
            ).all()
            if not rows:
                raise UnknownLot(
                    "query.supplierLot",
                    f"no lot received under supplier lot {supplier_lot!r} on line {line}",
                )
            infos = {r[0]: _info(r) for r in rows}
            query = _edges_query(line, list(infos), "forward", max_depth)
            edge_rows = [tuple(r) for r in conn.execute(query)]
        return _assemble(edge_rows, list(infos), "forward", max_depth, infos)


def _edges_query(
    line: LineRef, starts: list[str], direction: Direction, max_depth: int | None
) -> Select[Any]:
    """The walk's edges, each with the row of the lot it reaches (outer join: a lot missing
    from the lots table still shows as an edge). With a depth bound the walk goes one level
    further than asked: an edge found only there means the bound cut the genealogy off."""
    walk = walk_query(line, direction, starts, None if max_depth is None else max_depth + 1)
    reached = walk.subquery()
    c = consumptions.c
    shortest = (
        select(reached.c.edge, func.min(reached.c.depth).label("depth"))
        .group_by(reached.c.edge)
        .subquery()
    )
    far = c.input_lot if direction == "backward" else c.output_lot
    return (
        select(
            c.consumption,
            c.input_lot,
            c.output_lot,
            c.maintenance,
            c.quantity_micros,
            c.unit,
            c.consumed_at,
            shortest.c.depth,
            *LOT_COLUMNS,
        )
        .select_from(consumptions)
        .join(shortest, shortest.c.edge == c.id)
        .outerjoin(
            lots,
            (lots.c.namespace == line.namespace) & (lots.c.line == line.name) & (lots.c.lot == far),
        )
    )


def _assemble(
    rows: Sequence[Sequence[Any]],
    starts: list[str],
    direction: Direction,
    max_depth: int | None,
    infos: dict[str, LotInfo],
) -> Trace:
    """A trace from the rows of :func:`_edges_query`."""
    edges: list[TraceEdge] = []
    found: dict[str, LotInfo] = {}
    truncated = False
    for row in rows:
        edge = _edge(row[:8])
        if max_depth is not None and edge.depth > max_depth:
            truncated = True
            continue
        edges.append(edge)
        if row[8] is not None:
            found[row[8]] = _info(row[8:])
    if max_depth is None:
        edges = _with_depths(edges, starts, direction)
    edges.sort(key=lambda e: (e.depth, e.consumed_at, e.consumption, e.input_lot))
    trace = Trace(direction, starts, max_depth, edges, {**found, **infos}, truncated=truncated)
    trace.cycles = find_cycles(edges, starts, direction)
    return trace


def _info(row: Row[Any] | Sequence[Any]) -> LotInfo:
    return LotInfo(*tuple(row))


def _edge(row: Row[Any] | Sequence[Any]) -> TraceEdge:
    name, source, target, maintenance, quantity, unit, consumed_at, depth = tuple(row)
    return TraceEdge(
        name, source, target, maintenance, int(quantity), unit, consumed_at, int(depth)
    )


def _check(direction: str, max_depth: int | None) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: {direction!r} is not backward or forward")
    if max_depth is not None and max_depth < 1:
        raise ValueError(f"depth: {max_depth} is not a positive integer")


def _adjacency(edges: Sequence[TraceEdge], direction: Direction) -> dict[str, list[TraceEdge]]:
    out: dict[str, list[TraceEdge]] = {}
    for edge in edges:
        out.setdefault(edge.near(direction), []).append(edge)
    return out


def _with_depths(
    edges: list[TraceEdge], starts: Sequence[str], direction: Direction
) -> list[TraceEdge]:
    """Shortest depth of every edge by breadth-first search from the starts."""
    adjacency = _adjacency(edges, direction)
    distance = dict.fromkeys(starts, 0)
    queue = deque(starts)
    depth_of: dict[int, int] = {}
    while queue:
        node = queue.popleft()
        for edge in adjacency.get(node, ()):
            depth_of.setdefault(id(edge), distance[node] + 1)
            far = edge.far(direction)
            if far is not None and far not in distance:
                distance[far] = distance[node] + 1
                queue.append(far)
    return [
        TraceEdge(
            e.consumption,
            e.input_lot,
            e.output_lot,
            e.maintenance,
            e.quantity_micros,
            e.unit,
            e.consumed_at,
            depth_of[id(e)],
        )
        for e in edges
    ]


def find_cycles(
    edges: Sequence[TraceEdge], starts: Sequence[str], direction: Direction
) -> list[list[str]]:
    """A cycle per back edge of an iterative depth-first search over the traced edges, as
    ``[a, b, ..., a]`` in the direction of the trace. Every lot on some cycle is on one of
    them, but not every cycle is listed: with A->B, A->C, B->A and C->B, A->C->B->A is not
    (it shares its back edge with A->B->A). Enough to name the lots to repair."""
    adjacency: dict[str, list[str]] = {}
    for edge in edges:
        far = edge.far(direction)
        if far is not None:
            adjacency.setdefault(edge.near(direction), []).append(far)
    for targets in adjacency.values():
        targets.sort()
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    found: dict[tuple[str, ...], list[str]] = {}
    for start in [*starts, *sorted(adjacency)]:
        if start in state:
            continue
        path = [start]
        state[start] = 1
        stack = [iter(adjacency.get(start, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            seen = state.get(nxt)
            if seen == 1:
                cycle = path[path.index(nxt) :]
                # One key per cycle whatever lot the search entered it by.
                pivot = cycle.index(min(cycle))
                key = tuple(cycle[pivot:] + cycle[:pivot])
                found.setdefault(key, [*key, key[0]])
            elif seen is None:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(adjacency.get(nxt, ())))
    return [found[k] for k in sorted(found)]
