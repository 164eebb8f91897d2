"""The start-up handler as kopf retries it: a failed attempt leaves no second thread pool."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import kopf
import pytest
from lineops.handlers.lifecycle import configure
from lineops.settings import Settings


def test_a_retried_start_up_sets_the_thread_pool_once(tmp_path: Path) -> None:
    # A kubeconfig that does not exist: each attempt fails once the pool is set, as an
    # attempt that kopf retries would.
    config = Settings(kubeconfig=str(tmp_path / "missing"), data_dir=str(tmp_path))
    memo = kopf.Memo(config=config)

    async def attempts() -> str:
        pools = []
        for _ in range(2):
            with pytest.raises(Exception, match=r"missing|kube"):
                await configure(
                    settings=kopf.OperatorSettings(),
                    memo=memo,
                    logger=logging.getLogger("test"),
                )
            pools.append(memo["executor"])
        assert pools[0] is pools[1]
        # The loop's default pool is that one: its threads carry the operator's prefix.
        return await asyncio.to_thread(lambda: threading.current_thread().name)

    assert asyncio.run(attempts()).startswith("lineops")
