"""In-process transport: the fake answers ``requests`` calls through ``responses``.

One regex registration per method covers every URL under the endpoint (a registry is scanned
linearly, and a regex is cheaper than exact URLs). ``responses`` normally keeps every request
and response it saw (~9.5 KB a call, unbounded); here its call lists are bounded, and the fake's
own journal (:attr:`MockElb.requests`) is the record to assert on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import responses
from requests import PreparedRequest

from .api import ElbApi
from .store import DEFAULT_TOKEN, FakeElbState

DEFAULT_ENDPOINT = "https://elb.eu-de.otc.t-systems.com"
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")


class _BoundedCallList(responses.CallList):
    """``responses.CallList`` that keeps only the newest few calls."""

    keep = 16

    def add(self, request: Any, response: Any) -> None:
        self.add_call(responses.Call(request, response))

    def add_call(self, call: Any) -> None:
        self._calls.append(call)
        if len(self._calls) > 2 * self.keep:
            del self._calls[: self.keep]


class MockElb:
    """The fake ELB behind ``responses``: state helpers plus the request journal."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,)) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.state = FakeElbState(tokens)
        self.api = ElbApi(self.state)
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._mock._calls = _BoundedCallList()
        url = re.compile(re.escape(self.endpoint) + r"(?:[/?].*)?")
        for method in _METHODS:
            registered = self._mock.add_callback(method, url, callback=self._answer)
            registered._calls = _BoundedCallList()

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.url or "")
        body: Any = request.body
        if hasattr(body, "read"):
            body = body.read()
        response = self.api.handle(request.method or "GET", parts.path, parts.query,
                                   request.headers, body)
        return response.status, dict(response.headers), response.body

    # -- helpers the tests use -----------------------------------------------------------
    def add_loadbalancer(self, project_id: str, type: str = "External",
                         id: str | None = None) -> dict[str, Any]:
        return self.state.add_loadbalancer(project_id, type=type, id=id)

    def add_certificate(self, project_id: str, id: str | None = None) -> dict[str, Any]:
        return self.state.add_certificate(project_id, id=id)

    def reset(self) -> None:
        """Empty state and journal; the interception stays on."""
        self.state.reset()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every API call so far, oldest first: method, path, query, status, parsed body."""
        return self.state.journal()

    def start(self) -> None:
        self._mock.start()

    def stop(self) -> None:
        self._mock.stop()
        self._mock.reset()


@contextmanager
def mock_elb(endpoint: str = DEFAULT_ENDPOINT,
             tokens: Iterable[str] = (DEFAULT_TOKEN,)) -> Iterator[MockElb]:
    """Intercept ``requests`` to ``endpoint`` with a fresh, empty fake ELB.

    >>> with mock_elb("https://elb.eu-de.otc.t-systems.com") as elb:
    ...     lb = elb.add_loadbalancer("my-project")
    """
    elb = MockElb(endpoint, tokens)
    elb.start()
    try:
        yield elb
    finally:
        elb.stop()
