"""The machinery every rule table shares: fields, where they apply, violations, and the
checks and value comparisons derived from a table.

A resource's table (:mod:`.listener`, and later the health check's, a member's, a
certificate's) is a file of :class:`Field` declarations handed to :class:`RuleTable`; its
own cross-field rules sit beside it. Pure (no HTTP, no Pulumi) and cheap to import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

#: The general code (docs/api-rules.md Decision 4): where the table has no code of its own.
INVALID: Final = "ELB.1001"
ID_RE: Final = re.compile(r"[0-9a-f]{32}")


class Codes(NamedTuple):
    """The ELB code for one kind of violation, on create and on update (PUT)."""

    create: str
    update: str


def same_code(code: str) -> Codes:
    return Codes(code, code)


def json_repr(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return repr(value)


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: its repr, cut short (a body may be 1 MiB)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def type_name(kind: type) -> str:
    return {int: "integer", bool: "boolean", str: "string", list: "array"}[kind]


@dataclass(frozen=True)
class AppliesWhen:
    """When a field means something: the object's kind (its discriminator field, such as a
    listener's protocol; ``None``: every kind), and other fields' values.

    A request may carry a field whose condition is false on the *merged* object: the
    service ignores it and shows it as ``null`` (api-rules.md Decision 1); strict mode and the
    provider's ``check`` refuse it.
    """

    protocols: frozenset[str] | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    #: How the discriminator is named in words (``protocol``).
    label: str = "protocol"
    #: The discriminator's values in the order the docs list them.
    order: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.protocols is not None:
            names = [p for p in self.order if p in self.protocols] or sorted(self.protocols)
            parts.append(f"{self.label} " + "/".join(names))
        parts += [f"{name} {json_repr(value)}" for name, value in self.fields]
        return " and ".join(parts) or "always"


ALWAYS: Final = AppliesWhen()


@dataclass(frozen=True)
class Field:
    """One field: its JSON type and constraints, where it applies, who may change it."""

    name: str
    kind: type  # int, bool, str or list (of ID strings)
    doc: str
    required: bool = False  # mandatory on create
    updatable: bool = True  # PUT may change it
    minimum: int | None = None  # integers: value; strings: length
    maximum: int | None = None
    choices: tuple[str, ...] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_rule: str = ""
    applies: AppliesWhen = ALWAYS
    #: Server default once the field applies and the request left it out.
    default: Any = None
    #: Code for a value that breaks this field's own constraint.
    code: Codes = field(default_factory=lambda: same_code(INVALID))
    #: Code for a string over its maximum length, where the API has a separate one.
    length_code: Codes | None = None
    #: Code for a string under its minimum length (default: ``code``).
    short_code: Codes | None = None
    #: For lists: what the list holds, in words (``distinct certificate IDs``).
    items_rule: str = ""
    #: A secret (a private key): its value is never quoted, masked wherever a field's value
    #: would be named (previews, errors, the journal).
    secret: bool = False

    def rule(self) -> str:
        """The field's own constraint in words, for error messages and docs."""
        if self.kind is int:
            return f"an integer from {self.minimum} to {self.maximum}"
        if self.kind is bool:
            return "true or false"
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is list:
            return f"a list of {self.items_rule}"
        if self.pattern is ID_RE:
            return "an ID of 32 lowercase hex characters"
        text = f"a string of {self.minimum} to {self.maximum} characters"
        return f"{text}, {self.pattern_rule}" if self.pattern_rule else text


class _Unknown:
    """A value not known yet (Pulumi preview): present, but never judged."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class Violation:
    """One broken rule: the field it concerns, the rule in words, and the ELB answer."""

    field: str
    rule: str
    code: str
    status: int = 400
    #: The field does not apply to the object: the service ignores it; only strict mode
    #: (and the provider's check, with its own message) refuses it.
    inapplicable: bool = False

    @property
    def message(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


#: Judges the items of a list field (the value is a list already).
ListRule = Callable[[Field, list[Any]], "Violation | None"]
