"""What the offline engines hand back: resources, steps, plans and errors, engine-neutral.

Both engines (the real CLI and the in-process one) speak in these types, so a test written
against one runs against the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROVIDER_KEY = "__provider"
DEFAULT_TYPE = "pulumi-python:dynamic:Resource"


class _UnknownOutput:
    """A stack output a preview cannot know yet (``pulumi preview`` shows ``output<T>``)."""

    def __repr__(self) -> str:
        return "(known after up)"


UNKNOWN_OUTPUT = _UnknownOutput()


#: The provider's one-line error (``ELB create of listener web failed: HTTP 400 ELB.6101``).
_PROVIDER_ERROR = re.compile(r"ELB ([\w-]+) of listener(?: (\S+))? failed: (?:HTTP (\d{3}) ?)?"
                             r"(ELB\.\d{4})?")
#: Where the CLI names the resource an error belongs to (``...Listener (web):``).
_CLI_RESOURCE = re.compile(r"pulumi-python:dynamic[\w/]*:\w+ \(([^)]+)\):\n\s*error:")
#: Where the in-process engine names it (``create web: Create failed: ...``).
_HOST_RESOURCE = re.compile(r"^(?:check|diff|create|update|read|delete) (\S+): ")


class HarnessError(RuntimeError):
    """An operation failed: the provider host did not start or could not load the provider,
    a call failed, or the CLI exited with an error. The message carries the provider's (or
    the CLI's) own text; what a test asserts on is parsed from it, the same for both
    engines: ``code`` (``ELB.6101``), ``status`` (400), ``operation`` (``create``) and
    ``resource`` (the resource's name), each ``None`` where the failure has none."""

    @property
    def _found(self) -> re.Match[str] | None:
        return _PROVIDER_ERROR.search(str(self))

    @property
    def code(self) -> str | None:
        found = self._found
        return found[4] if found else None

    @property
    def status(self) -> int | None:
        found = self._found
        return int(found[3]) if found and found[3] else None

    @property
    def operation(self) -> str | None:
        found = self._found
        return found[1] if found else None

    @property
    def resource(self) -> str | None:
        text = str(self)
        found = _CLI_RESOURCE.search(text) or _HOST_RESOURCE.search(text)
        return found[1] if found else getattr(self, "name", None)


class CheckFailed(HarnessError):
    """``check`` refused the inputs of a resource (at preview, before any API call);
    ``failures`` holds (property, reason), ``name`` the resource."""

    def __init__(self, name: str, failures: list[tuple[str, str]]) -> None:
        self.name = name
        self.failures = failures
        lines = "\n".join(f"  {prop}: {reason}" for prop, reason in failures)
        super().__init__(f"check failed for {name}:\n{lines}")


@dataclass
class DynamicResource:
    """One resource of a deployment: a provider object (or its serialized form) and inputs."""

    name: str
    provider: Any  # a pulumi.dynamic.ResourceProvider, or the base64 string Pulumi stores
    inputs: Mapping[str, Any]
    type: str = DEFAULT_TYPE
    #: Tri-state, as the resource option: ``None`` leaves it to the provider's diff; ``True``
    #: or ``False`` overrides the provider in either direction.
    delete_before_replace: bool | None = None
    retain_on_delete: bool = False
    #: Input names whose changes the engine ignores (applied before Check, as the engine does).
    ignore_changes: Sequence[str] = ()
    #: Per input, the names of the resources its value came from (the SDK's property
    #: dependencies): a delete-first replacement takes its dependents down first.
    dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass
class ResourceState:
    """What the engine keeps for a resource between deployments."""

    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    retain_on_delete: bool = False
    dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass
class Step:
    """One line of a plan: what happened (or would happen) to one resource."""

    op: str  # create, same, update, replace, delete, retain, refresh, read
    name: str
    changed: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    #: What the provider warned on this resource (an adoption's PUT, an import's mismatch).
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        symbol = {"create": "+", "same": " ", "update": "~", "replace": "+-",
                  "delete": "-", "retain": "-", "refresh": "~", "read": " "}.get(self.op, "?")
        text = f"{symbol} {self.op:<8} {self.name}"
        if self.changed:
            text += f"  changed: {', '.join(self.changed)}"
        if self.replaces:
            order = "delete first" if self.delete_before_replace else "create first"
            text += f"  (replaces on {', '.join(self.replaces)}; {order})"
        return "".join([text, *(f"\n      warning: {w}" for w in self.warnings)])


@dataclass
class Plan:
    """The steps of one operation, and for a program run its stack outputs."""

    operation: str
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def ops(self) -> dict[str, str]:
        return {step.name: step.op for step in self.steps}

    def __str__(self) -> str:
        lines = [f"{self.operation}:"] + [f"  {step}" for step in self.steps]
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.op] = counts.get(step.op, 0) + 1
        lines.append("  " + (", ".join(f"{n} {op}" for op, n in counts.items()) or "no resources"))
        if self.outputs:
            lines.append("  outputs:")
            lines += [f"    {k}: {v!r}" for k, v in self.outputs.items()]
        return "\n".join(lines)


#: Answers for resources of other providers in whole programs: (type, name, inputs) ->
#: (id, outputs).
OtherResources = Callable[[str, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ, as the CLI lists them (``__provider`` aside)."""
    return sorted(k for k in set(old) | set(new)
                  if k != PROVIDER_KEY and old.get(k) != new.get(k))


#: The CLI flags an engine call may carry (``pulumi up --target web``): ``target`` and
#: ``replace`` (resource names or URNs), ``refresh``, ``expect_no_changes``.
FLAGS = frozenset({"target", "replace", "refresh", "expect_no_changes"})


def check_flags(flags: Mapping[str, Any]) -> None:
    unknown = sorted(set(flags) - FLAGS)
    if unknown:
        raise TypeError(f"unknown flag(s) {', '.join(unknown)}; the flags are "
                        f"{', '.join(sorted(FLAGS))}")


def refuse_flags(flags: Mapping[str, Any]) -> None:
    """The in-process engine runs none of the CLI's flags: one line naming the first set."""
    check_flags(flags)
    for name in sorted(flags):
        if flags[name]:
            raise HarnessError(f"the in-process engine does not run --{name.replace('_', '-')}"
                               "; run it with the CLI engine (CliStack, the default of "
                               "offline_stack)")
