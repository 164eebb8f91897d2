"""The operator's data-plane client: over HTTP (cluster profile) it reads exactly what the
in-process client (embedded profile) reads, and the line monitor works through either."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from lineops.backends.data_plane_client import (
    DataPlaneRejected,
    DataPlaneUnavailable,
    HttpDataPlane,
    LineNameTaken,
    LocalDataPlane,
)
from lineops.backends.mes_metrics import MesMetrics
from lineops.cli.ingest_cmd import load_line
from lineops.services.monitoring.line_monitor import LineMonitors
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import EXAMPLE_LINE, LINE, served_dataplane
from tests.support.loopback_http import serving_get
from tests.support.operator import free_port

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _stamp(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def test_http_client_reads_what_the_local_client_reads(tmp_path: Path, db_url: str) -> None:
    with served_dataplane(tmp_path, db_url, token="t0ken") as served:
        auth = {"Authorization": "Bearer t0ken"}
        rings = [74.0 + ((i * 7) % 11 - 5) / 1000 for i in range(150)]
        records = [
            {"characteristic": "ring_diameter", "timestamp": _stamp(i), "value": v, "lot": "L1"}
            for i, v in enumerate(rings)
        ]
        posted = requests.post(
            served.line_url("measurements"), json={"records": records}, headers=auth, timeout=30
        )
        assert posted.status_code == 200, posted.text
        events = [
            {"workUnit": "press-01", "timestamp": _stamp(0), "state": "running"},
            {
                "workUnit": "press-01",
                "timestamp": _stamp(3000),
                "state": "down",
                "reason": "bearing",
            },
        ]
        counts = [{"workUnit": "press-01", "timestamp": _stamp(2900), "total": 2000, "good": 1980}]
        for route, body in (("events", events), ("counts", counts)):
            answer = requests.post(
                served.line_url(route), json={"records": body}, headers=auth, timeout=30
            )
            assert answer.status_code == 200, answer.text
        readings = [
            {
                "work_unit": "press-01",
                "sensor": "oil_temperature",
                "timestamp": _stamp(i),
                "value": 40.0 + i / 100,
            }
            for i in range(300)
        ]
        answer = requests.post(
            served.line_url("readings"), json={"readings": readings}, headers=auth, timeout=30
        )
        assert answer.json()["accepted"] == 300

        local = LocalDataPlane(served.app)
        remote = HttpDataPlane(lambda _line: served.url, token="t0ken")
        assert remote.measurements(LINE, "ring_diameter") == local.measurements(
            LINE, "ring_diameter"
        )
        after = local.measurements(LINE, "ring_diameter")[99][0]
        assert remote.measurements(LINE, "ring_diameter", after) == local.measurements(
            LINE, "ring_diameter", after
        )
        assert len(remote.measurements(LINE, "ring_diameter", after)) == 50
        assert remote.events(LINE) == local.events(LINE) and len(local.events(LINE)) == 2
        assert remote.counts(LINE) == local.counts(LINE)
        assert remote.oee_version(LINE) == local.oee_version(LINE)
        assert remote.readings_count(LINE) == local.readings_count(LINE) == 300
        first = remote.readings_first_day(LINE)
        assert sorted(first["value"]) == sorted(local.readings_first_day(LINE)["value"])
        recent = remote.readings_recent(LINE, 60 * 1_000_000_000)
        assert len(recent) == len(local.readings_recent(LINE, 60 * 1_000_000_000)) > 0

        # Since a time: the events from then on and each unit's state in force then (the
        # monitors read their last days, not the whole log); the same through either client.
        newest = local.newest(LINE)
        assert newest == remote.newest(LINE) == START + timedelta(seconds=3000)
        for seconds, states in ((1000, ["running", "down"]), (4000, ["down"])):
            since = START + timedelta(seconds=seconds)
            assert [e.state for e in local.events(LINE, since)] == states
            assert remote.events(LINE, since) == local.events(LINE, since)
        assert local.counts(LINE, START + timedelta(seconds=2900)) == local.counts(LINE)
        assert remote.counts(LINE, START + timedelta(seconds=2901)) == []
        bad = requests.get(
            served.line_url("events") + "?since=2026-12-01T00:00:00 01:00", headers=auth, timeout=30
        )
        assert bad.status_code == 400 and bad.json()["field"] == "query.since"
        assert "write the offset as %2B01:00" in bad.json()["detail"]
        before_year_1 = requests.get(
            served.line_url("counts") + "?since=0001-01-01T00:00:00%2B01:00",
            headers=auth,
            timeout=30,
        )
        assert before_year_1.status_code == 400, before_year_1.text

        # The line monitor gives the same judgement through either client.
        spec = load_line(str(EXAMPLE_LINE)).spec
        reports = [
            LineMonitors(reader, MesMetrics(CollectorRegistry()))
            .for_line(LINE.namespace, LINE.name, 1, spec)
            .evaluate()
            for reader in (local, remote)
        ]
        charts = [
            [(c.characteristic, c.subgroups, c.in_control) for c in r.charts] for r in reports
        ]
        assert charts[0] == charts[1] and charts[0][0][1] == 30
        assert reports[0].oee.keys() == reports[1].oee.keys() and reports[0].oee
        assert reports[0].drift is not None and reports[1].drift is not None
        # Per-shift OEE: the same through either client; the ended shifts stored (PUT by the
        # remote client, upserted: the second monitor re-writes the same rows).
        shifts = reports[0].shifts
        assert shifts is not None and shifts == reports[1].shifts
        assert shifts.current is not None  # the clock (the newest record) is in a shift
        stored = requests.get(served.line_url("shifts"), headers=auth, timeout=30).json()
        ended = [] if shifts.previous is None else [shifts.previous.shift.name]
        assert [r["shift"] for r in stored["records"]][-1:] == ended

        # Without the token: refused (permanent); a line it does not serve: transient.
        with pytest.raises(DataPlaneRejected, match="401"):
            HttpDataPlane(lambda _line: served.url).events(LINE)
        other = type(LINE)("plant-b", LINE.name)
        with pytest.raises(DataPlaneUnavailable, match="404"):
            remote.events(other)
        # In process (embedded profile), a same-named line of another namespace is refused
        # (readings are stored by line name): its monitor read the first line's readings.
        with pytest.raises(LineNameTaken, match="'plant-a'"):
            local.configure_line(other, spec)
        for read in (
            lambda: local.readings_count(other),
            lambda: local.readings_first_day(other),
            lambda: local.readings_recent(other, 60 * 1_000_000_000),
        ):
            with pytest.raises(LineNameTaken, match="already served for namespace"):
                read()
        bad = requests.get(
            served.line_url("measurements") + "?characteristic=x&after=-1",
            headers=auth,
            timeout=30,
        )
        assert bad.status_code == 400 and bad.json()["field"] == "query.after"


def test_an_unreachable_data_plane_is_transient() -> None:
    port = free_port()  # nothing listens there
    client = HttpDataPlane(lambda _line: f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(DataPlaneUnavailable):
        client.oee_version(LINE)


def test_a_data_plane_older_than_the_operator_is_transient_not_empty() -> None:
    # Stand-in for the data plane of the previous release (its Pod not rolled yet): its
    # …/state has no "newest". Read as "no records", the OEE stayed blank until the next
    # record arrived; it is asked again instead.
    def answer(path: str) -> tuple[str, bytes]:
        assert path.endswith("/state")
        return "application/json", json.dumps({"oeeVersion": [3, 4], "readings": 0}).encode()

    with serving_get(answer, "old-data-plane") as address:
        client = HttpDataPlane(lambda _line: f"http://{address}", timeout=5)
        with pytest.raises(DataPlaneUnavailable, match="older image"):
            client.newest(LINE)
