"""Is the project releasable as it stands? (``python3 dev.py release``; docs/releasing.md)

1. ``python -m build`` makes the sdist and the wheel into ``dist/``;
2. ``twine check`` passes on both (the metadata PyPI would show);
3. a clean virtualenv installs the wheel alone (the lean provider): it imports, judges a
   listener at ``check`` and names the ``[fake]`` extra when the fake is asked for;
4. the same virtualenv installs ``wheel[fake]`` and runs the example (``examples/deploy.py``,
   copied out of the clone so that nothing of the clone is imported) against the fake.

Each step prints one line; the first failure stops it with the command's output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEAN_CHECK = """
from otc_elb_listener import ListenerProvider
result = ListenerProvider().check({}, {"port": 70000.0})
assert any(f.property == "port" for f in result.failures), result.failures
try:
    import fake_elb.transport.inprocess
except ModuleNotFoundError as missing:
    print("lean: the fake needs the extra:", missing.name)
else:
    raise SystemExit("the lean wheel imported the fake's dependencies")
"""


def _run(step: str, *command: str | Path, cwd: Path = ROOT,
         env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, check=False, env=env)
    if done.returncode != 0:
        sys.stdout.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"release check: {step} failed ({done.returncode})")
    print(f"release check: {step}: ok", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="otc-elb-release-") as scratch:
        work = Path(scratch)
        tools = work / "tools"
        venv.EnvBuilder(with_pip=True).create(tools)
        python = tools / "bin" / "python"
        _run("build and twine installed", python, "-m", "pip", "install", "-q", "build",
             "twine")
        dist = work / "dist"
        _run("python -m build", python, "-m", "build", "--outdir", dist, ROOT)
        built = sorted(dist.iterdir())
        _run("twine check", python, "-m", "twine", "check", "--strict", *built)
        wheel = next(path for path in built if path.suffix == ".whl")
        clean = work / ".venv"  # where the example's Pulumi.yaml has its virtualenv
        venv.EnvBuilder(with_pip=True).create(clean)
        user = clean / "bin" / "python"
        _run("the lean wheel installed", user, "-m", "pip", "install", "-q", wheel)
        _run("the lean provider judges a listener", user, "-c", LEAN_CHECK, cwd=work)
        _run("wheel[fake] installed", user, "-m", "pip", "install", "-q", f"{wheel}[fake]")
        shutil.copytree(ROOT / "examples", work / "examples")
        for name in ("Pulumi.yaml", "__main__.py"):  # the program the example deploys
            shutil.copy(ROOT / name, work / name)
        path = f"{clean / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        _run("the example against the fake", user, "-m", "examples.deploy", cwd=work,
             env={**os.environ, "PATH": path})
        print(f"release check: {', '.join(path.name for path in built)} are releasable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
