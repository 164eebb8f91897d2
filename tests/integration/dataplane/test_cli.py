"""`lineops dataplane serve`, `lineops db upgrade|current` and `lineops quarantine
list|release` as a user runs them: real processes on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import yaml
from lineops.cli.main import main
from lineops.dataplane.db.database import open_database
from lineops.dataplane.db.engine import head_revision, new_engine
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.quarantine import Rejected
from sqlalchemy import text

EXAMPLE = Path(__file__).parents[3] / "examples" / "productionline.yaml"
LINE = LineRef("plant-a", "press-line-1")
BASE = f"/v1/namespaces/{LINE.namespace}/lines/{LINE.name}"


def _line_file(tmp_path: Path, *, drop: str | None = None) -> Path:
    """The example line in namespace plant-a; ``drop`` removes a quality characteristic
    (a spec that is 'wrong' until it is fixed)."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"]["namespace"] = LINE.namespace
    if drop is not None:
        doc["spec"]["qualityCharacteristics"] = [
            qc for qc in doc["spec"]["qualityCharacteristics"] if qc["name"] != drop
        ]
    path = tmp_path / ("line.yaml" if drop is None else f"line-without-{drop}.yaml")
    path.write_text(yaml.safe_dump(doc))
    return path


def _serve_command(args: list[str]) -> list[str]:
    serve = ["dataplane", "serve", "--port", "0", "--no-feast"]
    return [sys.executable, "-m", "lineops.cli.main", *serve, *args]


@contextmanager
def _serving(args: list[str]) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str]]]:
    proc = subprocess.Popen(
        _serve_command(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LINEOPS_DB_URL": ""},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the server printed its address
        if not first:
            raise AssertionError(f"dataplane serve exited: {proc.wait()} {proc.stderr.read()}")
        yield json.loads(first), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def _now(offset_s: float = 0.0) -> str:
    return datetime.fromtimestamp(time.time() + offset_s, UTC).isoformat()


def test_serve_takes_readings_and_records_and_stops_on_sigterm(tmp_path: Path, db_url: str) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    args = [
        "--line-file",
        str(_line_file(tmp_path)),
        "--data",
        str(tmp_path / "data"),
        "--db",
        db_url,
        "--token-file",
        str(token),
    ]
    with _serving(args) as (hello, proc):
        assert hello["lines"] == [str(LINE)]
        url = hello["url"]
        auth = {"Authorization": "Bearer s3cret"}
        readings = {
            "readings": [
                {
                    "work_unit": "press-01",
                    "sensor": "ram_force",
                    "timestamp": _now(-i),
                    "value": 1.0,
                }
                for i in range(5)
            ]
            + [
                {
                    "work_unit": "press-01",
                    "sensor": "ram_force",
                    "timestamp": _now(),
                    "value": "Bad",
                }
            ]
        }
        refused = requests.post(f"{url}{BASE}/readings", json=readings, timeout=30)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["field"] == "header.Authorization"
        answer = requests.post(f"{url}{BASE}/readings", json=readings, headers=auth, timeout=30)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["accepted"], answer.json()["quarantined"]) == (5, 1)
        records = {
            "records": [
                {"characteristic": "ring_diameter", "timestamp": _now(), "value": 74.001},
                {"characteristic": "ring_diameter", "timestamp": _now(), "value": "Inp OutRange"},
            ]
        }
        answer = requests.post(f"{url}{BASE}/measurements", json=records, headers=auth, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["reasons"] == {"non_numeric": 1}
        other = requests.post(
            f"{url}/v1/namespaces/plant-b/lines/{LINE.name}/measurements",
            json=records,
            headers=auth,
            timeout=30,
        )
        assert other.status_code == 404 and other.json()["field"] == "path.line"
        document = requests.get(f"{url}/openapi.json", timeout=30).json()
        assert document["openapi"].startswith("3.1")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    db = open_database(db_url, create_empty=False)
    try:
        assert [m.value for _, m in db.mes.measurements(LINE, "ring_diameter")] == [74.001]
        # One quarantine: the junk reading and the junk measurement, under the line's namespace.
        assert db.quarantine.counts_by_reason(LINE) == {"non_numeric": 2}
        kinds = sorted(item.kind for item in db.quarantine.list(LINE))
        assert kinds == ["measurements", "readings"]
    finally:
        db.close()


def test_db_upgrade_and_current(db_url: str, capsys: Any) -> None:
    if db_url.startswith("sqlite:///"):
        # A read of a SQLite file that is not there is an error that creates nothing (it
        # left an empty file, or a whole directory, behind); an empty file is an empty
        # database.
        path = Path(db_url.removeprefix("sqlite:///"))
        missing = f"sqlite:///{path.parent / 'nowhere' / 'mes.db'}"
        assert main(["db", "current", "--db", missing]) == 2
        err = capsys.readouterr().err
        assert "--db: " in err and "no database file at" in err and "lineops db upgrade" in err
        assert not (path.parent / "nowhere").exists()
        path.touch()
    assert main(["db", "current", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out) == {"current": None, "head": head_revision()}
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out) == {"from": None, "to": head_revision()}
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == head_revision()


def test_serve_refuses_a_database_it_does_not_know(tmp_path: Path, db_url: str) -> None:
    engine = new_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE measurements (id INTEGER)"))
    engine.dispose()
    proc = subprocess.run(
        _serve_command(
            ["--line-file", str(_line_file(tmp_path)), "--data", str(tmp_path), "--db", db_url]
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "lineops db upgrade --db" in proc.stderr and proc.stdout == ""


def test_quarantined_records_are_released_once_after_a_spec_fix(
    tmp_path: Path, db_url: str, capsys: Any
) -> None:
    wrong = _line_file(tmp_path, drop="ring_diameter")
    args = ["--line-file", str(wrong), "--data", str(tmp_path / "data"), "--db", db_url]
    with _serving(args) as (hello, _proc):
        records = {
            "records": [
                {"characteristic": "ring_diameter", "timestamp": _now(i), "value": 74.0 + i / 1000}
                for i in range(4)
            ]
            + [{"characteristic": "ring_diameter", "timestamp": _now(), "value": "Bad"}]
        }
        answer = requests.post(f"{hello['url']}{BASE}/measurements", json=records, timeout=30)
        assert answer.json()["reasons"] == {"unknown_characteristic": 5}

    assert main(["quarantine", "list", "--db", db_url, "--line", str(LINE)]) == 0
    listed = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert [row["reason"] for row in listed] == ["unknown_characteristic"] * 5
    assert listed[4]["record"]["value"] == "Bad"

    fixed = _line_file(tmp_path)
    release = ["quarantine", "release", "--db", db_url, "--line-file", str(fixed)]
    assert main(release) == 0
    first = json.loads(capsys.readouterr().out)
    assert first == {
        "line": str(LINE),
        "examined": 5,
        "released": 4,
        "still_quarantined": 1,
        "reasons": {"non_numeric": 1},
    }
    # --line is for --url; with --db another namespace was ignored (nothing examined)
    assert main([*release, "--line", "prod/press-line-1"]) == 2
    assert "--db releases the line of --line-file" in capsys.readouterr().err
    assert main(release) == 0  # idempotent: nothing released twice
    second = json.loads(capsys.readouterr().out)
    assert (second["examined"], second["released"]) == (1, 0)

    db = open_database(db_url, create_empty=False)
    try:
        values = [m.value for _, m in db.mes.measurements(LINE, "ring_diameter")]
        assert values == [74.0, 74.001, 74.002, 74.003]
        assert db.quarantine.total(LINE) == 1
    finally:
        db.close()


def test_operator_refuses_to_start_on_a_foreign_schema(
    tmp_path: Path, db_url: str, capsys: Any, monkeypatch: Any
) -> None:
    engine = new_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE measurements (id INTEGER)"))
    engine.dispose()
    monkeypatch.setenv("LINEOPS_DB_URL", db_url)
    code = main(["operator", "run", "-n", "plant-a", "--data-dir", str(tmp_path)])
    assert code == 2
    assert "lineops db upgrade --db" in capsys.readouterr().err


def _line_without_sensor(tmp_path: Path, sensor: str) -> Path:
    doc = yaml.safe_load(_line_file(tmp_path).read_text())
    for unit in doc["spec"]["workUnits"]:
        unit["sensors"] = [s for s in unit["sensors"] if s["name"] != sensor]
    path = tmp_path / f"line-without-{sensor}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_quarantined_readings_are_released_through_a_running_data_plane(
    tmp_path: Path, db_url: str, capsys: Any
) -> None:
    data = str(tmp_path / "data")
    wrong = _line_without_sensor(tmp_path, "ram_force")
    readings = {
        "readings": [
            {
                "work_unit": "press-01",
                "sensor": "ram_force",
                "timestamp": _now(-60 + i),
                "value": 100.0 + i,
            }
            for i in range(5)
        ]
        + [{"work_unit": "press-01", "sensor": "ram_force", "timestamp": _now(-10), "value": "Bad"}]
    }
    with _serving(["--line-file", str(wrong), "--data", data, "--db", db_url]) as (hello, _):
        answer = requests.post(f"{hello['url']}{BASE}/readings", json=readings, timeout=30)
        assert answer.json()["reasons"] == {"unknown_sensor": 6}
    # A reading kept from before the name limits held on every upload path: re-ingesting it
    # would fail the payload checks; it must stay quarantined, not fail every release.
    db = open_database(db_url, create_empty=False)
    try:
        long_unit = {"work_unit": "w" * 1000, "sensor": "ram_force", "timestamp": _now(-5)}
        db.quarantine.add(
            LINE,
            "readings",
            [Rejected("unknown_work_unit", "", {**long_unit, "value": 1.0})],
            source="api",
        )
    finally:
        db.close()
    fixed = _line_file(tmp_path)
    with _serving(["--line-file", str(fixed), "--data", data, "--db", db_url]) as (hello, _):
        release = ["quarantine", "release", "--url", hello["url"], "--line", str(LINE)]
        assert main([*release, "--kind", "readings"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert (first["examined"], first["released"], first["reasons"]) == (
            7,
            5,
            {"non_numeric": 1, "unknown_work_unit": 1},
        )
        assert main([*release, "--kind", "readings"]) == 0  # the junk and the long one left
        second = json.loads(capsys.readouterr().out)
        assert (second["examined"], second["released"], second["still_quarantined"]) == (2, 0, 2)
        assert main([*release, "--kind", "bogus"]) == 2
        assert "kind" in capsys.readouterr().err
    db = open_database(db_url, create_empty=False)
    try:
        assert db.quarantine.counts_by_reason(LINE) == {"non_numeric": 1, "unknown_work_unit": 1}
    finally:
        db.close()
    from lineops.dataplane.offline_store import OfflineStore

    stored = OfflineStore(Path(data) / "offline").read(LINE.name)
    assert sorted(stored["value"].tolist()) == [100.0, 101.0, 102.0, 103.0, 104.0]
