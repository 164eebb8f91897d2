"""The operator's prometheus_client mode: single-process, always.

prometheus_client switches to multi-process mode (values in files under a directory, series
that cannot be removed) when ``PROMETHEUS_MULTIPROC_DIR`` is set: by Feast's import (undone in
``lineops.backends``), or inherited from whatever started the operator (a shell or a process
that imported Feast or ran BentoML). The operator is one process and removes a deleted line's
series, so it drops the variables before it creates any metric. Only the operator does this:
``bentoml serve`` workers import lineops too, and they need their multi-process directory."""

from __future__ import annotations

import os
from typing import Final

VARIABLES: Final = (
    "PROMETHEUS_MULTIPROC_DIR",
    "PROMETHEUS_MULTIPROCESS_DIR",
    "prometheus_multiproc_dir",
)


def single_process() -> dict[str, str]:
    """Remove the multi-process variables from this process's environment (its children do
    not inherit them either) and make metrics created from now on single-process. Returns the
    variables removed, for the caller to log."""
    from prometheus_client import values

    import lineops.backends as backends

    removed = {name: value for name, value in os.environ.items() if name in VARIABLES}
    for name in removed:
        del os.environ[name]
    # Not deliberate after all: feast_store removes what Feast's import sets, too.
    backends.MULTIPROC_DIR_SET = backends.MULTIPROCESS_DIR_SET = False
    # The value class is chosen when prometheus_client is imported; choose it again.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return removed
