"""DataPlaneApp as a whole: the maintenance it runs on its stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from lineops.api.productionline import ProductionLine
from lineops.dataplane.app import DataPlaneApp
from lineops.dataplane.db.database import embedded_url
from lineops.dataplane.lines import LineRef
from prometheus_client import CollectorRegistry

EXAMPLE = Path(__file__).parents[3] / "examples" / "productionline.yaml"


def test_closed_days_are_compacted_and_nothing_is_lost(tmp_path: Path) -> None:
    line = ProductionLine.model_validate(yaml.safe_load(EXAMPLE.read_text()))
    app = DataPlaneApp(tmp_path, embedded_url(tmp_path), CollectorRegistry(), compact_every=None)
    ref = LineRef("default", "press-line-1")
    app.configure_line(ref, line.spec)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    for batch in range(10):  # ten uploads: ten small Parquet files in one closed day
        rows = "".join(
            f"press-01,ram_force,{(day + timedelta(seconds=batch * 100 + i)).isoformat()},{i}\n"
            for i in range(100)
        )
        body = ("work_unit,sensor,timestamp,value\n" + rows).encode()
        result = app.ingestion.ingest_bulk(ref.name, body, "text/csv", backfill=True)
        assert result.accepted == 100
    offline = app.ingestion.offline
    assert len(offline.files(ref.name)) == 10
    assert app.compact() == 10
    assert len(offline.files(ref.name)) == 1
    assert offline.count(ref.name) == 1000
    assert app.compact() == 0  # idempotent
    app.db.close()


def test_raw_readings_go_to_the_configured_store_uri(tmp_path: Path) -> None:
    line = ProductionLine.model_validate(yaml.safe_load(EXAMPLE.read_text()))
    store = tmp_path / "pvc" / "offline"
    app = DataPlaneApp(
        tmp_path / "data",
        embedded_url(tmp_path / "data"),
        CollectorRegistry(),
        compact_every=None,
        offline_uri=store.as_uri(),  # file://…, as a PVC mount would be named
    )
    ref = LineRef("default", "press-line-1")
    app.configure_line(ref, line.spec)
    stamp = datetime.now(UTC).isoformat()
    body = f"work_unit,sensor,timestamp,value\npress-01,ram_force,{stamp},1.5\n".encode()
    assert app.ingestion.ingest_bulk(ref.name, body, "text/csv").accepted == 1
    assert list(store.glob("line=press-line-1/date=*/*.parquet"))
    assert not (tmp_path / "data" / "offline").exists()
    app.db.close()
