"""The operator's client of the data plane: what its line monitors read (a line's MES
records, and its raw readings for the drift reference).

Two implementations of one protocol, chosen by profile at start-up:

* :class:`LocalDataPlane`: the data plane runs in this process (embedded profile); reads
  go to its repository and offline store directly, without HTTP.
* :class:`HttpDataPlane`: the data plane is another process (cluster profile: one
  Deployment per line); reads go over its HTTP API (``GET /v1/namespaces/{ns}/lines/
  {line}/…``). An unreachable data plane is a :class:`DataPlaneUnavailable` (transient); a
  4xx problem document a :class:`DataPlaneRejected` (permanent).

Both are blocking: callers run them in worker threads.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.errors import PermanentBackendError, TransientBackendError
from lineops.dataplane.app import DataPlaneApp
from lineops.dataplane.errors import LineConflict
from lineops.dataplane.lines import LineRef
from lineops.dataplane.plans_api import as_json as plan_json
from lineops.dataplane.read_api import READING_COLUMNS
from lineops.dataplane.repositories.mes import MachineEvent, Measurement, ProductionCount
from lineops.dataplane.repositories.plans import PlanRepository
from lineops.dataplane.repositories.shifts import PlannedMaintenance, ShiftRepository, utc_text
from lineops.dataplane.shift_records import as_json as shift_json
from lineops.dataplane.shift_records import record_of
from lineops.mes.shifts import ShiftOee


class DataPlaneUnavailable(TransientBackendError):
    """The data plane did not answer (down, not scheduled yet, network)."""


class DataPlaneRejected(PermanentBackendError):
    """The data plane answered with a 4xx problem document."""


class LineNameTaken(PermanentBackendError):
    """The in-process data plane already serves a line of that name for another namespace."""


class DataPlaneReader(Protocol):
    def measurements(
        self, line: LineRef, characteristic: str, after_id: int = 0
    ) -> list[tuple[int, Measurement]]: ...

    def oee_version(self, line: LineRef) -> tuple[int, int]: ...

    def events(self, line: LineRef, since: datetime | None = None) -> list[MachineEvent]:
        """By time; ``since``: from then on, with each unit's last event before it."""
        ...

    def counts(self, line: LineRef, since: datetime | None = None) -> list[ProductionCount]: ...

    def newest(self, line: LineRef) -> datetime | None:
        """The newest event or count time."""
        ...

    def readings_count(self, line: LineRef) -> int: ...

    def readings_first_day(self, line: LineRef) -> pd.DataFrame: ...

    def readings_recent(self, line: LineRef, horizon_ns: int) -> pd.DataFrame: ...

    def latest_plan(self, line: LineRef) -> dict[str, Any] | None:
        """The line's newest stored production plan as the API answers it, None if none."""
        ...

    def planned_maintenance(
        self, line: LineRef, start: datetime, end: datetime
    ) -> list[PlannedMaintenance]:
        """Planned maintenance of the equipment history overlapping [start, end)."""
        ...

    def save_shifts(self, line: LineRef, results: Sequence[ShiftOee]) -> None:
        """Store per-shift OEE, replacing the rows of the same shift starts."""
        ...


class LocalDataPlane:
    """The data plane in this process: its lines are configured here, its reads served
    without HTTP."""

    def __init__(self, app: DataPlaneApp) -> None:
        self._app = app
        self._mes = app.db.mes
        self._offline = app.ingestion.offline
        self._plans = PlanRepository(app.db.engine)
        self._shifts = ShiftRepository(app.db.engine)

    @property
    def url(self) -> str:
        return self._app.url

    def configure_line(self, line: LineRef, spec: ProductionLineSpec) -> list[str]:
        """Readings, Feast objects and record validation for a line; its feature views."""
        try:
            return self._app.configure_line(line, spec)
        except LineConflict as exc:
            raise LineNameTaken(str(exc)) from None

    def remove_line(self, line: LineRef) -> None:
        self._app.remove_line(line)

    def measurements(
        self, line: LineRef, characteristic: str, after_id: int = 0
    ) -> list[tuple[int, Measurement]]:
        return self._mes.measurements(line, characteristic, after_id)

    def oee_version(self, line: LineRef) -> tuple[int, int]:
        return self._mes.oee_version(line)

    def events(self, line: LineRef, since: datetime | None = None) -> list[MachineEvent]:
        return self._mes.events(line, None if since is None else utc_text(since))

    def counts(self, line: LineRef, since: datetime | None = None) -> list[ProductionCount]:
        return self._mes.counts(line, None if since is None else utc_text(since))

    def newest(self, line: LineRef) -> datetime | None:
        found = self._mes.newest(line)
        return None if found is None else datetime.fromisoformat(found)

    def _readings_of(self, line: LineRef) -> str:
        """The name readings are stored under, refused for a line whose name is served for
        another namespace: its monitor would judge drift on that line's readings."""
        owner = self._app.ingestion.namespace_of(line.name)
        if owner is not None and owner != line.namespace:
            raise LineNameTaken(str(LineConflict(line.name, owner)))
        return line.name

    def readings_count(self, line: LineRef) -> int:
        return self._offline.count(self._readings_of(line))

    def readings_first_day(self, line: LineRef) -> pd.DataFrame:
        return self._offline.first_day(self._readings_of(line), READING_COLUMNS)

    def readings_recent(self, line: LineRef, horizon_ns: int) -> pd.DataFrame:
        return self._offline.recent(self._readings_of(line), horizon_ns)

    def latest_plan(self, line: LineRef) -> dict[str, Any] | None:
        rows = self._plans.list(line, latest=True)
        return plan_json(*rows[0]) if rows else None

    def planned_maintenance(
        self, line: LineRef, start: datetime, end: datetime
    ) -> list[PlannedMaintenance]:
        return self._shifts.planned_maintenance(line, start, end)

    def save_shifts(self, line: LineRef, results: Sequence[ShiftOee]) -> None:
        self._shifts.upsert(line, [record_of(r, _now()) for r in results])


class HttpDataPlane:
    """Reads over the data plane's HTTP API; ``base_url`` says where a line is served."""

    def __init__(
        self,
        base_url: Callable[[LineRef], str],
        *,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._base_url = base_url
        self._token = token
        self._timeout = timeout
        self._states: dict[LineRef, tuple[float, Any]] = {}
        self._states_lock = threading.Lock()

    def _get(self, line: LineRef, route: str, **query: Any) -> bytes:
        return self._call(line, route, query)

    def _call(self, line: LineRef, route: str, query: dict[str, Any], put: Any = None) -> bytes:
        base = self._base_url(line).rstrip("/")
        url = f"{base}/v1/namespaces/{line.namespace}/lines/{line.name}/{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {} if self._token is None else {"Authorization": f"Bearer {self._token}"}
        data = None
        if put is not None:
            data = json.dumps(put).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            url, data=data, headers=headers, method="GET" if put is None else "PUT"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            if 400 <= exc.code < 500 and exc.code not in (404, 408, 429):
                raise DataPlaneRejected(f"data plane {url}: {exc.code} {detail}") from None
            # 404: the line is not configured there yet (a Pod starting); 5xx: retry.
            raise DataPlaneUnavailable(f"data plane {url}: {exc.code} {detail}") from None
        except (OSError, TimeoutError) as exc:
            raise DataPlaneUnavailable(f"data plane {url}: {exc}") from None

    def _json(self, line: LineRef, route: str, **query: Any) -> Any:
        return json.loads(self._get(line, route, **query))

    # One monitor evaluation asks for the OEE version and the readings count, which one
    # ``GET …/state`` answers: an answer younger than this is reused (one request, not two,
    # per line and tick; a tick is seconds apart, so nothing new is missed for long).
    STATE_REUSE_SECONDS = 1.0

    def _state(self, line: LineRef) -> Any:
        now = time.monotonic()
        with self._states_lock:
            cached = self._states.get(line)
        if cached is not None and now - cached[0] < self.STATE_REUSE_SECONDS:
            return cached[1]
        state = self._json(line, "state")
        with self._states_lock:
            self._states[line] = (now, state)
        return state

    def measurements(
        self, line: LineRef, characteristic: str, after_id: int = 0
    ) -> list[tuple[int, Measurement]]:
        rows = self._json(line, "measurements", characteristic=characteristic, after=after_id)
        return [
            (
                int(r["id"]),
                Measurement(
                    r["characteristic"],
                    r["timestamp"],
                    float(r["value"]),
                    r["sampleSize"],
                    r["lot"],
                ),
            )
            for r in rows["records"]
        ]

    def oee_version(self, line: LineRef) -> tuple[int, int]:
        events, counts = self._state(line)["oeeVersion"]
        return int(events), int(counts)

    def events(self, line: LineRef, since: datetime | None = None) -> list[MachineEvent]:
        query = {} if since is None else {"since": utc_text(since)}
        return [
            MachineEvent(r["workUnit"], r["timestamp"], r["state"], r["reason"])
            for r in self._json(line, "events", **query)["records"]
        ]

    def counts(self, line: LineRef, since: datetime | None = None) -> list[ProductionCount]:
        query = {} if since is None else {"since": utc_text(since)}
        return [
            ProductionCount(r["workUnit"], r["timestamp"], int(r["total"]), int(r["good"]))
            for r in self._json(line, "counts", **query)["records"]
        ]

    def newest(self, line: LineRef) -> datetime | None:
        state = self._state(line)
        if "newest" not in state:
            # A data plane older than the operator (its Pod not rolled yet): "no records"
            # would leave the OEE blank until the next record. Asked again next tick.
            raise DataPlaneUnavailable(
                "data plane answers …/state without 'newest': it runs an older image; "
                "waiting for its Deployment to roll out"
            )
        found = state["newest"]
        return None if found is None else datetime.fromisoformat(str(found))

    def readings_count(self, line: LineRef) -> int:
        return int(self._state(line)["readings"])

    def _frame(self, body: bytes) -> pd.DataFrame:
        with pa.ipc.open_stream(body) as reader:
            frame: pd.DataFrame = reader.read_all().to_pandas()
        return frame

    def readings_first_day(self, line: LineRef) -> pd.DataFrame:
        return self._frame(self._get(line, "readings", window="first-day"))

    def readings_recent(self, line: LineRef, horizon_ns: int) -> pd.DataFrame:
        seconds = max(1, -(-horizon_ns // 1_000_000_000))
        return self._frame(self._get(line, "readings", window="recent", seconds=seconds))

    def latest_plan(self, line: LineRef) -> dict[str, Any] | None:
        records = self._json(line, "plans", latest="true")["records"]
        return dict(records[0]) if records else None

    def planned_maintenance(
        self, line: LineRef, start: datetime, end: datetime
    ) -> list[PlannedMaintenance]:
        query = {"from": utc_text(start), "to": utc_text(end)}
        return [
            PlannedMaintenance(
                r["workUnit"],
                _instant(r["start"]),
                None if r["end"] is None else _instant(r["end"]),
                r["reason"],
            )
            for r in self._json(line, "shifts/maintenance", **query)["records"]
        ]

    def save_shifts(self, line: LineRef, results: Sequence[ShiftOee]) -> None:
        if results:
            records = [shift_json(record_of(r, _now())) for r in results]
            self._call(line, "shifts", {}, put={"records": records})


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
