"""``GET …/features/history``: a work unit's recent online feature rows, oldest first.

    GET /v1/namespaces/{namespace}/lines/{line}/features/history
        ?workUnit=U&featureService=S[&rows=N][&until=RFC3339]

Every materialisation pushes the window aggregates of the units with new readings online and
appends them to the aggregates history (``aggregates/line=<line>/agg-<push ns>.parquet``,
also Feast's batch source). That history is the series of online rows a served model would
have seen had it been running: a model that reads a window of rows (the quality inspector)
seeds its per-unit history from here after a start, so its first answer does not wait for
``window`` more materialisations. Query:

    workUnit        a unit the line declares (required)
    featureService  one of the line's feature services (required): the feature columns
    rows            how many rows at most, newest ones (default 64, at most MAX_ROWS)
    until           only rows whose window ended at or before this time (default: all)

Answer: ``{"workUnit", "featureService", "features": [names], "rows": [{"timestamp",
"values": [one per feature, null where the row has none]}]}``. Files are read newest first
and the scan stops once ``rows`` rows are found, or after ``MAX_FILES`` files (a unit that
stopped reporting long ago gets what those hold: maybe nothing).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import EVENT_TIMESTAMP
from lineops.dataplane.errors import plus_hint
from lineops.dataplane.features import SERVICES, service_features
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import _BadQuery, _int, _name

log = logging.getLogger(__name__)

PATH: Final = "/features/history"
DEFAULT_ROWS: Final = 64
MAX_ROWS: Final = 1_000
MAX_FILES: Final = 1_000  # aggregate files read at most per request (newest first): ~1-2 s
PREFIX: Final = "agg-"


def _push_time(path: Path) -> int:
    """The push time (ns) a history file is named by; -1 for a name that is not one."""
    stem = path.stem[len(PREFIX) :]
    return int(stem) if stem.isdigit() else -1


def recent_rows(
    directory: Path,
    work_unit: str,
    features: list[str],
    rows: int,
    until: pd.Timestamp | None = None,
) -> list[tuple[pd.Timestamp, list[float | None]]]:
    """Up to ``rows`` of the unit's newest history rows (window end, a value per feature),
    oldest first; one row per window end (a later push of the same window wins)."""
    files = sorted(directory.glob(f"{PREFIX}*.parquet"), key=_push_time, reverse=True)
    found: dict[pd.Timestamp, list[float | None]] = {}
    for path in files[:MAX_FILES]:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:  # being written right now: skip it
            log.debug("feature history: %s not readable (%s)", path.name, exc)
            continue
        frame = table.to_pandas()
        frame = frame[frame["work_unit"] == work_unit]
        for _, record in frame.iloc[::-1].iterrows():
            when = pd.Timestamp(record[EVENT_TIMESTAMP])
            when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
            if (until is not None and when > until) or when in found:
                continue
            found[when] = [_value(record.get(name)) for name in features]
        if len(found) >= rows:
            break
    newest = sorted(found)[-rows:]
    return [(when, found[when]) for when in newest]


def _value(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class FeatureHistoryApi:
    def __init__(
        self,
        aggregates_dir: Path,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
    ) -> None:
        self._dir = aggregates_dir
        self._spec_of = spec_of

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [web.get(line_path + PATH, self._get)]

    async def _get(self, request: web.Request) -> web.Response:
        namespace, line = request.match_info["namespace"], request.match_info["line"]
        spec = self._spec_of(namespace, line)
        if spec is None:
            return unknown_line(namespace, line)
        try:
            unit = _name(request, "workUnit")
            service = _name(request, "featureService")
            rows = _int(request, "rows", DEFAULT_ROWS, 1, MAX_ROWS)
            until = _until(request.query.get("until"))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
        if spec.work_unit(unit) is None:
            return problem(
                404,
                "unknown-work-unit",
                f"workUnit: {unit!r} is not declared by line {namespace}/{line}",
                field="query.workUnit",
            )
        if service not in SERVICES:
            return problem(
                404,
                "unknown-feature-service",
                f"featureService: the line has no feature service {service!r} "
                f"(it has {', '.join(SERVICES)})",
                field="query.featureService",
            )
        features = service_features(spec, service)
        found = await asyncio.to_thread(
            recent_rows, self._dir / f"line={line}", unit, features, rows, until
        )
        return web.json_response(
            {
                "workUnit": unit,
                "featureService": service,
                "features": features,
                "rows": [{"timestamp": w.isoformat(), "values": v} for w, v in found],
            }
        )


def _until(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    try:
        when = pd.Timestamp(text[:64])
    except (ValueError, OverflowError, TypeError):
        raise _BadQuery(
            "query.until", f"until: {text[:40]!r} is not an RFC 3339 time{plus_hint(text)}"
        ) from None
    if when is pd.NaT or when.tzinfo is None:
        raise _BadQuery("query.until", f"until: {text[:40]!r} has no UTC offset{plus_hint(text)}")
    return when.tz_convert("UTC")
