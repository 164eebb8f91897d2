"""A work unit's recent online feature rows from the line's data plane
(``GET …/features/history``: the aggregates history every materialisation appends to), so
a model that reads a window of rows answers from the first prediction after a start instead
of after ``window`` more materialisations ("no answer yet: 1 of 20 rows").

One blocking HTTP call per work unit, the first time the process judges it (the inspector
calls it outside its lock, in a request thread). A data plane that is unreachable or refuses
is logged and the unit is tried again ``RETRY_S`` later; meanwhile the window fills from the
online rows as before.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import httpx
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

RETRY_S: Final = 30.0
TIMEOUT_S: Final = 5.0

Rows = list[tuple[pd.Timestamp, np.ndarray]]


class SeedError(RuntimeError):
    """The data plane did not answer with a history (unreachable, refused, malformed)."""


class HistorySeed:
    def __init__(
        self,
        url: str,
        namespace: str,
        line: str,
        service: str,
        token_file: Path | None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._url = f"{url}/v1/namespaces/{namespace}/lines/{line}/features/history"
        self._service = service
        self._token_file = token_file
        self._client = httpx.Client(timeout=timeout_s)

    def rows(self, work_unit: str, until: pd.Timestamp, features: list[str], keep: int) -> Rows:
        """The unit's newest rows up to ``until`` (at most ``keep``), oldest first, each the
        values of ``features`` in that order; only the newest run of rows where every one of
        ``features`` has a value (a gap would put a NaN in the model's window)."""
        headers = {}
        if self._token_file is not None:  # read per call: a rotated Secret mount is picked up
            headers["Authorization"] = f"Bearer {self._token_file.read_text().strip()}"
        params = {
            "workUnit": work_unit,
            "featureService": self._service,
            "rows": str(keep),
            "until": until.isoformat(),
        }
        try:
            answer = self._client.get(self._url, params=params, headers=headers)
        except (httpx.HTTPError, OSError) as exc:
            raise SeedError(f"data plane unreachable: {exc}") from None
        if answer.status_code != 200:
            raise SeedError(f"data plane answered {answer.status_code}: {answer.text[:300]}")
        try:
            body = answer.json()
            names = [str(n) for n in body["features"]]
            missing = [f for f in features if f not in names]
            if missing:
                raise SeedError(f"the history has no {', '.join(missing)}")
            index = [names.index(f) for f in features]
            series: Rows = []
            for row in body["rows"]:
                values = [row["values"][i] for i in index]
                if any(v is None for v in values):
                    series = []  # a gap: only rows after it make a window
                    continue
                when = pd.Timestamp(row["timestamp"]).tz_convert("UTC")
                series.append((when, np.array(values, dtype=float)))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SeedError(f"malformed history: {type(exc).__name__}: {exc}") from None
        return series[-keep:]

    def close(self) -> None:
        self._client.close()
