#!/usr/bin/env python3
"""Set up and run everything from a fresh clone, with nothing but Python 3.10+.

    python3 dev.py demo     # set up, start the fake ELB, run the example against it
    python3 dev.py test     # set up, then ruff, mypy and the whole test suite
    python3 dev.py bench    # set up (with the bench extra), then the benchmark suite
    python3 dev.py docs     # rewrite the rules table in docs/api-rules.md from the code
    python3 dev.py release  # build the sdist and wheel, twine check, install in a clean venv
    python3 dev.py setup    # only set up: .venv with the project, and the pulumi CLI

Set-up creates ``.venv`` and installs the project (editable) with the extras a command needs,
once per extras set: it is skipped when ``pyproject.toml`` has not changed since an install
that covered those extras (pip's output goes to ``.venv/install.log``). ``test`` and ``demo``
also make sure the real ``pulumi`` CLI and its Python language host are there
(``tools/pulumi_cli.py``: the ones on PATH, or built into ``.venv/bin`` the first time).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
#: How the suite runs (benchmarks/provider_costs.py times the same): quiet, two workers a
#: core, with work stealing. A third of the suite's time is spent waiting (on the real CLI,
#: provider hosts, job polls), so two workers a core keep the cores busy; work stealing,
#: not xdist's up-front split, keeps the long real-CLI tests from piling up on one worker
#: at the end (figures: docs/benchmarks.md, "The test suite").
WORKERS = min(2 * (os.cpu_count() or 1), 32)
PYTEST_ARGS = ("-q", "-n", str(WORKERS), "--dist", "worksteal")


def _run(*command: str | Path) -> int:
    return subprocess.call([str(part) for part in command], cwd=ROOT)


def setup(extras: str) -> None:
    """Create the virtualenv and install ``.[extras]`` unless an install for this pyproject
    already covered those extras."""
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed.json"
    record = json.loads(stamp.read_text()) if stamp.exists() else {}
    wanted = set(extras.split(","))
    if record.get("pyproject") == digest and wanted <= set(record.get("extras", [])):
        return
    if record.get("pyproject") == digest:  # add to what is installed, never narrow it
        wanted |= set(record.get("extras", []))
    spec = f".[{','.join(sorted(wanted))}]"
    log = VENV / "install.log"
    print(f"dev.py: installing {spec} into .venv (pip's output: {log})", flush=True)
    with log.open("w") as out:
        for step in (("--upgrade", "pip"), ("-e", spec)):
            command = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", *step]
            if subprocess.call(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT) != 0:
                sys.stdout.write(log.read_text()[-4000:])
                sys.exit(f"dev.py: installation failed (the end of {log} is above)")
    stamp.write_text(json.dumps({"pyproject": digest, "extras": sorted(wanted)}))


def ensure_cli() -> bool:
    """The real pulumi CLI and its Python language host, for the CLI tier and the demo; with
    ``CI=true`` both must be there (the host where its source beside the clone can build it)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import pulumi_cli

    bin_dir = PYTHON.parent
    ci = os.environ.get("CI", "").lower() == "true"
    try:
        cli = pulumi_cli.ensure(bin_dir)
        host = None
        if cli is not None:
            host = pulumi_cli.language_host(cli) or pulumi_cli.ensure_language_host(bin_dir)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"dev.py: building the pulumi CLI or its language host failed: {error}",
              file=sys.stderr)
        cli = host = None
    if cli is None and ci:
        print("dev.py: CI=true and no pulumi CLI: the CLI tier cannot be skipped in CI",
              file=sys.stderr)
        return False
    if cli is not None and host is None and ci and pulumi_cli.LANGUAGE_HOST_SOURCE.is_dir():
        print("dev.py: CI=true and no Python language host although its source is there: "
              "program folders must run through the CLI in CI", file=sys.stderr)
        return False
    return True


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "test":
        setup("test")
        if not ensure_cli():
            return 1
        for step in (("-m", "ruff", "check", "."), ("-m", "mypy")):
            print(f"dev.py: {' '.join(step[1:])}", flush=True)
            if _run(PYTHON, *step) != 0:
                return 1
        return _run(PYTHON, "-m", "pytest", *PYTEST_ARGS, *rest)
    if command == "demo":
        setup("test")
        ensure_cli()
        return _run(PYTHON, "-m", "examples.deploy", *rest)
    if command == "setup":
        setup("test")
        return 0 if ensure_cli() else 1
    if command == "docs":
        setup("test")
        return _run(PYTHON, "-c", "from tests.package.test_readme import rewrite; rewrite()")
    if command == "release":
        return _run(sys.executable, ROOT / "tools" / "release_check.py", *rest)
    if command == "bench":
        setup("test,bench")
        return _run(PYTHON, "-m", "benchmarks", *rest)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
