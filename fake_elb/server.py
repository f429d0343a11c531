"""Server transport: the fake ELB as a real HTTP/1.1 server on loopback.

Built on the standard library's ``ThreadingHTTPServer`` rather than a framework: the API is
four routes, and the stdlib server with Nagle's algorithm off is the fastest Python stack we
measured (shared/benchmarks/peer-baselines.md: werkzeug is about half as fast). Each response
goes out in one ``send`` (status line, headers and body together), which with ``TCP_NODELAY``
avoids the 40 ms delayed-ACK stall of keep-alive connections.

Control plane (no auth): ``POST /_fake/reset``, ``POST /_fake/loadbalancers``,
``POST /_fake/certificates``, ``POST /_fake/tokens``, ``POST /_fake/strict``,
``GET /_fake/requests``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from .api import (
    MAX_BODY_BYTES,
    ElbApi,
    HttpResponse,
    error_response,
    json_response,
    parse_json_body,
)
from .faults import FaultRule
from .store import DEFAULT_TOKEN, ApiError, FakeElbState

_CONTROL_PREFIX = "/_fake/"
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@functools.lru_cache(maxsize=2)
def _date_header(epoch: int) -> str:
    """``Date`` for this second, formatted once per second rather than once per answer."""
    return f"Date: {formatdate(epoch, usegmt=True)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: FakeElbHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry nothing secret, but tests want a quiet server."""

    def _respond(self, response: HttpResponse) -> None:
        access_log = self.server.access_log
        if access_log is not None:  # method, path (no query: it may name IDs), status, time
            took = (time.perf_counter() - self._started) * 1000
            path = self.path.partition("?")[0][:200]
            access_log(f"{self.command} {path} {response.status} {took:.1f}ms")
        head = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}",
                _date_header(int(time.time()))]  # the service's clock, as HTTP servers send
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        head.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)

    def _read_body(self) -> bytes | None:
        """The body, or ``None``; a body over the limit is refused unread (413)."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self.close_connection = True
                raise ApiError(411, "ELB.1001", "send a Content-Length, not a chunked body")
            return None
        try:
            length = int(length_header)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "ELB.1001", "Content-Length is not a number") from None
        if length < 0:
            self.close_connection = True
            raise ApiError(400, "ELB.1001", "Content-Length is negative")
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body must not be taken for a request
            raise ApiError(413, "ELB.1001", f"the request body is over {MAX_BODY_BYTES} "
                           "bytes")
        return self.rfile.read(length)

    def _handle(self) -> None:
        self._started = time.perf_counter()
        try:
            body = self._read_body()
        except ApiError as error:
            self._respond(error_response(error))
            return
        path, _, query = self.path.partition("?")
        if path == "/openapi.json" and self.command == "GET":
            from .openapi import document  # built on first request only

            response = json_response(200, document())
        elif path.startswith(_CONTROL_PREFIX):
            response = self._control(path[len(_CONTROL_PREFIX):], body)
        else:
            response = self.server.api.handle(self.command, path, query, dict(self.headers), body)
            fault = response.fault
            if fault is not None:  # acted out here, after the state lock was released
                if fault.action in ("timeout", "latency") and fault.latency:
                    time.sleep(fault.latency)
                if fault.action in ("drop", "timeout"):
                    self.close_connection = True
                    return
        self._respond(response)

    def _control(self, action: str, body: bytes | None) -> HttpResponse:
        state = self.server.api.state
        try:
            if self.command == "POST" and action == "reset":
                state.reset()
                self.server.api.faults.clear()
                return HttpResponse(204, b"", {})
            if action == "faults":
                return self._faults(body)
            if self.command == "GET" and action == "requests":
                return json_response(200, state.journal())
            if self.command == "POST" and action == "strict":
                args = parse_json_body(body)
                strict = args.get("strict") if isinstance(args, dict) else None
                if not isinstance(strict, bool):
                    raise ApiError(400, "ELB.1001", "strict: true or false is mandatory")
                state.strict = strict
                return HttpResponse(204, b"", {})
            if self.command == "POST" and action == "tokens":
                args = parse_json_body(body)
                tokens = args.get("tokens") if isinstance(args, dict) else None
                if not isinstance(tokens, list):
                    raise ApiError(400, "ELB.1001", "tokens: a list of strings is mandatory")
                state.set_tokens(tokens)
                return HttpResponse(204, b"", {})
            if self.command == "POST" and action in ("loadbalancers", "certificates"):
                args = parse_json_body(body)
                if not isinstance(args, dict) or not isinstance(args.get("project_id"), str):
                    raise ApiError(400, "ELB.1001", "project_id: a string is mandatory")
                if action == "loadbalancers":
                    created = state.add_loadbalancer(args["project_id"],
                                                     type=args.get("type", "External"),
                                                     id=args.get("id"))
                else:
                    created = state.add_certificate(args["project_id"], id=args.get("id"))
                return json_response(201, created)
        except ApiError as error:
            return error_response(error)
        return error_response(ApiError(404, "ELB.8904", f"no control action {self.command} "
                                       f"/_fake/{action[:100]}"))

    def _faults(self, body: bytes | None) -> HttpResponse:
        faults = self.server.api.faults
        if self.command == "POST":
            try:
                rule = faults.add(FaultRule.model_validate(parse_json_body(body)))
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "body"
                raise ApiError(400, "ELB.1001", f"{where}: {first['msg']}") from None
            return json_response(201, rule.model_dump())
        if self.command == "DELETE":
            faults.clear()
            return HttpResponse(204, b"", {})
        if self.command == "GET":
            return json_response(200, [r.model_dump() | {"fired": r.fired}
                                       for r in faults.rules])
        raise ApiError(405, "ELB.1001", "use GET, POST or DELETE on /_fake/faults")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class FakeElbHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that carries the fake's API object."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, api: ElbApi,
                 access_log: Callable[[str], None] | None = None) -> None:
        self.api = api
        #: Called with one line per answered request (``fake-elb serve --log``).
        self.access_log = access_log
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class FakeElbServer:
    """Run the fake ELB server in a background thread (tests, benchmarks, examples).

    >>> with FakeElbServer() as server:
    ...     print(server.url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,), *, strict: bool = False,
                 access_log: Callable[[str], None] | None = None) -> None:
        self.state = FakeElbState(tokens, strict=strict)
        self.httpd = FakeElbHTTPServer(host, port, ElbApi(self.state), access_log)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.httpd.url

    def start(self) -> FakeElbServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="fake-elb-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeElbServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
