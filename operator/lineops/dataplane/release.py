"""Release quarantined items after a spec fix.

MES records: re-validated against the line's spec as it is now; the ones that pass are
stored and marked released in one transaction, the others stay quarantined. Marked items
are never re-ingested, so a release can be run again (or crash half-way) without storing a
record twice.

Readings: re-ingested through the line's ingestion path (as a backfill: the lateness check
does not apply to history), which needs its per-line state, so only a running data plane
releases them. Every re-ingested item is marked released; one that fails again is
quarantined anew with the reason that holds now. A crash between the two steps at worst
re-ingests readings that are already stored, which the duplicate check quarantines as
``duplicate``: nothing is stored twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.payload import readings_batch
from lineops.dataplane.ingestion.service import IngestionService
from lineops.dataplane.lines import LineRef
from lineops.dataplane.records import KINDS, parse_records
from lineops.dataplane.repositories.quarantine import QuarantinedItem


@dataclass
class ReleaseResult:
    line: LineRef
    examined: int = 0
    released: int = 0
    still_quarantined: Counter[str] = field(default_factory=Counter)  # by reason, as now

    def add(self, other: ReleaseResult) -> None:
        self.examined += other.examined
        self.released += other.released
        self.still_quarantined.update(other.still_quarantined)

    def as_dict(self) -> dict[str, object]:
        return {
            "line": str(self.line),
            "examined": self.examined,
            "released": self.released,
            "still_quarantined": sum(self.still_quarantined.values()),
            "reasons": dict(self.still_quarantined),
        }


def release_readings(
    db: Database,
    ingestion: IngestionService,
    line: LineRef,
    *,
    reason: str | None = None,
    limit: int = 100_000,
) -> ReleaseResult:
    result = ReleaseResult(line)
    items = db.quarantine.list(line, kind="readings", reason=reason, limit=limit)
    result.examined = len(items)
    keys = ("work_unit", "sensor", "timestamp")
    usable = _decodable(
        [i for i in items if i.record and all(i.record.get(k) is not None for k in keys)]
    )
    chosen = {i.id for i in usable}
    # A message that could not even be decoded (malformed_payload) has nothing to re-ingest.
    result.still_quarantined.update(i.reason for i in items if i.id not in chosen)
    if not usable:
        return result
    readings = [dict(i.record) for i in usable if i.record is not None]
    batch = ingestion.ingest_readings(line.name, readings, source="release", backfill=True)
    with db.engine.begin() as conn:
        db.quarantine.mark_released([i.id for i in usable], conn)
    result.released = batch.accepted
    result.still_quarantined.update(dict(batch.reasons))
    return result


def _decodable(items: list[QuarantinedItem]) -> list[QuarantinedItem]:
    """The items whose record passes the shape checks a readings payload gets first.

    One that does not (kept from before a check existed, e.g. a 1,000-character work unit
    from a CSV upload) would fail the whole re-ingested batch, and every release after it:
    it stays quarantined with its reason instead. Checked one by one only when the batch
    as a whole fails, which is rare.
    """
    try:
        readings_batch([dict(i.record or {}) for i in items], "readings")
        return items
    except PayloadError:
        pass
    kept = []
    for item in items:
        try:
            readings_batch([dict(item.record or {})], "readings")
        except PayloadError:
            continue
        kept.append(item)
    return kept


def release_records(
    db: Database,
    line: LineRef,
    spec: ProductionLineSpec,
    *,
    kind: str | None = None,
    reason: str | None = None,
    limit: int = 100_000,
) -> ReleaseResult:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    result = ReleaseResult(line)
    for each in (kind,) if kind is not None else KINDS:
        items = [
            item
            for item in db.quarantine.list(line, kind=each, reason=reason, limit=limit)
            if item.record is not None
        ]
        if not items:
            continue
        parsed = parse_records(each, spec, {"records": [item.record for item in items]})
        rejected = {r.index for r in parsed.rejected}
        passed = [item.id for i, item in enumerate(items) if i not in rejected]
        with db.engine.begin() as conn:
            db.mes.add(each, line, parsed.accepted, conn)
            marked = db.quarantine.mark_released(passed, conn)
            if marked != len(passed):
                # Another release got there first: roll back rather than store twice.
                raise RuntimeError(
                    f"{line} {each}: {len(passed) - marked} item(s) released concurrently; "
                    "run the release again"
                )
        result.examined += len(items)
        result.released += len(passed)
        result.still_quarantined.update(str(r.reason) for r in parsed.rejected)
    return result
