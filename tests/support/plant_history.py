"""A generated plant history for genealogy tests and the genealogy benchmark.

Material lots are received from suppliers (some supplier lots arrive in two receipts);
production lots are made on work units from lots one level down (mostly the most recent
ones: a lot is split over several consumers) and now and then from two levels down (shared
inputs skip a level); every production lot merges one to four inputs. Rows are tuples in
the column order of ``LOT_COLUMNS`` / ``EDGE_COLUMNS``, so a test bulk-inserts them with
SQLAlchemy Core and the benchmark streams them with COPY. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

LEVELS: Final = 8  # 0: material lots, 1..7: production lots (components .. finished goods)
# Share of each level among the lots, in order: a quarter materials, then each production
# level, the upper ones (assemblies, finished goods) made in fewer, merged lots.
PATTERN: Final = (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7)
WINDOW: Final = 12  # recent lots of a level that the next level draws from
START: Final = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
STEP: Final = timedelta(seconds=30)
SUPPLIERS: Final = ("acme-steel", "borealis-polymers", "cobalt-fasteners", "delta-coatings")
WORK_UNITS: Final = ("press-01", "press-02", "weld-01", "paint-01", "assembly-01")

LOT_COLUMNS: Final = (
    "namespace",
    "line",
    "lot",
    "payload_hash",
    "created_at",
    "kind",
    "material",
    "unit",
    "quantity_micros",
    "remaining_micros",
    "status",
    "supplier",
    "supplier_lot",
    "received_at",
    "expected_at",
    "work_order",
    "work_unit",
    "started_at",
    "ended_at",
)
EDGE_COLUMNS: Final = (
    "namespace",
    "line",
    "consumption",
    "payload_hash",
    "created_at",
    "input_lot",
    "output_lot",
    "maintenance",
    "quantity_micros",
    "unit",
    "consumed_at",
)
HASH: Final = "0" * 64


@dataclass
class History:
    lots: list[tuple[object, ...]] = field(default_factory=list)
    edges: list[tuple[object, ...]] = field(default_factory=list)

    def edge_list(self) -> list[tuple[str, str, str | None, str | None, int]]:
        """(consumption, input, output lot, maintenance, quantity) of every edge."""
        return [(str(e[2]), str(e[5]), e[6], e[7], int(e[8])) for e in self.edges]  # type: ignore[misc, call-overload]


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def generate(
    n_lots: int, *, namespace: str = "plant", line: str = "line-1", seed: int = 7
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """("lot" | "edge", row) in the order they happened (an edge after both its lots)."""
    rng = random.Random(seed)
    recent: list[list[str]] = [[] for _ in range(LEVELS)]
    supplier_lot = ""
    for i in range(n_lots):
        level = PATTERN[i % len(PATTERN)]
        if level > 0 and not recent[level - 1]:
            level = 0
        at = START + i * STEP
        name = f"L{level}-{i:08d}"
        stamp = _stamp(at)
        if level == 0:
            supplier = SUPPLIERS[i % len(SUPPLIERS)]
            # One supplier lot in two receipts now and then (a split delivery).
            if not supplier_lot or rng.random() > 0.15:
                supplier_lot = f"{supplier}-{i:08d}"
            expected = at + timedelta(hours=rng.choice((-6, 0, 0, 2, 30)))
            quantity = rng.randrange(500, 5_000) * 1_000_000
            yield (
                "lot",
                (
                    namespace,
                    line,
                    name,
                    HASH,
                    stamp,
                    "material",
                    f"material-{i % 7}",
                    "kg",
                    quantity,
                    quantity,
                    "open",
                    supplier,
                    supplier_lot,
                    stamp,
                    _stamp(expected),
                    None,
                    None,
                    None,
                    None,
                ),
            )
        else:
            unit = WORK_UNITS[i % len(WORK_UNITS)]
            quantity = rng.randrange(10, 500) * 1_000_000
            yield (
                "lot",
                (
                    namespace,
                    line,
                    name,
                    HASH,
                    stamp,
                    "production",
                    f"product-{level}",
                    "kg",
                    quantity,
                    quantity,
                    "closed",
                    None,
                    None,
                    None,
                    None,
                    f"wo-{i // 40:06d}",
                    unit,
                    _stamp(at - 4 * STEP),
                    stamp,
                ),
            )
            inputs: set[str] = set()
            for _ in range(rng.randint(1, 4)):
                inputs.add(rng.choice(recent[level - 1]))
            if level >= 2 and recent[level - 2] and rng.random() < 0.2:
                inputs.add(rng.choice(recent[level - 2]))  # a shared input skips a level
            for k, source in enumerate(sorted(inputs)):
                yield (
                    "edge",
                    (
                        namespace,
                        line,
                        f"c-{i:08d}",
                        HASH,
                        stamp,
                        source,
                        name,
                        None,
                        rng.randrange(1, 50) * 1_000_000 + k,
                        "kg",
                        stamp,
                    ),
                )
        recent[level].append(name)
        if len(recent[level]) > WINDOW:
            recent[level].pop(0)


def history(n_lots: int, **kwargs: object) -> History:
    out = History()
    for kind, row in generate(n_lots, **kwargs):  # type: ignore[arg-type]
        (out.lots if kind == "lot" else out.edges).append(row)
    return out
