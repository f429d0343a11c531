"""A member's codes (``elb-classic-subresources.md`` section 2, from the reference's table of
error codes), and where the fake and the provider use them. Members have no rule table: an
add carries two fields (``server_id`` and the ECS's private ``address``), judged where they
are used (:mod:`fake_elb.service.members`, :class:`otc_elb_listener.member.MemberProvider`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

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
