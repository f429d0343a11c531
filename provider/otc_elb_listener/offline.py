"""Offline means offline: in a provider host an offline engine started, every address the
provider would reach (the ELB API and IAM, wherever the address came from: config, a
``clouds.yaml`` entry, a region, a token's catalog) must be loopback.

The offline engines set :data:`OFFLINE_VARIABLE` in the host's environment (after taking
every ``ELB_*`` variable of the caller out); the provider checks each address before the
first byte goes to it. A user's own run never sets it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

OFFLINE_VARIABLE = "ELB_OFFLINE"
#: Hosts that never leave the machine (``.invalid`` never resolves: the in-process fake's).
_LOCAL_NAMES = ("localhost",)


def is_loopback(url: str) -> bool:
    """Does ``url`` name this machine (or a name that can never resolve)?"""
    host = (urlsplit(url.strip()).hostname or "").lower()
    if host in _LOCAL_NAMES or host.endswith((".localhost", ".invalid")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def guard(url: str, what: str, environ: Mapping[str, str] | None = None) -> None:
    """In an offline host, refuse ``url`` unless it is loopback, naming what it is for."""
    environ = os.environ if environ is None else environ
    if environ.get(OFFLINE_VARIABLE) == "1" and not is_loopback(url):
        host = urlsplit(url.strip()).hostname or url
        raise ConfigError(f"offline: {what} {host} is not loopback, and this provider runs in "
                          "an offline engine: nothing is sent to a real cloud (point the "
                          "setting at the fake, or check the clouds.yaml entry and region)")
