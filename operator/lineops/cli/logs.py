"""Log output of the long-running commands (`lineops operator run`, `lineops dataplane
serve`): plain text for a terminal, or one JSON object per line for a log collector
(``LINEOPS_LOG_FORMAT=json``, which the Helm chart sets).

One formatter for both processes, so a collector parses the operator's and the data planes'
lines alike: ``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``, plus ``object``
(``namespace/name``) when kopf logs about a resource and ``exc_info`` for a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, Literal, TextIO

LogFormat = Literal["text", "json"]
TEXT_FORMAT: Final = "[%(asctime)s] %(name)-20.20s [%(levelname)-8.8s] %(message)s"


class JsonFormatter(logging.Formatter):
    """A record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # kopf attaches the resource a message is about (its per-object loggers).
        ref = getattr(record, "k8s_ref", None)
        if isinstance(ref, dict) and ref.get("name"):
            namespace = ref.get("namespace")
            entry["object"] = f"{namespace}/{ref['name']}" if namespace else str(ref["name"])
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(
    log_format: LogFormat, verbose: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger (replacing earlier ones) writing ``log_format`` to
    ``stream`` (stderr by default); INFO, or DEBUG when ``verbose``. Returns the handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # asyncio's debug chatter only when asked for (as kopf's own logging setup does).
    logging.getLogger("asyncio").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return handler
