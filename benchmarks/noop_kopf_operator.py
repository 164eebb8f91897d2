"""The baseline of benchmarks/operator_scale.py: a kopf operator that does nothing but mark
every ProductionLine Ready and every QualityModel reconciled (NotTrained, as lineops with
training off), so the benchmark's figure is lineops' cost over kopf's own.

Run: ``python benchmarks/noop_kopf_operator.py --namespace NS`` (KUBECONFIG from the
environment). It patches the same status shape lineops writes: a Ready condition carrying
``observedGeneration``; kopf's defaults otherwise (its own annotations and finalizer)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

import kopf

GROUP, VERSION = "lineops.io", "v1alpha1"


def _ready(status: str, reason: str, generation: int) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "conditions": [
            {
                "type": "Ready",
                "status": status,
                "reason": reason,
                "message": "no-op baseline",
                "observedGeneration": generation,
                "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
    }


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_with_kubeconfig(**kwargs)


@kopf.on.resume(GROUP, VERSION, "productionlines")
@kopf.on.create(GROUP, VERSION, "productionlines")
@kopf.on.update(GROUP, VERSION, "productionlines")
def line(meta: kopf.Meta, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(_ready("True", "Reconciled", int(meta.get("generation") or 0)))


@kopf.on.resume(GROUP, VERSION, "qualitymodels")
@kopf.on.create(GROUP, VERSION, "qualitymodels")
@kopf.on.update(GROUP, VERSION, "qualitymodels")
def model(meta: kopf.Meta, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(_ready("False", "NotTrained", int(meta.get("generation") or 0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespace", required=True)
    args = parser.parse_args()
    kopf.configure(verbose=False)
    asyncio.run(kopf.operator(namespaces=[args.namespace], standalone=True))


if __name__ == "__main__":
    main()
