"""Markdown tables of docs/benchmarks.md (Tennessee Eastman) from `benchmarks/te.py` outputs.

The first folder is the reported seed; the others only add their figures as "seeds" columns.

    .venv/bin/python benchmarks/te.py --out /tmp/te0 --seed 0
    .venv/bin/python benchmarks/te.py --out /tmp/te1 --seed 1
    .venv/bin/python benchmarks/te.py --out /tmp/te2 --seed 2
    .venv/bin/python benchmarks/te_report.py /tmp/te0 /tmp/te1 /tmp/te2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

DETECTORS = {
    "pca_t2": "PCA T² (raw)",
    "pca_spe": "PCA SPE (raw)",
    "ewma_pca_raw": "EWMA-PCA index T²/lim + SPE/lim, raw (λ = 1)",
    "ewma_pca": "EWMA-PCA index, EWMA λ chosen on training data",
    "lineops_raw": "lineops AR forecaster + whitened residual, raw (λ = 1)",
    "lineops": "**lineops AR forecaster + whitened residual + EWMA, λ chosen on training data**",
}
CLASSIFIERS = {
    "extratrees_500_raw": "ExtraTrees 500, per-row (raw)",
    "extratrees_500_filtered": "ExtraTrees 500 + its filter chosen on training streams",
    "lineops_forest_mlp_raw": "lineops forest + MLP, per-row (raw)",
    "lineops_forest_mlp_filtered": "**lineops forest + MLP + its filter (training streams)**",
}


def _load(folder: str) -> dict[str, Any]:
    return json.loads((Path(folder) / "te-benchmark.json").read_text())


def _seeds(others: list[dict[str, Any]], get: Any) -> str:
    return " / ".join(f"{get(o):.3f}" for o in others) or "–"


def detector_tables(main: dict[str, Any], others: list[dict[str, Any]]) -> list[str]:
    sel = main["detector_smoothing_selection"]
    out = [
        f"λ chosen on training data (seed {main['seed']}): lineops {sel['lineops']['best']}, "
        f"EWMA-PCA {sel['ewma_pca']['best']}.",
        "",
        "| detector | λ | detection @5 % FAR | delay @5 % FAR, mean / median | stored "
        "threshold: detection | FAR on d00_te | streams: alarm rate after repair | streams: "
        "false-alarm rate | streams: delay (stored) | detection @5 % FAR, other seeds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, label in DETECTORS.items():
        r = main["detectors"][key]
        st = r["streams"]
        median = float(np.median(list(r["delay_at_5pct_far"].values())))
        out.append(
            f"| {label} | {r['ewma_lambda']:g} | {r['mean_detection_at_5pct_far']:.3f} | "
            f"{r['mean_delay_at_5pct_far']:.1f} / {median:.1f} | "
            f"{r['mean_detection_stored']:.3f} | {r['stored_far_d00_te']:.3f} | "
            f"{st['alarm_rate_after_repair']:.3f} | {st['false_alarm_rate']:.3f} | "
            f"{st['mean_delay']:.1f} | "
            f"{_seeds(others, lambda o, k=key: o['detectors'][k]['mean_detection_at_5pct_far'])} |"
        )
    out += ["", "Delay @5 % FAR per fault (rows after the onset; 800 = never):", ""]
    faults = list(main["detectors"]["lineops"]["delay_at_5pct_far"])
    out.append("| detector | " + " | ".join(faults) + " |")
    out.append("|---|" + "---|" * len(faults))
    for key in ("ewma_pca", "lineops"):
        d = main["detectors"][key]["delay_at_5pct_far"]
        out.append(f"| {key} | " + " | ".join(str(d[f]) for f in faults) + " |")
    return out


def classifier_tables(main: dict[str, Any], others: list[dict[str, Any]]) -> list[str]:
    out = [
        "| classifier | filter | per file: macro-F1 (19) | macro-F1 (22, raw class) | "
        "accuracy (22) | normal rows reported normal | streams: macro-F1 (19) | streams: "
        "post-repair rows reported normal | streams: mean delay | train s | macro-F1 (19) "
        "per file / streams, other seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, label in CLASSIFIERS.items():
        r = main["classifiers"][key]
        st = r["streams"]
        other = " ; ".join(
            f"{o['classifiers'][key]['macro_f1_19']:.3f} / "
            f"{o['classifiers'][key]['streams']['macro_f1']:.3f}"
            for o in others
        )
        out.append(
            f"| {label} | {r['filter']} | {r['macro_f1_19']:.3f} | {r['macro_f1']:.3f} | "
            f"{r['accuracy']:.3f} | {r['reported_normal_on_normal_rows']:.3f} | "
            f"{st['macro_f1']:.3f} | {st['post_repair_normal']:.3f} | {st['mean_delay']:.1f} | "
            f"{r['train_seconds']:.0f} | {other or '–'} |"
        )
    out += [
        "",
        "Streams, delay per fault (rows until 3 consecutive right labels, mean of 3 streams):",
        "",
    ]
    per = {
        k: _mean_delays(main["classifiers"][k]["streams"]["per_stream"])
        for k in ("extratrees_500_filtered", "lineops_forest_mlp_filtered")
    }
    faults = sorted(per["lineops_forest_mlp_filtered"], key=int)
    out.append("| classifier | " + " | ".join(faults) + " |")
    out.append("|---|" + "---|" * len(faults))
    for key, delays in per.items():
        out.append(f"| {key} | " + " | ".join(f"{delays[f]:.0f}" for f in faults) + " |")
    normal_like = {k: r["normal_like"] for k, r in main["classifiers"].items()}
    out += ["", f"Classes reported as normal (held-out test at training): {normal_like}"]
    return out


def _mean_delays(rows: list[dict[str, Any]]) -> dict[str, float]:
    faults = rows[0]["delay"]
    return {f: float(np.mean([r["delay"][f] for r in rows])) for f in faults}


def selection_table(main: dict[str, Any], top: int = 6) -> list[str]:
    out = []
    for who, sel in main.get("classifier_filter_selection", {}).items():
        out += [
            "",
            f"{who}: chosen `{sel['best']}` ({sel['seconds']:.0f} s)",
            "",
            "| filter (training streams with repairs) | macro-F1 (19) | post-repair normal | "
            "mean delay |",
            "|---|---|---|---|",
        ]
        rows = sorted(sel["table"].items(), key=lambda kv: -kv[1]["macro_f1"])
        keep = rows[:top] + [kv for kv in rows[top:] if kv[0] in ("none", "ewma 0.05")]
        for name, r in keep:
            out.append(
                f"| {name} | {r['macro_f1']:.3f} | {r['post_repair_normal']:.3f} | "
                f"{r['mean_delay']:.1f} |"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="--out folders of benchmarks/te.py")
    args = parser.parse_args()
    runs = [_load(f) for f in args.folders]
    first, others = runs[0], runs[1:]
    print(f"seed {first['seed']}; other seeds: {[o['seed'] for o in others]}\n")
    print("\n".join(detector_tables(first, others)))
    if first["classifiers"]:
        print()
        print("\n".join(classifier_tables(first, others)))
        print("\n".join(selection_table(first)))


if __name__ == "__main__":
    main()
