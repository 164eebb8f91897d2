"""The text `lineops lots trace` prints for a maintenance record, with and without a reason
(the data plane accepts maintenance records that give none)."""

from __future__ import annotations

from lineops.cli.genealogy_cmd import _reason_and, render_tree


def test_a_maintenance_record_without_a_reason_shows_only_its_start() -> None:
    start = "2026-11-02T06:00:00+00:00"
    assert _reason_and({"reason": "bearing", "start": start}) == f"bearing, {start}"
    assert _reason_and({"reason": None, "start": start}) == start
    assert _reason_and({"reason": "", "start": start}) == start


def _edge(output: str, source: str) -> dict[str, object]:
    return {
        "outputLot": output,
        "inputLot": source,
        "maintenance": None,
        "quantity": 1,
        "unit": "pcs",
    }


def test_a_trace_deeper_than_pythons_recursion_limit_prints_every_level() -> None:
    # P1499 <- P1498 <- ... <- P0, traced backward: 1,500 levels.
    trace = {
        "direction": "backward",
        "starts": ["P1499"],
        "edges": [_edge(f"P{i}", f"P{i - 1}") for i in range(1499, 0, -1)],
        "lots": {},
    }

    lines = render_tree(trace)

    assert len(lines) == 1500
    assert lines[1].startswith("└─ 1 pcs  P1498") and lines[-1].lstrip().startswith("└─ 1 pcs  P0")


def test_siblings_print_in_order_and_a_cycle_is_marked() -> None:
    trace = {
        "direction": "backward",
        "starts": ["A"],
        "edges": [_edge("A", "B"), _edge("A", "C"), _edge("B", "D"), _edge("D", "A")],
        "lots": {},
    }

    assert render_tree(trace) == [
        "A  (not in the lots table)",
        "├─ 1 pcs  B  (not in the lots table)",
        "│  └─ 1 pcs  D  (not in the lots table)",
        "│     └─ 1 pcs  A  (CYCLE: already on this path)",
        "└─ 1 pcs  C  (not in the lots table)",
    ]
