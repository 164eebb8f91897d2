"""MES records and readings for press-line-1 (examples/productionline.yaml), posted through
the data plane's API so the operator charts them: an in-control phase, then a +0.02 mm shift
that breaks the 3-sigma limits, a shift of machine states and a count."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.unit.mes.conftest import piston_ring_array

LINE = "press-line-1"


def post(base: str, kind: str, key: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{base}/{kind}",
        data=json.dumps({key: records}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
    return answer


def ring_records(rows: Any, start_hour: int) -> list[dict[str, Any]]:
    """One record per value, five a subgroup, a minute apart, lot per subgroup."""
    out = []
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            minute = i * 5 + j
            out.append(
                {
                    "characteristic": "ring_diameter",
                    "value": round(float(value), 4),
                    "timestamp": f"2026-11-20T{start_hour + minute // 60:02d}:"
                    f"{minute % 60:02d}:00Z",
                    "lot": f"L{start_hour}-{i}",
                }
            )
    return out


def in_control_phase(base: str) -> None:
    """Montgomery's 25 piston-ring subgroups: in control."""
    post(base, "measurements", "records", ring_records(piston_ring_array(), start_hour=6))


def shifted_phase(base: str, subgroups: int = 10, start_hour: int = 9) -> None:
    """Subgroups shifted by +0.02 mm: beyond the upper control limit (nelson-1)."""
    rows = piston_ring_array()[:subgroups] + 0.02
    post(base, "measurements", "records", ring_records(rows, start_hour=start_hour))


def machine_shift(base: str) -> None:
    """press-01 runs 06:00-14:00 with a 30 min die change; 20,000 parts, 19,600 good."""
    events = [
        {"workUnit": "press-01", "timestamp": "2026-11-20T06:00:00Z", "state": "running"},
        {
            "workUnit": "press-01",
            "timestamp": "2026-11-20T09:00:00Z",
            "state": "down",
            "reason": "die-change",
        },
        {"workUnit": "press-01", "timestamp": "2026-11-20T09:30:00Z", "state": "running"},
        {"workUnit": "press-01", "timestamp": "2026-11-20T14:00:00Z", "state": "planned-stop"},
    ]
    post(base, "events", "records", events)
    counts = [
        {"workUnit": "press-01", "timestamp": "2026-11-20T13:00:00Z", "total": 20000, "good": 19600}
    ]
    post(base, "counts", "records", counts)


def readings(base: str) -> None:
    """A few vibration readings, one of them junk (quarantined), for the ingestion series."""
    rows = [
        {
            "work_unit": "press-01",
            "sensor": "vibration_rms",
            "timestamp": f"2026-11-20T06:00:{s:02d}Z",
            "value": 3.0 + s / 10,
        }
        for s in range(5)
    ]
    rows.append(
        {
            "work_unit": "press-01",
            "sensor": "vibration_rms",
            "timestamp": "2026-11-20T06:00:30Z",
            "value": "Bad",
        }
    )
    post(base, "readings", "readings", rows)


def malformed_batch(base: str) -> int:
    """A readings payload with a field missing: refused whole (lineops_ingest_batches_total
    result=rejected)."""
    req = urllib.request.Request(
        f"{base}/readings",
        data=json.dumps({"readings": [{"work_unit": "press-01", "value": 1.0}]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
