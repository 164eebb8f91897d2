"""`lineops operator run`: start the operator in this process.

The flags override the environment's ``LINEOPS_*`` settings (``lineops.settings``); a flag
left out falls back to its variable, then to the documented default."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from lineops.cli.errors import CliError, one_line
from lineops.cli.heap import freeze_startup_heap
from lineops.cli.logs import configure_logging
from lineops.cli.malloc_arenas import limit_malloc_arenas
from lineops.settings import OPERATOR_FLAGS, PROFILES, load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser("operator", help="run the lineops operator")
    ops = parser.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    run = ops.add_parser("run", help="reconcile ProductionLines and QualityModels until stopped")
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="backend set: embedded (local) or cluster (default $LINEOPS_PROFILE, else embedded)",
    )
    scope = run.add_mutually_exclusive_group()
    scope.add_argument(
        "-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)"
    )
    scope.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="watch every namespace (needs the cluster-wide role)",
    )
    run.add_argument(
        "--metrics-host",
        default=None,
        help="address for /metrics and /healthz (default $LINEOPS_METRICS_HOST, else by profile)",
    )
    run.add_argument(
        "--metrics-port",
        type=int,  # bounded by the settings, whose error names the flag
        default=None,
        help="port for /metrics and /healthz; 0 picks a free port (default "
        "$LINEOPS_METRICS_PORT, else 8080)",
    )
    run.add_argument(
        "--ingest-port",
        type=int,
        default=None,
        help="port for readings and MES records (embedded profile; 0 picks a free port; "
        "default $LINEOPS_INGEST_PORT, else 8081)",
    )
    run.add_argument(
        "--data-dir",
        default=None,
        help="embedded profile: stores, Feast repo, training runs (default "
        "$LINEOPS_DATA_DIR, else .lineops)",
    )
    run.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: in-cluster, else $KUBECONFIG)"
    )
    run.add_argument(
        "--verbose", action="store_true", help="log at DEBUG (kopf and asyncio too) instead of INFO"
    )
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import kopf

    if not args.namespace and not args.all_namespaces:
        raise CliError("choose what to watch: --namespace NAME (repeatable) or --all-namespaces")
    # Flags over the environment; a bad value stops here, naming the flag or the variable.
    flags = {field: getattr(args, _dest(flag)) for field, flag in OPERATOR_FLAGS.items()}
    config = load_settings(flags)
    if config.profile == "embedded":
        # Only the embedded operator opens the data plane's database (in-process); in the
        # cluster profile each data-plane Deployment checks it when it starts.
        _check_database(config.db_url, Path(config.data_dir))
    if args.kubeconfig:
        # kopf's login reads KUBECONFIG; the backends get it from the settings.
        os.environ["KUBECONFIG"] = args.kubeconfig

    # Single-process metrics before anything creates one (Feast does at import); see
    # lineops.backends.metrics_mode. The start-up handler repeats it for `kopf run`.
    from lineops.backends.metrics_mode import single_process

    inherited = single_process()

    import lineops.handlers.main  # noqa: F401  - registers the handlers

    # kopf's own loggers (and ours) through one root handler: text, or JSON lines
    # (LINEOPS_LOG_FORMAT) with the same fields as the data planes'.
    configure_logging(config.log_format, verbose=args.verbose)
    if inherited:
        logging.getLogger("lineops.operator").warning(
            "ignoring %s: the operator keeps its metrics in single-process mode",
            ", ".join(f"{k}={v}" for k, v in inherited.items()),
        )
    limit_malloc_arenas()  # before kopf and the thread pool start their threads
    asyncio.run(
        kopf.operator(
            clusterwide=args.all_namespaces,
            namespaces=args.namespace,
            standalone=True,
            # Run by the start-up handler once it is done (lineops/cli/heap.py).
            memo=kopf.Memo(config=config, after_startup=freeze_startup_heap),
        )
    )
    _exit_now()
    return 0  # not reached


def _exit_now() -> None:
    """Exit without the interpreter's teardown. Everything is closed by now (kopf's cleanup
    handler closed the servers and stores; asyncio.run waited for the executor's threads),
    and tearing down every loaded module (Feast, pandas, pyarrow, SQLAlchemy, ...) costs about
    a second of CPU, more with many lines, inside the Pod's termination grace period. Logs
    and standard streams are flushed first; non-daemon threads are given a bounded join."""
    import sys
    import threading
    import time

    deadline = time.monotonic() + 2.0
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(deadline - time.monotonic(), 0.0))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def _check_database(url: str | None, data_dir: Path) -> None:
    """An outdated or foreign schema stops the start here, with the command to run, rather
    than in kopf's start-up handler (which would retry it forever)."""
    from sqlalchemy.exc import SQLAlchemyError

    from lineops.dataplane.db.database import embedded_url, open_database
    from lineops.dataplane.db.engine import SchemaError

    try:
        open_database(url or embedded_url(data_dir.resolve())).close()
    except (SchemaError, SQLAlchemyError) as exc:
        raise CliError(f"database: {one_line(exc)}") from None


def _dest(flag: str) -> str:
    """The argparse attribute of a flag (``--metrics-port`` -> metrics_port)."""
    return flag.removeprefix("--").replace("-", "_")
