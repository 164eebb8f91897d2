"""The data plane's tables. Alembic migrations (``migrations/versions``) create them; this
module is the code's view of the newest revision, and a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
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
    # Only predictions with a lot (migration 0006): a backfill's rows often have none.
    Index(
        None,
        "namespace",
        "line",
        "lot",
        "id",
        sqlite_where=text("lot IS NOT NULL"),
        postgresql_where=text("lot IS NOT NULL"),
    ),
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

# --- MES records of lots and materials (issue #22) -------------------------------------------
# Quantities are exact integers in millionths of the record's unit (``*_micros``): stock is
# received minus consumed, and a float sum would drift below zero after a few subtractions,
# which the database's own check (``remaining_micros >= 0``) would then refuse.
# Every record carries its client-supplied id (unique per line) and the hash of the payload it
# was first written with, so a repeated write is answered the same way and a different payload
# under the same id is refused (409).


def _record_columns(id_column: str) -> list[Column[object]]:
    return [
        *_line_columns(),
        Column(id_column, String(253), nullable=False),
        Column("payload_hash", String(64), nullable=False),
        Column("created_at", String(64), nullable=False),
    ]


# Material lots (received from a supplier) and production lots (made on a work unit) in one
# table: genealogy links any lot to any lot, so a trace is one recursive walk over one table.
lots = Table(
    "lots",
    metadata,
    *_record_columns("lot"),
    Column("kind", String(16), nullable=False),  # material | production
    Column("material", String(253), nullable=False),  # material, or product of a production lot
    Column("unit", String(32), nullable=False),
    Column("quantity_micros", BigInteger, nullable=False),  # received, or good output
    Column("remaining_micros", BigInteger, nullable=False),  # available to consume
    Column("status", String(16), nullable=False),  # open | closed
    Column("supplier", String(253)),
    Column("supplier_lot", String(253)),
    Column("received_at", String(64)),
    Column("expected_at", String(64)),  # the receipt's promised date, for the scorecard
    Column("work_order", String(253)),
    Column("work_unit", String(253)),
    Column("started_at", String(64)),
    Column("ended_at", String(64)),
    Column("total", BigInteger),
    Column("good", BigInteger),
    Column("scrap", BigInteger),
    Column("recipe", Text),  # JSON object: recipe name and parameters
    UniqueConstraint("namespace", "line", "lot"),
    CheckConstraint("remaining_micros >= 0", name="ck_lots_stock_not_negative"),
    Index(None, "namespace", "line", "supplier_lot"),
    Index(None, "namespace", "line", "work_unit", "started_at"),
    Index(None, "namespace", "line", "material", "kind"),
)

# Genealogy: an input lot and quantity consumed into an output lot (or, for spare parts, into
# a maintenance record). One consumption record (client id) may have several inputs.
consumptions = Table(
    "consumptions",
    metadata,
    *_record_columns("consumption"),
    Column("input_lot", String(253), nullable=False),
    Column("output_lot", String(253)),
    Column("maintenance", String(253)),
    Column("quantity_micros", BigInteger, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("consumed_at", String(64), nullable=False),
    UniqueConstraint("namespace", "line", "consumption", "input_lot"),
    CheckConstraint("quantity_micros > 0", name="ck_consumptions_quantity_positive"),
    CheckConstraint(
        "(output_lot IS NULL) <> (maintenance IS NULL)", name="ck_consumptions_one_target"
    ),
    Index(None, "namespace", "line", "output_lot"),
    Index(None, "namespace", "line", "input_lot"),
)

work_orders = Table(
    "work_orders",
    metadata,
    *_record_columns("work_order"),
    Column("product", String(253), nullable=False),
    Column("quantity_micros", BigInteger, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("due", String(64)),
    Column("status", String(16), nullable=False),  # released | closed
    UniqueConstraint("namespace", "line", "work_order"),
)

# Inspection outcome of a lot, with the measurements it was judged on (JSON object).
quality_results = Table(
    "quality_results",
    metadata,
    *_record_columns("result"),
    Column("lot", String(253), nullable=False),
    Column("inspection", String(253), nullable=False),
    Column("outcome", String(16), nullable=False),  # pass | fail
    Column("measurements", Text, nullable=False),
    Column("inspected_at", String(64), nullable=False),
    UniqueConstraint("namespace", "line", "result"),
    Index(None, "namespace", "line", "lot"),
)

# Equipment history: planned and unplanned maintenance per work unit, next to the
# machine-state events (spare parts used are consumptions into the record).
maintenance = Table(
    "maintenance",
    metadata,
    *_record_columns("maintenance"),
    Column("work_unit", String(253), nullable=False),
    Column("kind", String(16), nullable=False),  # planned | unplanned
    Column("reason", Text, nullable=False),
    Column("start", String(64), nullable=False),
    Column("end", String(64)),
    UniqueConstraint("namespace", "line", "maintenance"),
    Index(None, "namespace", "line", "work_unit", "start"),
)

# Per material: its unit and the low-stock threshold (exported as a metric and alert).
materials = Table(
    "materials",
    metadata,
    *_record_columns("material"),
    Column("unit", String(32), nullable=False),
    Column("low_stock_micros", BigInteger),
    UniqueConstraint("namespace", "line", "material"),
)

# Recalls of a supplier lot: the forward trace at the time, for the supplier scorecard.
recalls = Table(
    "recalls",
    metadata,
    *_record_columns("recall"),
    Column("supplier_lot", String(253), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("namespace", "line", "recall"),
)

# OEE per planned shift (lineops.mes.shifts), written by the line monitor once a shift has
# ended and re-written (upserted) when late records change it: one row per shift occurrence.
# Times are UTC ISO 8601 strings of one fixed format, so they compare as text.
shift_oee = Table(
    "shift_oee",
    metadata,
    *_line_columns(),
    Column("shift", String(63), nullable=False),  # the schedule's shift name
    Column("shift_start", String(64), nullable=False),
    Column("shift_end", String(64), nullable=False),
    Column("planned_busy_seconds", Float, nullable=False),
    Column("run_seconds", Float, nullable=False),
    Column("maintenance_seconds", Float, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("good", BigInteger, nullable=False),
    Column("availability", Float),  # None when its denominator is zero
    Column("performance", Float),
    Column("quality", Float),
    Column("oee", Float),
    Column("computed_at", String(64), nullable=False),
    UniqueConstraint("namespace", "line", "shift_start"),
)
