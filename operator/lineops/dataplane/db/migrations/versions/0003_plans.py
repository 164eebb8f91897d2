"""Production plans per line: each plan posted (``lineops plan --json``'s document) with its
summary columns, newest last.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out rather than imported from tables.py: a migration is history.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = 253


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("line", sa.String(_NAME), nullable=False),
        sa.Column("created_at", sa.String(64), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("status", sa.String(128), nullable=False),
        sa.Column("start", sa.String(64), nullable=False),
        sa.Column("end", sa.String(64), nullable=False),
        sa.Column("weighted_tardiness", sa.BigInteger, nullable=False),
        sa.Column("late_orders", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_plans_namespace_line_id", "plans", ["namespace", "line", "id"])


def downgrade() -> None:
    op.drop_table("plans")
