"""In-process transport: the fake answers ``requests`` calls through ``responses``.

One regex registration per method covers every URL under the endpoint (a registry is scanned
linearly, and a regex is cheaper than exact URLs). ``responses`` normally keeps every request
and response it saw (unbounded); here its call lists are bounded, and the fake's
own journal (:attr:`MockElb.requests`) is the record to assert on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
import responses
from requests import PreparedRequest

from ..service.api import ElbApi
from ..service.faults import FaultRule
from ..service.store import DEFAULT_TOKEN, FakeElbState
from .control import ControlError, FakeControl

#: Where the in-process fake answers by default: a name under ``.invalid`` (RFC 6761), which
#: can never be a real host, so a test that escapes the fake fails instead of reaching a cloud.
DEFAULT_ENDPOINT = "https://elb.fake-elb.invalid"


class _BoundedCallList(responses.CallList):
    """``responses.CallList`` that keeps only the newest few calls."""

    keep = 16

    def add(self, request: Any, response: Any) -> None:
        self.add_call(responses.Call(request, response))

    def add_call(self, call: Any) -> None:
        self._calls.append(call)
        if len(self._calls) > 2 * self.keep:
            del self._calls[: self.keep]


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        return None if timeout[1] is None else float(timeout[1])
    return None if timeout is None else float(timeout)


def _act_out(fault: FaultRule, request: PreparedRequest) -> None:
    """Drops and timeouts as ``requests`` would raise them; latency is virtual: it only
    matters when it is longer than the caller's read timeout (``responses`` ignores it)."""
    if fault.action == "drop":
        raise requests.ConnectionError(
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
            "without response'))  [fake ELB fault]", request=request)
    timeout = _read_timeout(getattr(request, "req_kwargs", {}).get("timeout"))
    if fault.action == "timeout" or (timeout is not None and fault.latency > timeout):
        raise requests.ReadTimeout(f"Read timed out. (read timeout={timeout})  [fake ELB "
                                   "fault]", request=request)


class _AnyMethod(responses.CallbackResponse):
    """One registration for every method: ``responses`` tests each registration on each call
    (it looks past the first match), so one entry beats one per method."""

    def matches(self, request: PreparedRequest) -> tuple[bool, str]:
        if not self._url_matches(self.url, str(request.url)):
            return False, "URL does not match"
        return True, ""


class MockElb(FakeControl):
    """The fake ELB behind ``responses``: its control plane (:class:`FakeControl`), its
    ``state`` and ``api`` for direct use."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,), *, strict: bool = False,
                 token_ttl: float = 24 * 3600.0) -> None:
        super().__init__()
        self.endpoint = endpoint.rstrip("/")
        self.state = FakeElbState(tokens, strict=strict, token_ttl=token_ttl)
        self.api = ElbApi(self.state, self.endpoint)
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._mock._calls = _BoundedCallList()
        url = re.compile(re.escape(self.endpoint) + r"(?:[/?].*)?")
        registered = _AnyMethod("ANY", url, callback=self._answer, content_type=None)
        registered._calls = _BoundedCallList()
        self._mock.add(registered)

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        url = request.url or ""
        if url.startswith(self.endpoint):
            path, _, query = url[len(self.endpoint):].partition("?")
        else:  # the endpoint was written differently (case, default port): parse properly
            parts = urlsplit(url)
            path, query = parts.path, parts.query
        body: Any = request.body
        if hasattr(body, "read"):
            body = body.read()
        elif body is not None and not isinstance(body, (bytes, str)):
            body = b"".join(part.encode() if isinstance(part, str) else bytes(part)
                            for part in body)  # a streamed (generator) body, as requests sends
        response = self.api.handle(request.method or "GET", path, query, request.headers,
                                   body)
        if response.fault is not None:
            _act_out(response.fault, request)
        headers = response.headers  # responses only reads them: no copy per call
        return response.status, headers if isinstance(headers, dict) else dict(headers), \
            response.body

    # -- the control plane, straight to the service (no interception needed) -------------
    def _send(self, method: str, action: str, payload: Any = None) -> Any:
        body = None if payload is None else orjson.dumps(payload)
        response = self.api.control.handle(method, action, body)
        if response.status >= 400:
            raise ControlError(action, response.status, response.body.decode())
        return json.loads(response.body) if response.body else None  # ints of any size

    def start(self) -> None:
        self._mock.start()

    def stop(self) -> None:
        self._mock.stop()
        self._mock.reset()


@contextmanager
def mock_elb(endpoint: str = DEFAULT_ENDPOINT, tokens: Iterable[str] = (DEFAULT_TOKEN,), *,
             strict: bool = False, token_ttl: float = 24 * 3600.0) -> Iterator[MockElb]:
    """Intercept ``requests`` to ``endpoint`` with a fresh, empty fake ELB. ``strict=True``
    refuses fields that do not apply to a listener (the real service ignores them): for
    client authors who want to be told they send one.

    >>> with mock_elb() as elb:
    ...     lb = elb.add_loadbalancer("my-project")
    """
    elb = MockElb(endpoint, tokens, strict=strict, token_ttl=token_ttl)
    elb.start()
    try:
        yield elb
    finally:
        elb.stop()
