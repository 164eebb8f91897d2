"""Fewer malloc arenas for the long-running servers (operator, data plane).

glibc gives each thread that allocates concurrently an arena of its own, up to eight per
core, and an arena's freed memory is rarely returned: with a thread pool of
``LINEOPS_WORKER_LIMIT + 8`` threads doing Kubernetes calls, JSON and SQLite work, the
operator's resident memory grew by fragmentation across arenas. Two arenas measured 548 MB
instead of 661 MB at 1,000 lines, at the same speed (docs/benchmarks.md, "Operator scale").
The same as ``MALLOC_ARENA_MAX=2`` in the environment, which is only read when the process
starts; this works from inside, before the threads are created. An explicit
``MALLOC_ARENA_MAX`` is left alone.
"""

from __future__ import annotations

import ctypes
import os
from typing import Final

M_ARENA_MAX: Final = -8  # glibc's mallopt parameter (malloc.h)
ARENAS: Final = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas; False where that is not possible (not glibc) or the
    environment already decides (``MALLOC_ARENA_MAX``)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
