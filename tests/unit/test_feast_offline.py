"""Feast without an offline store (lineops.backends.feast_offline): a FeatureStore configured
with ``NoOfflineStore`` applies a line's objects, takes pushed window aggregates and serves
them online without importing dask or scipy (Feast's "file" store imports both), and a call
that would need an offline store says so.

Run in a fresh interpreter: another test of this session may have imported dask already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys
from pathlib import Path
from lineops.backends import feast_torch
feast_torch.install()
import feast
import pandas as pd
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from feast.repo_config import RepoConfig
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_offline import OFFLINE_STORE_TYPE
from lineops.backends.feast_store import WORK_UNIT_KEY, FeastStore
from lineops.dataplane.features import plan_line_features

root = Path(sys.argv[1])
spec = ProductionLineSpec.model_validate(json.loads(sys.argv[2]))
config = RepoConfig(
    project="lineops",
    provider="local",
    registry=str(root / "registry.db"),
    online_store=SqliteOnlineStoreConfig(path=str(root / "online.db")),
    offline_store={"type": OFFLINE_STORE_TYPE},
    entity_key_serialization_version=3,
    repo_path=str(root),
)
store = FeastStore(lambda: feast.FeatureStore(config=config))
plan = plan_line_features("line-a", spec, root / "aggregates")
store.apply_line(plan)
row = {WORK_UNIT_KEY: "press-01", "event_timestamp": pd.Timestamp.now(tz="UTC")}
for feature in plan.views[0].features:
    row[feature.name] = 3 if feature.dtype == "int64" else 1.5
store.push_aggregates("line-a", pd.DataFrame([row]))
online = store.online_features("line-a", ["press-01"])
entities = pd.DataFrame([{WORK_UNIT_KEY: "press-01", "event_timestamp": row["event_timestamp"]}])
try:
    store.store.get_historical_features(
        entity_df=entities,
        features=[f"{plan.views[0].name}:{plan.views[0].features[0].name}"],
    ).to_df()
    refused = ""
except NotImplementedError as exc:
    refused = str(exc)
print(json.dumps({
    "online": {k: v for k, v in online.items() if k != WORK_UNIT_KEY},
    "loaded": sorted(m for m in ("dask", "scipy") if m in sys.modules),
    "refused": refused,
}))
"""


def test_feast_runs_without_an_offline_store_and_without_dask(tmp_path: Path) -> None:
    from tests.support.scale import line_body

    spec = json.dumps(line_body("line-a")["spec"])
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), spec],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    values = [v[0] for v in result["online"].values()]
    assert values and all(v in (1.5, 3) for v in values), result["online"]
    assert "get_historical_features" in result["refused"]
    assert "lineops configures no Feast offline store" in result["refused"]
