"""Each `bentoml serve` the operator starts has a multi-process metrics directory of its own
(issue 24): BentoML empties ``$BENTOML_HOME/prometheus_multiproc_dir`` when a server starts
and exports every file in it, so with one shared home a second model's start wiped the first
one's series and each process exported the other's. Real ``bentoml serve`` processes started
by LocalServingBackend (two models, one tag), on the real data plane and Feast store of the
serving fixtures; none of PROMETHEUS_MULTIPROC_DIR reaches them from the operator."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from pathlib import Path
from typing import Final

import pytest
from lineops.backends.serving.local import LocalServingBackend, LocalServingConfig
from lineops.backends.serving.protocol import ServeRequest

from tests.integration.serving.conftest import Plant

pytestmark = pytest.mark.integration

ROOT: Final = Path(__file__).resolve().parents[3]
LINE_NS: Final = "plant-a"


def _metrics(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def test_each_served_model_exports_its_own_series_only(
    plant: Plant, model_store: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, tag = model_store
    # The operator's model store is $LINEOPS_DATA_DIR/bentoml; here, the fixture's store.
    data_dir = plant.data_dir
    if not (data_dir / "bentoml").exists():
        (data_dir / "bentoml").symlink_to(home, target_is_directory=True)
    # Even if the operator's environment had a multi-process directory, children get none.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(data_dir / "operator-multiproc"))
    backend = LocalServingBackend(
        LocalServingConfig(data_dir, plant.served.url, bentos_dir=ROOT / "bentos")
    )

    async def scenario() -> dict[str, str]:
        try:
            endpoints = {}
            for model in ("model-a", "model-b"):
                state = await backend.ensure(ServeRequest(LINE_NS, model, tag))
                assert state.endpoint is not None
                endpoints[model] = state.endpoint
                # One after the other: the second start is what used to wipe the first.
                deadline = time.monotonic() + 180
                while (s := backend.state(LINE_NS, model)) is None or s.phase != "Serving":
                    assert time.monotonic() < deadline, backend.state(LINE_NS, model)
                    await asyncio.sleep(0.2)
            return {m: await asyncio.to_thread(_metrics, url) for m, url in endpoints.items()}
        finally:
            await backend.close()

    exported = asyncio.run(scenario())
    for model, other in (("model-a", "model-b"), ("model-b", "model-a")):
        text = exported[model]
        assert f'model="{model}"' in text, text[-2000:]
        assert f'model="{other}"' not in text, text[-2000:]
    homes = sorted(p.name for p in (data_dir / "serving" / LINE_NS).glob("*/bentoml-home-*"))
    assert len(homes) == 2, homes
    assert not os.path.exists(data_dir / "operator-multiproc")
