"""``lineops settings``: the operator's ``LINEOPS_*`` configuration.

``docs`` writes docs/configuration.md from ``lineops.settings.Settings`` (``--check`` only
compares, for the drift test and CI); ``show`` validates the current environment and prints
the values the operator would start with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from lineops.cli.crd_cmd import default_root
from lineops.cli.errors import CliError
from lineops.settings import GROUPS, configuration_markdown, load_settings, variable

CONFIGURATION: Final = Path("docs/configuration.md")


def _root(args: argparse.Namespace) -> Path:
    root = Path(args.root) if args.root is not None else default_root()
    if not root.is_dir():
        raise CliError(f"--root {root}: not a directory")
    if args.root is None and not (root / "pyproject.toml").is_file():
        raise CliError(f"{root} does not look like the lineops repository; pass --root")
    return root


def docs(args: argparse.Namespace) -> int:
    path = _root(args) / CONFIGURATION
    content = configuration_markdown()
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if args.check:
        if current != content:
            print(f"{CONFIGURATION}: differs from a fresh generation", file=sys.stderr)
            print("run `lineops settings docs` and commit the result", file=sys.stderr)
            return 1
        return 0
    if current != content:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {CONFIGURATION}")
    return 0


def show(args: argparse.Namespace) -> int:
    settings = load_settings()
    for names in GROUPS.values():
        for name in names:
            value = getattr(settings, name)
            print(f"{variable(name)}={'' if value is None else value}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("settings", help="the operator's LINEOPS_* configuration")
    sub = parser.add_subparsers(dest="settings_command", metavar="COMMAND", required=True)
    gen = sub.add_parser("docs", help=f"write {CONFIGURATION} from the settings model")
    gen.add_argument(
        "--check",
        action="store_true",
        help=f"write nothing; exit 1 when {CONFIGURATION} differs from a fresh generation",
    )
    gen.add_argument("--root", help="repository root (default: found from the package)")
    gen.set_defaults(func=docs)
    values = sub.add_parser(
        "show", help="validate the environment and print the settings in effect"
    )
    values.set_defaults(func=show)
