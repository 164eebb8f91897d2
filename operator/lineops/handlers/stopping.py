"""Timers that stop when kopf stops them.

kopf stops a timer (operator exit, object deleted) by setting its ``stopped`` flag; a timer
in the middle of its handler is not cancelled: kopf waits ``settings.background.
instant_exit_timeout`` and then leaves it running, "orphaned", with a warning. An orphaned
reconcile would keep writing to stores that shutdown is closing. So a timer's work runs under
:func:`until_stopped`: the stop cancels it, and the timer returns at once with nothing to
patch (the next start, or nothing for a deleted object, takes over)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import kopf

T = TypeVar("T")


async def until_stopped(
    stopped: kopf.DaemonStopped | None, work: Coroutine[Any, Any, T]
) -> T | None:
    """``work``'s result, or None if ``stopped`` was set first (``work`` is then cancelled and
    awaited, so nothing of it runs on). Without a flag (not a timer), just ``work``."""
    if stopped is None:
        return await work
    if stopped.is_set():
        work.close()
        return None
    task = asyncio.create_task(work)
    waiter = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            # Stopped, or this handler itself was cancelled: the work goes with it.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return None
    return task.result()
