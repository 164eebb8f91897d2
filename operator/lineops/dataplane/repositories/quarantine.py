"""Quarantine: readings and MES records that were received but could not be used.

Nothing sent to a line is dropped silently. An item lands here with what was received (the
fields as text, so historian junk such as ``"Bad"`` survives, and the whole record as JSON),
the reason code from :mod:`lineops.dataplane.reasons` and the time it was received. After a
spec fix, ``lineops quarantine release`` re-ingests items; a released item is marked, so a
second release does not store it twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from lineops.dataplane.db.tables import quarantine
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories import IN_LIST_SIZE


@dataclass(frozen=True, slots=True)
class QuarantinedItem:
    id: int
    line: LineRef
    kind: str
    reason: str
    detail: str | None
    source: str
    received_at: str
    record: Mapping[str, Any] | None
    released_at: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """One item to quarantine: why, and what was received."""

    reason: str
    detail: str
    record: Mapping[str, Any]


def safe_text(value: Any) -> str | None:
    """What was received, as text any database stores: cut to 500 characters, NUL and lone
    surrogates (PostgreSQL refuses the one, UTF-8 the other) escaped."""
    if value is None:
        return None
    text = str(value)[:500]
    if text.isascii():
        return text.replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


_NON_FINITE: Final = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _finite(value: Any) -> Any:
    """``value`` with NaN and the infinities as the text they were sent as."""
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[str(value)]
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _record_json(record: Mapping[str, Any]) -> str:
    """The record as JSON, losslessly: ``json`` escapes NUL; a lone surrogate cannot be
    UTF-8, so such a record is stored with every non-ASCII character escaped. NaN and the
    infinities (a record is quarantined for holding one) are kept as their text: written
    as numbers they made `lineops quarantine list` print invalid JSON."""
    try:
        text = json.dumps(record, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        record = _finite(record)
        text = json.dumps(record, default=str, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record, default=str)
    return text


class QuarantineRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        line: LineRef,
        kind: str,
        items: Sequence[Rejected],
        *,
        source: str,
        batch_id: str | None = None,
        received_at: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """All items in one transaction (or in the caller's), durable on return."""
        if not items:
            return
        now = received_at or datetime.now(UTC).isoformat()
        rows = [
            {
                "namespace": line.namespace,
                "line": line.name,
                "kind": kind,
                "work_unit": safe_text(item.record.get("workUnit", item.record.get("work_unit"))),
                "sensor": safe_text(item.record.get("sensor", item.record.get("characteristic"))),
                "timestamp": safe_text(item.record.get("timestamp")),
                "value": safe_text(item.record.get("value", item.record.get("state"))),
                "lot": safe_text(item.record.get("lot")),
                "reason": item.reason,
                "detail": item.detail,
                "source": source,
                "batch_id": batch_id,
                "received_at": now,
                "record": _record_json(item.record),
            }
            for item in items
        ]
        if conn is not None:
            conn.execute(insert(quarantine), rows)
            return
        with self.engine.begin() as own:
            own.execute(insert(quarantine), rows)

    def counts_by_reason(
        self,
        line: LineRef | None = None,
        *,
        kind: str | None = None,
        include_released: bool = False,
    ) -> dict[str, int]:
        t = quarantine.c
        query = select(t.reason, func.count()).group_by(t.reason)
        for condition in where_clauses(line, kind, None, include_released):
            query = query.where(condition)
        with self.engine.connect() as conn:
            return {str(reason): int(n) for reason, n in conn.execute(query)}

    def total(self, line: LineRef | None = None) -> int:
        return sum(self.counts_by_reason(line).values())

    def list(
        self,
        line: LineRef | None = None,
        *,
        kind: str | None = None,
        reason: str | None = None,
        include_released: bool = False,
        limit: int = 100,
    ) -> list[QuarantinedItem]:
        """Quarantined items, oldest first (the order a release re-ingests them in)."""
        t = quarantine.c
        query = select(
            t.id,
            t.namespace,
            t.line,
            t.kind,
            t.reason,
            t.detail,
            t.source,
            t.received_at,
            t.record,
            t.released_at,
        ).order_by(t.id)
        for condition in where_clauses(line, kind, reason, include_released):
            query = query.where(condition)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [
            QuarantinedItem(
                int(r.id),
                LineRef(r.namespace, r.line),
                r.kind,
                r.reason,
                r.detail,
                r.source,
                r.received_at,
                None if r.record is None else json.loads(r.record),
                r.released_at,
            )
            for r in rows
        ]

    def mark_released(self, ids: Sequence[int], conn: Connection) -> int:
        """Mark items released in the caller's transaction; already released ones stay."""
        if not ids:
            return 0
        t = quarantine.c
        now = datetime.now(UTC).isoformat()
        marked = 0
        # In pieces: one IN list of 100,000 ids (a release's default limit) is more bound
        # parameters than PostgreSQL takes (65,535), and the release failed on every retry
        # after re-ingesting its items.
        for start in range(0, len(ids), IN_LIST_SIZE):
            piece = list(ids[start : start + IN_LIST_SIZE])
            result = conn.execute(
                update(quarantine)
                .where(t.id.in_(piece), t.released_at.is_(None))
                .values(released_at=now)
            )
            marked += int(result.rowcount)
        return marked


def where_clauses(
    line: LineRef | None, kind: str | None, reason: str | None, include_released: bool
) -> list[Any]:
    t = quarantine.c
    found: list[Any] = []
    if line is not None:
        found.append(and_(t.namespace == line.namespace, t.line == line.name))
    if kind is not None:
        found.append(t.kind == kind)
    if reason is not None:
        found.append(t.reason == reason)
    if not include_released:
        found.append(t.released_at.is_(None))
    return found
