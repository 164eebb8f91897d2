"""The prediction log per line: what a served model answered, from which features, for which
work unit and lot, so a lot can be traced to the model (tag) that judged it.

Rows are only appended; reads are in arrival order (``id``) and page with ``after``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from sqlalchemy import Connection, Engine, Select, and_, delete, func, insert, select

from lineops.dataplane.db.tables import predictions
from lineops.dataplane.lines import LineRef

COLUMNS: Final = (
    "namespace",
    "line",
    "model_tag",
    "work_unit",
    "lot",
    "timestamp",
    "feature_timestamp",
    "features",
    "result",
)
_INSERT: Final = insert(predictions).values(dict.fromkeys(COLUMNS))


class Prediction(NamedTuple):
    """One logged answer. A tuple (not a dataclass): a backfill makes 10,000s per call, and
    the driver takes its values as they are, after the line's two."""

    model_tag: str
    work_unit: str | None
    lot: str | None
    timestamp: str  # when the model answered (UTC, ISO 8601)
    feature_timestamp: str | None  # event time of the features it used
    features: str  # JSON object: feature name -> value
    result: str  # JSON object: label, probabilities, score, alarm... (by task)


def _read() -> Select[Any]:
    """The columns a Prediction is read from, its id first."""
    t = predictions.c
    return select(
        t.id,
        t.model_tag,
        t.work_unit,
        t.lot,
        t.timestamp,
        t.feature_timestamp,
        t.features,
        t.result,
    )


class PredictionRepository:
    """Append and read a line's predictions; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, line: LineRef, rows: Sequence[Prediction], conn: Connection) -> None:
        """Append in the caller's transaction (with the batch's quarantined records)."""
        if not rows:
            return
        # One statement the driver executes for every row (executemany), its parameters
        # plain tuples (the line's two values, then the prediction's, joined in C):
        # SQLAlchemy's per-row parameter handling cost more than the database itself on a
        # backfill's 10,000s of rows (benchmarks/serving.py).
        compiled = _INSERT.compile(dialect=conn.dialect)
        values = list(map((line.namespace, line.name).__add__, rows))
        if compiled.positional and tuple(compiled.positiontup or ()) == COLUMNS:
            conn.exec_driver_sql(str(compiled), values)
        else:  # named parameters (psycopg): the same values by column name
            conn.exec_driver_sql(
                str(compiled), [dict(zip(COLUMNS, v, strict=True)) for v in values]
            )

    def list(
        self,
        line: LineRef,
        *,
        model_tag: str | None = None,
        lot: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[tuple[int, Prediction]]:
        """Predictions in arrival order after ``after_id``, of one model tag and/or lot."""
        t = predictions.c
        query = _read().where(t.namespace == line.namespace, t.line == line.name, t.id > after_id)
        if model_tag is not None:
            query = query.where(t.model_tag == model_tag)
        if lot is not None:
            query = query.where(t.lot == lot)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.id).limit(limit)).all()
        return [(int(r[0]), Prediction(*r[1:])) for r in rows]

    def newest(self, line: LineRef, count: int) -> Sequence[tuple[int, Prediction]]:
        """The ``count`` last arrived predictions of ``line``, newest first, in one query of
        ``count`` rows: the line page polls it, and reading the whole log took seconds at
        200,000 predictions. (No index on (namespace, line, id): SQLite sorts the line's ids,
        about 75 ms at 200,000; such an index would cost every logged prediction its entry.)"""
        t = predictions.c
        query = (
            _read()
            .where(t.namespace == line.namespace, t.line == line.name)
            .order_by(t.id.desc())
            .limit(count)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(int(r[0]), Prediction(*r[1:])) for r in rows]

    def newest_id(self, line: LineRef) -> int:
        """The id of the line's newest prediction (0: none)."""
        t = predictions.c
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.coalesce(func.max(t.id), 0)).where(
                    t.namespace == line.namespace, t.line == line.name
                )
            ).scalar_one()
        return int(found)

    def delete_line(self, line: LineRef) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(predictions).where(
                    and_(predictions.c.namespace == line.namespace, predictions.c.line == line.name)
                )
            )
