"""The listener's rules under their first name: ``otc_elb_listener.spec`` is imported by the
fake, by users' tests and benchmarks, and named in pickles of :data:`UNKNOWN`, so it stays.

The table lives in :mod:`otc_elb_listener.rules.listener`, the machinery in
:mod:`otc_elb_listener.rules.machinery` and :mod:`otc_elb_listener.rules.table`.
"""

from __future__ import annotations

from .rules.listener import *  # noqa: F403 (this module is the listener table's old name)
from .rules.listener import __all__ as _LISTENER_NAMES
from .rules.machinery import ALWAYS, ID_RE, INVALID, UNKNOWN, AppliesWhen, Codes, Field, Violation

__all__ = [*_LISTENER_NAMES, "ALWAYS", "ID_RE", "INVALID", "UNKNOWN", "AppliesWhen", "Codes",
           "Field", "Violation"]
