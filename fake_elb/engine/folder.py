"""A user's program folder, copied for the CLI engine so that nothing is written into it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .model import HarnessError

#: What a copy of a program folder leaves out: environments, caches, VCS, stack files.
_NOT_COPIED = (".venv", "venv", ".git", "__pycache__", ".pytest_cache", ".mypy_cache",
               ".ruff_cache", ".hypothesis", "*.egg-info", "node_modules", ".pulumi",
               ".pulumi-state", "Pulumi.*.yaml")


def project_name(folder: Path) -> str:
    """The ``name:`` of a program folder's ``Pulumi.yaml``."""
    import yaml

    project_file = folder / "Pulumi.yaml"
    if not project_file.is_file():
        raise HarnessError(f"{folder} has no Pulumi.yaml: not a Pulumi program folder")
    loaded = yaml.safe_load(project_file.read_text()) or {}
    return str(loaded.get("name") or "project")


def copy_program(folder: Path, target: Path, stack: str, stack_file: Path | None) -> Path:
    """A copy of a program folder that runs with the Python of this process (its
    ``virtualenv`` option points at it), with no stack config file but ``stack_file``."""
    import yaml

    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    project_file = target / "Pulumi.yaml"
    project = yaml.safe_load(project_file.read_text()) or {}
    runtime = project.get("runtime") or "python"
    if isinstance(runtime, str):
        runtime = {"name": runtime}
    options = dict(runtime.get("options") or {})
    if sys.prefix != sys.base_prefix:  # the provider host runs the tests' Python
        options["virtualenv"] = sys.prefix
    else:  # not in a virtualenv: the plugin's python3 on PATH is this one's (see above)
        options.pop("virtualenv", None)
    options.pop("toolchain", None)
    runtime["options"] = options
    project["runtime"] = runtime
    project_file.write_text(yaml.safe_dump(project, sort_keys=False))
    if stack_file is not None:
        shutil.copyfile(stack_file, target / f"Pulumi.{stack}.yaml")
    return target
