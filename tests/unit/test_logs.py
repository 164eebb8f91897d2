"""JSON logs (LINEOPS_LOG_FORMAT=json): every line the operator and the data plane write is
one JSON object with time, level, logger and message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from lineops.cli.logs import configure_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_parse_with_level_logger_and_message(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    logging.getLogger("lineops.services.line").info("line %s: %d readings", "press-1", 3)
    logging.getLogger("kopf.objects").warning('quoted "value"\nand a second line')
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("lineops.dataplane.app").exception("compaction failed")
    logging.getLogger("lineops.noise").debug("not at INFO")

    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # one line per record, the multi-line message included
    records = [json.loads(line) for line in lines]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("info", "lineops.services.line", "line press-1: 3 readings"),
        ("warning", "kopf.objects", 'quoted "value"\nand a second line'),
        ("error", "lineops.dataplane.app", "compaction failed"),
    ]
    assert "RuntimeError: boom" in records[2]["exc_info"]
    assert datetime.fromisoformat(records[0]["time"]).tzinfo is not None


def test_kopf_object_loggers_name_the_resource(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    ref = {"namespace": "plant-a", "name": "press-1", "kind": "ProductionLine"}
    logging.getLogger("kopf.objects").info("reconciled", extra={"k8s_ref": ref})
    assert json.loads(out.getvalue())["object"] == "plant-a/press-1"


def test_text_is_the_default_and_verbose_shows_debug(restore_root: None) -> None:
    out = io.StringIO()
    configure_logging("text", verbose=True, stream=out)
    logging.getLogger("lineops.x").debug("details")
    line = out.getvalue().strip()
    assert "[DEBUG   ]" in line and line.endswith("details")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
