#!/usr/bin/env python3
"""Write requirements/operator.txt, the pinned set of the lineops image (operator/Dockerfile:
`lineops operator run` and every line's `lineops dataplane serve`): requirements/lock.txt
without torch and the packages only torch needs (its CUDA wheels, triton, sympy, ...), and
without the development tools of requirements/dev.in (pytest, ruff, mypy, selenium, ...)
and what only they need: nothing in the image runs tests or linters.

Training runs elsewhere (the pipelines image in the cluster profile, worker processes of a
full install in the embedded profile), and the operator and data plane never import torch
(tests/unit/test_image_without_torch.py proves it in a process where torch cannot be
imported), so the image need not carry several GB for it.

What "only torch needs" means is computed, not listed: the dependency closure of the
runtime roots (requirements/base.in, extras included) is walked in the installed
distributions' metadata (importlib.metadata, markers evaluated for this interpreter, which
is the lock's platform), without entering the excluded roots. A lock package the walk does
not reach is left out; one that something else also needs stays. The lock itself is the
closure of base.in and dev.in: a lock package neither reaches is an error. The installed
versions must equal the lock's (else the metadata would describe other versions): run it
with the venv that `make` installed from the lock.

    .venv/bin/python tools/image_requirements.py          # write requirements/operator.txt
    .venv/bin/python tools/image_requirements.py --check  # exit 1 when it drifted

tests/unit/test_image_requirements.py runs --check; tools/pip_check.py --image reads the
excluded roots back from the file's header (the only missing requirements it accepts).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import sys
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements" / "lock.txt"
RUNTIME_ROOTS = (REPO / "requirements" / "base.in",)
DEV_ROOTS = (REPO / "requirements" / "dev.in",)
ROOTS = RUNTIME_ROOTS + DEV_ROOTS
OUT = REPO / "requirements" / "operator.txt"

# Roots left out of the image, each with the reason (written into the file's header, where
# tools/pip_check.py --image finds them: `lineops requires torch` is then expected).
EXCLUDED = {
    "torch": "training only: the pipelines image and embedded-profile workers run it",
}
EXCLUDED_PREFIX = "# excluded: "
# pip freeze leaves these out of the lock; a venv always has them.
INSTALLER = {"pip", "setuptools", "wheel"}


class LockError(Exception):
    """The lock, the roots and the installed distributions disagree."""


def read_lock(path: Path = LOCK) -> dict[str, tuple[str, str]]:
    """Canonical name -> (the line as written, the pinned version)."""
    pins: dict[str, tuple[str, str]] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise LockError(f"{path.name}:{number}: {raw!r} is not pinned with ==")
        pins[canonicalize_name(name)] = (line, version.strip())
    return pins


def read_roots(paths: tuple[Path, ...] = ROOTS) -> list[Requirement]:
    roots = []
    for path in paths:
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                roots.append(Requirement(line))
    return roots


def _installed(name: str, pins: dict[str, tuple[str, str]]) -> md.Distribution:
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        raise LockError(f"{name} (in the lock) is not installed in {sys.prefix}") from None
    if dist.version != pins[name][1]:
        raise LockError(
            f"{name}: installed {dist.version}, the lock pins {pins[name][1]} "
            "(install the lock first: make venv)"
        )
    return dist


def closure(roots: list[Requirement], pins: dict[str, tuple[str, str]], skip: set[str]) -> set[str]:
    """Canonical names reached from ``roots`` through installed metadata, not entering
    ``skip``. A package reached again with new extras is walked again for those extras."""
    env = default_environment()
    extras: dict[str, set[str]] = {}
    todo = [(canonicalize_name(r.name), set(r.extras)) for r in roots]
    while todo:
        name, wanted = todo.pop()
        if name in skip or name in INSTALLER:
            continue
        if name not in pins:
            raise LockError(f"{name} is required but not in {LOCK.name}")
        seen = extras.get(name)
        if seen is not None and wanted <= seen:
            continue
        extras[name] = (seen or set()) | wanted
        for text in _installed(name, pins).requires or []:
            req = Requirement(text)
            marker = req.marker
            if marker is None or any(
                marker.evaluate({**env, "extra": extra}) for extra in ("", *extras[name])
            ):
                todo.append((canonicalize_name(req.name), set(req.extras)))
    return set(extras)


def render() -> str:
    pins = read_lock()
    roots = read_roots()
    everything = closure(roots, pins, set())
    unreached = sorted(set(pins) - everything)
    if unreached:
        raise LockError(f"in the lock but required by no root: {', '.join(unreached)}")
    skip = {canonicalize_name(name) for name in EXCLUDED}
    # Left out with torch: what the full lock needs only through it; the rest of what the
    # runtime roots do not reach is there for the development tools only.
    only_excluded = sorted(set(pins) - closure(roots, pins, skip) - skip)
    kept = closure(read_roots(RUNTIME_ROOTS), pins, skip)
    dev_only = sorted(set(pins) - kept - skip - set(only_excluded))
    lines = [
        "# The lineops image's pinned set (operator/Dockerfile): requirements/lock.txt without",
        "# the roots below, the development tools and the packages only they need. Generated",
        "# from the lock and the installed metadata by tools/image_requirements.py; do not",
        "# edit (--check in tests).",
    ]
    lines += [f"{EXCLUDED_PREFIX}{name}  ({why})" for name, why in sorted(EXCLUDED.items())]
    lines.append(f"# left out with them ({len(only_excluded)}, needed by nothing else):")
    lines += _wrapped(only_excluded)
    lines.append(
        f"# development tools left out (requirements/dev.in and what only they need, "
        f"{len(dev_only)}):"
    )
    lines += _wrapped(dev_only)
    lines += [pins[name][0] for name in sorted(kept, key=lambda n: pins[n][0].lower())]
    return "\n".join(lines) + "\n"


def _wrapped(names: list[str]) -> list[str]:
    """Comment lines of at most 99 characters listing ``names``."""
    lines, row = [], "#  "
    for name in names:
        if len(row) + len(name) + 1 > 99:
            lines.append(row)
            row = "#  "
        row += f" {name}"
    lines.append(row)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file drifted")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        text = render()
    except LockError as err:
        print(f"image_requirements: {err}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text() if args.out.exists() else None
        if current != text:
            print(
                f"{args.out} is out of date with requirements/lock.txt: "
                "run .venv/bin/python tools/image_requirements.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
