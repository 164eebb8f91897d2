"""MES records (measurements, machine events, production counts) and one quarantine for
readings and records, keyed by namespace and line.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out rather than imported from tables.py: a migration is history and must not
# change when the code's newest view of the tables does.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = 253


def _line_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("line", sa.String(_NAME), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "measurements",
        *_line_columns(),
        sa.Column("characteristic", sa.String(_NAME), nullable=False),
        sa.Column("timestamp", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("sample_size", sa.Integer),
        sa.Column("lot", sa.String(_NAME)),
    )
    op.create_index(
        "ix_measurements_namespace_line_characteristic_id",
        "measurements",
        ["namespace", "line", "characteristic", "id"],
    )
    op.create_table(
        "machine_events",
        *_line_columns(),
        sa.Column("work_unit", sa.String(_NAME), nullable=False),
        sa.Column("timestamp", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
    )
    op.create_index(
        "ix_machine_events_namespace_line_timestamp",
        "machine_events",
        ["namespace", "line", "timestamp"],
    )
    op.create_table(
        "production_counts",
        *_line_columns(),
        sa.Column("work_unit", sa.String(_NAME), nullable=False),
        sa.Column("timestamp", sa.String(64), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("good", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_production_counts_namespace_line_timestamp",
        "production_counts",
        ["namespace", "line", "timestamp"],
    )
    op.create_table(
        "quarantine",
        *_line_columns(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("work_unit", sa.Text),
        sa.Column("sensor", sa.Text),
        sa.Column("timestamp", sa.Text),
        sa.Column("value", sa.Text),
        sa.Column("lot", sa.Text),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("batch_id", sa.String(64)),
        sa.Column("received_at", sa.String(64), nullable=False),
        sa.Column("record", sa.Text),
        sa.Column("released_at", sa.String(64)),
    )
    op.create_index(
        "ix_quarantine_namespace_line_reason", "quarantine", ["namespace", "line", "reason"]
    )


def downgrade() -> None:
    for table in ("quarantine", "production_counts", "machine_events", "measurements"):
        op.drop_table(table)
