"""`lineops ingest serve|replay|line-spec`: run the ingestion endpoint, replay real data."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lineops.api.productionline import ProductionLine
from lineops.cli.errors import CliError
from lineops.services import replay as replay_mod


def load_line(path: str) -> ProductionLine:
    """A ProductionLine manifest from a YAML file, validated like the API server would."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"{path}: {exc}") from None
    try:
        line = ProductionLine.model_validate(document)
    except ValidationError as exc:
        raise CliError(f"{path}: not a valid ProductionLine: {exc}") from None
    if not line.metadata.name:
        raise CliError(f"{path}: metadata.name is required")
    return line


def register(sub: Any) -> None:
    parser = sub.add_parser("ingest", help="sensor-reading ingestion: serve, replay")
    ops = parser.add_subparsers(dest="ingest_command", metavar="ACTION", required=True)

    serve = ops.add_parser("serve", help="run the HTTP ingestion endpoint for line files")
    serve.add_argument("--line-file", action="append", required=True, help="ProductionLine YAML")
    serve.add_argument("--data", required=True, help="data directory (stores, Feast)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    serve.add_argument("--no-feast", action="store_true", help="skip the Feast online store")
    serve.set_defaults(func=_serve)

    replay = ops.add_parser("replay", help="stream a real dataset into an ingestion endpoint")
    replay.add_argument("--dataset", choices=replay_mod.DATASETS, required=True)
    replay.add_argument("--url", required=True, help="endpoint base, e.g. http://127.0.0.1:8081")
    replay.add_argument("--line", default=None, help="line name (default: the dataset's line)")
    replay.add_argument("--speed", type=float, default=60.0, help="N x real time; 0 = max")
    replay.add_argument("--fault", type=int, default=0, help="Tennessee Eastman fault 0..21")
    replay.add_argument("--limit", type=int, default=None, help="replay at most N rows")
    replay.set_defaults(func=_replay)

    spec = ops.add_parser("line-spec", help="write a ProductionLine matching a dataset")
    spec.add_argument("--dataset", choices=replay_mod.DATASETS, required=True)
    spec.add_argument("--out", required=True)
    spec.set_defaults(func=_line_spec)


def _serve(args: argparse.Namespace) -> int:
    lines = [load_line(path) for path in args.line_file]
    return asyncio.run(_serve_async(args, lines))


async def _serve_async(args: argparse.Namespace, lines: list[ProductionLine]) -> int:
    # Feast's SDK takes seconds to import: only the commands that need it pay for it.
    from prometheus_client import CollectorRegistry

    from lineops.backends.feast_store import FeastStore
    from lineops.dataplane.ingestion import IngestionServer, IngestionService

    data = Path(args.data)
    registry = CollectorRegistry()
    feast = None if args.no_feast else FeastStore.local(data)
    service = IngestionService(data, registry, feast=feast)
    for line in lines:
        assert line.metadata.name is not None
        await asyncio.to_thread(service.configure_line, line.metadata.name, line.spec)
    server = IngestionServer(service, registry, host=args.host, port=args.port)
    port = await server.start()
    await service.start()
    # One JSON line on stdout, so scripts and tests learn the bound port.
    print(json.dumps({"url": server.url, "port": port, "lines": service.lines}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    await service.stop()
    return 0


def _replay(args: argparse.Namespace) -> int:
    try:
        frame = replay_mod.load(args.dataset, args.fault)
    except (replay_mod.DatasetError, OSError) as exc:
        raise CliError(str(exc)) from None
    line = args.line or replay_mod.LINES[args.dataset]
    url = f"{args.url.rstrip('/')}/v1/lines/{line}/readings"
    try:
        stats = replay_mod.replay(
            frame,
            url=url,
            work_unit=replay_mod.WORK_UNITS[args.dataset],
            speed=args.speed,
            limit=args.limit,
        )
    except OSError as exc:
        raise CliError(f"{url}: {exc}") from None
    json.dump(stats.__dict__, sys.stdout, indent=2)
    print()
    return 0


def _line_spec(args: argparse.Namespace) -> int:
    manifest = replay_mod.line_manifest(args.dataset)
    header = (
        f"# Generated by `lineops ingest line-spec --dataset {args.dataset}` from the data in\n"
        "# the installed bibmon package (not copied here). validRange = data range +/- 1x its\n"
        "# span: generous but finite, so junk values are still quarantined.\n"
    )
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(header)
        yaml.safe_dump(manifest, handle, sort_keys=False, width=100)
    return 0
