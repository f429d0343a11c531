"""AK/SK-signed requests checked the way the service checks them (``SDK-HMAC-SHA256``).

The canonical request and the signature are computed with the provider's signing functions
(as the fake uses the provider's rule tables): one reading of the signing guide, checked
against the guide's worked example in the tests.
"""

from __future__ import annotations

import calendar
import hmac
import re
import time
from collections.abc import Mapping

from otc_elb_listener.auth import SIGNING_ALGORITHM, canonical_request, signature

from .errors import ApiError
from .http import header
from .iam import Credential


def verify(credentials: Mapping[str, Credential], method: str, url: str,
           headers: Mapping[str, str], body: bytes, now: float) -> tuple[str | None, str]:
    """A signed request checked the way the service checks it: ``(project, "")`` when the
    signature holds, ``(None, reason)`` otherwise. A temporary key's security token must
    come with it, signed."""
    lowered = {name.lower(): value for name, value in headers.items()}
    found = re.fullmatch(rf"{SIGNING_ALGORITHM} Access=([^,]+), SignedHeaders=([^,]+), "
                         r"Signature=([0-9a-f]+)", lowered.get("authorization", ""))
    if found is None:
        return None, "the Authorization header is not an SDK-HMAC-SHA256 signature"
    access, signed, given = found[1], found[2].split(";"), found[3]
    if access not in credentials:
        return None, "unknown access key"
    if not {"host", "x-sdk-date"} <= set(signed) or not all(n in lowered for n in signed):
        return None, "the signature must cover host and x-sdk-date, and headers present"
    try:
        sent = calendar.timegm(time.strptime(lowered["x-sdk-date"], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return None, "X-Sdk-Date is not YYYYMMDDTHHMMSSZ"
    if abs(now - sent) > 15 * 60:
        return None, "X-Sdk-Date is more than 15 minutes off"
    credential = credentials[access]
    if credential.security_token is not None:
        sent_token = lowered.get("x-security-token", "")
        if "x-security-token" not in signed or not hmac.compare_digest(
                sent_token.encode("utf-8"), credential.security_token.encode("utf-8")):
            return None, ("a temporary access key needs its security token, signed, in "
                          "X-Security-Token")
    canonical = canonical_request(method, url, lowered, body, signed)
    if not hmac.compare_digest(signature(credential.secret, lowered["x-sdk-date"], canonical),
                               given):
        return None, "the signature does not match the request"
    return credential.project_id, ""


def check_signature(credentials: Mapping[str, Credential], method: str, path: str,
                    query: str, headers: Mapping[str, str], raw_body: bytes | str | None,
                    project: str) -> None:
    """An AK/SK-signed request for ``project``, or 401 ``ELB.1103`` saying why not."""
    body = raw_body.encode() if isinstance(raw_body, str) else (raw_body or b"")
    url = f"http://fake{path}" + (f"?{query}" if query else "")
    owner, reason = verify(credentials, method, url, headers, body, time.time())
    if owner is None:
        raise ApiError(401, "ELB.1103", f"AK/SK signature refused: {reason}")
    if owner != project or header(headers, "X-Project-Id") != project:
        raise ApiError(401, "ELB.1103", "AK/SK signature refused: the key and "
                       "X-Project-Id must belong to the project in the path")
