"""The demo's lots step (issue #22): te-line's replay opened and closed production lots from
the readings' ``lot`` field; the demo receives two supplier lots, records what each
production lot consumed and one inspection, then shows a backward trace, the model tag that
judged the lot, and the recall of a supplier lot."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections import Counter
from typing import Any

from lineops.cli.demo_cmd import _post, step

LINE = "te-line"
TRACED = "te-lot-0002"
SUPPLIES = (  # lot, material, quantity, unit, supplier, supplier lot, per production lot
    ("mat-A-117", "reactant-A", "500", "kg", "Acme Chemicals", "ACM-2026-117", "40"),
    ("mat-C-88", "catalyst-C", "20", "kg", "Borealis Catalysts", "BC-88", "1.5"),
)


def lots(ns: str, data_url: str) -> None:
    base = f"{data_url}/v1/namespaces/{ns}/lines/{LINE}"
    made = _get(f"{base}/lots?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z")["lots"]
    closed = [lot["lot"] for lot in made if lot["status"] == "closed"]
    still = [lot["lot"] for lot in made if lot["status"] == "open"]
    step(f"lots: te-line's readings opened and closed {len(made)} production lots on their own")
    if not closed:  # the trace below needs one (closed[-1] was an IndexError)
        from lineops.cli.errors import CliError

        raise CliError(f"no production lot of {LINE} closed (open: {', '.join(still) or '-'})")
    print(f"   closed: {', '.join(closed[:3])} ... {closed[-1]}; open: {', '.join(still) or '-'}")

    lot, material, quantity, unit, supplier, supplier_lot, _ = SUPPLIES[0]
    _lineops(
        "receive", lot, "--material", material, "--quantity", quantity, "--unit", unit,
        "--supplier", supplier, "--supplier-lot", supplier_lot, "--url", data_url,
        "--line", f"{ns}/{LINE}", show=True,
    )  # fmt: skip
    for lot, material, quantity, unit, supplier, supplier_lot, _ in SUPPLIES[1:]:
        _post(
            f"{base}/material-lots",
            {
                "lot": lot, "material": material, "quantity": quantity, "unit": unit,
                "supplier": supplier, "supplierLot": supplier_lot,
                "receivedAt": _now(),
            },
        )  # fmt: skip
    for output in closed:
        inputs = [{"lot": s[0], "quantity": s[6], "unit": s[3]} for s in SUPPLIES]
        _post(
            f"{base}/consumptions",
            {
                "consumption": f"use-{output}",
                "outputLot": output,
                "inputs": inputs,
                "consumedAt": _now(),
            },
        )
    print(f"   each closed lot consumed {' + '.join(f'{s[6]} {s[3]} {s[1]}' for s in SUPPLIES)}")
    _post(
        f"{base}/quality-results",
        {
            "result": f"qc-{TRACED}",
            "lot": TRACED,
            "inspection": "final",
            "outcome": "fail",
            "measurements": {"purity": 0.91},
            "inspectedAt": _now(),
        },
    )

    _lineops("trace", "--backward", TRACED, "--url", data_url, "--line", f"{ns}/{LINE}", show=True)
    predictions = _get(f"{base}/predictions?lot={TRACED}")["records"]
    tags = Counter(p["modelTag"] for p in predictions)
    labels = Counter(str((p.get("result") or {}).get("label")) for p in predictions)
    for tag, count in tags.items():
        print(f"   {TRACED} was judged by {tag}: {count} predictions, labels {dict(labels)}")
    _lineops("recall", "--supplier-lot", "ACM-2026-117", "--url", data_url, "--line",
             f"{ns}/{LINE}", show=True, limit=8)  # fmt: skip


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _lineops(*args: str, show: bool = False, limit: int = 30) -> None:
    command = ["lots", *args]
    if show:
        step("lineops " + " ".join(a if " " not in a else repr(a) for a in command))
    done = subprocess.run(
        [sys.executable, "-m", "lineops.cli.main", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        from lineops.cli.errors import CliError

        raise CliError(f"lineops {' '.join(command)}: {done.stderr.strip()[-2000:]}")
    lines = done.stdout.splitlines()
    for line in lines[:limit]:
        print(f"   {line}")
    if len(lines) > limit:
        print(f"   ... ({len(lines) - limit} more lines)")
