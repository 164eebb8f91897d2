"""The prediction log: what served models answered, per line (model tag, work unit, lot,
features used, result).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Written out rather than imported from tables.py: a migration is history.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NAME = 253


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(_NAME), nullable=False),
        sa.Column("line", sa.String(_NAME), nullable=False),
        sa.Column("model_tag", sa.String(_NAME), nullable=False),
        sa.Column("work_unit", sa.String(_NAME)),
        sa.Column("lot", sa.String(_NAME)),
        sa.Column("timestamp", sa.String(64), nullable=False),
        sa.Column("feature_timestamp", sa.String(64)),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_predictions_namespace_line_model_tag_id",
        "predictions",
        ["namespace", "line", "model_tag", "id"],
    )
    op.create_index(
        "ix_predictions_namespace_line_lot_id", "predictions", ["namespace", "line", "lot", "id"]
    )


def downgrade() -> None:
    op.drop_table("predictions")
