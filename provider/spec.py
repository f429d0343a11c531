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

#: Every ``ELB.*`` code this project answers with, and where it comes from.
ERROR_CODES: Final[Mapping[str, str]] = {
    "ELB.1102": "documented: token missing (403)",
    "ELB.1103": "documented: token invalid or expired (401)",
    "ELB.6000": "documented: malformed ID (length)",
    "ELB.6001": "documented: mandatory field missing",
    "ELB.6002": "documented: delete of a listener that does not exist (503)",
    "ELB.6003": "chosen: unknown field",
    "ELB.6004": "chosen: null is not a value in requests",
    "ELB.6005": "chosen: wrong JSON type",
    "ELB.6006": "chosen: body is not a JSON object / malformed JSON",
    "ELB.6010": "documented: malformed ID (content)",
    "ELB.6011": "documented: name too long (create)",
    "ELB.6015": "documented: this listener property cannot be updated",
    "ELB.6016": "chosen: field does not apply to this listener",
    "ELB.6021": "documented: name invalid (create)",
    "ELB.6025": "documented: name too long (update)",
    "ELB.6031": "documented: description too long (create)",
    "ELB.6032": "chosen: description invalid (create)",
    "ELB.6035": "documented: name invalid (update)",
    "ELB.6040": "documented: load balancer does not exist",
    "ELB.6041": "documented: port not in 1-65535",
    "ELB.6045": "documented: description too long (update)",
    "ELB.6046": "chosen: description invalid (update)",
    "ELB.6051": "documented: lb_algorithm invalid",
    "ELB.6061": "documented: protocol invalid",
    "ELB.6062": "chosen: UDP listener on a private (Internal) load balancer",
    "ELB.6071": "documented: backend protocol invalid",
    "ELB.6081": "documented: sticky_session_type invalid",
    "ELB.6082": "chosen: session_sticky invalid",
    "ELB.6083": "chosen: cookie_timeout out of range",
    "ELB.6091": "documented: listener quota exceeded (403)",
    "ELB.6101": "documented: port already used on this load balancer (create)",
    "ELB.6121": "chosen: tcp_timeout out of range",
    "ELB.6122": "chosen: tcp_draining_timeout out of range",
    "ELB.6123": "chosen: udp_timeout out of range",
    "ELB.6131": "chosen: ssl_protocols invalid",
    "ELB.6132": "chosen: ssl_ciphers invalid",
    "ELB.6141": "chosen: certificate_id invalid or unknown",
    "ELB.6142": "chosen: certificates invalid, unknown, or not allowed here",
    "ELB.6404": "chosen: listener not found (404; the pages give no code)",
    "ELB.6405": "chosen: method not allowed on this path (405)",
    "ELB.6413": "chosen: request body too large (413)",
    "ELB.6200": "documented: port already used on this load balancer (update)",
}


class Codes(NamedTuple):
    """The ELB code for one kind of violation, on create and on update (PUT)."""

    create: str
    update: str


def _same(code: str) -> Codes:
    return Codes(code, code)


@dataclass(frozen=True)
class AppliesWhen:
    """When a field means something: the listener's protocol, and other fields' values.

    A request that carries a field whose condition is false on the *merged* listener is
    rejected (Decision "reject fields that do not apply"); responses show it as ``null``.
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
    code: Codes = field(default_factory=lambda: _same("ELB.6005"))
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
            return "a list of certificate IDs (32 lowercase hex characters each)"
        text = f"a string of {self.minimum} to {self.maximum} characters"
        return f"{text}, {self.pattern_rule}" if self.pattern_rule else text


_TCP = AppliesWhen(frozenset({"TCP"}))
_TLS = AppliesWhen(frozenset({"HTTPS", "SSL"}))
_HTTP = AppliesWhen(frozenset({"HTTP"}))
_STICKY = AppliesWhen(frozenset({"HTTP"}), (("session_sticky", True),))
_ID_RULE = "32 lowercase hex characters"

#: The rule table. Order is the order of the API pages; validation reports in this order.
FIELDS: Final[Mapping[str, Field]] = {
    f.name: f
    for f in (
        Field("loadbalancer_id", str, "ID of the load balancer that owns the listener.",
              required=True, updatable=False, minimum=32, maximum=32, pattern=ID_RE,
              pattern_rule=_ID_RULE, code=_same("ELB.6010"),
              length_code=_same("ELB.6000"), short_code=_same("ELB.6000")),
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
              pattern_rule="no '<' or '>'", default="", code=Codes("ELB.6032", "ELB.6046"),
              length_code=Codes("ELB.6031", "ELB.6045")),
        Field("session_sticky", bool, "Sticky sessions (HTTP only; false unless roundrobin).",
              updatable=False, applies=_HTTP, default=False, code=_same("ELB.6082")),
        Field("sticky_session_type", str, "Where the sticky cookie comes from.",
              updatable=False, choices=("insert",), applies=_STICKY, default="insert",
              code=_same("ELB.6081")),
        Field("cookie_timeout", int, "Sticky cookie lifetime in minutes.", updatable=False,
              minimum=1, maximum=1440, applies=_STICKY, default=1440, code=_same("ELB.6083")),
        Field("tcp_timeout", int, "TCP session timeout in minutes (Decision: 1-1440).",
              minimum=1, maximum=1440, applies=_TCP, default=5, code=_same("ELB.6121")),
        Field("tcp_draining", bool, "Keep connections to removed backends.",
              applies=_TCP, default=False, code=_same("ELB.6005")),
        Field("tcp_draining_timeout", int, "How long (minutes) to keep them.",
              minimum=0, maximum=60, applies=AppliesWhen(frozenset({"TCP"}),
                                                         (("tcp_draining", True),)),
              default=0, code=_same("ELB.6122")),
        Field("udp_timeout", int, "UDP session timeout in minutes.", minimum=1, maximum=1440,
              applies=AppliesWhen(frozenset({"UDP"})), default=5, code=_same("ELB.6123")),
        Field("ssl_protocols", str, "TLS versions offered.", choices=SSL_PROTOCOLS,
              applies=_TLS, default="TLSv1.2", code=_same("ELB.6131")),
        Field("ssl_ciphers", str, "Cipher suite set ('Extended' needs all TLS versions).",
              choices=SSL_CIPHERS, applies=_TLS, default="Default", code=_same("ELB.6132")),
        Field("certificate_id", str, "Default certificate (mandatory for HTTPS/SSL).",
              minimum=32, maximum=32, pattern=ID_RE, pattern_rule=_ID_RULE, applies=_TLS,
              code=_same("ELB.6141")),
        Field("certificates", list, "SNI certificate IDs (HTTPS on a public load balancer).",
              applies=AppliesWhen(frozenset({"HTTPS"})), code=_same("ELB.6142")),
    )
}

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
    """Judge one known, non-null value against its field's own constraint."""
    which = 1 if updating else 0
    value_type = type(value)
    if value_type is not spec.kind:  # strict: bool is not int, 80.0 is not int
        return Violation(spec.name, f"must be a JSON {_type_name(spec.kind)} "
                         f"({spec.rule()}), got {type(value).__name__} {_shown(value)}",
                         "ELB.6005")
    if spec.kind is int:
        if not (spec.minimum or 0) <= value <= (spec.maximum or 0):
            return Violation(spec.name, f"must be {spec.rule()}, got {value}", spec.code[which])
    elif spec.choices is not None:
        if value not in spec.choices:
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(value)}",
                             spec.code[which])
    elif spec.kind is list:
        bad = [item for item in value if type(item) is not str or not ID_RE.fullmatch(item)]
        if bad:
            return Violation(spec.name, f"must be {spec.rule()}, got {_shown(bad[0])}",
                             spec.code[which])
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
    """The listener as the service stores it: defaults filled, inapplicable fields ``null``.

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
    """Per-field checks (shape, names, nulls, types, own constraints); returns the judged body."""
    if not isinstance(body, dict):
        return [Violation("", "the request body must be a JSON object", "ELB.6006")], {}
    violations: list[Violation] = []
    for key, value in body.items():
        spec = FIELDS.get(key)
        if spec is None:
            allowed = ", ".join(UPDATABLE_FIELDS if updating else FIELDS)
            violations.append(Violation(str(key)[:64], f"is not a listener field (allowed: "
                                        f"{allowed})", "ELB.6003"))
        elif updating and not spec.updatable:
            violations.append(Violation(key, "cannot be changed on an existing listener "
                                        "(a new listener is needed)", "ELB.6015"))
        elif value is None:
            rule = "must not be null" + (" (clear it with \"\")" if spec.kind is str else "")
            violations.append(Violation(key, rule, "ELB.6004"))
        elif value is UNKNOWN and unknown_ok:
            continue
        else:
            found = _value_violation(spec, value, updating)
            if found is not None:
                violations.append(found)
    return violations, body


def _cross_violations(
    body: Mapping[str, Any], merged: Mapping[str, Any], updating: bool,
    context: LoadBalancerContext | None,
) -> list[Violation]:
    """Rules between fields, judged on the listener as it would be after the request."""
    violations: list[Violation] = []
    for name in body:
        if name not in _ALWAYS_APPLIES and applies(name, merged) is False:
            violations.append(Violation(name, f"does not apply to this listener (only "
                                        f"with {FIELDS[name].applies.describe()})", "ELB.6016"))

    get = merged.get
    protocol, backend = get("protocol"), get("backend_protocol")
    if protocol is not UNKNOWN and backend is not UNKNOWN and isinstance(protocol, str) \
            and protocol in BACKEND_PROTOCOL_FOR and backend is not None \
            and backend != BACKEND_PROTOCOL_FOR[protocol]:
        violations.append(Violation("backend_protocol", f"must be "
                                    f"{BACKEND_PROTOCOL_FOR[protocol]!r} when protocol is "
                                    f"{protocol!r}, got {backend!r}", "ELB.6071"))
    ciphers, tls = get("ssl_ciphers"), get("ssl_protocols", "TLSv1.2")
    if ciphers == "Extended" and tls is not UNKNOWN and tls not in (None, EXTENDED_CIPHERS_NEED):
        blamed = "ssl_protocols" if "ssl_protocols" in body else "ssl_ciphers"
        violations.append(Violation(blamed, f"ssl_ciphers 'Extended' needs ssl_protocols "
                                    f"{EXTENDED_CIPHERS_NEED!r}", "ELB.6132"))
    if protocol in ("HTTPS", "SSL") and get("certificate_id") is None:
        violations.append(Violation("certificate_id", f"is mandatory when protocol is "
                                    f"{protocol!r}", "ELB.6001"))
    algorithm = get("lb_algorithm")
    if get("session_sticky") is True and algorithm not in (None, UNKNOWN, "roundrobin"):
        blamed = "lb_algorithm" if updating else "session_sticky"
        violations.append(Violation(blamed, "session_sticky true needs lb_algorithm "
                                    f"'roundrobin', got {algorithm!r}", "ELB.6082"))
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
                                    "is Internal", "ELB.6062"))
    cert = body.get("certificate_id")
    if isinstance(cert, str) and cert not in context.certificate_ids:
        violations.append(Violation("certificate_id", f"certificate {cert!r} does not exist "
                                    "in this project", "ELB.6141"))
    certs = body.get("certificates")
    if isinstance(certs, list) and certs:
        if not public:
            violations.append(Violation("certificates", "SNI certificates need a public "
                                        "(External) load balancer", "ELB.6142"))
        missing = [c for c in certs if c not in context.certificate_ids]
        if missing:
            violations.append(Violation("certificates", f"certificate {missing[0]!r} does not "
                                        "exist in this project", "ELB.6142"))
    port = body.get("port")
    if type(port) is int and port in context.ports_in_use:
        violations.append(Violation("port", f"port {port} is already used by another listener "
                                    "of this load balancer",
                                    "ELB.6200" if updating else "ELB.6101"))
    if not updating and context.listener_count >= LISTENER_QUOTA:
        violations.append(Violation("loadbalancer_id", f"the load balancer already has "
                                    f"{LISTENER_QUOTA} listeners (quota)", "ELB.6091", 403))
    return violations


def _judgeable(body: dict[str, Any], violations: list[Violation],
               must_have: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body without fields that already broke a rule, missing ones marked unknown, so that
    cross-field rules are still judged on what is sound and every problem is reported once."""
    broken = {v.field for v in violations}
    judged = {k: v for k, v in body.items() if k not in broken and k in FIELDS}
    for name in must_have:
        judged.setdefault(name, UNKNOWN)
    return judged


def validate_create(
    body: Any, context: LoadBalancerContext | None = None, *, unknown_ok: bool = False
) -> list[Violation]:
    """All violations of a create (POST) body; empty means the service accepts it.

    ``unknown_ok`` lets :data:`UNKNOWN` values through unjudged (Pulumi preview); any rule that
    would need such a value is skipped rather than guessed.
    """
    violations, fields = _structure_violations(body, updating=False, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    for name in REQUIRED_FIELDS:
        if name not in fields:
            violations.append(Violation(name, "is mandatory when creating a listener",
                                        "ELB.6001"))
    if violations:
        judged = _judgeable(fields, violations, REQUIRED_FIELDS)
        return violations + _cross_violations(judged, judged, updating=False, context=None)
    return _cross_violations(fields, fields, updating=False, context=context)


def validate_update(
    body: Any, current: Mapping[str, Any], context: LoadBalancerContext | None = None,
    *, unknown_ok: bool = False,
) -> list[Violation]:
    """All violations of a PUT body against the listener as it is now (cross-field rules are
    judged on ``current`` merged with ``body``)."""
    violations, fields = _structure_violations(body, updating=True, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    if violations:
        judged = _judgeable(fields, violations)
        return violations + _cross_violations(judged, {**current, **judged}, updating=True,
                                              context=None)
    return _cross_violations(fields, {**current, **fields}, updating=True, context=context)


#: Fields other fields' applicability depends on (besides protocol, which PUT cannot change).
_CONDITION_FIELDS: Final = frozenset(other for f in FIELDS.values()
                                     for other, _ in f.applies.fields)


def apply_update(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The listener after a valid PUT: fields that stop applying become ``null``, fields that
    start applying get their default. ``current`` is already settled, so only a change of a
    condition field needs the full :func:`materialize`."""
    merged = {**current, **body}
    if _CONDITION_FIELDS.isdisjoint(body):
        return merged
    return materialize(merged)


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
