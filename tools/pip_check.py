#!/usr/bin/env python3
"""`pip check`, except for what is missing on purpose.

In the venv (`make`): the data-only packages of requirements/data.txt, installed with
--no-deps on purpose (their files are read, the packages never imported).

In the image (`--image requirements/operator.txt`, operator/Dockerfile): the roots that file's
header names as excluded (torch). pip check then reports `lineops 0.1.0 requires torch, which
is not installed`, since pyproject.toml names torch for the training code; that exact complaint
about an excluded root is expected and printed as such. Anything else fails the build: a
missing package that is not an excluded root, or a version conflict.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXCLUDED_PREFIX = "# excluded: "  # the header lines of tools/image_requirements.py
MISSING = re.compile(r"^(\S+) (\S+) requires (\S+), which is not installed\.$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def data_only(path: Path = REPO / "requirements" / "data.txt") -> set[str]:
    return {
        canonical(line.split("==")[0].strip())
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def excluded_roots(image_requirements: Path) -> set[str]:
    """The roots a generated image requirement set names as left out on purpose."""
    return {
        canonical(line[len(EXCLUDED_PREFIX) :].split()[0])
        for line in image_requirements.read_text().splitlines()
        if line.startswith(EXCLUDED_PREFIX)
    }


def judge(output: str, ignored: set[str], excluded: set[str]) -> tuple[list[str], list[str]]:
    """(problems, expected complaints) of a `pip check` output."""
    problems, expected = [], []
    for line in output.splitlines():
        if not line.strip() or "No broken" in line or canonical(line.split()[0]) in ignored:
            continue
        missing = MISSING.match(line.strip())
        if missing and canonical(missing.group(3)) in excluded:
            expected.append(line.strip())
        else:
            problems.append(line)
    return problems, expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--image", type=Path, help="an image requirement set (requirements/operator.txt)"
    )
    args = parser.parse_args(argv)
    ignored = set() if args.image else data_only()
    excluded = excluded_roots(args.image) if args.image else set()
    # -S passed on when given: tests run this on an environment of chosen metadata only.
    flags = ["-S"] if sys.flags.no_site else []
    proc = subprocess.run(
        [sys.executable, *flags, "-m", "pip", "check"], capture_output=True, text=True
    )
    problems, expected = judge(proc.stdout, ignored, excluded)
    if proc.returncode != 0 and not proc.stdout.strip():
        # Not a verdict (pip missing, a crash): never read as clean.
        print(f"pip check did not run (exit {proc.returncode}): {proc.stderr}", file=sys.stderr)
        return 2
    for line in expected:
        print(f"expected (left out of the image: {', '.join(sorted(excluded))}): {line}")
    if problems:
        print("\n".join(problems))
        return 1
    what = f"excluded roots {sorted(excluded)}" if args.image else f"data-only {sorted(ignored)}"
    print(f"pip check: clean (ignoring {what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
