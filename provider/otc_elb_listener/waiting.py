"""Waiting for the service: the one poll schedule for a member's jobs and a listener's
status, and the rule every wait's deadline follows (docs/engines.md, "Jobs")."""

from __future__ import annotations

import math
from typing import Any

#: The poll schedule (docs/engines.md, "Jobs"): every :data:`POLL_FIRST` seconds until
#: :data:`POLL_STEADY_AFTER`, then a quarter of the time waited so far, at most
#: :data:`POLL_MAX`: a job is seen done within max(0.5 s, 25 % of its duration) after it
#: ends, a 1 s job by the second or third poll, and no job polled more than once per 10 s.
POLL_FIRST = 0.5
POLL_STEADY_AFTER = 2.0
POLL_MAX = 10.0
JOB_TIMEOUT_RULE = "seconds, a finite number > 0"


def job_timeout_problem(value: Any) -> str | None:
    """Why ``value`` is no job timeout (``None`` when it is one): a stuck job must never be
    polled forever, so NaN, infinity and anything not positive are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "not a number"
    if not math.isfinite(value) or value <= 0:
        return "not a finite number > 0"
    return None


def poll_delay(waited: float) -> float:
    """Seconds to the next poll of a job polled for ``waited`` seconds so far."""
    if waited < POLL_STEADY_AFTER:
        return POLL_FIRST
    return min(POLL_MAX, waited / 4)
