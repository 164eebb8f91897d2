"""Crash safety of consumptions (issue #22): a real `lineops dataplane serve` process takes a
batch of multi-input consumption records from four concurrent clients and is killed with
SIGKILL mid-batch; after a restart on the same database (SQLite and PostgreSQL) each record
is either fully there (all its inputs) or absent, every acknowledged record is there, stock
equals receipts minus consumption per lot, and re-sending the whole batch completes it
(stored ones answered 200, the missing ones 201)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from lineops.dataplane.db.engine import new_engine
from lineops.dataplane.db.tables import consumptions, lots
from sqlalchemy import func, select

from tests.integration.dataplane.test_cli import BASE, _line_file, _serving

RECORDS = 400
INPUTS = ("R-0", "R-1", "R-2")


def _record(i: int) -> dict[str, Any]:
    return {
        "consumption": f"C-{i}",
        "inputs": [{"lot": lot, "quantity": "0.125", "unit": "kg"} for lot in INPUTS],
        "outputLot": "OUT",
        "consumedAt": "2026-11-02T06:30:00Z",
    }


def _post(url: str, route: str, body: Any) -> requests.Response:
    return requests.post(f"{url}{BASE}/{route}", json=body, timeout=30)


def test_kill_9_mid_batch_leaves_whole_records_and_consistent_stock(
    tmp_path: Path, db_url: str
) -> None:
    args = ["--line-file", str(_line_file(tmp_path)), "--data", str(tmp_path / "data")]
    args += ["--db", db_url]
    acknowledged: set[str] = set()
    lock = threading.Lock()
    enough = threading.Event()
    with _serving(args) as (hello, proc):
        url = hello["url"]
        for lot in INPUTS:
            receipt = {
                "lot": lot,
                "material": "resin",
                "unit": "kg",
                "quantity": 1000,
                "supplier": "acme",
                "supplierLot": f"A-{lot}",
                "receivedAt": "2026-11-02T06:00:00Z",
            }
            assert _post(url, "material-lots", receipt).status_code == 201
        opened = {
            "lot": "OUT",
            "product": "part",
            "workUnit": "press-01",
            "start": "2026-11-02T06:00:00Z",
        }
        assert _post(url, "lots", opened).status_code == 201

        def send(i: int) -> None:
            try:
                answer = _post(url, "consumptions", _record(i))
            except requests.RequestException:
                return  # the server died under this request: not acknowledged
            if answer.status_code == 201:
                with lock:
                    acknowledged.add(f"C-{i}")
                    if len(acknowledged) >= RECORDS // 4:
                        enough.set()

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(send, i) for i in range(RECORDS)]
            assert enough.wait(120), "the server did not store a quarter of the batch"
            proc.kill()  # SIGKILL: no shutdown, transactions in flight are cut
            proc.wait(30)
            for future in futures:
                future.result()
    assert len(acknowledged) < RECORDS, "the kill came after the whole batch"

    engine = new_engine(db_url)
    try:
        with engine.connect() as conn:
            per_record = dict(
                conn.execute(
                    select(consumptions.c.consumption, func.count()).group_by(
                        consumptions.c.consumption
                    )
                ).all()
            )
            used = dict(
                conn.execute(
                    select(
                        consumptions.c.input_lot, func.sum(consumptions.c.quantity_micros)
                    ).group_by(consumptions.c.input_lot)
                ).all()
            )
            stock = dict(conn.execute(select(lots.c.lot, lots.c.remaining_micros)).all())
    finally:
        engine.dispose()
    assert set(per_record.values()) <= {len(INPUTS)}, per_record  # whole records only
    assert acknowledged <= set(per_record), acknowledged - set(per_record)
    for lot in INPUTS:
        assert stock[lot] == 1000 * 1_000_000 - int(used[lot]), lot
        assert int(used[lot]) == len(per_record) * 125_000

    with _serving(args) as (hello, _proc):
        url = hello["url"]
        codes = [_post(url, "consumptions", _record(i)).status_code for i in range(RECORDS)]
        stored = {f"C-{i}" for i in range(RECORDS)} & set(per_record)
        assert codes.count(200) == len(stored)
        assert codes.count(201) == RECORDS - len(stored)
        inventory = requests.get(f"{url}{BASE}/inventory", timeout=30).json()
        resin = next(m for m in inventory["materials"] if m["material"] == "resin")
        expected = 3 * (1000 - Decimal("0.125") * RECORDS)
        assert Decimal(resin["onHand"]) == expected
        assert all(
            Decimal(x["remaining"]) == 1000 - Decimal("0.125") * RECORDS for x in resin["lots"]
        )
