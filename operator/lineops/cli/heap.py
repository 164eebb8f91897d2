"""The garbage collector of the long-running servers (operator, data plane), tuned once
their start-up is done.

A started data plane tracks about 210,000 objects (Feast, SQLAlchemy, aiohttp, pandas,
pyarrow, the line's objects), and a batch of the prediction log or of readings allocates
10,000s of containers that live until its transaction commits: they are promoted into the
oldest generation and set off full collections, each walking the whole start-up heap again.
Moving that heap out of the collector's sight (``gc.freeze``) and collecting the youngest
generation every 50,000 net allocations instead of 700 took ``predict_batch`` end to end,
bounded by the data plane's prediction log, from about 100,000 to 137,000-150,000 rows/s
(benchmarks/serving.py; docs/benchmarks.md, "Serving"). The quality inspector calls it
too, once its model is loaded (bentos/quality_inspector). Garbage is collected first, so
nothing already unreachable is frozen with the rest.
"""

from __future__ import annotations

import gc
import logging
from typing import Final

YOUNGEST_THRESHOLD: Final = 50_000

log = logging.getLogger(__name__)


def freeze_startup_heap() -> None:
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_THRESHOLD, older, oldest)
    # Said once per process, so a log shows that start-up finished and what was frozen
    # (tests/integration/test_shutdown.py reads it from a real operator).
    log.info(
        "start-up heap frozen: %d objects out of the garbage collector's sight; youngest "
        "generation collected every %d net allocations",
        gc.get_freeze_count(),
        YOUNGEST_THRESHOLD,
    )
