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


#: The provider's one-line error, any kind (``ELB create of health check 5f.. failed: HTTP 400
#: ELB.1001: ...``, ``ELB add member of member (ECS .. on listener ..) failed: ELB.2005: ...``).
_PROVIDER_ERROR = re.compile(
    r"ELB (?P<operation>[\w-]+(?: [\w-]+)?) of (?P<kind>listener|health check|member|"
    r"certificate|settings|IAM user)(?: (?P<object>\([^)]*\)|\S+))? failed: "
    r"(?:HTTP (?P<status>\d{3}) ?)?(?P<code>ELB\.\d{4})?")
#: Where the CLI names the resource an error belongs to (``...Listener (web):``).
#: Progress lines the provider reported on the resource may stand between the two.
_CLI_RESOURCE = re.compile(r"pulumi-python:dynamic[\w/]*:\w+ \(([^)]+)\):\n"
                           r"(?:[ \t]+(?!error:)\S.*\n)*?[ \t]*error:")
#: Where the in-process engine names it (``create web: Create failed: ...``).
_HOST_RESOURCE = re.compile(r"^(?:check|diff|create|update|read|delete) (\S+): ")
#: A check failure's ELB code, at the end of its reason (``... [ELB.6041]``).
_REASON_CODE = re.compile(r"\[(ELB\.\d{4})\]\s*$")


class HarnessError(RuntimeError):
    """An operation failed: the provider host did not start or could not load the provider,
    a call failed, or the CLI exited with an error. The message carries the provider's (or
    the CLI's) own text. ``code`` (``ELB.6101``), ``status`` (400), ``operation``
    (``create``), ``kind`` (``health check``) and ``resource`` (the resource's name) are the
    same for both engines and every kind of resource, each ``None`` where the failure has
    none: the in-process engine has them from the provider as data (``fields``); the CLI
    shows only text, and they are read from the provider's one line, whose form every
    kind shares."""

    def __init__(self, message: str, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        #: What the provider reported of the failure as data, when it came as data.
        self.fields: dict[str, Any] = dict(fields or {})
        #: The state a provider reported with a partial failure: (id, outputs, inputs).
        self.partial: tuple[str, dict[str, Any], dict[str, Any]] | None = None

    def _field(self, name: str) -> Any:
        if name in getattr(self, "fields", {}):
            return self.fields[name]
        found = _PROVIDER_ERROR.search(str(self))
        return found[name] if found else None

    @property
    def code(self) -> str | None:
        value = self._field("code")
        return str(value) if value else None

    @property
    def status(self) -> int | None:
        value = self._field("status")
        return int(value) if value else None

    @property
    def operation(self) -> str | None:
        value = self._field("operation")
        return str(value) if value else None

    @property
    def kind(self) -> str | None:
        """What kind of object the call was about (``listener``, ``member``)."""
        value = self._field("kind")
        return str(value) if value else None

    @property
    def resource(self) -> str | None:
        text = str(self)
        found = _CLI_RESOURCE.search(text) or _HOST_RESOURCE.search(text)
        return found[1] if found else getattr(self, "name", None)


class Failure(tuple[str, str]):
    """One check failure: ``(property, reason)`` as before, with ``property``, ``reason``
    and ``code`` (the ELB code its reason ends with, ``None`` without one) by name."""

    def __new__(cls, prop: str, reason: str) -> Failure:
        return super().__new__(cls, (prop, reason))

    @property
    def reason(self) -> str:
        return self[1]

    @property
    def code(self) -> str | None:
        found = _REASON_CODE.search(self[1])
        return found[1] if found else None

    @property  # last: inside the class body the name shadows the builtin after it
    def property(self) -> str:
        return self[0]


class CheckFailed(HarnessError):
    """``check`` refused the inputs of a resource (at preview, before any API call);
    ``failures`` holds each :class:`Failure` (property, reason, code), ``name`` the
    resource."""

    def __init__(self, name: str, failures: list[tuple[str, str]]) -> None:
        self.name = name
        self.failures = [Failure(prop, reason) for prop, reason in failures]
        lines = "\n".join(f"  {prop}: {reason}" for prop, reason in failures)
        super().__init__(f"check failed for {name}:\n{lines}")

    @property
    def code(self) -> str | None:
        """The first failure's ELB code."""
        return next((f.code for f in self.failures if f.code), None)


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
    #: Read with ``Resource.get`` (``ResourceOptions(id=...)``): the stack does not own it,
    #: and leaving it only drops it from the state (the engine's "discard").
    external: bool = False


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


def resources_only(resources: Any, operation: str) -> Sequence[DynamicResource]:
    """``resources``, or one line saying how a program is run: ``preview("__main__.py")``
    looked like ``run_program("__main__.py", preview=True)`` and was not."""
    if isinstance(resources, (str, bytes)) or callable(resources) or hasattr(
            resources, "__fspath__") or not all(isinstance(r, DynamicResource)
                                                for r in resources):
        suffix = ", preview=True" if operation == "preview" else ""
        raise HarnessError(f"{operation}() takes DynamicResource objects; run a program "
                           f"(a file or a function) with run_program(program{suffix})")
    return list(resources)


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
