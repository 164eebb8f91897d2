"""Classifier variants scored on TRAINING streams with repairs only (never the test files).

Each variant of the lineops classifier is scored by ``classifier_stream_validation`` with the
filters that win there (HMM, onset 0.1, evidence 0.2/0.3, repair 1e-3/1e-4) and without a
filter; one JSON line per variant (about 1 minute each on 2 cores):

    .venv/bin/python benchmarks/te_variants.py [--seed 0] [VARIANT ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import te
from lineops_pipelines import te_data
from lineops_pipelines.classifier_selection import classifier_stream_validation
from lineops_pipelines.training import make_config

VARIANTS = {
    "default": {},
    "net 0": {"net_weight": 0.0},
    "net 0.5": {"net_weight": 0.5},
    "net 0.7": {"net_weight": 0.7},
    "max_features 0.5": {"max_features": 0.5},
    "trees 600": {"trees": 600},
    "window 30": {"window": 30},
    "diff_window 20": {"diff_window": 20},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=", ".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train = {f: te_data.load_matrix(f) for f in te_data.FAULTS}
    candidates = {
        name: overrides
        for name, overrides in te.STREAM_FILTERS.items()
        if "onset 0.1" in name and ("repair 0.001" in name or "repair 0.0001" in name)
    }
    candidates["none"] = te.STREAM_FILTERS["none"]
    for name in args.variants or VARIANTS:
        config = make_config("fault-classification", overrides=VARIANTS[name])
        start = time.time()
        result = classifier_stream_validation(
            train, (0, *te.NORMAL_LIKE), te._ours(config), candidates, config, (args.seed,)
        )
        row = {
            "variant": name,
            "seed": args.seed,
            "best": result["best"],
            **{k: round(v, 4) for k, v in result["table"][result["best"]].items()},
            "macro_f1_no_filter": round(result["table"]["none"]["macro_f1"], 4),
            "seconds": round(time.time() - start),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
