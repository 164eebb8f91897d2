"""Every prediction goes to the line's data plane (``POST …/predictions``), off the request
path: answers are queued and a thread posts them in batches (what arrived within ``LINGER_S``
of the first, up to ``BATCH`` rows), so a slow or absent data plane never adds latency to a
prediction. The queue is bounded; when it is full, a prediction
waits for room (back-pressure) rather than being dropped unlogged. A batch the data plane
does not take is retried a few times, then counted as a failure and logged.

``predict`` queues one record per answer (``records``); ``predict_batch`` queues its rows as
columnar batches (``batches``: one object with a column per feature and result field, cut
into pieces of at most ``CELLS`` values), which the data plane stores as one prediction per
row: a backfill's 10,000s of rows cost no Python object per row here."""

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

BATCH: Final = 2_000  # predictions per POST (rows: a columnar batch is posted whole)
CAPACITY: Final = 200_000  # predictions queued at most (a batch call's rows wait for room)
# Values (rows x columns) of one columnar piece: about 10 MB of JSON, well under the data
# plane's 32 MB body limit whatever the number of features.
CELLS: Final = 500_000
ATTEMPTS: Final = 5
# How long the first queued prediction waits for others before a POST: at 100s of answers
# per second one POST per answer cost the serving process (and the data plane) about a
# millisecond of CPU each, against the requests; a tenth of a second of delay in the log
# makes that one POST per 0.1 s.
LINGER_S: Final = 0.1
# Refusals that may pass when asked again: a token being rotated (the file is read again at
# every attempt), a timeout, throttling. Other 4xx refuse the batch itself.
RETRIED: Final = frozenset({401, 408, 429})
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
        # Chunks (one per call of add/add_many/add_columns: a predict_batch queues its rows in
        # one step, not one lock round per row): a list of records, or a columnar batch and
        # its rows; and how many predictions they hold.
        self._chunks: deque[list[dict[str, Any]] | tuple[dict[str, Any], int]] = deque()
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
        if records:
            self._queue(records, len(records))

    def add_columns(self, batch: dict[str, Any], rows: int) -> None:
        """Queue ``rows`` predictions as a columnar batch: ``features`` and ``results`` map a
        name to a list of one value per row, ``lots`` (or None) a lot per row; the other
        fields (modelTag, workUnit, timestamp) hold for every row. Waits as ``add_many``."""
        if rows <= 0:
            return
        columns = len(batch["features"]) + len(batch["results"]) + 1
        step = max(1, CELLS // columns)
        for start in range(0, rows, step):
            end = min(rows, start + step)
            self._queue((_piece(batch, start, end, rows), end - start), end - start)

    def _queue(self, chunk: list[dict[str, Any]] | tuple[dict[str, Any], int], n: int) -> None:
        if self._url is None:
            return
        with self._changed:
            while self._queued and self._queued + n > CAPACITY:
                self._changed.wait()
            was_empty = not self._queued
            self._chunks.append(chunk)
            self._queued += n
            if was_empty or self._queued >= BATCH:  # the poster waits for one of these
                self._changed.notify_all()

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def full(self) -> bool:
        """Whether adding a record now would wait for the poster (the caller should not be
        on the event loop then)."""
        return self._url is not None and self._queued + 1 > CAPACITY

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

    def _take(self) -> dict[str, Any] | None:
        """A body of up to BATCH predictions (or one columnar piece), oldest first; None once
        closing and nothing is left."""
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
            records: list[dict[str, Any]] = []
            batches: list[dict[str, Any]] = []
            taken = 0
            while self._chunks and taken < BATCH:
                chunk = self._chunks[0]
                if isinstance(chunk, tuple):  # a columnar piece: posted whole
                    self._chunks.popleft()
                    batches.append(chunk[0])
                    taken += chunk[1]
                    continue
                room = BATCH - taken
                if len(chunk) <= room:
                    records.extend(self._chunks.popleft())
                    taken += len(chunk)
                else:
                    records.extend(chunk[:room])
                    self._chunks[0] = chunk[room:]
                    taken += room
            self._queued -= taken
            self._changed.notify_all()
            body: dict[str, Any] = {"predictions": taken}
            if records or not batches:
                body["records"] = records
            if batches:
                body["batches"] = batches
            return body

    def _run(self) -> None:
        assert self._url is not None
        with httpx.Client(timeout=30.0) as client:
            while (taken := self._take()) is not None:
                count = taken["predictions"]
                try:
                    self._post(client, taken)
                except Exception:
                    # The poster must outlive any one batch: when it died, nothing more was
                    # logged, and once the queue was full every predict blocked on it.
                    log.exception("prediction log: %d predictions not logged", count)
                    self._on_failure(count)

    def _post(self, client: httpx.Client, taken: dict[str, Any]) -> None:
        assert self._url is not None
        count = taken.pop("predictions")
        body = _encode(taken)
        for attempt in range(ATTEMPTS):
            try:
                answer = client.post(self._url, content=body, headers=self._headers())
            except (httpx.HTTPError, OSError) as exc:
                problem = str(exc)
            else:
                if answer.status_code == 200:
                    reply = _reply(answer)
                    if reply is None:
                        # Something answered that is not the data plane (a proxy's page): the
                        # batch may or may not be stored, and sending it again could log it
                        # twice, so it is counted as not logged.
                        problem = f"200 without a data plane's answer: {answer.text[:300]!r}"
                        break
                    if reply.get("quarantined"):
                        log.warning(
                            "data plane quarantined %s predictions: %s",
                            reply["quarantined"],
                            reply.get("rejected", [])[:3],
                        )
                    return
                problem = f"{answer.status_code} {answer.text[:300]}"
                if answer.status_code < 500 and answer.status_code not in RETRIED:
                    break  # refused: the same batch would be refused again
            time.sleep(min(2.0**attempt * 0.2, 5.0))  # backoff between attempts, not a sync
        log.error("prediction log: %d predictions not logged: %s", count, problem)
        self._on_failure(count)


def _reply(answer: httpx.Response) -> dict[str, Any] | None:
    """The data plane's ingest answer, or None when the body is not one."""
    try:
        reply = answer.json()
    except ValueError:
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("accepted"), int):
        return None
    if not isinstance(reply.get("rejected", []), list):
        return None
    return reply


def _piece(batch: dict[str, Any], start: int, end: int, rows: int) -> dict[str, Any]:
    """Rows ``start:end`` of a columnar batch (the batch itself when that is all of it)."""
    if start == 0 and end == rows:
        return batch
    lots = batch.get("lots")
    return {
        **batch,
        "lots": None if lots is None else lots[start:end],
        "features": {k: v[start:end] for k, v in batch["features"].items()},
        "results": {k: v[start:end] for k, v in batch["results"].items()},
    }
