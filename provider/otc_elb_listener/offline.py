"""Offline means offline: in a provider host an offline engine started, every address the
provider would reach (the ELB API and IAM, wherever the address came from: config, a
``clouds.yaml`` entry, a region, a token's catalog) must be loopback.

The offline engines set :data:`OFFLINE_VARIABLE` in the host's environment (after taking
every ``ELB_*`` variable of the caller out); the provider checks each address before the
first byte goes to it. A user's own run never sets it.

An address is judged with the parser the transport connects with (urllib3's ``parse_url``,
which ``requests`` uses), never with another: ``http://evil.example\\@127.0.0.1`` is
``127.0.0.1`` to the standard library and ``evil.example`` to urllib3. URLs carrying a
backslash, whitespace, a control character or user information are refused outright,
online or not (docs/sign-in.md, "Addresses"). Loopback is a literal loopback IP
(``127.0.0.1``, ``::1``; no short, decimal, octal or IPv4-mapped forms) or ``localhost``: a
name is trusted by nothing else, as a resolver may map any other name anywhere.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

from .errors import ConfigError

OFFLINE_VARIABLE = "ELB_OFFLINE"
#: The only name trusted as loopback without resolving it.
_LOCAL_NAMES = ("localhost",)
#: What a URL of ours never carries: whitespace and control characters, and a backslash
#: (read as a path by one parser and as part of the host by another).
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f\\]")
#: A dotted quad of decimal numbers without leading zeros: the only IPv4 form trusted.
_DOTTED_QUAD = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an address of ours (in words), or ``None``: a character no URL
    of ours has, user information, or no ``http``/``https`` scheme and host as urllib3 reads
    it."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    if _FORBIDDEN.search(url):
        return "it holds whitespace, a control character or a backslash"
    try:
        parts = parse_url(url)
    except LocationParseError:
        return "it does not parse as a URL"
    if parts.auth is not None or "@" in (parts.netloc or ""):
        return "it holds user information ('...@' before the host)"
    if parts.scheme not in ("http", "https") or not parts.host:
        return "it needs http or https and a host"
    return None


def host_of(url: str) -> str:
    """The host the transport connects to, lower-cased, IPv6 without brackets ("" when the
    URL does not parse)."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        host = parse_url(url).host or ""
    except LocationParseError:
        return ""
    return host.lower().strip("[]")


def is_loopback(url: str) -> bool:
    """Does ``url`` name this machine, as the transport reads it: a literal loopback IP or
    ``localhost``, with nothing in the URL a second parser could read otherwise?"""
    if url_problem(url) is not None:
        return False
    host = host_of(url)
    if host in _LOCAL_NAMES:
        return True
    if ":" not in host and not _DOTTED_QUAD.fullmatch(host):
        return False  # a name, or an IPv4 in a form only some parsers read (127.1, 0x7f...)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return False
    return address.is_loopback


def guard(url: str, what: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse a URL no transport of ours may be given (always), and in an offline host any
    URL that is not loopback, naming what it is for."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(f"{what} is not a URL the provider will send to: {problem}")
    environ = os.environ if environ is None else environ
    if environ.get(OFFLINE_VARIABLE) == "1" and not is_loopback(url):
        raise ConfigError(f"offline: {what} {host_of(url)} is not loopback, and this provider "
                          "runs in an offline engine: nothing is sent to a real cloud (point "
                          "the setting at the fake, or check the clouds.yaml entry and region)")


def redirect_refusal(location: str | None, what: str) -> str:
    """Why a 3xx answer ends a call, naming the host it points to: neither the ELB API nor
    IAM redirects, and following would carry a token or a password there."""
    target = host_of(location) if location and "://" in location else ""
    return (f"{what} answered a redirect to {target or 'another location'}; a redirect is "
            "never followed (it would carry the credentials there): check the endpoint "
            "setting")
