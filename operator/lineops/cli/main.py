"""Entry point of the `lineops` console script.

Each command group lives in its own module with a ``register(subparsers)`` function that
adds its sub-commands and sets ``func`` on them; ``main`` only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from lineops import __version__
from lineops.cli.errors import CliError
from lineops.settings import SettingsError

# Modules that contribute commands; each exposes register(subparsers).
COMMAND_MODULES = (
    "lineops.cli.crd_cmd",
    "lineops.cli.operator_cmd",
    "lineops.cli.mes_cmd",
    "lineops.cli.report_cmd",
    "lineops.cli.rules_cmd",
    "lineops.cli.features_cmd",
    "lineops.cli.ingest_cmd",
    "lineops.cli.model_cmd",
    "lineops.cli.pipeline_cmd",
    "lineops.cli.demo_cmd",
    "lineops.cli.dataplane_cmd",
    "lineops.cli.settings_cmd",
    "lineops.cli.plan_cmd",
    "lineops.cli.dashboards_cmd",
    "lineops.cli.predict_cmd",
    "lineops.cli.lots_cmd",  # lots receive|produce|consume|show|…; genealogy_cmd joins it
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lineops", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lineops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command group not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except (CliError, SettingsError) as exc:
        print(f"lineops: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`lineops ... | head`): stop quietly, as Unix tools do.
        # Point stdout at /dev/null so the interpreter's last flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        # A path the user named that cannot be read or written (--out in a missing or
        # read-only directory, a directory where a file is wanted): one line, not a
        # traceback. Commands name their own inputs where they can; this is the rest.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lineops: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"lineops: error: an input is not UTF-8 text ({exc.reason})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
