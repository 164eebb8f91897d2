"""`lineops operator run`: start the operator in this process."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from lineops.cli.errors import CliError
from lineops.handlers.config import PROFILES, OperatorConfig


def register(sub: Any) -> None:
    parser = sub.add_parser("operator", help="run the lineops operator")
    ops = parser.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    run = ops.add_parser("run", help="reconcile ProductionLines and QualityModels until stopped")
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default=os.environ.get("LINEOPS_PROFILE", "embedded"),
        help="backend set: embedded (local) or cluster",
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
        help="address for /metrics and /healthz (default by profile)",
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        default=8080,
        help="port for /metrics and /healthz (0 picks a free port)",
    )
    run.add_argument(
        "--ingest-port",
        type=int,
        default=int(os.environ.get("LINEOPS_INGEST_PORT", "8081")),
        help="port for readings and MES records (embedded profile; 0 picks a free port)",
    )
    run.add_argument(
        "--data-dir",
        default=os.environ.get("LINEOPS_DATA_DIR", ".lineops"),
        help="embedded profile: stores, Feast repo, training runs (default .lineops)",
    )
    run.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: in-cluster, else $KUBECONFIG)"
    )
    run.add_argument("--verbose", action="store_true")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import kopf

    import lineops.handlers.main  # noqa: F401  - registers the handlers

    if not args.namespace and not args.all_namespaces:
        raise CliError("choose what to watch: --namespace NAME (repeatable) or --all-namespaces")
    if args.kubeconfig:
        # kopf's login reads KUBECONFIG; the backends read it through the config too.
        os.environ["KUBECONFIG"] = args.kubeconfig
    host = args.metrics_host or ("0.0.0.0" if args.profile == "cluster" else "127.0.0.1")
    config = OperatorConfig(
        profile=args.profile,
        metrics_host=host,
        metrics_port=args.metrics_port,
        ingest_port=args.ingest_port,
        data_dir=args.data_dir,
        kubeconfig=args.kubeconfig,
    )
    kopf.configure(verbose=args.verbose)
    asyncio.run(
        kopf.operator(
            clusterwide=args.all_namespaces,
            namespaces=args.namespace,
            standalone=True,
            memo=kopf.Memo(config=config),
        )
    )
    return 0
