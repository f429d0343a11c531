"""A member's codes (docs/api-rules.md, from the reference's table of error
codes), and the one rule for what an add carries. Members have no rule table: an add
carries two fields, ``server_id`` and the ECS's private ``address``, judged here for both the
fake (:mod:`fake_elb.service.members`) and the provider's ``check``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

from .machinery import ID_RE, INVALID, Violation

ERROR_CODES: Final[Mapping[str, str]] = {
    "ELB.1001": "documented: request parameters invalid, the general code (an add body that "
                "is not an array of {server_id, address}, an address that is not IPv4)",
    "ELB.2001": "documented: member quota exceeded (403; the fake's quota: 100 per listener)",
    "ELB.2002": "documented: the remove body is invalid",
    "ELB.2003": "documented: the member query failed (a filter the list does not take)",
    "ELB.2005": "documented as 'update failed'; chosen: a job's failure (unknown ECS, an "
                "address that is not its private IP, the same ECS twice on one listener)",
    "ELB.2011": "documented: the listener does not exist",
    "ELB.2012": "documented: the member does not exist (remove)",
    "ELB.2020": "documented: listener ID content invalid",
    "ELB.2021": "documented: member address null",
}


def is_ipv4(value: Any) -> bool:
    try:
        return isinstance(value, str) and isinstance(ipaddress.ip_address(value),
                                                     ipaddress.IPv4Address)
    except ValueError:
        return False


def listener_violation(listener_id: Any) -> Violation | None:
    """What is wrong with the listener ID a member (or a listener's members) names:
    mandatory, and a listener ID."""
    if listener_id is None:
        return Violation("listener_id", "is mandatory", INVALID)
    if isinstance(listener_id, str) and ID_RE.fullmatch(listener_id):
        return None
    return Violation("listener_id", "must be a listener ID (32 lowercase hex characters), got "
                     f"{listener_id!r}", "ELB.2020")


def item_violations(item: Mapping[str, Any], where: str = "") -> list[Violation]:
    """What is wrong with one ``{server_id, address}`` of an add, judged with no lookup."""
    found = []
    server_id = item.get("server_id")
    if not isinstance(server_id, str) or not server_id:
        found.append(Violation(f"{where}server_id", "must be the ECS's ID, a non-empty string",
                               INVALID))
    address = item.get("address")
    if address is None:
        found.append(Violation(f"{where}address", "is mandatory", "ELB.2021"))
    elif not is_ipv4(address):
        found.append(Violation(f"{where}address", "must be the ECS's private IPv4 address, got "
                               f"{address!r}", INVALID))
    return found
