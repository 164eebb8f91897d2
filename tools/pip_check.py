#!/usr/bin/env python3
"""`pip check`, except for the data-only packages of requirements/data.txt, which are
installed with --no-deps on purpose (their files are read, the packages never imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

data = Path(__file__).resolve().parents[1] / "requirements" / "data.txt"
ignored = {
    line.split("==")[0].strip().lower()
    for line in data.read_text().splitlines()
    if line.strip() and not line.startswith("#")
}
proc = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
problems = [
    line
    for line in proc.stdout.splitlines()
    if line.strip() and line.split()[0].lower() not in ignored and "No broken" not in line
]
print("\n".join(problems) or f"pip check: clean (ignoring data-only {sorted(ignored)})")
sys.exit(1 if problems else 0)
