"""IDs and timestamps as the service writes them, for every collection of the fake."""

from __future__ import annotations

import functools
import secrets
import time
from typing import Any

from otc_elb_listener.rules.machinery import ID_RE, INVALID

from .errors import ApiError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def new_id() -> str:
    """An object ID: 32 lowercase hex characters."""
    return secrets.token_hex(16)


def timestamp() -> str:
    """Now as the API writes it. Never ahead of the clock (docs/api-rules.md Decision 13): two PUTs
    within one second share an ``update_time``."""
    return _format_time(int(time.time()))


@functools.lru_cache(maxsize=4)
def _format_time(epoch: int) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(epoch))


def check_id(kind: str, value: Any) -> str:
    """An ID given to the control plane (a seeded object's): 32 lowercase hex characters."""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise ApiError(400, INVALID, f"{kind} id must be 32 lowercase hex characters, "
                       f"got {value!r}")
    return value
