"""An in-memory fake of the classic ELB (v1.0) API (listeners, their health checks, members
and jobs, certificates) and of IAM, as strict as the real service.

- In-process: ``with fake_elb.mock_elb() as elb:`` intercepts ``requests``.
- Server: ``fake-elb serve`` (or :class:`FakeElbServer`) on 127.0.0.1.
- pytest fixtures ``fake_elb``, ``fake_elb_server`` and ``offline_stack`` (plugin loaded
  automatically).

Validation comes from the provider's rule tables (:mod:`otc_elb_listener.rules`), never a
copy.
Names are imported on first use, so that the pytest plugin (loaded in every pytest run of a
virtualenv that has this project) costs nothing and needs no extra until a fixture is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine.model import CheckFailed, HarnessError
    from .mocks import ElbMocks
    from .service.api import ElbApi, HttpResponse
    from .service.errors import ApiError
    from .service.store import DEFAULT_TOKEN, FakeElbState
    from .transport.client import ServerControl, serve_in_subprocess
    from .transport.control import ControlError, FakeControl
    from .transport.inprocess import DEFAULT_ENDPOINT, MockElb, mock_elb
    from .transport.server import FakeElbServer

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_TOKEN",
    "ApiError",
    "CheckFailed",
    "ControlError",
    "ElbApi",
    "ElbMocks",
    "FakeControl",
    "FakeElbServer",
    "FakeElbState",
    "HarnessError",
    "HttpResponse",
    "MockElb",
    "ServerControl",
    "mock_elb",
    "serve_in_subprocess",
]
_HOME = {"CheckFailed": "engine.model", "HarnessError": "engine.model",
         "ElbApi": "service.api", "HttpResponse": "service.api",
         "DEFAULT_TOKEN": "service.store", "ApiError": "service.errors",
         "FakeElbState": "service.store", "ServerControl": "transport.client",
         "serve_in_subprocess": "transport.client",
         "FakeControl": "transport.control", "ControlError": "transport.control",
         "DEFAULT_ENDPOINT": "transport.inprocess",
         "MockElb": "transport.inprocess", "mock_elb": "transport.inprocess",
         "FakeElbServer": "transport.server", "ElbMocks": "mocks"}
#: The modules the [fake] extra brings beyond the provider's own dependencies.
EXTRA_MODULES = ("responses", "pydantic", "orjson", "httptools")
#: The extra that brings what the fake needs beyond the provider's own dependencies.
EXTRA_HINT = "the fake ELB needs the [fake] extra: pip install 'otc-elb-listener[fake]'"


def __getattr__(name: str) -> Any:
    if name in _HOME:
        from importlib import import_module

        try:
            module = import_module(f"{__name__}.{_HOME[name]}")
        except ModuleNotFoundError as error:
            if error.name in EXTRA_MODULES:
                raise ModuleNotFoundError(f"{EXTRA_HINT} (missing: {error.name})",
                                          name=error.name) from None
            raise
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
