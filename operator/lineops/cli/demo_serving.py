"""The demo's serving step: the operator-served champion judges replayed lots (a backfill
through ``predict_batch``, logged per lot) and a live lot through `lineops predict`."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

from lineops.cli.demo_cmd import FAULTS_MODEL, _condition, _obj, _poll, _post, step

LIVE_LOT = "te-lot-0011"  # the replay made te-lot-0001..0010


def served(custom: Any, ns: str, data_url: str, kubeconfig: str) -> None:
    import numpy as np
    import pandas as pd

    from lineops.backends.serving.client import InspectorClient, InspectorError
    from lineops.services.replay import TE_COLUMNS

    te_data = importlib.import_module("lineops_pipelines.te_data")

    def serving() -> dict[str, Any] | None:
        obj = _obj(custom, ns, "qualitymodels", FAULTS_MODEL)
        ready = _condition(obj, "Serving").get("status") == "True"
        return (obj.get("status") or {}).get("serving") if ready else None

    state = _poll(f"{FAULTS_MODEL} to be served (bentoml serve)", serving, timeout=240)
    client = InspectorClient(state["endpoint"])
    step(f"the served champion {state['champion']} answers on {state['endpoint']}")
    rows = te_data.load_matrix(6, test=True)[150:260]  # fault 6 begins at row 160
    columns = [f"{column}__last" for column in TE_COLUMNS]
    lots = ["te-lot-0001"] * 55 + ["te-lot-0002"] * 55
    batch = client.predict_batch(columns, rows.tolist(), lots=lots, work_unit="te-process")
    for lot in ("te-lot-0001", "te-lot-0002"):
        labels = [str(r.label) for r, of in zip(batch.results, lots, strict=True) if of == lot]
        counts = dict(zip(*np.unique(labels, return_counts=True), strict=True))
        shown = ", ".join(f"{k}: {int(v)}" for k, v in counts.items())
        print(f"   lot {lot}: 55 TE rows (fault 6 from row 160) judged {shown}")
    print(f"   by {batch.model_tag}; each row logged with its lot in the prediction log")

    # A live lot: the newest TE row again, timed now, so the online features are fresh.
    now = pd.Timestamp.now(tz="UTC").floor("s").isoformat()
    readings = [
        {
            "work_unit": "te-process",
            "sensor": s,
            "timestamp": now,
            "value": float(v),
            "lot": LIVE_LOT,
        }
        for s, v in zip(TE_COLUMNS, rows[-1], strict=True)
    ]
    _post(f"{data_url}/v1/namespaces/{ns}/lines/te-line/readings", {"readings": readings})

    def fresh() -> bool:
        try:
            return bool(client.predict("te-process", lot=LIVE_LOT).feature_age_seconds < 60)
        except InspectorError as exc:
            if exc.status == 409:  # stale until the line materialises the new readings
                return False
            raise

    _poll("te-line's online features to take the live lot's readings", fresh, timeout=60)
    command = ["predict", "--line", f"{ns}/te-line", "--model", FAULTS_MODEL]
    command += ["--work-unit", "te-process", "--lot", LIVE_LOT]
    command += ["--kubeconfig", kubeconfig]
    step("lineops " + " ".join(command))  # as it runs, so it can be copied
    done = subprocess.run(
        [sys.executable, "-m", "lineops.cli.main", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (done.stdout or done.stderr).splitlines():
        print(f"   {line}")
    if done.returncode != 0:  # the demo went on and ended "done" after a failed predict
        from lineops.cli.errors import CliError

        raise CliError(f"the demo's `lineops predict` failed (exit {done.returncode})")
    if "no answer yet" in done.stdout:
        print(
            "   (a served classifier builds its window from successive online snapshots of the"
            " unit, one per materialisation; the replayed lots above were judged in full)"
        )
