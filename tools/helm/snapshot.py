#!/usr/bin/env python3
"""Render the chart with its default values into helm/snapshots/default.yaml.

The snapshot is what `helm install` applies when nobody sets a value; reviewing its diff is
reviewing what a chart change does to every default install. tests/integration/test_helm.py
fails when the committed file differs from a fresh render; after an intended change run

    make helm-snapshot          # or: python3 tools/helm/snapshot.py

Standard library only, like fetch.py, whose pinned helm it uses.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch

CHART = fetch.REPO / "helm" / "lineops"
SNAPSHOT = fetch.REPO / "helm" / "snapshots" / "default.yaml"
# Fixed release name, namespace and cluster version, so the render depends on the chart only.
RELEASE = "lineops"
NAMESPACE = "lineops-system"
KUBE_VERSION = "1.36.0"
HEADER = (
    "# Rendered by tools/helm/snapshot.py (make helm-snapshot): `helm template lineops\n"
    "# helm/lineops --namespace lineops-system` with the default values. Do not edit;\n"
    "# tests/integration/test_helm.py fails when this drifts from the chart.\n"
)


def render(helm: Path) -> str:
    proc = subprocess.run(
        [
            str(helm),
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"helm template failed:\n{proc.stderr}")
    return HEADER + proc.stdout


def main() -> int:
    helm = fetch.fetch() / "helm"
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(render(helm))
    print(SNAPSHOT.relative_to(fetch.REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
