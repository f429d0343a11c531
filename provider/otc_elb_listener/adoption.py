"""Taking over a live ELB object: Pulumi's ``import_`` and our adopt-by-ID inputs
(``listener_id``, ``healthcheck_id``, ``certificate_id``).

The two differ in one rule. An **import** takes the live object as it is: every input the
program sets must match it, or the import fails naming each field and changes nothing
(Pulumi's import semantics). An **adoption** makes the live object what the program says
with one PUT of the fields that differ; only fields a PUT cannot change must match. The
engine's own import does not work for dynamic providers (it calls Read without the
serialized provider, pulumi/pulumi#16175), so every resource takes ``import_`` out of its
options and hands the ID to the provider as the hidden input :data:`IMPORT`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .rules.machinery import UNKNOWN, shown
from .rules.table import RuleTable

#: The hidden input that carries ``ResourceOptions(import_=...)`` to the provider.
IMPORT = "__import_id"
#: The listener's adopt-by-ID input (each provider declares its own: ``adopt_input``).
ADOPT = "listener_id"


def import_from_opts(opts: pulumi.ResourceOptions | None
                     ) -> tuple[str | None, pulumi.ResourceOptions | None]:
    """``import_`` taken out of the options (the engine's import path cannot run a dynamic
    provider); the options are copied, never changed in place."""
    given = getattr(opts, "import_", None) if opts is not None else None
    if not given:
        return None, opts
    opts = copy.copy(opts)
    assert opts is not None
    opts.import_ = None
    return str(given), opts


@dataclass
class Takeover:
    """What ``up`` will do to a live ELB object it takes over."""

    mode: str  # "import" or "adopt"
    object_id: str  # the ID of the object taken over
    live: Mapping[str, Any]
    #: What is taken over, in words (the table's kind: ``listener``, ``health check``).
    kind: str
    #: Fields that must match and do not: (name, live value, program value).
    mismatched: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: The PUT body of an adoption (the updatable fields that differ).
    changes: dict[str, Any] = field(default_factory=dict)
    #: Inputs unknown until ``up`` (never judged).
    unknown: list[str] = field(default_factory=list)

    @property
    def fails(self) -> bool:
        return bool(self.mismatched)

    def refusal(self) -> str:
        """Why ``up`` fails and changes nothing, naming each field (live vs program)."""
        differs = "; ".join(f"{name} is {shown(live)}, the program says {shown(wanted)}"
                            for name, live, wanted in self.mismatched)
        if self.mode == "import":
            return (f"the live {self.kind} differs from the program: {differs}. An import "
                    f"takes the {self.kind} as it is and changes nothing: make the program "
                    "match it, or adopt it by its ID input instead, which PUTs the difference")
        return (f"the live {self.kind} differs in fields a PUT cannot change: {differs}. "
                "Nothing was changed: make the program match it")

    def _puts(self) -> str:
        return ", ".join(f"{name} ({shown(self.live.get(name))} -> {shown(value)})"
                         for name, value in self.changes.items())

    def sent(self) -> str:
        """What ``up`` reports once the adoption's PUT went out (the engine does not tell
        ``check`` whether it runs for a preview or for ``up``: its "up will PUT" line shows
        in both, and this one follows it in ``up``)."""
        return f"adopted {self.kind} {self.object_id}: sent PUT {self._puts()}"

    def message(self) -> tuple[bool, str]:
        """What the preview shows on the resource: (is it a warning, the text)."""
        verb = "importing" if self.mode == "import" else "adopting"
        head = f"{verb} {self.kind} {self.object_id}"
        later = f"; known only at up: {', '.join(self.unknown)}" if self.unknown else ""
        if self.fails:
            return True, f"{head} will fail: {self.refusal()}{later}"
        if self.changes:
            return True, f"{head}: up will PUT {self._puts()} to the live {self.kind}{later}"
        return bool(self.unknown), f"{head}: it matches the program, up sends no PUT{later}"


def plan_takeover(mode: str, object_id: str, live: Mapping[str, Any],
                  inputs: Mapping[str, Any], table: RuleTable,
                  secrets: frozenset[str] = frozenset()) -> Takeover:
    """Compare the program's table inputs (``inputs``, without the IDs) with the live object
    ``table`` describes. Fields in ``secrets`` are compared but never
    shown: their values read ``***`` in every message."""
    shown = {**live, **{name: "***" for name in secrets if name in live}}
    plan = Takeover(mode, object_id, shown, table.kind)
    for name, value in inputs.items():
        if value is UNKNOWN:
            plan.unknown.append(name)
            continue
        wire = table.wire_value(name, value)
        if table.same_value(name, live.get(name), wire):
            continue
        if mode == "import" or not table.fields[name].updatable:
            plan.mismatched.append((name, shown.get(name), "***" if name in secrets else wire))
        else:
            plan.changes[name] = wire
    return plan
