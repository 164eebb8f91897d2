"""Release quarantined MES records after a spec fix: re-validate each against the line's
spec as it is now; the ones that pass are stored and marked released in one transaction,
the others stay quarantined. Marked items are never re-ingested, so a release can be run
again (or crash half-way) without storing a record twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.lines import LineRef
from lineops.dataplane.records import KINDS, parse_records


@dataclass
class ReleaseResult:
    line: LineRef
    examined: int = 0
    released: int = 0
    still_quarantined: Counter[str] = field(default_factory=Counter)  # by reason, as now

    def as_dict(self) -> dict[str, object]:
        return {
            "line": str(self.line),
            "examined": self.examined,
            "released": self.released,
            "still_quarantined": sum(self.still_quarantined.values()),
            "reasons": dict(self.still_quarantined),
        }


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
