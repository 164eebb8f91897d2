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
    except (ValueError, OverflowError):
        raise CliError(f"{flag}: not a time: {text!r}") from None
    if pd.isna(stamp):  # pd.Timestamp("") is NaT, which no lot's end compares with
        raise CliError(f"{flag}: not a time: {text!r}")
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
    if start is not None and end is not None and not start <= end:
        raise CliError(f"--to ({args.end}) is before --from ({args.start})")
    if not args.out.endswith((".parquet", ".csv")):
        raise CliError(f"--out {args.out}: name a .parquet or .csv file")
    if not Path(args.out).resolve().parent.is_dir():
        raise CliError(f"--out {args.out}: no such directory {Path(args.out).parent}")
    try:
        lots = normalise_lots(read_lots(args.lots))
    except (OSError, LotsError, ValueError) as exc:
        raise CliError(f"{args.lots}: {exc}") from None
    units = {u.name for u in line.spec.work_units}
    unknown = sorted(set(lots["work_unit"]) - units)
    if unknown:  # its features would be empty, with no word of why
        raise CliError(f"{args.lots}: work unit {unknown[0]!r} is not declared by line {name}")
    if start is not None:
        lots = lots[lots["end"] >= start]
    if end is not None:
        lots = lots[lots["end"] <= end]
    if lots.empty:
        raise CliError(f"{args.lots}: no lots end within --from/--to")
    data = Path(args.data) if args.data else load_settings().data_dir
    if not (data / "offline").is_dir():  # every feature would be empty
        raise CliError(f"--data {data}: no offline store ({data / 'offline'} does not exist)")
    store = OfflineStore(data / "offline")
    first = lots["start"].min() if len(lots) else None
    last = lots["as_of"].max() if len(lots) else None
    readings = store.read(name, first, last, work_units=sorted(set(lots["work_unit"])))
    if readings.empty:  # every feature of every lot would be empty (docs/ingestion.md)
        raise CliError(
            f"--data {data}: no readings of line {name} for the lots' work units between "
            f"{first} and {last}: every feature would be empty"
        )
    result = training_set(readings, lots.drop(columns=["as_of"]), line_sensors(line.spec))
    try:
        if args.out.endswith(".csv"):
            result.to_csv(args.out, index=False)
        else:
            result.to_parquet(args.out, index=False)
    except OSError as exc:  # a directory of that name, a read-only place
        raise CliError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    print(f"{args.out}: {len(result)} lots, {len(result.columns)} columns")
    return 0
