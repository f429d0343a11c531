"""The Automation API's ``Stack`` as :class:`~.cli.CliStack` drives it, without the reads
it adds after every operation.

After each ``up`` the Automation API runs the CLI three more times (``stack output`` twice,
masked and with ``--show-secrets``, then ``stack history``), and after ``refresh`` and
``destroy`` once (``stack history``): each starts the CLI, reads and decrypts the
checkpoint (0.3-1.1 s each, measured on a 200-listener stack). CliStack uses neither
the summary nor the history, and reads the outputs from the engine's events: it asks the
CLI only when one of them is a secret, which events show masked.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
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
    return lean
