"""The data plane's tables. Alembic migrations (``migrations/versions``) create them; this
module is the code's view of the newest revision, and a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# Stable constraint names: migrations can address them on PostgreSQL and SQLite alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _line_columns() -> list[Column[object]]:
    """Every table of the data plane is per line: an id in arrival order, namespace, line."""
    return [
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("namespace", String(253), nullable=False),
        Column("line", String(253), nullable=False),
    ]


measurements = Table(
    "measurements",
    metadata,
    *_line_columns(),
    Column("characteristic", String(253), nullable=False),
    Column("timestamp", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("sample_size", Integer),
    Column("lot", String(253)),
    Index(None, "namespace", "line", "characteristic", "id"),
)

machine_events = Table(
    "machine_events",
    metadata,
    *_line_columns(),
    Column("work_unit", String(253), nullable=False),
    Column("timestamp", String(64), nullable=False),
    Column("state", String(64), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Index(None, "namespace", "line", "timestamp"),
)

production_counts = Table(
    "production_counts",
    metadata,
    *_line_columns(),
    Column("work_unit", String(253), nullable=False),
    Column("timestamp", String(64), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("good", BigInteger, nullable=False),
    Index(None, "namespace", "line", "timestamp"),
)

# Readings and MES records that could not be used, with the reason and what was received
# (``record``: the original item as JSON, so a fixed spec can release it for re-ingestion).
quarantine = Table(
    "quarantine",
    metadata,
    *_line_columns(),
    Column("kind", String(32), nullable=False),  # readings | measurements | events | counts
    Column("work_unit", Text),
    Column("sensor", Text),  # the sensor, or the characteristic of a measurement
    Column("timestamp", Text),
    Column("value", Text),
    Column("lot", Text),
    Column("reason", String(64), nullable=False),
    Column("detail", Text),
    Column("source", String(32), nullable=False),
    Column("batch_id", String(64)),
    Column("received_at", String(64), nullable=False),
    Column("record", Text),
    Column("released_at", String(64)),  # set once the item was re-ingested by a release
    Index(None, "namespace", "line", "reason"),
)

# What served models answered (the prediction log): model tag, work unit, lot, the features
# used and the result as JSON text, so a lot can be traced to the model that judged it.
predictions = Table(
    "predictions",
    metadata,
    *_line_columns(),
    Column("model_tag", String(253), nullable=False),
    Column("work_unit", String(253)),
    Column("lot", String(253)),
    Column("timestamp", String(64), nullable=False),
    Column("feature_timestamp", String(64)),
    Column("features", Text, nullable=False),
    Column("result", Text, nullable=False),
    Index(None, "namespace", "line", "model_tag", "id"),
    Index(None, "namespace", "line", "lot", "id"),
)

# Production plans (lineops.planning): the plan as posted (JSON text: schedule, tardiness,
# utilisation, blocked windows) and the summary a reader lists them by; newest last.
plans = Table(
    "plans",
    metadata,
    *_line_columns(),
    Column("created_at", String(64), nullable=False),
    Column("method", String(32), nullable=False),  # cp-sat | edd | wspt
    Column("status", String(128), nullable=False),
    Column("start", String(64), nullable=False),
    Column("end", String(64), nullable=False),
    Column("weighted_tardiness", BigInteger, nullable=False),
    Column("late_orders", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index(None, "namespace", "line", "id"),
)
