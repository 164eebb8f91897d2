"""What `lineops model score` says on a TE test stream with repairs, as a new user would see it.

Writes the 22 TE test files joined in a random order (each fault followed by the next file's
160 normal rows) as one CSV, runs the real CLI on it, and scores the labels it printed:

    .venv/bin/lineops model train --task fault-classification --dataset te --out /tmp/te-clf
    .venv/bin/python benchmarks/te_stream_cli.py --model /tmp/te-clf [--order-seed 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from lineops_pipelines import streams, te_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model directory or BentoML tag")
    parser.add_argument("--order-seed", type=int, default=0)
    args = parser.parse_args()
    tests = {f: te_data.load_matrix(f, test=True) for f in te_data.FAULTS}
    stream = streams.te_test_stream(tests, args.order_seed, te_data.TEST_FAULT_ONSET)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "stream.csv"
        header = ",".join(te_data.FEATURES)
        np.savetxt(csv, stream.x, delimiter=",", header=header, comments="", fmt="%.6g")
        lineops = Path(sys.executable).with_name("lineops")
        cmd = [str(lineops), "model", "score", "--model", args.model, "--csv", str(csv), "--json"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    labels = np.array([-1 if r["label"] is None else int(r["label"]) for r in rows])
    raw = np.array([-1 if r["raw_label"] is None else int(r["raw_label"]) for r in rows])
    normal_like = te_data.UNDETECTABLE_FAULTS
    reported = streams.classifier_stream_metrics(stream.truth, labels, normal_like)
    after = streams.post_repair_rows(streams.merge_normal(stream.truth, normal_like))
    print(f"rows {len(rows)}; order seed {args.order_seed}; grace {streams.GRACE} rows")
    print(
        f"label:     macro-F1(19) {reported['macro_f1']:.3f}; post-repair rows said 'normal' "
        f"{np.mean(labels[after] == 0):.3f}; mean delay {reported['mean_delay']:.1f}"
    )
    print(
        f"raw_label: post-repair rows said 'normal' {np.mean(raw[after] == 0):.3f}, "
        f"said 3/9/15 {np.mean(np.isin(raw[after], normal_like)):.3f}"
    )


if __name__ == "__main__":
    main()
