"""Every prediction goes to the line's data plane (``POST …/predictions``), off the request
path: answers are queued and a thread posts them in batches, so a slow or absent data plane
never adds latency to a prediction. The queue is bounded; when it is full, a prediction
waits for room (back-pressure) rather than being dropped unlogged. A batch the data plane
does not take is retried a few times, then counted as a failure and logged."""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, Final

import httpx

log = logging.getLogger(__name__)

BATCH: Final = 2_000  # predictions per POST
CAPACITY: Final = 200_000
ATTEMPTS: Final = 5


class PredictionLog:
    def __init__(
        self,
        url: str | None,
        namespace: str,
        line: str,
        token_file: Path | None,
        on_failure: Any,
    ) -> None:
        route = f"/v1/namespaces/{namespace}/lines/{line}/predictions"
        self._url = None if url is None else url + route
        self._token_file = token_file
        self._on_failure = on_failure
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(CAPACITY)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        if self._url is None:
            log.warning("LINEOPS_SERVING_DATAPLANE_URL not set: predictions are not logged")
        else:
            self._thread.start()

    def add(self, record: dict[str, Any]) -> None:
        if self._url is not None:
            self._queue.put(record)

    def close(self, timeout: float = 10.0) -> None:
        """Post what is queued, then stop (service shutdown)."""
        if self._url is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _headers(self) -> dict[str, str]:
        if self._token_file is None:
            return {}
        # Read at every batch: a rotated Secret mount is picked up.
        return {"Authorization": f"Bearer {self._token_file.read_text().strip()}"}

    def _run(self) -> None:
        assert self._url is not None
        with httpx.Client(timeout=30.0) as client:
            while True:
                first = self._queue.get()
                batch = [] if first is None else [first]
                stop = first is None
                while not stop and len(batch) < BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                    else:
                        batch.append(item)
                if batch:
                    self._post(client, batch)
                if stop:
                    return

    def _post(self, client: httpx.Client, batch: list[dict[str, Any]]) -> None:
        assert self._url is not None
        for attempt in range(ATTEMPTS):
            try:
                answer = client.post(self._url, json={"records": batch}, headers=self._headers())
            except (httpx.HTTPError, OSError) as exc:
                problem = str(exc)
            else:
                if answer.status_code == 200:
                    body = answer.json()
                    if body.get("quarantined"):
                        log.warning("data plane quarantined predictions: %s", body["rejected"][:3])
                    return
                problem = f"{answer.status_code} {answer.text[:300]}"
                if answer.status_code < 500:
                    break  # refused: the same batch would be refused again
            time.sleep(min(2.0**attempt * 0.2, 5.0))  # backoff between attempts, not a sync
        log.error("prediction log: %d predictions not logged: %s", len(batch), problem)
        self._on_failure(len(batch))
