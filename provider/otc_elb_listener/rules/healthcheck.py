"""The health check's rule table (one per listener): docs/api-rules.md Decisions 16, 17 and
23. The provider's ``check`` and the fake judge with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .machinery import ID_RE, INVALID, UNKNOWN, Codes, Field, Violation, same_code
from .table import RuleTable

__all__ = ["CREATE_PROTOCOLS", "ERROR_CODES", "FIELDS", "PUT_PROTOCOLS", "REPLACE_FIELDS",
           "RESPONSE_FIELDS", "TABLE", "defaults_for", "validate_create", "validate_update"]

CREATE_PROTOCOLS: Final = ("HTTP", "TCP", "UDP")
#: A PUT cannot set UDP (docs/api-rules.md Decision 23: a change to UDP is a replacement).
PUT_PROTOCOLS: Final = ("HTTP", "TCP")
URI_RE: Final = re.compile(r"(?:/[A-Za-z0-9\-/.%?#&_=]*)?")

ERROR_CODES: Final[Mapping[str, str]] = {
    "ELB.1001": "documented: request parameters invalid, the general code",
    "ELB.7000": "documented: listener_id null (create without it)",
    "ELB.7001": "documented: healthcheck_interval illegal",
    "ELB.7010": "documented: the listener does not exist (listener_id of a create)",
    "ELB.7020": "documented: the health check does not exist (404 on its path, api-rules.md "
                "Decision 17)",
}

_FIELDS: Final = (
    Field("listener_id", str, "The listener this health check watches; one per listener. "
          "Changing it replaces the health check.", required=True, updatable=False,
          minimum=32, maximum=32, pattern=ID_RE, pattern_rule="32 lowercase hex characters",
          code=same_code(INVALID)),
    Field("healthcheck_protocol", str, "HTTP, TCP or UDP (UDP only at create); default HTTP "
          "for HTTP/HTTPS listeners, TCP otherwise.", choices=CREATE_PROTOCOLS),
    Field("healthcheck_uri", str, "Path an HTTP check requests; unset reads back null, \"\" "
          "reads back \"\".", minimum=0, maximum=80, pattern=URI_RE,
          pattern_rule="empty, or starting with '/' with only letters, digits and -/.%?#&_="),
    Field("healthcheck_connect_port", int, "Port checked on each member; default the "
          "listener's backend port.", minimum=1, maximum=65535),
    Field("healthy_threshold", int, "Successes before a member counts as healthy; default 3.",
          minimum=1, maximum=10),
    Field("unhealthy_threshold", int, "Failures before a member counts as unhealthy; "
          "default 3.", minimum=1, maximum=10),
    Field("healthcheck_timeout", int, "Seconds to wait for an answer; default 10.",
          minimum=1, maximum=50, default=10),
    Field("healthcheck_interval", int, "Seconds between checks; default 5.", minimum=1,
          maximum=50, default=5, code=Codes("ELB.7001", "ELB.7001")),
)

TABLE: Final = RuleTable("health check", _FIELDS, fixed_code=INVALID, null_code=INVALID)
FIELDS: Final[Mapping[str, Field]] = TABLE.fields
REPLACE_FIELDS: Final = TABLE.replace
RESPONSE_FIELDS: Final = ("id", *FIELDS, "create_time", "update_time")


def defaults_for(listener: Mapping[str, Any]) -> dict[str, Any]:
    """What a field left out reads back as, for a health check of ``listener`` (api-rules.md
    Decision 16)."""
    protocol = listener.get("protocol")
    return {"healthcheck_protocol": "HTTP" if protocol in ("HTTP", "HTTPS") else "TCP",
            "healthcheck_uri": None,
            "healthcheck_connect_port": listener.get("backend_port"),
            "healthy_threshold": 3, "unhealthy_threshold": 3,
            "healthcheck_timeout": 10, "healthcheck_interval": 5}


def validate_create(body: Any, *, unknown_ok: bool = False) -> list[Violation]:
    """Every violation of a create body that needs no lookup (the listener's existence and
    its one health check are the service's to judge)."""
    violations, typed = TABLE.structure_violations(body, updating=False, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    if body.get("listener_id") is None:  # missing or null: the documented code
        violations = [v for v in violations if v.field != "listener_id"]
        violations.append(Violation("listener_id", "is mandatory when creating a health "
                                    "check", "ELB.7000"))
    found, _ = TABLE.field_violations(typed, {}, updating=False, strict=False)
    return TABLE.in_table_order(violations + found)


def validate_update(body: Any, *, unknown_ok: bool = False) -> list[Violation]:
    """Every violation of a PUT body. The protocol is taken in any case (stored upper-case,
    :func:`normalized_update`), and UDP only at create."""
    violations, typed = TABLE.structure_violations(body, updating=True, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    protocol = typed.pop("healthcheck_protocol", None)
    if protocol is not None and protocol is not UNKNOWN and \
            protocol.upper() not in PUT_PROTOCOLS:
        violations.append(Violation("healthcheck_protocol", "must be 'HTTP' or 'TCP' in a PUT "
                                    f"(UDP only when creating), got {protocol!r}", INVALID))
    found, _ = TABLE.field_violations(typed, {}, updating=True, strict=False)
    return TABLE.in_table_order(violations + found)


def normalized_update(body: Mapping[str, Any]) -> dict[str, Any]:
    """A valid PUT body as the service stores it (the protocol upper-case)."""
    result = dict(body)
    if isinstance(result.get("healthcheck_protocol"), str):
        result["healthcheck_protocol"] = result["healthcheck_protocol"].upper()
    return result


def markdown_table() -> str:
    """The table as docs/api-rules.md shows it."""
    return TABLE.markdown_table()
