"""Build, once, the real ``pulumi`` CLI the CLI test tier and the demo run; or find one.

Stdlib only: ``dev.py`` runs it before the virtualenv has anything in it.

- A ``pulumi`` already on ``PATH`` (the official CLI on a user's machine) is used as it is.
- Otherwise, with Go: ``go build`` of ``github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`` at the
  version pinned by ``tools/pulumi-cli/go.mod`` (with its ``go.sum``), the way release builds
  are made, into ``<venv>/bin/pulumi``, plus the two scripts the Python SDK's module ships
  (``pulumi-resource-pulumi-python``, the dynamic-provider plugin, and
  ``pulumi-language-python-exec``). A stamp next to them makes later runs a no-op.
- The Python language host (``pulumi-language-python``) lives in a Go module of its own that
  the module proxy does not serve here. Its upstream source sits beside the clone
  (``../shared/vendor/pulumi-language-python``, read-only in CI): it is copied to a build
  folder and built next to the CLI, stamped like it, so ``pulumi preview``/``up`` run a
  ``Pulumi.yaml`` program folder exactly as on a user's machine. Without that source (a
  user's clone) the host is not built, and this says so in one line.

This module is the only code of the project that reads ``../shared``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_DIR = ROOT / "tools" / "pulumi-cli"
CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"
#: Scripts inside the SDK's Go module that go next to the CLI, by their path in the module.
SCRIPTS = {"pulumi-resource-pulumi-python": "python/dist/pulumi-resource-pulumi-python",
           "pulumi-language-python-exec": "python/cmd/pulumi-language-python-exec"}
STAMP = ".pulumi-cli.stamp"
LANGUAGE_HOST = "pulumi-language-python"
LANGUAGE_HOST_STAMP = ".pulumi-language-python.stamp"
#: The language host's upstream source, beside the clone (not the project's code).
LANGUAGE_HOST_SOURCE = ROOT.parent / "shared" / "vendor" / "pulumi-language-python"
HOW_TO_GET = ("install the official CLI (https://www.pulumi.com/docs/install/) or Go 1.26+ "
              "and run `python3 dev.py test` to build it")


def pinned_version() -> str:
    """The pulumi version ``tools/pulumi-cli/go.mod`` pins (``v3.x.y``)."""
    for line in (MODULE_DIR / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "github.com/pulumi/pulumi/pkg/v3":
            return parts[1]
    raise RuntimeError(f"{MODULE_DIR / 'go.mod'} does not require github.com/pulumi/pulumi/pkg/v3")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((MODULE_DIR / name).read_bytes())
    return digest.hexdigest()


def built_cli(bin_dir: Path) -> Path | None:
    """The CLI this project built into ``bin_dir``, when it is there and up to date."""
    stamp = bin_dir / STAMP
    cli = bin_dir / "pulumi"
    ready = cli.exists() and all((bin_dir / name).exists() for name in SCRIPTS)
    if ready and stamp.exists() and stamp.read_text() == _fingerprint():
        return cli
    return None


def official_cli(bin_dir: Path) -> Path | None:
    """A ``pulumi`` on PATH that is not ours (ours lives in ``bin_dir``)."""
    found = shutil.which("pulumi")
    if found and Path(found).resolve().parent != bin_dir.resolve():
        return Path(found)
    return None


def ensure(bin_dir: Path, *, quiet: bool = False) -> Path | None:
    """The CLI to use: the official one on PATH, ours already built, or ours built now.
    ``None`` (with one line on stderr saying why) when there is neither a CLI nor Go."""
    found = official_cli(bin_dir) or built_cli(bin_dir)
    if found is not None:
        return found
    go = shutil.which("go")
    if go is None:
        print(f"pulumi_cli: no pulumi CLI and no Go to build one: {HOW_TO_GET}", file=sys.stderr)
        return None
    version = pinned_version()
    if not quiet:
        print(f"pulumi_cli: building the pulumi CLI {version} from its Go modules into "
              f"{bin_dir} (once; the first build takes several minutes)", flush=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
    bin_dir.mkdir(parents=True, exist_ok=True)
    ldflags = f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}"
    subprocess.run([go, "build", "-trimpath", "-tags", "osusergo,grpcnotrace", "-ldflags",
                    ldflags, "-o", str(bin_dir / "pulumi"), CLI_PACKAGE],
                   cwd=MODULE_DIR, env=env, check=True)
    sdk_dir = subprocess.run([go, "list", "-m", "-f", "{{.Dir}}", SDK_MODULE], cwd=MODULE_DIR,
                             env=env, check=True, capture_output=True, text=True).stdout.strip()
    for name, path in SCRIPTS.items():
        target = bin_dir / name
        target.unlink(missing_ok=True)
        shutil.copyfile(Path(sdk_dir) / path, target)
        target.chmod(0o755)
    (bin_dir / STAMP).write_text(_fingerprint())
    return bin_dir / "pulumi"


def _source_fingerprint(source: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(source).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def language_host(cli: Path) -> Path | None:
    """The Python language host the CLI ``cli`` finds (on PATH or next to it), if any."""
    beside = cli.parent / LANGUAGE_HOST
    if beside.exists():
        return beside
    found = shutil.which(LANGUAGE_HOST)
    return Path(found) if found else None


def ensure_language_host(bin_dir: Path, *, source: Path = LANGUAGE_HOST_SOURCE,
                         quiet: bool = False) -> Path | None:
    """The language host next to the CLI in ``bin_dir``: already there and up to date, or
    built now from ``source``. ``None`` (one line on stderr) when neither is possible."""
    target = bin_dir / LANGUAGE_HOST
    stamp = bin_dir / LANGUAGE_HOST_STAMP
    if not source.is_dir():
        if target.exists():
            return target
        print(f"pulumi_cli: no Python language host and no source to build one ({source} is "
              "missing): program folders cannot run through the CLI built here; install the "
              "official CLI (https://www.pulumi.com/docs/install/)", file=sys.stderr)
        return None
    fingerprint = _source_fingerprint(source)
    if target.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return target
    go = shutil.which("go")
    if go is None:
        print(f"pulumi_cli: no Go to build the Python language host: {HOW_TO_GET}",
              file=sys.stderr)
        return None
    if not quiet:
        print(f"pulumi_cli: building the Python language host from {source} into {bin_dir} "
              "(once; about a minute with a warm Go cache)", flush=True)
    build = bin_dir.parent / "build" / LANGUAGE_HOST
    shutil.rmtree(build, ignore_errors=True)
    shutil.copytree(source, build)  # the source folder is read-only where CI runs
    for path in (build, *build.rglob("*")):
        path.chmod(path.stat().st_mode | 0o200)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}
    subprocess.run([go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(target), "."],
                   cwd=build, env=env, check=True)
    stamp.write_text(fingerprint)
    return target


if __name__ == "__main__":
    default_bin = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
    cli = ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else default_bin)
    print(cli or "")
    sys.exit(0 if cli else 1)
