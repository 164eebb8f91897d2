"""`lineops features training-set`: lots joined to sensor windows, point-in-time correct."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


from lineops.cli.errors import CliError
from lineops.cli.ingest_cmd import load_line
from lineops.cli.line_source import line_from_cluster, parse_line_ref
from lineops.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser("features", help="sensor features: training sets")
    ops = parser.add_subparsers(dest="features_command", metavar="ACTION", required=True)
    ts = ops.add_parser("training-set", help="join lots to sensor windows (no future data)")
    which = ts.add_mutually_exclusive_group(required=True)
    which.add_argument("--line", help="[NAMESPACE/]NAME of a ProductionLine in the cluster")
    which.add_argument("--line-file", help="ProductionLine YAML (instead of the cluster)")
    ts.add_argument("--kubeconfig", default=None, help="with --line (default: $KUBECONFIG)")
    ts.add_argument(
        "--data",
        default=None,
        help="data directory of the ingestion service (the operator's --data-dir; default "
        "$LINEOPS_DATA_DIR, else .lineops)",
    )
    ts.add_argument("--lots", required=True, help="lots CSV/Parquet: lot,work_unit,start,end,...")
    ts.add_argument("--from", dest="start", default=None, help="only lots ending at/after T")
    ts.add_argument("--to", dest="end", default=None, help="only lots ending at/before T")
    ts.add_argument("--out", required=True, help="output .parquet or .csv")
    ts.set_defaults(func=_training_set)


def _time(text: str | None, flag: str) -> pd.Timestamp | None:
    import pandas as pd

    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise CliError(f"{flag}: not a time: {text!r}") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _training_set(args: argparse.Namespace) -> int:
    # pandas, pyarrow and the matching code load only for this command.
    from lineops.dataplane.features import line_sensors
    from lineops.dataplane.matching import LotsError, normalise_lots, read_lots, training_set
    from lineops.dataplane.offline_store import OfflineStore

    if args.line_file:
        line = load_line(args.line_file)
    else:
        line = line_from_cluster(*parse_line_ref(args.line), args.kubeconfig)
    name = line.metadata.name
    assert name is not None
    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    try:
        lots = normalise_lots(read_lots(args.lots))
    except (OSError, LotsError, ValueError) as exc:
        raise CliError(f"{args.lots}: {exc}") from None
    if start is not None:
        lots = lots[lots["end"] >= start]
    if end is not None:
        lots = lots[lots["end"] <= end]
    data = Path(args.data) if args.data else load_settings().data_dir
    store = OfflineStore(data / "offline")
    first = lots["start"].min() if len(lots) else None
    last = lots["as_of"].max() if len(lots) else None
    readings = store.read(name, first, last, work_units=sorted(set(lots["work_unit"])))
    result = training_set(readings, lots.drop(columns=["as_of"]), line_sensors(line.spec))
    if args.out.endswith(".csv"):
        result.to_csv(args.out, index=False)
    else:
        result.to_parquet(args.out, index=False)
    print(f"{args.out}: {len(result)} lots, {len(result.columns)} columns")
    return 0
