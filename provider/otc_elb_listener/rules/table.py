"""A resource's rule table: what is derived from its :class:`~.machinery.Field` declarations
(applicability, settled objects, per-field checks, value comparison, the docs table)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from .machinery import (
    ALWAYS,
    INVALID,
    UNKNOWN,
    Field,
    ListRule,
    Violation,
    json_repr,
    shown,
    type_name,
)

#: Advice added to a violation, given the object as the request would leave it.
Hint = Callable[[Violation, Mapping[str, Any]], Violation]


class RuleTable:
    """The fields of one resource, in the order of its API pages, and the checks they imply.

    ``discriminator`` names the field :class:`~.machinery.AppliesWhen` conditions on (a
    listener's ``protocol``); ``create_ignored`` lists fields a create may carry besides the
    table's, type-checked then dropped; ``list_rule`` judges list items; ``hint`` may add
    advice to a field's violation, given the object as it would be.
    """

    def __init__(self, kind: str, fields: Iterable[Field], *, discriminator: str = "protocol",
                 create_ignored: Mapping[str, type] | None = None,
                 list_rule: ListRule | None = None, hint: Hint | None = None,
                 fixed_code: str = "ELB.6015", null_code: str = "ELB.6001") -> None:
        self.kind = kind
        #: The codes of a PUT carrying a field it cannot change, and of a null value.
        self.fixed_code = fixed_code
        self.null_code = null_code
        self.fields: Mapping[str, Field] = {f.name: f for f in fields}
        self.discriminator = discriminator
        self.create_ignored: Mapping[str, type] = dict(create_ignored or {})
        self.list_rule = list_rule
        self.hint = hint
        self.required = tuple(n for n, f in self.fields.items() if f.required)
        self.updatable = tuple(n for n, f in self.fields.items() if f.updatable)
        self.replace = tuple(n for n, f in self.fields.items() if not f.updatable)
        #: Fields whose values are secrets: never quoted, ``***`` wherever a value is named.
        self.secret = frozenset(n for n, f in self.fields.items() if f.secret)
        self.order = {name: index for index, name in enumerate(self.fields)}
        #: (name, kinds, field conditions, default) per field, in table order: the hot loop
        #: of :meth:`materialize` reads these instead of walking the dataclasses.
        self._conditions = tuple((name, f.applies.protocols, f.applies.fields, f.default)
                                 for name, f in self.fields.items())
        self.defaults = {name: f.default for name, f in self.fields.items()}
        self.always_applies = frozenset(n for n, f in self.fields.items() if f.applies == ALWAYS)
        condition_fields = frozenset(other for f in self.fields.values()
                                     for other, _ in f.applies.fields)
        #: PUT fields after which the object needs no re-settling: they always apply and no
        #: other field's applicability depends on them.
        self._fast_update = self.always_applies - condition_fields

    # -- where fields apply -----------------------------------------------------------------
    def _holds(self, kind: Any, kinds: frozenset[str] | None,
               conditions: tuple[tuple[str, Any], ...], obj: Mapping[str, Any]) -> bool | None:
        if kind is UNKNOWN:
            return None
        if kinds is not None and kind not in kinds:
            return False
        for other, wanted in conditions:
            value = obj.get(other)
            if value is UNKNOWN:
                return None
            if (self.defaults[other] if value is None else value) != wanted:
                return False
        return True

    def applies(self, name: str, obj: Mapping[str, Any]) -> bool | None:
        """Whether ``name`` applies to ``obj``; ``None`` when an unknown value decides it."""
        condition = self.fields[name].applies
        return self._holds(obj.get(self.discriminator), condition.protocols, condition.fields,
                           obj)

    def materialize(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The object as the service stores it: defaults filled, inapplicable fields ``null``
        (whatever the request said: the service ignores them). Fields are settled in table
        order, so a condition is settled before the fields that depend on it."""
        result: dict[str, Any] = dict(obj)
        kind = result.get(self.discriminator)
        for name, kinds, conditions, default in self._conditions:
            verdict = self._holds(kind, kinds, conditions, result)
            if verdict is False:
                result[name] = None
            elif verdict is True and result.get(name) is None:
                result[name] = default
        return result

    def apply_update(self, current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        """The object after a valid PUT: fields that do not apply (sent or not) are ``null``,
        fields that start applying get their default. ``current`` is already settled, so a
        PUT of fields that always apply needs no full :meth:`materialize`."""
        merged = {**current, **body}
        if self._fast_update.issuperset(body):
            return merged
        return self.materialize(merged)

    # -- per-field checks ----------------------------------------------------------------
    def type_violation(self, name: str, kind: type, value: Any) -> Violation | None:
        """Strict JSON types: bool is not int, ``80.0`` is not int (docs/api-rules.md Decision 9); a
        list holds strings (IDs), judged here too, whether or not the field applies."""
        if type(value) is kind:
            wrong = [item for item in cast("list[Any]", value) if type(item) is not str] \
                if kind is list else []
            if wrong:
                return Violation(name, f"must be a JSON list of strings, got an item "
                                 f"{type(wrong[0]).__name__} {shown(wrong[0])}", INVALID)
            return None
        rule = self.fields[name].rule() if name in self.fields else type_name(kind)
        value_text = "(the value is not shown)" if name in self.secret else shown(value)
        return Violation(name, f"must be a JSON {type_name(kind)} ({rule}), got "
                         f"{type(value).__name__} {value_text}", INVALID)

    def value_violation(self, spec: Field, value: Any, updating: bool) -> Violation | None:
        """Judge one known, non-null value of the right JSON type against its field's own
        constraint (range, enum, length, pattern, list items)."""
        which = 1 if updating else 0
        if spec.kind is int:
            if not (spec.minimum or 0) <= value <= (spec.maximum or 0):
                return Violation(spec.name, f"must be {spec.rule()}, got {value}",
                                 spec.code[which])
        elif spec.choices is not None:
            if value not in spec.choices:
                return Violation(spec.name, f"must be {spec.rule()}, got {shown(value)}",
                                 spec.code[which])
        elif spec.kind is list:
            return self.list_rule(spec, value) if self.list_rule is not None else None
        elif spec.kind is str:
            return _string_violation(spec, value, which)
        return None

    def structure_violations(self, body: Any, updating: bool,
                             unknown_ok: bool) -> tuple[list[Violation], dict[str, Any]]:
        """Per-field checks that hold whether or not a field applies: known names, what a PUT
        may change, no nulls, strict JSON types. Returns the violations and the well-typed
        fields."""
        if not isinstance(body, dict):
            return [Violation("", f"the request body must be a JSON object, got "
                              f"{type(body).__name__}", INVALID)], {}
        violations: list[Violation] = []
        typed: dict[str, Any] = {}
        for key, value in body.items():
            found = self._structure_violation(key, value, updating, unknown_ok)
            if found is not None:
                violations.append(found)
            elif key in self.fields:  # a create-only ignored field is dropped here
                typed[key] = value
        return violations, typed

    def _structure_violation(self, key: Any, value: Any, updating: bool,
                             unknown_ok: bool) -> Violation | None:
        spec = self.fields.get(key)
        ignored_kind = self.create_ignored.get(key)
        if spec is None and ignored_kind is None:
            allowed = ", ".join(self.updatable if updating
                                else (*self.fields, *self.create_ignored))
            return Violation(str(key)[:64], f"is not a {self.kind} field (allowed: {allowed})",
                             INVALID)
        if updating and (spec is None or not spec.updatable):
            return Violation(key, f"cannot be changed on an existing {self.kind} (a new "
                             f"{self.kind} is needed)", self.fixed_code)
        if value is None:
            return Violation(key, "must not be null" + (
                " (clear it with \"\")" if spec is not None and spec.kind is str else ""),
                self.null_code)
        if value is UNKNOWN and unknown_ok:
            return None
        kind = spec.kind if spec is not None else ignored_kind
        assert kind is not None
        return self.type_violation(key, kind, value)

    def field_violations(self, typed: dict[str, Any], current: Mapping[str, Any],
                         updating: bool, strict: bool) -> tuple[list[Violation], dict[str, Any]]:
        """Judge each well-typed field where it applies, on the object as it would be after
        the request. A field that does not apply is ignored (the service's way), or refused
        in ``strict`` mode. Returns the violations and the fields that apply."""
        merged = {**current, **typed}
        violations: list[Violation] = []
        kept: dict[str, Any] = {}
        for name, value in typed.items():
            verdict = True if name in self.always_applies else self.applies(name, merged)
            if verdict is False:
                if strict:
                    violations.append(Violation(
                        name, f"does not apply to this {self.kind} (only with "
                        f"{self.fields[name].applies.describe()}); the real service would "
                        "ignore it and show it as null (strict mode)", INVALID,
                        inapplicable=True))
                continue
            kept[name] = value
            if value is not UNKNOWN:
                found = self.value_violation(self.fields[name], value, updating)
                if found is not None:
                    violations.append(found if self.hint is None else self.hint(found, merged))
        return violations, kept

    def in_table_order(self, violations: list[Violation]) -> list[Violation]:
        """Violations in the order of the API pages, whatever the body's order; fields the
        table does not know last (a stable sort keeps their order)."""
        return sorted(violations, key=lambda v: self.order.get(v.field, len(self.order)))

    # -- values as the API means them --------------------------------------------------------
    def coerce_number(self, name: str, value: Any) -> Any:
        """Pulumi hands every number over as a float: whole floats become integers for int
        fields. Anything else (``80.5``, strings) is returned as it is, for validation."""
        spec = self.fields.get(name)
        if spec is not None and spec.kind is int and type(value) is float and \
                value.is_integer():
            return int(value)
        return value

    def canonical(self, name: str, value: Any) -> Any:
        """A field value as the API means it, so that equal meanings compare equal: whole
        floats are integers; booleans may come back as ``0``/``1``; a string whose default
        is ``""`` is ``""`` when ``null``; a list ``null`` is ``[]`` and its order does not
        matter."""
        spec = self.fields.get(name)
        if spec is None:
            return value
        value = self.coerce_number(name, value)
        if spec.kind is bool and type(value) in (int, float) and value in (0, 1):
            return bool(value)
        if spec.kind is str and value is None and spec.default == "":
            return ""
        if spec.kind is list:
            return tuple(sorted(value)) if isinstance(value, (list, tuple)) else (
                () if value is None else value)
        return value

    def same_value(self, name: str, old: Any, new: Any) -> bool:
        """Whether two values of ``name`` mean the same to the API (see :meth:`canonical`).
        Equal values always do (``canonical`` keeps equal values equal), and are most of
        what a no-change preview compares, so they skip it."""
        return bool(old == new or self.canonical(name, old) == self.canonical(name, new))

    def wire_value(self, name: str, value: Any) -> Any:
        """A value ready to be sent as JSON: integers for integer fields, lists for lists."""
        value = self.coerce_number(name, value)
        if isinstance(value, tuple):
            return list(value)
        return value

    def markdown_table(self, list_codes: Iterable[str] = ()) -> str:
        """The table as the docs show it (a test keeps the docs' copy equal)."""
        lines = ["| field | JSON type and rule | applies to (ignored elsewhere) | PUT | "
                 "default | codes |", "|---|---|---|---|---|---|"]
        for name, spec in self.fields.items():
            codes = sorted({*spec.code, *(spec.length_code or ()), *(spec.short_code or ())})
            if spec.kind is list:
                codes = list(list_codes) or codes
            default = "— (required)" if spec.required else (
                "—" if spec.default is None else f"`{json_repr(spec.default)}`"
                if not isinstance(spec.default, str) else f'`"{spec.default}"`')
            lines.append(f"| `{name}` | {type_name(spec.kind)}: {spec.rule()} | "
                         f"{spec.applies.describe()} | {'yes' if spec.updatable else 'no'} | "
                         f"{default} | {', '.join(codes)} |")
        return "\n".join(lines)


def _string_violation(spec: Field, value: str, which: int) -> Violation | None:
    if spec.maximum is not None and len(value) > spec.maximum:
        return Violation(spec.name, f"must be {spec.rule()}, got {len(value)} characters",
                         (spec.length_code or spec.code)[which])
    if spec.minimum is not None and len(value) < spec.minimum:
        return Violation(spec.name, f"must be {spec.rule()}, got {len(value)} characters",
                         (spec.short_code or spec.code)[which])
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        value_text = "a value that is not shown" if spec.secret else shown(value)
        return Violation(spec.name, f"must be {spec.rule()}, got {value_text}",
                         spec.code[which])
    return None
