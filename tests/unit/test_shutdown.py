"""Bounded shutdown, in pieces: a stopped timer cancels its work (handlers.stopping), and
close_all closes every component within its deadline even when one hangs or fails. The whole
(a real operator process with many lines, SIGTERM) is tests/integration/test_shutdown.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import kopf
import pytest
from kopf._cogs.aiokits.aioenums import FlagSetter  # how kopf builds a timer's `stopped`
from lineops.handlers.components import close_all
from lineops.handlers.stopping import until_stopped


def test_a_timer_returns_its_work_when_not_stopped() -> None:
    async def scenario() -> None:
        stopper: FlagSetter[kopf.DaemonStoppingReason] = FlagSetter()

        async def work() -> str:
            await asyncio.sleep(0.01)
            return "outcome"

        assert await until_stopped(stopper.async_waiter, work()) == "outcome"
        assert await until_stopped(None, work()) == "outcome"  # not a timer: just the work

    asyncio.run(scenario())


def test_a_stop_cancels_the_timers_work_and_returns_nothing() -> None:
    async def scenario() -> None:
        stopper: FlagSetter[kopf.DaemonStoppingReason] = FlagSetter()
        cancelled = asyncio.Event()

        async def work() -> str:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "never"

        timer = asyncio.create_task(until_stopped(stopper.async_waiter, work()))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        stopper.set(kopf.DaemonStoppingReason.OPERATOR_EXITING)
        assert await asyncio.wait_for(timer, 5) is None
        assert time.monotonic() - started < 1.0 and cancelled.is_set()
        # Already stopped: the work does not even start.
        assert await until_stopped(stopper.async_waiter, work()) is None

    asyncio.run(scenario())


def test_a_failing_timers_error_still_reaches_kopf() -> None:
    async def scenario() -> None:
        stopper: FlagSetter[kopf.DaemonStoppingReason] = FlagSetter()

        async def work() -> str:
            raise kopf.TemporaryError("backend busy", delay=1)

        with pytest.raises(kopf.TemporaryError, match="backend busy"):
            await until_stopped(stopper.async_waiter, work())

    asyncio.run(scenario())


class _Step:
    """A component whose close hangs, fails or works, recording that it was asked."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.closed = False

    async def close(self, **_: Any) -> None:
        self.closed = True
        if self.how == "hang":
            await asyncio.sleep(3600)
        if self.how == "fail":
            raise OSError("disk gone")

    stop = close


class _Kube:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_close_all_keeps_its_deadline_and_closes_the_rest_after_a_hang_or_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probes, serving, app, training = _Step("fail"), _Step("hang"), _Step("ok"), _Step("ok")
    kube = _Kube()

    async def scenario() -> float:
        started = time.monotonic()
        await close_all(probes, app, training, kube, serving, timeout=2.0)  # type: ignore[arg-type]
        return time.monotonic() - started

    took = asyncio.run(scenario())
    # Serving hung: cancelled at its share of the deadline; everything after it still closed.
    assert took < 2.0 + 1.0, took
    assert probes.closed and serving.closed and app.closed and training.closed and kube.closed
    assert "closing the probe server failed" in caplog.text
    assert "closing the serving overran" in caplog.text
