"""The listener rule table: every rule about a classic ELB (v1.0) listener, written once.

The provider's ``check``/``diff``/``update`` and the fake ELB both derive their behaviour from
this module, so a rule added here is enforced at preview time, in PUT bodies and by the fake
alike. It is pure (no HTTP, no Pulumi) and cheap to import. The evidence behind each rule,
and the project's Decisions where the sources disagree, are in ``docs/api-rules.md``. Where
the pages give no error code, the code below is our choice; those are marked ``chosen`` in
:data:`ERROR_CODES`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from .machinery import (
    ID_RE,
    INVALID,
    UNKNOWN,
    AppliesWhen,
    Codes,
    Field,
    Violation,
    shown,
)
from .machinery import same_code as _same
from .table import RuleTable

__all__ = [
    "BACKEND_PROTOCOLS",
    "BACKEND_PROTOCOL_FOR",
    "CERTIFICATE_FIELDS",
    "CREATE_IGNORED",
    "DESCRIPTION_RE",
    "ERROR_CODES",
    "EXTENDED_CIPHERS_NEED",
    "FIELDS",
    "LB_ALGORITHMS",
    "LISTENER_QUOTA",
    "LOADBALANCER_TYPES",
    "NAME_RE",
    "PORT_FIELDS",
    "PROTOCOLS",
    "REPLACE_FIELDS",
    "REQUIRED_FIELDS",
    "RESERVED_CODES",
    "RESPONSE_FIELDS",
    "RESPONSE_ONLY_FIELDS",
    "SSL_CIPHERS",
    "SSL_PROTOCOLS",
    "TABLE",
    "UNFILTERABLE_FIELDS",
    "UPDATABLE_FIELDS",
    "LoadBalancerContext",
    "applies",
    "apply_update",
    "canonical",
    "coerce_number",
    "markdown_table",
    "materialize",
    "same_value",
    "validate_create",
    "validate_update",
    "wire_value",
]

PROTOCOLS: Final = ("HTTP", "TCP", "HTTPS", "SSL", "UDP")
BACKEND_PROTOCOLS: Final = ("HTTP", "TCP", "UDP")
#: docs/api-rules.md Decision 14.
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
#: docs/api-rules.md Decision 7: ``Extended`` ciphers only together with this protocol set.
EXTENDED_CIPHERS_NEED: Final = "TLSv1.2 TLSv1.1 TLSv1"
LOADBALANCER_TYPES: Final = ("External", "Internal")
#: Default listener quota per load balancer (403 ELB.6091).
LISTENER_QUOTA: Final = 5

#: docs/api-rules.md Decision 15: ASCII letters, digits, ``_``, ``-`` and CJK unified ideographs.
NAME_RE: Final = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]+")
#: docs/api-rules.md Decision 15: no angle brackets.
DESCRIPTION_RE: Final = re.compile(r"[^<>]*")

#: Every ``ELB.*`` code this project answers with, and where it comes from. ``documented``
#: codes come from the OTC API reference's error code appendix (docs/api-rules.md, "Where the rules
#: come from");
#: ``chosen`` ones are this project's where the table has none. docs/api-rules.md Decision 4: where
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


def _on(*protocols: str) -> frozenset[str]:
    return frozenset(protocols)


def _when(protocols: frozenset[str], *fields: tuple[str, Any]) -> AppliesWhen:
    return AppliesWhen(protocols, tuple(fields), "protocol", PROTOCOLS)


_TCP = _when(_on("TCP"))
_TLS = _when(_on("HTTPS", "SSL"))
#: docs/api-rules.md Decision 2: session_sticky applies to HTTP, HTTPS and TCP (not SSL, UDP).
_STICKY_ON = _on("HTTP", "HTTPS", "TCP")
_STICKY_PROTOCOLS = _when(_STICKY_ON)
_STICKY = _when(_on("HTTP"), ("session_sticky", True))
_ID_RULE = "32 lowercase hex characters"

#: The rule table. Order is the order of the API pages; validation reports in this order.
_FIELDS: Final = (
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
        Field("tcp_timeout", int, "TCP session timeout in minutes (api-rules.md Decision 6: "
              "1-1440).", minimum=1, maximum=1440, applies=_TCP, default=5),
        Field("tcp_draining", bool, "Keep connections to removed backends.",
              applies=_TCP, default=False),
        Field("tcp_draining_timeout", int, "How long (minutes) to keep them.",
              minimum=0, maximum=60, applies=_when(_on("TCP"), ("tcp_draining", True)),
              default=0),
        Field("udp_timeout", int, "UDP session timeout in minutes.", minimum=1, maximum=1440,
              applies=_when(_on("UDP")), default=5),
        Field("ssl_protocols", str, "TLS versions offered.", choices=SSL_PROTOCOLS,
              applies=_TLS, default="TLSv1.2"),
        Field("ssl_ciphers", str, "Cipher suite set ('Extended' needs all TLS versions).",
              choices=SSL_CIPHERS, applies=_TLS, default="Default"),
        Field("certificate_id", str, "Default certificate (mandatory for HTTPS/SSL).",
              minimum=32, maximum=32, pattern=ID_RE, pattern_rule=_ID_RULE, applies=_TLS,
              code=_same("ELB.5040"), length_code=_same("ELB.5020"),
              short_code=_same("ELB.5020")),
        Field("certificates", list, "SNI certificate IDs, distinct (HTTPS on a public load "
              "balancer).", applies=_when(_on("HTTPS")),
              items_rule="distinct certificate IDs (32 lowercase hex characters each)"),
)

#: Fields a create may carry besides the table's own, with their JSON type: type-checked,
#: then ignored (docs/api-rules.md Decision 3: a new listener is always up). A PUT may not.
CREATE_IGNORED: Final[Mapping[str, type]] = {"admin_state_up": bool}
#: Response fields the list API cannot filter on (the list page says so): 400 ELB.6003.
UNFILTERABLE_FIELDS: Final = frozenset({"update_time", "create_time", "admin_state_up",
                                        "session_sticky", "member_number"})

#: Fields that only responses carry (GET adds ``member_number``; we show it everywhere).
RESPONSE_ONLY_FIELDS: Final = (
    "id", "status", "admin_state_up", "healthcheck_id", "member_number",
    "create_time", "update_time",
)


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


def _certificates_violation(spec: Field, value: list[Any]) -> Violation | None:
    """``certificates``: distinct certificate ID strings (docs/api-rules.md Decision 15)."""
    for item in value:
        if type(item) is not str:
            return Violation(spec.name, f"must be {spec.rule()}, got {shown(item)}", INVALID)
        if len(item) != 32:
            return Violation(spec.name, f"must be {spec.rule()}, got {shown(item)} "
                             f"({len(item)} characters)", "ELB.5020")
        if not ID_RE.fullmatch(item):
            return Violation(spec.name, f"must be {spec.rule()}, got {shown(item)}",
                             "ELB.5040")
    if len(set(value)) != len(value):
        twice = next(item for item in value if value.count(item) > 1)
        return Violation(spec.name, f"must list each certificate once, got {twice!r} twice",
                         INVALID)
    return None


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
    if get("session_sticky") is True and protocol in _STICKY_ON and \
            algorithm not in (None, UNKNOWN, "roundrobin"):
        blamed = "lb_algorithm" if updating else "session_sticky"
        violations.append(Violation(blamed, "session_sticky true needs lb_algorithm "
                                    f"'roundrobin', got {algorithm!r}", INVALID))
    if context is not None:
        violations += _context_violations(body, merged, updating, context)
    return violations


TABLE: Final = RuleTable("listener", _FIELDS, create_ignored=CREATE_IGNORED,
                         list_rule=_certificates_violation, hint=_with_backend_hint)
#: The rule table. Order is the order of the API pages; validation reports in this order.
FIELDS: Final[Mapping[str, Field]] = TABLE.fields
REQUIRED_FIELDS: Final = TABLE.required
UPDATABLE_FIELDS: Final = TABLE.updatable
REPLACE_FIELDS: Final = TABLE.replace
RESPONSE_FIELDS: Final = (*RESPONSE_ONLY_FIELDS, *FIELDS)
applies = TABLE.applies
materialize = TABLE.materialize
apply_update = TABLE.apply_update
coerce_number = TABLE.coerce_number
canonical = TABLE.canonical
same_value = TABLE.same_value
wire_value = TABLE.wire_value

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
        if not public:  # refused even when empty (docs/api-rules.md Decision 15)
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
    violations, typed = TABLE.structure_violations(body, updating=False, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    for name in REQUIRED_FIELDS:
        if name not in body:
            violations.append(Violation(name, "is mandatory when creating a listener",
                                        "ELB.6001"))
    found, kept = TABLE.field_violations(typed, {}, updating=False, strict=strict)
    violations += found
    if violations:  # judge what is sound, so that every problem is reported once
        judged = _judgeable(kept, violations, REQUIRED_FIELDS)
        return TABLE.in_table_order(violations + _cross_violations(judged, judged, updating=False,
                                                              context=None))
    return _cross_violations(kept, kept, updating=False, context=context)


def validate_update(
    body: Any, current: Mapping[str, Any], context: LoadBalancerContext | None = None,
    *, unknown_ok: bool = False, strict: bool = False,
) -> list[Violation]:
    """All violations of a PUT body against the listener as it is now (every rule is judged
    on ``current`` merged with ``body``)."""
    violations, typed = TABLE.structure_violations(body, updating=True, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    found, kept = TABLE.field_violations(typed, current, updating=True, strict=strict)
    violations += found
    if violations:
        judged = _judgeable(kept, violations)
        return TABLE.in_table_order(violations + _cross_violations(
            judged, {**current, **judged}, updating=True, context=None))
    return _cross_violations(kept, {**current, **kept}, updating=True, context=context)


def _judgeable(fields: dict[str, Any], violations: list[Violation],
               must_have: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields without those that already broke a rule, missing ones marked unknown, so
    that cross-field rules are still judged on what is sound."""
    broken = {v.field for v in violations}
    judged = {k: v for k, v in fields.items() if k not in broken}
    for name in must_have:
        judged.setdefault(name, UNKNOWN)
    return judged


def markdown_table() -> str:
    """The rule table as the docs show it (a test keeps the docs' copy equal)."""
    return TABLE.markdown_table(("ELB.5020", "ELB.5040", INVALID))
