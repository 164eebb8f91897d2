"""OEE per planned shift of a line (ISO 22400-2): one row per shift occurrence, upserted by
the line monitor, unique by (namespace, line, shift start).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out rather than imported from tables.py: a migration is history.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = 253
_TIME = 64


def upgrade() -> None:
    op.create_table(
        "shift_oee",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("line", sa.String(_NAME), nullable=False),
        sa.Column("shift", sa.String(63), nullable=False),
        sa.Column("shift_start", sa.String(_TIME), nullable=False),
        sa.Column("shift_end", sa.String(_TIME), nullable=False),
        sa.Column("planned_busy_seconds", sa.Float, nullable=False),
        sa.Column("run_seconds", sa.Float, nullable=False),
        sa.Column("maintenance_seconds", sa.Float, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("good", sa.BigInteger, nullable=False),
        sa.Column("availability", sa.Float),
        sa.Column("performance", sa.Float),
        sa.Column("quality", sa.Float),
        sa.Column("oee", sa.Float),
        sa.Column("computed_at", sa.String(_TIME), nullable=False),
        sa.UniqueConstraint(
            "namespace", "line", "shift_start", name="uq_shift_oee_namespace_line_shift_start"
        ),
    )


def downgrade() -> None:
    op.drop_table("shift_oee")
