"""Where the real ``pulumi`` CLI and its Python language host are, and the environment the
offline engines run it in: local state, no network, none of the caller's credentials."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from otc_elb_listener.offline import OFFLINE_VARIABLE

from .host import LOOPBACK_NO_PROXY, PROXY_VARIABLES, SCRUBBED_PREFIXES

#: How to get the CLI, for the one line said when it is missing.
CLI_HINT = ("install the official pulumi CLI, or run `python3 dev.py test`, which builds one "
            "from its Go modules into .venv/bin (needs Go)")


def find_cli() -> Path | None:
    """The ``pulumi`` CLI: the one on ``PATH`` (the official CLI on a user's machine), else
    the one next to this Python (``.venv/bin``, where ``dev.py`` builds it)."""
    found = shutil.which("pulumi")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "pulumi"
    return beside if beside.exists() else None


def find_language_host(cli: Path) -> Path | None:
    """The Python language host ``cli`` runs program folders with: beside it or on PATH."""
    beside = cli.parent / "pulumi-language-python"
    if beside.exists():
        return beside
    found = shutil.which("pulumi-language-python")
    return Path(found) if found else None


def require_cli() -> Path:
    """The CLI for a test that needs it: skip the test with one line saying how to get one
    when there is none, or fail it when ``CI=true`` (CI must never skip the CLI tier)."""
    import pytest

    cli = find_cli()
    if cli is None:
        message = f"the real-CLI tier needs the pulumi CLI: {CLI_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return cli


def offline_environment(home: Path, backend: Path, cli: Path) -> dict[str, str]:
    """Variables for the CLI: local state, no network, and the caller's credentials,
    endpoints and proxies blanked (the Automation API starts from ``os.environ``)."""
    env = {name: "" for name in os.environ
           if name.startswith((*SCRUBBED_PREFIXES, "PULUMI_")) or name in PROXY_VARIABLES}
    plugin_dirs = [str(cli.parent), str(Path(sys.executable).parent)]
    env.update({
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "offline-tests",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "NO_PROXY": LOOPBACK_NO_PROXY,
        "no_proxy": LOOPBACK_NO_PROXY,
        OFFLINE_VARIABLE: "1",  # the provider refuses any address that is not loopback
        "PATH": os.pathsep.join([*plugin_dirs, os.environ.get("PATH", "")]),
    })
    return env
