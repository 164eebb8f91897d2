"""``lineops dashboards generate``: the Grafana dashboards as JSON files.

Written into the chart (helm/lineops/dashboards/ by default), which ships them as ConfigMaps;
``--check`` only compares and fails when a committed file differs from what the builders
produce now (the drift check CI runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lineops.cli.errors import CliError

DEFAULT_OUT = Path("helm/lineops/dashboards")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("dashboards", help="Grafana dashboards (generated JSON)")
    sub = group.add_subparsers(dest="dashboards_command", metavar="COMMAND", required=True)
    gen = sub.add_parser("generate", help="write the dashboards' JSON into a directory")
    gen.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    gen.add_argument("--check", action="store_true", help="write nothing; fail if a file differs")
    gen.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    # Imported here: the builder library is only needed by this command, not at start-up.
    from lineops.dashboards import generate

    out: Path = args.out
    files = generate()
    if args.check:
        stale = [n for n, text in files.items() if _read(out / n) != text]
        if stale:
            raise CliError(
                f"{out}: {', '.join(stale)} differ from the builders; "
                "run `lineops dashboards generate`"
            )
        print(f"{out}: {len(files)} dashboards up to date")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
