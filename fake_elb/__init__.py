"""An in-memory fake of the classic ELB (v1.0) listener API, strict like the real service.

- In-process: ``with fake_elb.mock_elb(endpoint) as elb:`` intercepts ``requests``.
- Server: ``fake-elb serve`` (or :class:`FakeElbServer`) on 127.0.0.1.
- pytest fixtures ``fake_elb`` and ``fake_elb_server`` (plugin loaded automatically).

Validation comes from the provider's rule table (:mod:`provider.spec`), never a copy.
"""

from .api import ElbApi, HttpResponse
from .control import ServerControl, serve_in_subprocess
from .inprocess import DEFAULT_ENDPOINT, MockElb, mock_elb
from .server import FakeElbServer
from .store import DEFAULT_TOKEN, ApiError, FakeElbState

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_TOKEN",
    "ApiError",
    "ElbApi",
    "FakeElbServer",
    "FakeElbState",
    "HttpResponse",
    "MockElb",
    "ServerControl",
    "mock_elb",
    "serve_in_subprocess",
]
