"""The composition root's one typed object in kopf's memo."""

from __future__ import annotations

import kopf
import pytest
from lineops.handlers.components import KEY, components


def test_handlers_before_start_up_retry_instead_of_crashing() -> None:
    with pytest.raises(kopf.TemporaryError, match="not ready"):
        components(kopf.Memo())
    with pytest.raises(kopf.TemporaryError):
        components(kopf.Memo(**{KEY: {"lines": object()}}))  # an untyped leftover is refused


def test_no_handler_reads_untyped_memo_keys() -> None:
    from pathlib import Path

    import lineops.handlers as handlers

    for path in Path(handlers.__file__).parent.glob("*.py"):
        text = path.read_text()
        reads = [k for k in ('memo["lines"]', 'memo["metrics"]', 'memo["models"]') if k in text]
        assert not reads, f"{path.name} reads {reads}: use components(memo)"
