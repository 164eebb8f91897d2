"""Lots, genealogy and materials per line: material and production lots, consumptions (the
genealogy edges), work orders, quality results, maintenance records, materials with low-stock
thresholds, and recalls. Quantities are integers in millionths of the record's unit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out rather than imported from tables.py: a migration is history.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = 253
_TIME = 64


def _record(id_column: str) -> list[sa.Column[object]]:
    return [
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("line", sa.String(_NAME), nullable=False),
        sa.Column(id_column, sa.String(_NAME), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(_TIME), nullable=False),
    ]


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=f"uq_{table}_{'_'.join(columns)}")


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "lots",
        *_record("lot"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("material", sa.String(_NAME), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("quantity_micros", sa.BigInteger, nullable=False),
        sa.Column("remaining_micros", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("supplier", sa.String(_NAME)),
        sa.Column("supplier_lot", sa.String(_NAME)),
        sa.Column("received_at", sa.String(_TIME)),
        sa.Column("expected_at", sa.String(_TIME)),
        sa.Column("work_order", sa.String(_NAME)),
        sa.Column("work_unit", sa.String(_NAME)),
        sa.Column("started_at", sa.String(_TIME)),
        sa.Column("ended_at", sa.String(_TIME)),
        sa.Column("total", sa.BigInteger),
        sa.Column("good", sa.BigInteger),
        sa.Column("scrap", sa.BigInteger),
        sa.Column("recipe", sa.Text),
        _unique("lots", "namespace", "line", "lot"),
        sa.CheckConstraint("remaining_micros >= 0", name="ck_lots_stock_not_negative"),
    )
    _index("lots", "namespace", "line", "supplier_lot")
    _index("lots", "namespace", "line", "work_unit", "started_at")
    _index("lots", "namespace", "line", "material", "kind")

    op.create_table(
        "consumptions",
        *_record("consumption"),
        sa.Column("input_lot", sa.String(_NAME), nullable=False),
        sa.Column("output_lot", sa.String(_NAME)),
        sa.Column("maintenance", sa.String(_NAME)),
        sa.Column("quantity_micros", sa.BigInteger, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("consumed_at", sa.String(_TIME), nullable=False),
        _unique("consumptions", "namespace", "line", "consumption", "input_lot"),
        sa.CheckConstraint("quantity_micros > 0", name="ck_consumptions_quantity_positive"),
        sa.CheckConstraint(
            "(output_lot IS NULL) <> (maintenance IS NULL)", name="ck_consumptions_one_target"
        ),
    )
    _index("consumptions", "namespace", "line", "output_lot")
    _index("consumptions", "namespace", "line", "input_lot")

    op.create_table(
        "work_orders",
        *_record("work_order"),
        sa.Column("product", sa.String(_NAME), nullable=False),
        sa.Column("quantity_micros", sa.BigInteger, nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("due", sa.String(_TIME)),
        sa.Column("status", sa.String(16), nullable=False),
        _unique("work_orders", "namespace", "line", "work_order"),
    )

    op.create_table(
        "quality_results",
        *_record("result"),
        sa.Column("lot", sa.String(_NAME), nullable=False),
        sa.Column("inspection", sa.String(_NAME), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("measurements", sa.Text, nullable=False),
        sa.Column("inspected_at", sa.String(_TIME), nullable=False),
        _unique("quality_results", "namespace", "line", "result"),
    )
    _index("quality_results", "namespace", "line", "lot")

    op.create_table(
        "maintenance",
        *_record("maintenance"),
        sa.Column("work_unit", sa.String(_NAME), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("start", sa.String(_TIME), nullable=False),
        sa.Column("end", sa.String(_TIME)),
        _unique("maintenance", "namespace", "line", "maintenance"),
    )
    _index("maintenance", "namespace", "line", "work_unit", "start")

    op.create_table(
        "materials",
        *_record("material"),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("low_stock_micros", sa.BigInteger),
        _unique("materials", "namespace", "line", "material"),
    )

    op.create_table(
        "recalls",
        *_record("recall"),
        sa.Column("supplier_lot", sa.String(_NAME), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        _unique("recalls", "namespace", "line", "recall"),
    )


def downgrade() -> None:
    for table in (
        "recalls",
        "materials",
        "maintenance",
        "quality_results",
        "work_orders",
        "consumptions",
        "lots",
    ):
        op.drop_table(table)
