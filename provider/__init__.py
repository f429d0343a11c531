"""Pulumi dynamic provider for the Open Telekom Cloud / Huawei Cloud classic ELB listener.

``from provider import Listener, ListenerArgs, ListenerProvider``. Kept light: the Pulumi SDK
is imported only when one of those names is used, so importing :mod:`provider.spec` (as the
fake does) does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import ElbApiError, ElbClient, RetrySettings
    from .listener import Listener, ListenerArgs, ListenerProvider

__all__ = ["ElbApiError", "ElbClient", "Listener", "ListenerArgs", "ListenerProvider",
           "RetrySettings"]
_HOME = {"ElbApiError": "client", "ElbClient": "client", "RetrySettings": "client",
         "Listener": "listener", "ListenerArgs": "listener", "ListenerProvider": "listener"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        from importlib import import_module
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
