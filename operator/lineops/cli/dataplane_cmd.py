"""`lineops dataplane serve`, `lineops db upgrade`, `lineops quarantine list|release`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import Any

from lineops.api.productionline import ProductionLine
from lineops.cli.errors import CliError, http_url, integer_in, one_line
from lineops.cli.heap import freeze_startup_heap
from lineops.cli.ingest_cmd import load_line
from lineops.cli.malloc_arenas import limit_malloc_arenas


def register(sub: Any) -> None:
    plane = sub.add_parser("dataplane", help="the data plane: readings and MES records API")
    ops = plane.add_subparsers(dest="dataplane_command", metavar="ACTION", required=True)
    serve = ops.add_parser("serve", help="serve lines' readings and MES records over HTTP")
    serve.add_argument("--line-file", action="append", required=True, help="ProductionLine YAML")
    serve.add_argument("--data", required=True, help="data directory (Parquet, Feast)")
    serve.add_argument(
        "--db",
        default=None,
        help="database URL (default: LINEOPS_DB_URL, else SQLite lineops.db in --data)",
    )
    serve.add_argument(
        "--offline",
        default=None,
        help="raw readings store: a path or a pyarrow filesystem URI (file://, s3://bucket/"
        "prefix?endpoint_override=...; default: LINEOPS_OFFLINE_URI, else --data/offline)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=integer_in(0, 65535), default=8081, help="0 picks a free port"
    )
    serve.add_argument(
        "--token-file",
        default=None,
        help="require this bearer token for writes (default: LINEOPS_API_TOKEN_FILE, else none)",
    )
    serve.add_argument(
        "--no-feast",
        action="store_true",
        help="skip Feast (else: LINEOPS_FEAST_REDIS + LINEOPS_FEAST_REGISTRY_URL, or files in "
        "--data)",
    )
    serve.set_defaults(func=_serve)

    spec = ops.add_parser("openapi", help="write the API document (docs/dataplane-openapi.json)")
    spec.add_argument("--out", default="docs/dataplane-openapi.json")
    spec.add_argument("--check", action="store_true", help="fail if --out differs")
    spec.set_defaults(func=_openapi)

    db = sub.add_parser("db", help="the data plane's database")
    db_ops = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_ops.add_parser("upgrade", help="apply schema migrations")
    upgrade.add_argument(
        "--db", required=True, help="database URL (sqlite:///... or postgresql+psycopg://...)"
    )
    upgrade.add_argument(
        "--revision", default="head", help="the Alembic revision to upgrade to (default head)"
    )
    upgrade.set_defaults(func=_upgrade)
    current = db_ops.add_parser("current", help="print the schema revision")
    current.add_argument("--db", required=True)
    current.set_defaults(func=_current)

    quarantine = sub.add_parser("quarantine", help="items that could not be used")
    q_ops = quarantine.add_subparsers(dest="quarantine_command", metavar="ACTION", required=True)
    listing = q_ops.add_parser("list", help="quarantined items, oldest first (JSON lines)")
    listing.add_argument("--db", required=True)
    listing.add_argument("--line", default=None, help="namespace/name")
    listing.add_argument(
        "--kind",
        default=None,
        # a typo ("measurement") listed nothing, exit 0, as if the quarantine were empty
        choices=("readings", "measurements", "events", "counts", "predictions"),
        help="readings, measurements, events, counts, predictions",
    )
    listing.add_argument("--reason", default=None)
    listing.add_argument("--limit", type=integer_in(1, 10**6, "items"), default=100)
    listing.add_argument("--released", action="store_true", help="include released items")
    listing.set_defaults(func=_list)
    release = q_ops.add_parser(
        "release",
        help="re-ingest quarantined items against the line's spec as it is now: through a "
        "running data plane (--url: readings and records) or a database (--db: records)",
    )
    where = release.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--url", type=http_url, help="a running data plane, e.g. http://127.0.0.1:8081"
    )
    where.add_argument("--db", help="database URL (MES records only; needs --line-file)")
    release.add_argument("--line", default=None, help="namespace/name (with --url)")
    release.add_argument("--line-file", default=None, help="the ProductionLine as it is now")
    release.add_argument("--token-file", default=None, help="bearer token (with --url)")
    release.add_argument(
        "--kind",
        default=None,
        help="readings, measurements, events, counts (predictions are not re-ingested)",
    )
    release.add_argument("--reason", default=None)
    release.add_argument("--limit", type=integer_in(1, 10**7, "items"), default=100_000)
    release.set_defaults(func=_release)


def _openapi(args: argparse.Namespace) -> int:
    from lineops.dataplane.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else ""
        if current != text:
            raise CliError(f"{out} is out of date: run `lineops dataplane openapi --out {out}`")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.dataplane.db.engine import SchemaError, upgrade

    try:
        before, after = upgrade(args.db, args.revision)
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"--db: {one_line(exc)}") from None
    except (CommandError, AssertionError) as exc:
        # Alembic's refusal of an unknown revision ("nope", "head+1", ""): a traceback before
        raise CliError(
            f"--revision {args.revision!r}: {str(exc) or 'not a revision of this schema'}"
        ) from None
    print(json.dumps({"from": before, "to": after}))
    return 0


def _current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.dataplane.db.engine import SchemaError, current_revision, head_revision, new_engine

    try:
        engine = new_engine(args.db, must_exist=True)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"--db: {one_line(exc)}") from None
    print(json.dumps({"current": revision, "head": head_revision()}))
    return 0


def _open(url: str) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.dataplane.db.database import open_database
    from lineops.dataplane.db.engine import SchemaError

    try:
        return open_database(url, create_empty=False)
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"--db: {one_line(exc)}") from None


def _list(args: argparse.Namespace) -> int:
    from lineops.dataplane.lines import LineRef

    try:
        line = None if args.line is None else LineRef.parse(args.line)
    except ValueError as exc:
        raise CliError(f"--line: {exc}") from None
    db = _open(args.db)
    try:
        items = db.quarantine.list(
            line,
            kind=args.kind,
            reason=args.reason,
            include_released=args.released,
            limit=args.limit,
        )
    finally:
        db.close()
    for item in items:
        row = {
            "id": item.id,
            "line": str(item.line),
            "kind": item.kind,
            "reason": item.reason,
            "detail": item.detail,
            "source": item.source,
            "received_at": item.received_at,
            "released_at": item.released_at,
            "record": item.record,
        }
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _release(args: argparse.Namespace) -> int:
    from lineops.dataplane.lines import LineRef
    from lineops.dataplane.release import release_records

    if args.url is not None:
        return _release_remote(args)
    if args.line_file is None:
        raise CliError("--db needs --line-file (the ProductionLine as it is now)")
    if args.kind == "readings":
        raise CliError(
            "--kind readings: readings are re-ingested by a running data plane; use --url"
        )
    line = load_line(args.line_file)
    assert line.metadata.name is not None
    ref = LineRef(line.metadata.namespace or "default", line.metadata.name)
    if args.line is not None and args.line != f"{ref.namespace}/{ref.name}":
        # --db releases the line of --line-file; a different --line was ignored (exit 0,
        # nothing examined) although the user meant another namespace.
        raise CliError(
            f"--line {args.line}: --db releases the line of --line-file, "
            f"{ref.namespace}/{ref.name}; set metadata.namespace there instead"
        )
    db = _open(args.db)
    try:
        result = release_records(
            db, ref, line.spec, kind=args.kind, reason=args.reason, limit=args.limit
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.close()
    print(json.dumps(result.as_dict()))
    return 0


def _release_remote(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    from lineops.dataplane.app import read_token
    from lineops.dataplane.lines import LineRef

    if args.line is None:
        raise CliError("--url needs --line namespace/name")
    try:
        ref = LineRef.parse(args.line)
    except ValueError as exc:
        raise CliError(f"--line: {exc}") from None
    body = {k: v for k, v in (("kind", args.kind), ("reason", args.reason)) if v is not None}
    headers = {"Content-Type": "application/json"}
    if args.token_file is not None:
        try:
            headers["Authorization"] = f"Bearer {read_token(Path(args.token_file))}"
        except ValueError as exc:
            raise CliError(f"--token-file: {exc}") from None
    url = (
        f"{args.url.rstrip('/')}/v1/namespaces/{ref.namespace}/lines/{ref.name}/quarantine:release"
    )
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise CliError(f"{url}: {exc.code} {detail}") from None
    except OSError as exc:
        raise CliError(f"{url}: {exc}") from None
    return 0


def _serve(args: argparse.Namespace) -> int:
    lines = [load_line(path) for path in args.line_file]
    limit_malloc_arenas()  # before the server and its thread pool start their threads
    return asyncio.run(_serve_async(args, lines))


async def _serve_async(args: argparse.Namespace, lines: list[ProductionLine]) -> int:
    # Feast's SDK takes seconds to import: only the commands that need it pay for it.
    from prometheus_client import CollectorRegistry
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.backends.feast_store import FeastStore
    from lineops.cli.logs import configure_logging
    from lineops.dataplane.app import DataPlaneApp, read_token
    from lineops.dataplane.db.database import embedded_url
    from lineops.dataplane.db.engine import SchemaError
    from lineops.dataplane.errors import LineConflict
    from lineops.dataplane.lines import LineRef
    from lineops.settings import SettingsError, load_settings

    data = Path(args.data)
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    configure_logging(settings.log_format)
    # The flag, else LINEOPS_API_TOKEN_FILE (how the cluster profile's Deployments mount it).
    token_file = args.token_file or settings.api_token_file
    try:
        token = None if token_file is None else read_token(Path(token_file))
    except ValueError as exc:
        where = "--token-file" if args.token_file else "LINEOPS_API_TOKEN_FILE"
        raise CliError(f"{where}: {exc}") from None
    db_url = args.db or settings.db_url or embedded_url(data)
    offline_uri = args.offline or settings.offline_uri
    registry = CollectorRegistry()
    # The cluster profile's Redis online store and SQL registry when configured (both or
    # neither: the settings refuse one alone), else the embedded files under --data.
    feast = (
        None
        if args.no_feast
        else FeastStore.configured(data, settings.feast_redis, settings.feast_registry_url)
    )
    try:
        app = DataPlaneApp(
            data,
            db_url,
            registry,
            feast=feast,
            host=args.host,
            port=args.port,
            token=token,
            offline_uri=offline_uri,
        )
    except (SQLAlchemyError, SchemaError) as exc:
        raise CliError(f"--db: {one_line(exc)}") from None
    except (OSError, ValueError) as exc:  # pyarrow: unknown scheme, unreachable store
        raise CliError(f"--offline: {exc}") from None
    for line in lines:
        assert line.metadata.name is not None
        ref = LineRef(line.metadata.namespace or "default", line.metadata.name)
        try:
            await asyncio.to_thread(app.configure_line, ref, line.spec)
        except LineConflict as exc:
            raise CliError(f"--line-file: {exc}") from None
    port = await app.start()
    freeze_startup_heap()  # after start-up: see lineops/cli/heap.py
    # One JSON line on stdout, so scripts and tests learn the bound port.
    print(
        json.dumps({"url": app.url, "port": port, "lines": [str(ref) for ref in app.lines]}),
        flush=True,
    )
    log = logging.getLogger("lineops.dataplane")
    log.info(
        "data plane serving %s on %s (token %s)",
        ", ".join(str(ref) for ref in app.lines),
        app.url,
        "required" if token else "not required",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await app.stop()
    log.info("data plane stopped")
    return 0
