#!/usr/bin/env python3
"""Set up and run everything from a fresh clone, with nothing but Python 3.10+.

    python3 dev.py demo     # set up, start the fake ELB, run the example against it
    python3 dev.py test     # set up, then ruff, mypy and the whole test suite
    python3 dev.py bench    # set up (with the bench extra), then the benchmark suite

Set-up creates ``.venv`` and installs the project (editable) with the extras a command needs;
it is skipped when ``pyproject.toml`` has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
#: How the suite runs (benchmarks/provider_costs.py times the same): quiet, on every core.
PYTEST_ARGS = ("-q", "-n", "auto")


def _run(*command: str | Path) -> int:
    return subprocess.call([str(part) for part in command], cwd=ROOT)


def setup(extras: str) -> None:
    """Create the virtualenv and install ``.[extras]`` unless already done for this pyproject."""
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode())
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    print(f"dev.py: installing the project with [{extras}] into .venv", flush=True)
    quiet = ["-q", "--disable-pip-version-check"]
    if _run(PYTHON, "-m", "pip", "install", *quiet, "--upgrade", "pip") != 0 or \
            _run(PYTHON, "-m", "pip", "install", *quiet, "-e", f".[{extras}]") != 0:
        sys.exit("dev.py: installation failed (see pip's output above)")
    stamp.write_text(digest.hexdigest())


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "test":
        setup("test")
        for step in (("-m", "ruff", "check", "."), ("-m", "mypy")):
            print(f"dev.py: {' '.join(step[1:])}", flush=True)
            if _run(PYTHON, *step) != 0:
                return 1
        return _run(PYTHON, "-m", "pytest", *PYTEST_ARGS, *rest)
    if command == "demo":
        setup("test")
        return _run(PYTHON, "-m", "examples.deploy", *rest)
    if command == "bench":
        setup("test,bench")
        return _run(PYTHON, "-m", "benchmarks", *rest)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
