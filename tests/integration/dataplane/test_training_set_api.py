"""GET …/training-set over real HTTP: refusals name the query parameter, and a set comes
back as an Arrow IPC stream whose schema carries the card."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa
from lineops.dataplane.db.database import embedded_url

from tests.support.dataplane_server import served_dataplane


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _problem(url: str) -> dict[str, Any]:
    status, body = _get(url)
    assert status == 422, body
    return dict(json.loads(body))


def test_training_set_route_refuses_by_parameter_and_answers_arrow(tmp_path: Path) -> None:
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        base = served.line_url("training-set")
        task = "task=fault-classification"
        # press-line-1's work units carry different sensors: no unit has every sensor the
        # line-wide service serves, so a model of it could never get complete rows.
        mismatch = _problem(f"{base}?featureService=sensor_window_v1&{task}")
        assert mismatch["field"] == "query.featureService"
        assert "press-01 lacks" in mismatch["detail"]
        unknown = _problem(f"{base}?featureService=vibration_v9&{task}")
        assert unknown["field"] == "query.featureService" and "vibration_v9" in unknown["detail"]
        assert _problem(f"{base}?featureService=sensor_last_v1")["field"] == "query.task"
        bad_label = _problem(f"{base}?featureService=sensor_last_v1&{task}&label=colour")
        assert bad_label["field"] == "query.label"
        assert _problem(f"{base}?featureService=sensor_last_v1&{task}&window=soon")["field"] == (
            "query.window"
        )

        # A line whose one work unit has every sensor: readings in, a set out.
        spec = served.app.spec_of("plant-a", "press-line-1")
        assert spec is not None
        single = spec.model_copy(update={"work_units": spec.work_units[:1]})
        served.app.configure_line(
            served_line := type(served.app.lines[0])("plant-a", "one"), single
        )
        unit = single.work_units[0]
        rows = "".join(
            f"{unit.name},{s.name},2026-01-01T00:{m:02d}:00Z,{m}\n"
            for m in range(30)
            for s in unit.sensors
        )
        body = ("work_unit,sensor,timestamp,value\n" + rows).encode()
        assert served.app.ingestion.ingest_bulk("one", body, "text/csv", backfill=True).accepted
        url = served.line_url("training-set", served_line)
        empty = _problem(f"{url}?featureService=sensor_last_v1&{task}&until=2025-01-01T00:00:00Z")
        assert empty["type"].endswith("empty-training-set") and empty["field"] == "query.until"
        status, body = _get(f"{url}?featureService=sensor_last_v1&{task}&window=10m")
        assert status == 200
        table = pa.ipc.open_stream(body).read_all()
        card = json.loads(table.schema.metadata[b"lineops.card"])
        assert table.num_rows == 11  # minutes 19..29: the window ends at the newest reading
        assert card["rows"] == 11 and card["line"] == "one" and card["namespace"] == "plant-a"
        assert card["features"] == [f"{s.name}__last" for s in unit.sensors]
        assert card["classCounts"] == {"normal": 11}
        assert table.column("vibration_rms__last").to_pylist() == [float(m) for m in range(19, 30)]
