"""The prediction log's lot index holds only predictions with a lot: a backfill's rows often
have none, and an index entry per such row cost about a fifth of the insert time of a
10,000-row batch (benchmarks/serving.py, ``predict_batch``). Lookups by lot (``lot = ...``)
use the partial index on both databases, since an equality implies ``lot IS NOT NULL``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEX = "ix_predictions_namespace_line_lot_id"
_COLUMNS = ["namespace", "line", "lot", "id"]


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="predictions")
    where = sa.text("lot IS NOT NULL")
    op.create_index(_INDEX, "predictions", _COLUMNS, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="predictions")
    op.create_index(_INDEX, "predictions", _COLUMNS)
