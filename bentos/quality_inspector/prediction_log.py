"""Every prediction goes to the line's data plane (``POST …/predictions``), off the request
path: answers are queued and a thread posts them in batches (what arrived within ``LINGER_S``
of the first, up to ``BATCH``), so a slow or absent data plane never adds latency to a
prediction. The queue is bounded; when it is full, a prediction
waits for room (back-pressure) rather than being dropped unlogged. A batch the data plane
does not take is retried a few times, then counted as a failure and logged."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Final

import httpx
import msgspec

log = logging.getLogger(__name__)

BATCH: Final = 2_000  # predictions per POST
CAPACITY: Final = 200_000  # predictions queued at most (a batch call's rows wait for room)
ATTEMPTS: Final = 5
# How long the first queued prediction waits for others before a POST: at 100s of answers
# per second one POST per answer cost the serving process (and the data plane) about a
# millisecond of CPU each, against the requests; a tenth of a second of delay in the log
# makes that one POST per 0.1 s.
LINGER_S: Final = 0.1
_encode = msgspec.json.Encoder().encode  # 5-10x the stdlib's speed, same JSON for these


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
        # Chunks of records (one per call of add/add_many: a predict_batch queues its rows
        # in one step, not one lock round per row) and how many records they hold.
        self._chunks: deque[list[dict[str, Any]]] = deque()
        self._queued = 0
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        if self._url is None:
            log.warning("LINEOPS_SERVING_DATAPLANE_URL not set: predictions are not logged")
        else:
            self._thread.start()

    def add(self, record: dict[str, Any]) -> None:
        self.add_many([record])

    def add_many(self, records: list[dict[str, Any]]) -> None:
        """Queue records; waits while the queue is full (back-pressure, never a drop). A chunk
        larger than the whole capacity waits for an empty queue."""
        if self._url is None or not records:
            return
        with self._changed:
            while self._queued and self._queued + len(records) > CAPACITY:
                self._changed.wait()
            was_empty = not self._queued
            self._chunks.append(records)
            self._queued += len(records)
            if was_empty or self._queued >= BATCH:  # the poster waits for one of these
                self._changed.notify_all()

    @property
    def queued(self) -> int:
        return self._queued

    def close(self, timeout: float = 10.0) -> None:
        """Post what is queued, then stop (service shutdown)."""
        if self._url is not None and self._thread.is_alive():
            with self._changed:
                self._closing = True
                self._changed.notify_all()
            self._thread.join(timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._token_file is None:
            return headers
        # Read at every batch: a rotated Secret mount is picked up.
        headers["Authorization"] = f"Bearer {self._token_file.read_text().strip()}"
        return headers

    def _take(self) -> list[dict[str, Any]] | None:
        """Up to BATCH records, oldest first; None once closing and nothing is left."""
        with self._changed:
            while not self._chunks and not self._closing:
                self._changed.wait()
            if not self._chunks:
                return None
            deadline = time.monotonic() + LINGER_S
            while self._queued < BATCH and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            batch: list[dict[str, Any]] = []
            while self._chunks and len(batch) < BATCH:
                chunk = self._chunks[0]
                room = BATCH - len(batch)
                if len(chunk) <= room:
                    batch.extend(self._chunks.popleft())
                else:
                    batch.extend(chunk[:room])
                    self._chunks[0] = chunk[room:]
            self._queued -= len(batch)
            self._changed.notify_all()
            return batch

    def _run(self) -> None:
        assert self._url is not None
        with httpx.Client(timeout=30.0) as client:
            while (batch := self._take()) is not None:
                self._post(client, batch)

    def _post(self, client: httpx.Client, batch: list[dict[str, Any]]) -> None:
        assert self._url is not None
        body = _encode({"records": batch})
        for attempt in range(ATTEMPTS):
            try:
                answer = client.post(self._url, content=body, headers=self._headers())
            except (httpx.HTTPError, OSError) as exc:
                problem = str(exc)
            else:
                if answer.status_code == 200:
                    reply = answer.json()
                    if reply.get("quarantined"):
                        log.warning("data plane quarantined predictions: %s", reply["rejected"][:3])
                    return
                problem = f"{answer.status_code} {answer.text[:300]}"
                if answer.status_code < 500:
                    break  # refused: the same batch would be refused again
            time.sleep(min(2.0**attempt * 0.2, 5.0))  # backoff between attempts, not a sync
        log.error("prediction log: %d predictions not logged: %s", len(batch), problem)
        self._on_failure(len(batch))
