"""The listener rule table: every rule about a classic ELB (v1.0) listener, written once.

The provider's ``check``/``diff``/``update`` and the fake ELB both derive their behaviour from
this module, so a rule added here is enforced at preview time, in PUT bodies and by the fake
alike. It is pure (no HTTP, no Pulumi) and cheap to import.

Sources: ``shared/spec/modify-listener.md`` (the PUT page) and ``shared/spec/elb-classic-api.md``
(the rest of the API and the project's **Decisions**). Where the pages give no error code, the
code below is our choice; those are marked ``chosen`` in :data:`ERROR_CODES`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

PROTOCOLS: Final = ("HTTP", "TCP", "HTTPS", "SSL", "UDP")
BACKEND_PROTOCOLS: Final = ("HTTP", "TCP", "UDP")
#: Decision "Backend protocol per protocol".
BACKEND_PROTOCOL_FOR: Final[Mapping[str, str]] = {
    "HTTP": "HTTP",
    "HTTPS": "HTTP",
    "TCP": "TCP",
    "SSL": "TCP",
    "UDP": "UDP",
}
LB_ALGORITHMS: Final = ("roundrobin", "leastconn", "source")
SSL_PROTOCOLS: Final = ("TLSv1.2", "TLSv1.2 TLSv1.1 TLSv1")
SSL_CIPHERS: Final = ("Default", "Extended", "Strict")
#: Decision: ``Extended`` ciphers only together with this protocol set.
EXTENDED_CIPHERS_NEED: Final = "TLSv1.2 TLSv1.1 TLSv1"
LOADBALANCER_TYPES: Final = ("External", "Internal")
#: Default listener quota per load balancer (403 ELB.6091).
LISTENER_QUOTA: Final = 5

ID_RE: Final = re.compile(r"[0-9a-f]{32}")
#: Decision "name": ASCII letters, digits, ``_``, ``-`` and CJK unified ideographs.
NAME_RE: Final = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]+")
#: Decision "description": no angle brackets.
DESCRIPTION_RE: Final = re.compile(r"[^<>]*")

#: Every ``ELB.*`` code this project answers with, and where it comes from. ``documented``
#: codes come from the OTC API reference's error code appendix (elb-classic-api.md, "Errors");
#: ``chosen`` ones are this project's where the table has none. Decision "Error codes": where
#: the table has no code of its own, the general ELB.1001; never a code the table gives
#: another meaning.
ERROR_CODES: Final[Mapping[str, str]] = {
    "ELB.0002": "documented: request body is null or empty (zero bytes, whitespace, null)",
    "ELB.1001": "documented: request parameters invalid, the general code: malformed JSON, "
                "a body that is not an object, a wrong JSON type, an unknown field, a value "
                "or cross-field rule without a code of its own, a field that does not apply "
                "(strict mode only), a body over 1 MiB, a method the path does not allow",
    "ELB.1020": "documented (Fine points): malformed loadbalancer_id (\"Lb ID is not correct\")",
    "ELB.1102": "documented: token missing (403)",
    "ELB.1103": "documented: token invalid or expired (401)",
    "ELB.5020": "documented: certificate ID must be 32 characters",
    "ELB.5040": "documented: certificate does not exist",
    "ELB.6000": "documented: listener ID of the wrong length",
    "ELB.6001": "documented: mandatory field missing, or null (\"<key>\" is nil)",
    "ELB.6002": "documented: delete of a listener that does not exist (503)",
    "ELB.6003": "documented: listener query condition (list filter) not valid",
    "ELB.6010": "documented: listener ID of the wrong content",
    "ELB.6011": "documented: name too long (create)",
    "ELB.6015": "documented: this listener property cannot be updated",
    "ELB.6021": "documented: name invalid (create)",
    "ELB.6025": "documented: name too long (update)",
    "ELB.6031": "documented: description too long (create)",
    "ELB.6035": "documented: name invalid (update)",
    "ELB.6040": "documented: load balancer does not exist",
    "ELB.6041": "documented: port not in 1-65535",
    "ELB.6045": "documented: description too long (update)",
    "ELB.6051": "documented: lb_algorithm invalid",
    "ELB.6061": "documented: protocol invalid",
    "ELB.6071": "documented: backend protocol invalid",
    "ELB.6081": "documented (2020 table): sticky_session_type invalid",
    "ELB.6091": "documented: listener quota exceeded (403)",
    "ELB.6101": "documented (2020 table): port already used on this load balancer (create)",
    "ELB.6200": "documented (2023 table): port already used on this load balancer (update)",
    "ELB.8904": "documented: resource could not be found (404, unknown listener)",
}
#: Codes the table gives a meaning this project must never use for anything else.
RESERVED_CODES: Final = frozenset({"ELB.6004", "ELB.6006"})
#: The general code (Decision "Error codes").
INVALID: Final = "ELB.1001"


class Codes(NamedTuple):
    """The ELB code for one kind of violation, on create and on update (PUT)."""

    create: str
    update: str


def _same(code: str) -> Codes:
    return Codes(code, code)


@dataclass(frozen=True)
class AppliesWhen:
    """When a field means something: the listener's protocol, and other fields' values.

    A request may carry a field whose condition is false on the *merged* listener: the
    service ignores it and shows it as ``null`` (Decision "Fields that do not apply are
    ignored"); strict mode and the provider's ``check`` refuse it.
    """

    protocols: frozenset[str] = frozenset(PROTOCOLS)
    fields: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        parts = []
        if self.protocols != frozenset(PROTOCOLS):
            parts.append("protocol " + "/".join(p for p in PROTOCOLS if p in self.protocols))
        parts += [f"{name} {_json_repr(value)}" for name, value in self.fields]
        return " and ".join(parts) or "always"


ALWAYS: Final = AppliesWhen()


@dataclass(frozen=True)
class Field:
    """One listener field: its JSON type and constraints, where it applies, who may change it."""

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
    code: Codes = field(default_factory=lambda: _same(INVALID))
    #: Code for a string over its maximum length, where the API has a separate one.
    length_code: Codes | None = None
    #: Code for a string under its minimum length (default: ``code``).
    short_code: Codes | None = None

    def rule(self) -> str:
        """The field's own constraint in words, for error messages and docs."""
        if self.kind is int:
            return f"an integer from {self.minimum} to {self.maximum}"
        if self.kind is bool:
            return "true or false"
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is list:
            return "a list of distinct certificate IDs (32 lowercase hex characters each)"
        if self.pattern is ID_RE:
            return "an ID of 32 lowercase hex characters"
        text = f"a string of {self.minimum} to {self.maximum} characters"
        return f"{text}, {self.pattern_rule}" if self.pattern_rule else text


_TCP = AppliesWhen(frozenset({"TCP"}))
_TLS = AppliesWhen(frozenset({"HTTPS", "SSL"}))
#: Decision "Sticky sessions": session_sticky applies to HTTP, HTTPS and TCP (not SSL, UDP).
_STICKY_PROTOCOLS = AppliesWhen(frozenset({"HTTP", "HTTPS", "TCP"}))
_STICKY = AppliesWhen(frozenset({"HTTP"}), (("session_sticky", True),))
_ID_RULE = "32 lowercase hex characters"

#: The rule table. Order is the order of the API pages; validation reports in this order.
FIELDS: Final[Mapping[str, Field]] = {
    f.name: f
    for f in (
        Field("loadbalancer_id", str, "ID of the load balancer that owns the listener.",
              required=True, updatable=False, minimum=32, maximum=32, pattern=ID_RE,
              pattern_rule=_ID_RULE, code=_same("ELB.1020"),
              length_code=_same("ELB.1020"), short_code=_same("ELB.1020")),
        Field("protocol", str, "Front-end protocol.", required=True, updatable=False,
              choices=PROTOCOLS, code=_same("ELB.6061")),
        Field("backend_protocol", str, "Protocol to the backend servers; fixed by protocol "
              "(HTTP/HTTPS->HTTP, TCP/SSL->TCP, UDP->UDP).", required=True, updatable=False,
              choices=BACKEND_PROTOCOLS, code=_same("ELB.6071")),
        Field("port", int, "Port the load balancer listens on; unique per load balancer.",
              required=True, minimum=1, maximum=65535, code=_same("ELB.6041")),
        Field("backend_port", int, "Port of the backend servers.", required=True,
              minimum=1, maximum=65535, code=_same("ELB.6041")),
        Field("lb_algorithm", str, "Load balancing algorithm.", required=True,
              choices=LB_ALGORITHMS, code=_same("ELB.6051")),
        Field("name", str, "Listener name.", required=True, minimum=1, maximum=64,
              pattern=NAME_RE, pattern_rule="only letters, digits, '_', '-' and Chinese "
              "characters", code=Codes("ELB.6021", "ELB.6035"),
              length_code=Codes("ELB.6011", "ELB.6025")),
        Field("description", str, "Free text.", minimum=0, maximum=128, pattern=DESCRIPTION_RE,
              pattern_rule="no '<' or '>'", default="",
              length_code=Codes("ELB.6031", "ELB.6045")),
        Field("session_sticky", bool, "Sticky sessions (HTTP, HTTPS, TCP; true only with "
              "roundrobin).", updatable=False, applies=_STICKY_PROTOCOLS, default=False),
        Field("sticky_session_type", str, "Where the sticky cookie comes from.",
              updatable=False, choices=("insert",), applies=_STICKY, default="insert",
              code=_same("ELB.6081")),
        Field("cookie_timeout", int, "Sticky cookie lifetime in minutes.", updatable=False,
              minimum=1, maximum=1440, applies=_STICKY, default=1440),
        Field("tcp_timeout", int, "TCP session timeout in minutes (Decision: 1-1440).",
              minimum=1, maximum=1440, applies=_TCP, default=5),
        Field("tcp_draining", bool, "Keep connections to removed backends.",
              applies=_TCP, default=False),
        Field("tcp_draining_timeout", int, "How long (minutes) to keep them.",
              minimum=0, maximum=60, applies=AppliesWhen(frozenset({"TCP"}),
                                                         (("tcp_draining", True),)),
              default=0),
        Field("udp_timeout", int, "UDP session timeout in minutes.", minimum=1, maximum=1440,
              applies=AppliesWhen(frozenset({"UDP"})), default=5),
        Field("ssl_protocols", str, "TLS versions offered.", choices=SSL_PROTOCOLS,
              applies=_TLS, default="TLSv1.2"),
        Field("ssl_ciphers", str, "Cipher suite set ('Extended' needs all TLS versions).",
              choices=SSL_CIPHERS, applies=_TLS, default="Default"),
        Field("certificate_id", str, "Default certificate (mandatory for HTTPS/SSL).",
              minimum=32, maximum=32, pattern=ID_RE, pattern_rule=_ID_RULE, applies=_TLS,
              code=_same("ELB.5040"), length_code=_same("ELB.5020"),
              short_code=_same("ELB.5020")),
        Field("certificates", list, "SNI certificate IDs, distinct (HTTPS on a public load "
              "balancer).", applies=AppliesWhen(frozenset({"HTTPS"}))),
    )
}

#: Fields a create may carry besides the table's own, with their JSON type: type-checked,
#: then ignored (Decision "admin_state_up": a new listener is always up). A PUT may not.
CREATE_IGNORED: Final[Mapping[str, type]] = {"admin_state_up": bool}
#: Response fields the list API cannot filter on (the list page says so): 400 ELB.6003.
UNFILTERABLE_FIELDS: Final = frozenset({"update_time", "create_time", "admin_state_up",
                                        "session_sticky", "member_number"})

#: Fields that only responses carry (GET adds ``member_number``; we show it everywhere).
RESPONSE_ONLY_FIELDS: Final = (
    "id", "status", "admin_state_up", "healthcheck_id", "member_number",
    "create_time", "update_time",
)
RESPONSE_FIELDS: Final = (*RESPONSE_ONLY_FIELDS, *FIELDS)
REQUIRED_FIELDS: Final = tuple(n for n, f in FIELDS.items() if f.required)
UPDATABLE_FIELDS: Final = tuple(n for n, f in FIELDS.items() if f.updatable)
REPLACE_FIELDS: Final = tuple(n for n, f in FIELDS.items() if not f.updatable)


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
    #: The field does not apply to the listener: the service ignores it; only strict mode
    #: (and the provider's check, with its own message) refuses it.
    inapplicable: bool = False

    @property
    def message(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class LoadBalancerContext(NamedTuple):
    """What only the service knows: the load balancer and its neighbours (a tuple: the fake
    builds one per request).

    The provider judges requests without it (``None``); the fake passes it so that rules on
    the load balancer type, certificates, port uniqueness and quota are enforced too.
    """

    loadbalancer_type: str | None  # None: the load balancer does not exist
    certificate_ids: frozenset[str] = frozenset()
    #: Ports taken by *other* listeners of the same load balancer.
    ports_in_use: frozenset[int] = frozenset()
    listener_count: int = 0


def _json_repr(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return repr(value)


def _shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: its repr, cut short (a body may be 1 MiB)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _type_name(kind: type) -> str:
    return {int: "integer", bool: "boolean", str: "string", list: "array"}[kind]


def _value_violation(spec: Field, value: Any, updating: bool) -> Violation | None:
    """Judge one known, non-null value of the right JSON type against its field's own
    constraint (range, enum, length, pattern)."""
    which = 1 if updating else 0
    if spec.kind is int:
        if not (spec.minimum or 0) <= value <= (spec.maximum or 0):
            return Violation(spec.name, f"must be {spec.rule()}, got {value}", spec.code[which])
    elif spec.choices is not None:
        if value not in spec.choices:
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(value)}",
                             spec.code[which])
    elif spec.kind is list:
        return _certificates_violation(spec, value)
    elif spec.kind is str:
        if spec.maximum is not None and len(value) > spec.maximum:
            code = (spec.length_code or spec.code)[which]
            return Violation(spec.name, f"must be {spec.rule()}, got {len(value)} characters",
                             code)
        if spec.minimum is not None and len(value) < spec.minimum:
            code = (spec.short_code or spec.code)[which]
            return Violation(spec.name, f"must be {spec.rule()}, got {len(value)} characters",
                             code)
        if spec.pattern is not None and not spec.pattern.fullmatch(value):
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(value)}",
                             spec.code[which])
    return None


def _certificates_violation(spec: Field, value: list[Any]) -> Violation | None:
    """``certificates``: distinct certificate ID strings (Decision "certificates")."""
    for item in value:
        if type(item) is not str:
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(item)}", INVALID)
        if len(item) != 32:
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(item)} "
                             f"({len(item)} characters)", "ELB.5020")
        if not ID_RE.fullmatch(item):
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(item)}",
                             "ELB.5040")
    if len(set(value)) != len(value):
        twice = next(item for item in value if value.count(item) > 1)
        return Violation(spec.name, f"must list each certificate once, got {twice!r} twice",
                         INVALID)
    return None


def _type_violation(name: str, kind: type, value: Any) -> Violation | None:
    """Strict JSON types: bool is not int, ``80.0`` is not int (Decision "Types")."""
    if type(value) is kind:
        return None
    rule = FIELDS[name].rule() if name in FIELDS else _type_name(kind)
    return Violation(name, f"must be a JSON {_type_name(kind)} ({rule}), got "
                     f"{type(value).__name__} {_shown(value)}", INVALID)


#: (name, protocols, field conditions, default) per field, in table order: the hot loop of
#: :func:`materialize` reads these instead of walking the dataclasses.
_CONDITIONS: Final = tuple((name, f.applies.protocols, f.applies.fields, f.default)
                           for name, f in FIELDS.items())
_DEFAULTS: Final = {name: f.default for name, f in FIELDS.items()}
_ALWAYS_APPLIES: Final = frozenset(name for name, f in FIELDS.items() if f.applies == ALWAYS)


def _holds(protocol: Any, protocols: frozenset[str], conditions: tuple[tuple[str, Any], ...],
           listener: Mapping[str, Any]) -> bool | None:
    if protocol is UNKNOWN:
        return None
    if protocol not in protocols:
        return False
    for other, wanted in conditions:
        value = listener.get(other)
        if value is UNKNOWN:
            return None
        if (_DEFAULTS[other] if value is None else value) != wanted:
            return False
    return True


def applies(name: str, listener: Mapping[str, Any]) -> bool | None:
    """Whether ``name`` applies to ``listener``; ``None`` when an unknown value decides it."""
    condition = FIELDS[name].applies
    return _holds(listener.get("protocol"), condition.protocols, condition.fields, listener)


def materialize(listener: Mapping[str, Any]) -> dict[str, Any]:
    """The listener as the service stores it: defaults filled, inapplicable fields ``null``
    (whatever the request said: the service ignores them).

    Fields are settled in table order, so a condition (``tcp_draining``) is settled before the
    fields that depend on it (``tcp_draining_timeout``).
    """
    result: dict[str, Any] = dict(listener)
    protocol = result.get("protocol")
    for name, protocols, conditions, default in _CONDITIONS:
        verdict = _holds(protocol, protocols, conditions, result)
        if verdict is False:
            result[name] = None
        elif verdict is True and result.get(name) is None:
            result[name] = default
    return result


def _structure_violations(
    body: Any, updating: bool, unknown_ok: bool
) -> tuple[list[Violation], dict[str, Any]]:
    """Per-field checks that hold whether or not a field applies: known names, what a PUT may
    change, no nulls, strict JSON types. Returns the violations and the well-typed fields."""
    if not isinstance(body, dict):
        return [Violation("", f"the request body must be a JSON object, got "
                          f"{type(body).__name__}", INVALID)], {}
    violations: list[Violation] = []
    typed: dict[str, Any] = {}
    for key, value in body.items():
        spec = FIELDS.get(key)
        ignored_kind = CREATE_IGNORED.get(key)
        if spec is None and ignored_kind is None:
            allowed = ", ".join(UPDATABLE_FIELDS if updating else (*FIELDS, *CREATE_IGNORED))
            violations.append(Violation(str(key)[:64], f"is not a listener field (allowed: "
                                        f"{allowed})", INVALID))
        elif updating and (spec is None or not spec.updatable):
            violations.append(Violation(key, "cannot be changed on an existing listener "
                                        "(a new listener is needed)", "ELB.6015"))
        elif value is None:
            rule = "must not be null" + (" (clear it with \"\")" if spec is not None and
                                         spec.kind is str else "")
            violations.append(Violation(key, rule, "ELB.6001"))
        elif value is UNKNOWN and unknown_ok:
            typed[key] = value
        else:
            kind = spec.kind if spec is not None else ignored_kind
            assert kind is not None
            found = _type_violation(key, kind, value)
            if found is not None:
                violations.append(found)
            elif spec is not None:  # a create-only ignored field is dropped here
                typed[key] = value
    return violations, typed


def _field_violations(typed: dict[str, Any], current: Mapping[str, Any], updating: bool,
                      strict: bool) -> tuple[list[Violation], dict[str, Any]]:
    """Judge each well-typed field where it applies, on the listener as it would be after the
    request. A field that does not apply is ignored (the service's way), or refused in
    ``strict`` mode. Returns the violations and the fields that apply."""
    merged = {**current, **typed}
    violations: list[Violation] = []
    kept: dict[str, Any] = {}
    for name, value in typed.items():
        verdict = True if name in _ALWAYS_APPLIES else applies(name, merged)
        if verdict is False:
            if strict:
                violations.append(Violation(
                    name, f"does not apply to this listener (only with "
                    f"{FIELDS[name].applies.describe()}); the real service would ignore it "
                    "and show it as null (strict mode)", INVALID, inapplicable=True))
            continue
        kept[name] = value
        if value is not UNKNOWN:
            found = _value_violation(FIELDS[name], value, updating)
            if found is not None:
                violations.append(_with_backend_hint(found, merged))
    return violations, kept


def _with_backend_hint(violation: Violation, merged: Mapping[str, Any]) -> Violation:
    """An invalid backend_protocol also says which one the listener's protocol needs
    (``HTTPS`` as a backend protocol is a common guess: HTTPS listeners talk HTTP)."""
    protocol = merged.get("protocol")
    if violation.field != "backend_protocol" or not isinstance(protocol, str) or \
            protocol not in BACKEND_PROTOCOL_FOR:
        return violation
    return Violation(violation.field, f"{violation.rule}; protocol {protocol} needs "
                     f"backend_protocol {BACKEND_PROTOCOL_FOR[protocol]!r}", violation.code,
                     violation.status, violation.inapplicable)


def _cross_violations(
    body: Mapping[str, Any], merged: Mapping[str, Any], updating: bool,
    context: LoadBalancerContext | None,
) -> list[Violation]:
    """Rules between fields, judged on the listener as it would be after the request."""
    violations: list[Violation] = []
    get = merged.get
    protocol, backend = get("protocol"), get("backend_protocol")
    if protocol is not UNKNOWN and backend is not UNKNOWN and isinstance(protocol, str) \
            and protocol in BACKEND_PROTOCOL_FOR and backend is not None \
            and backend != BACKEND_PROTOCOL_FOR[protocol]:
        violations.append(Violation("backend_protocol", f"must be "
                                    f"{BACKEND_PROTOCOL_FOR[protocol]!r} when protocol is "
                                    f"{protocol!r}, got {backend!r}", "ELB.6071"))
    if protocol in ("HTTPS", "SSL"):
        ciphers, tls = get("ssl_ciphers"), get("ssl_protocols", "TLSv1.2")
        if ciphers == "Extended" and tls is not UNKNOWN and \
                tls not in (None, EXTENDED_CIPHERS_NEED):
            blamed = "ssl_protocols" if "ssl_protocols" in body else "ssl_ciphers"
            violations.append(Violation(blamed, f"ssl_ciphers 'Extended' needs ssl_protocols "
                                        f"{EXTENDED_CIPHERS_NEED!r}", INVALID))
        if get("certificate_id") is None:
            violations.append(Violation("certificate_id", f"is mandatory when protocol is "
                                        f"{protocol!r} (HTTPS and SSL listeners present a "
                                        "certificate)", "ELB.6001"))
    algorithm = get("lb_algorithm")
    if get("session_sticky") is True and protocol in _STICKY_PROTOCOLS.protocols and \
            algorithm not in (None, UNKNOWN, "roundrobin"):
        blamed = "lb_algorithm" if updating else "session_sticky"
        violations.append(Violation(blamed, "session_sticky true needs lb_algorithm "
                                    f"'roundrobin', got {algorithm!r}", INVALID))
    if context is not None:
        violations += _context_violations(body, merged, updating, context)
    return violations


#: Request fields whose rules need the load balancer's neighbours: sibling ports and the
#: project's certificates (see :func:`_context_violations`); a PUT without them needs neither.
PORT_FIELDS: Final = frozenset({"port"})
CERTIFICATE_FIELDS: Final = frozenset({"certificate_id", "certificates"})


def _context_violations(
    body: Mapping[str, Any], merged: Mapping[str, Any], updating: bool,
    context: LoadBalancerContext,
) -> list[Violation]:
    """Rules that need the service's state: load balancer, certificates, ports, quota."""
    if context.loadbalancer_type is None:
        return [Violation("loadbalancer_id", f"load balancer {merged.get('loadbalancer_id')!r} "
                          "does not exist in this project", "ELB.6040")]
    violations: list[Violation] = []
    public = context.loadbalancer_type == "External"
    if not updating and merged.get("protocol") == "UDP" and not public:
        violations.append(Violation("protocol", "UDP listeners need a public (External) load "
                                    f"balancer; loadbalancer_id {merged.get('loadbalancer_id')} "
                                    "is Internal", INVALID))
    cert = body.get("certificate_id")
    if isinstance(cert, str) and cert not in context.certificate_ids:
        violations.append(Violation("certificate_id", f"certificate {cert!r} does not exist "
                                    "in this project", "ELB.5040"))
    certs = body.get("certificates")
    if isinstance(certs, list):
        if not public:  # refused even when empty (Decision "certificates")
            violations.append(Violation("certificates", "SNI certificates need a public "
                                        "(External) load balancer; this one is Internal",
                                        INVALID))
        missing = [c for c in certs if c not in context.certificate_ids]
        if missing:
            violations.append(Violation("certificates", f"certificate {missing[0]!r} does not "
                                        "exist in this project", "ELB.5040"))
    port = body.get("port")
    if type(port) is int and port in context.ports_in_use:
        violations.append(Violation("port", f"port {port} is already used by another listener "
                                    "of this load balancer",
                                    "ELB.6200" if updating else "ELB.6101"))
    if not updating and context.listener_count >= LISTENER_QUOTA:
        violations.append(Violation("loadbalancer_id", f"the load balancer already has "
                                    f"{LISTENER_QUOTA} listeners (quota)", "ELB.6091", 403))
    return violations


def validate_create(
    body: Any, context: LoadBalancerContext | None = None, *, unknown_ok: bool = False,
    strict: bool = False,
) -> list[Violation]:
    """All violations of a create (POST) body; empty means the service accepts it.

    ``unknown_ok`` lets :data:`UNKNOWN` values through unjudged (Pulumi preview); any rule that
    would need such a value is skipped rather than guessed. ``strict`` refuses fields that do
    not apply (the service ignores them).
    """
    violations, typed = _structure_violations(body, updating=False, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    for name in REQUIRED_FIELDS:
        if name not in body:
            violations.append(Violation(name, "is mandatory when creating a listener",
                                        "ELB.6001"))
    found, kept = _field_violations(typed, {}, updating=False, strict=strict)
    violations += found
    if violations:  # judge what is sound, so that every problem is reported once
        judged = _judgeable(kept, violations, REQUIRED_FIELDS)
        return _in_table_order(violations + _cross_violations(judged, judged, updating=False,
                                                              context=None))
    return _cross_violations(kept, kept, updating=False, context=context)


def validate_update(
    body: Any, current: Mapping[str, Any], context: LoadBalancerContext | None = None,
    *, unknown_ok: bool = False, strict: bool = False,
) -> list[Violation]:
    """All violations of a PUT body against the listener as it is now (every rule is judged
    on ``current`` merged with ``body``)."""
    violations, typed = _structure_violations(body, updating=True, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    found, kept = _field_violations(typed, current, updating=True, strict=strict)
    violations += found
    if violations:
        judged = _judgeable(kept, violations)
        return _in_table_order(violations + _cross_violations(
            judged, {**current, **judged}, updating=True, context=None))
    return _cross_violations(kept, {**current, **kept}, updating=True, context=context)


_TABLE_ORDER: Final = {name: index for index, name in enumerate(FIELDS)}


def _in_table_order(violations: list[Violation]) -> list[Violation]:
    """Violations in the order of the API pages (the rule table), whatever the body's order;
    fields the table does not know last (a stable sort keeps their order)."""
    return sorted(violations, key=lambda v: _TABLE_ORDER.get(v.field, len(_TABLE_ORDER)))


def _judgeable(fields: dict[str, Any], violations: list[Violation],
               must_have: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields without those that already broke a rule, missing ones marked unknown, so
    that cross-field rules are still judged on what is sound."""
    broken = {v.field for v in violations}
    judged = {k: v for k, v in fields.items() if k not in broken}
    for name in must_have:
        judged.setdefault(name, UNKNOWN)
    return judged


#: Fields other fields' applicability depends on (besides protocol, which PUT cannot change).
_CONDITION_FIELDS: Final = frozenset(other for f in FIELDS.values()
                                     for other, _ in f.applies.fields)


def apply_update(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The listener after a valid PUT: fields that do not apply (sent or not) are ``null``,
    fields that start applying get their default. ``current`` is already settled, so a PUT of
    fields that always apply (the common case) needs no full :func:`materialize`."""
    merged = {**current, **body}
    if _FAST_UPDATE.issuperset(body):
        return merged
    return materialize(merged)


#: PUT fields after which the listener needs no re-settling: they always apply and no other
#: field's applicability depends on them.
_FAST_UPDATE: Final = _ALWAYS_APPLIES - _CONDITION_FIELDS


def coerce_number(name: str, value: Any) -> Any:
    """Pulumi hands every number over as a float: make whole floats integers for int fields.

    Anything else (``80.5``, strings) is returned as it is, for validation to reject.
    """
    spec = FIELDS.get(name)
    if spec is not None and spec.kind is int and type(value) is float and value.is_integer():
        return int(value)
    return value



def canonical(name: str, value: Any) -> Any:
    """A field value as the API means it, so that equal meanings compare equal.

    - whole floats are integers (Pulumi hands numbers over as floats: ``80.0`` is ``80``);
    - booleans may come back as ``0``/``1`` (a documented response does this);
    - ``description`` ``null`` is ``""`` (the API's default, and how one clears it);
    - ``certificates`` ``null`` is ``[]``, and their order does not matter.
    """
    spec = FIELDS.get(name)
    if spec is None:
        return value
    value = coerce_number(name, value)
    if spec.kind is bool and type(value) in (int, float) and value in (0, 1):
        return bool(value)
    if spec.kind is str and value is None and spec.default == "":
        return ""
    if spec.kind is list:
        return tuple(sorted(value)) if isinstance(value, (list, tuple)) else (
            () if value is None else value)
    return value


def same_value(name: str, old: Any, new: Any) -> bool:
    """Whether two values of ``name`` mean the same to the API (see :func:`canonical`)."""
    return bool(canonical(name, old) == canonical(name, new))


def wire_value(name: str, value: Any) -> Any:
    """A value ready to be sent as JSON: integers for integer fields, lists for lists."""
    value = coerce_number(name, value)
    if isinstance(value, tuple):
        return list(value)
    return value


def markdown_table() -> str:
    """The rule table as the README shows it (a test keeps the README's copy equal)."""
    lines = ["| field | JSON type and rule | applies to (ignored elsewhere) | PUT | default | "
             "codes |", "|---|---|---|---|---|---|"]
    for name, spec in FIELDS.items():
        codes = sorted({*spec.code, *(spec.length_code or ()), *(spec.short_code or ())})
        if spec.kind is list:
            codes = ["ELB.5020", "ELB.5040", INVALID]
        default = "— (required)" if spec.required else (
            "—" if spec.default is None else f"`{_json_repr(spec.default)}`"
            if not isinstance(spec.default, str) else f'`"{spec.default}"`')
        lines.append(f"| `{name}` | {_type_name(spec.kind)}: {spec.rule()} | "
                     f"{spec.applies.describe()} | {'yes' if spec.updatable else 'no'} | "
                     f"{default} | {', '.join(codes)} |")
    return "\n".join(lines)
