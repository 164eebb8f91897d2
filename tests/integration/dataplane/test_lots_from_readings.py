"""Production lots opened and closed from the readings' ``lot`` field (issue #22), through a
real DataPlaneApp's readings route, on SQLite and PostgreSQL: a new lot on a work unit opens
at its first reading, the previous lot closes at its last reading, a batch without changes
writes nothing, a lot opened through the API is not opened twice, and after a restart the lot
left open on a work unit closes where the next one begins."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lineops.dataplane.db.tables import lots
from sqlalchemy import select

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

BASE_S = int(time.time()) - 120  # recent: inside the line's allowed lateness


def at(second: int) -> str:
    return datetime.fromtimestamp(BASE_S + second, UTC).isoformat()


def readings(
    unit: str, lot: str | None, seconds: range, sensor: str = "ram_force"
) -> list[dict[str, Any]]:
    return [
        {"work_unit": unit, "sensor": sensor, "timestamp": at(s), "value": 10.0, "lot": lot}
        for s in seconds
    ]


def send(served: ServedApp, rows: list[dict[str, Any]]) -> None:
    answer = requests.post(served.line_url("readings"), json={"readings": rows}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(rows), answer.text


def stored(served: ServedApp) -> dict[str, tuple[Any, ...]]:
    t = lots.c
    query = select(t.lot, t.status, t.work_unit, t.started_at, t.ended_at, t.material, t.unit)
    with served.app.db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(query.order_by(t.id))}


def test_lots_follow_the_readings(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    with served_dataplane(data, db_url) as served:
        send(served, readings("press-01", "L-1", range(0, 5)))
        assert stored(served) == {
            "L-1": ("open", "press-01", at(0), None, LINE.name, "pcs"),
        }
        before = stored(served)
        send(served, readings("press-01", "L-1", range(5, 8)))  # same lot: no write
        send(served, readings("press-01", None, range(8, 10)))  # no lot: nothing
        assert stored(served) == before
        # One batch, out of order, switching lots: L-1 ends at its last reading (12).
        switch = readings("press-01", "L-2", range(13, 16)) + readings(
            "press-01", "L-1", range(10, 13)
        )
        send(served, switch)
        now = stored(served)
        assert now["L-1"] == ("closed", "press-01", at(0), at(12), LINE.name, "pcs")
        assert now["L-2"] == ("open", "press-01", at(13), None, LINE.name, "pcs")
        # Late readings of L-1 do not reopen it or close L-2.
        send(served, readings("press-01", "L-1", range(11, 12), "vibration_rms"))
        assert stored(served) == now
        # A lot opened through the API first: readings of it do not open it again.
        api = {"lot": "L-3", "product": "bracket", "workUnit": "press-01", "start": at(16)}
        assert requests.post(served.line_url("lots"), json=api, timeout=30).status_code == 201
        send(served, readings("press-01", "L-3", range(17, 20)))
        now = stored(served)
        assert now["L-2"][:4] == ("closed", "press-01", at(13), at(15))
        assert now["L-3"] == ("open", "press-01", at(16), None, "bracket", "pcs")
        assert list(now) == ["L-1", "L-2", "L-3"]
    # Restart: the tracker's memory is gone; L-3 is still open on press-01 in the store.
    with served_dataplane(data, db_url) as served:
        send(served, readings("press-01", "L-4", range(25, 27)))
        now = stored(served)
        assert now["L-3"][:4] == ("closed", "press-01", at(16), at(25))
        assert now["L-4"][:4] == ("open", "press-01", at(25), None)
    # Restart again, and the first readings after it are late ones of L-3 (a replay): L-4,
    # begun after them, stays open (it was closed before its own start), and its own next
    # readings extend it.
    with served_dataplane(data, db_url) as served:
        send(served, readings("press-01", "L-3", range(20, 22)))
        send(served, readings("press-01", "L-4", range(27, 29)))
        after = stored(served)
        assert after["L-3"][:4] == ("closed", "press-01", at(16), at(25))
        assert after["L-4"][:4] == ("open", "press-01", at(25), None)


def test_a_store_error_does_not_lose_the_lots_of_its_batch(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses the first lot write (injected, as a lost database connection would);
    the lot seen only in that batch still opens, at its own first reading, with the next
    batch (it was never recorded, and the next lot opened at the next batch's time)."""
    with served_dataplane(tmp_path / "data", db_url) as served:
        repo = served.app.lots.repo
        real = repo.open_from_readings
        calls = {"n": 0}

        def flaky(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                raise OSError("connection to the database lost")
            return real(*args, **kwargs)

        monkeypatch.setattr(repo, "open_from_readings", flaky)
        send(served, readings("press-01", "L-A", range(0, 3)))
        assert stored(served) == {}  # refused; the readings themselves are stored
        send(served, readings("press-01", "L-B", range(5, 7)))
        now = stored(served)
        assert now["L-A"][:4] == ("closed", "press-01", at(0), at(2))
        assert now["L-B"][:4] == ("open", "press-01", at(5), None)
