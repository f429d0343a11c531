"""The Automation API's ``Stack`` as :class:`~.cli.CliStack` drives it, without the reads
it adds after every operation.

After each ``up`` the Automation API runs the CLI three more times (``stack output`` twice,
masked and with ``--show-secrets``, then ``stack history``), and after ``refresh`` and
``destroy`` once (``stack history``): each starts the CLI, reads and decrypts the
checkpoint (its cost: docs/benchmarks.md, "Figures behind design choices"). CliStack uses
neither the summary nor the history, and reads the outputs from the engine's events: it
asks the CLI only when one of them is a secret, which events show masked.

Config goes the same way: each ``pulumi config set-all`` starts the CLI, so values are
queued (:meth:`LeanStack.queue_config`) and CliStack sends them once
(:meth:`LeanStack.send_config`), just before its next command, leaving out any value the
stack already holds.
"""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

#: What ``info`` answers: the operation's own result carries everything CliStack reads.
_NO_SUMMARY = auto.UpdateSummary(kind="", start_time=datetime.datetime.min, message="",
                                 environment={}, config={}, result="")


class LeanStack(auto.Stack):
    """A stack whose operations return without reading outputs and history back."""

    def outputs(self) -> auto.OutputMap:
        """Nothing: called by ``up`` only; :meth:`stored_outputs` reads them."""
        return {}

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        """An empty summary: called by ``up``, ``refresh`` and ``destroy`` only."""
        return _NO_SUMMARY

    _sent: dict[str, tuple[str, bool]]
    _queued: dict[str, auto.ConfigValue]

    def queue_config(self, values: Mapping[str, auto.ConfigValue]) -> None:
        """Config for the next command; values the stack already holds are left out."""
        for key, value in values.items():
            if self._sent.get(key) == (value.value, value.secret):
                self._queued.pop(key, None)
            else:
                self._queued[key] = value

    def send_config(self) -> None:
        """``pulumi config set-all`` with what is queued, if anything is."""
        if self._queued:
            self.set_all_config(self._queued)
            self._sent.update({k: (v.value, v.secret) for k, v in self._queued.items()})
            self._queued = {}

    def stored_outputs(self) -> dict[str, Any]:
        """The stack's outputs in plain text, as ``pulumi stack output --show-secrets``."""
        return {key: value.value for key, value in super().outputs().items()}


def create_lean_stack(name: str, options: auto.LocalWorkspaceOptions,
                      program: Callable[[], Any] | None = None) -> LeanStack:
    """``auto.create_stack`` for a program folder (``options.work_dir``) or, with
    ``program``, an inline program (``options.project_settings`` then names the project)."""
    if program is not None:
        options.program = program
        settings = options.project_settings
        if settings is not None and settings.main is None:
            settings.main = os.getcwd()
    made = auto.Stack.create(name, auto.LocalWorkspace(**options.__dict__))
    lean = LeanStack.__new__(LeanStack)  # Stack.create makes a Stack, never a subclass
    lean.__dict__.update(made.__dict__)
    lean._sent, lean._queued = {}, {}
    return lean


def inline_twin(folder: LeanStack, program: Callable[[], Any]) -> LeanStack:
    """The stack of a program folder, with ``program`` (a function run in this process) as
    its program: the same folder, ``Pulumi.yaml``, stack config and state, so an inline
    program and the folder's own take turns on one stack."""
    workspace = folder.workspace
    options = auto.LocalWorkspaceOptions(
        work_dir=workspace.work_dir, pulumi_home=workspace.pulumi_home,
        env_vars=workspace.env_vars, pulumi_command=workspace.pulumi_command,
        program=program)
    made = auto.Stack.select(folder.name, auto.LocalWorkspace(**options.__dict__))
    lean = LeanStack.__new__(LeanStack)
    lean.__dict__.update(made.__dict__)
    lean._sent, lean._queued = {}, {}  # config goes through the folder's stack
    return lean


@functools.cache
def pulumi_command(root: Path) -> auto.PulumiCommand:
    """The CLI under ``root/bin``, asked its version once per process: ``PulumiCommand``
    runs ``pulumi version`` each time it is made (a CLI start), and the answer cannot change
    while the binary stays."""
    return auto.PulumiCommand(root=str(root), skip_version_check=True)
