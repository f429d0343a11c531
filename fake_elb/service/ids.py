"""IDs and timestamps as the service writes them, for every collection of the fake."""

from __future__ import annotations

import functools
import secrets
import time

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def new_id() -> str:
    """An object ID: 32 lowercase hex characters."""
    return secrets.token_hex(16)


def timestamp() -> str:
    """Now as the API writes it. Never ahead of the clock (Decision "Times"): two PUTs
    within one second share an ``update_time``."""
    return _format_time(int(time.time()))


@functools.lru_cache(maxsize=4)
def _format_time(epoch: int) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(epoch))
