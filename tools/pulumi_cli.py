"""Build, once, the real ``pulumi`` CLI the CLI test tier and the demo run; or find one.

Stdlib only: ``dev.py`` runs it before the virtualenv has anything in it.

- A ``pulumi`` already on ``PATH`` (the official CLI on a user's machine) is used as it is.
- Otherwise, with Go: ``go build`` of ``github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`` at the
  version pinned by ``tools/pulumi-cli/go.mod`` (with its ``go.sum``), the way release builds
  are made, into ``<venv>/bin/pulumi``, plus the two scripts the Python SDK's module ships
  (``pulumi-resource-pulumi-python``, the dynamic-provider plugin, and
  ``pulumi-language-python-exec``). A stamp next to them makes later runs a no-op.
- The Python language host (``pulumi-language-python``) lives in a Go module of its own that
  the module proxy does not serve here, so it is not built: programs run through the real CLI
  as Automation API *inline* programs, where the Python process serves the language runtime
  itself and the CLI drives everything else (engine, plan, state, provider plugin).
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


if __name__ == "__main__":
    default_bin = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
    cli = ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else default_bin)
    print(cli or "")
    sys.exit(0 if cli else 1)
