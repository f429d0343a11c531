"""Server transport: the fake ELB as a real HTTP/1.1 server on loopback.

Built on the standard library's ``ThreadingHTTPServer`` rather than a framework: the API is
four routes, and the stdlib server with Nagle's algorithm off is the fastest Python stack we
measured (shared/benchmarks/peer-baselines.md: werkzeug is about half as fast). Each response
goes out in one ``send`` (status line, headers and body together), which with ``TCP_NODELAY``
avoids the 40 ms delayed-ACK stall of keep-alive connections.

Control plane (no auth): ``POST /_fake/reset``, ``POST /_fake/loadbalancers``,
``POST /_fake/certificates``, ``POST /_fake/tokens``, ``POST /_fake/strict``,
``POST /_fake/users``,
``GET /_fake/requests``.
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
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


_CONTENT_LENGTH = re.compile(r"[0-9]+")
_ABSOLUTE_FORM = re.compile(r"https?://[^/?#]*", re.IGNORECASE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: FakeElbHTTPServer

    def setup(self) -> None:
        super().setup()
        # An idle (or trickling) connection is closed after this many seconds of silence.
        self.connection.settimeout(self.server.idle_timeout)

    def handle_one_request(self) -> None:
        self.server.idle[self.connection] = time.monotonic()  # waiting for a request line
        try:
            super().handle_one_request()
        finally:
            self.server.idle.pop(self.connection, None)

    def parse_request(self) -> bool:
        self.server.idle.pop(self.connection, None)  # a request has begun: busy
        return super().parse_request()

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the API, which answers one it does not allow with 405 and an
        ELB error body (the stdlib answers 501 in HTML, a 5xx the fake must not produce)."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

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
        body = b"" if self.command == "HEAD" else response.body  # HEAD: headers only
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def _read_body(self) -> bytes | None:
        """The body, or ``None``; a body over the limit is refused unread (413). Framing that
        two parties could read two ways (RFC 9112 section 6.3) is refused and the connection
        closed: several differing Content-Length values, one that is not plain digits
        (``+14``, ``1_4``, which ``int()`` would take), or one beside Transfer-Encoding."""
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ()}
        encoding = self.headers.get("Transfer-Encoding")
        if not lengths:
            if encoding is not None:
                self.close_connection = True
                raise ApiError(411, "ELB.1001", "send a Content-Length, not a chunked body")
            return None
        if encoding is not None:
            self.close_connection = True
            raise ApiError(400, "ELB.1001", "Content-Length and Transfer-Encoding together")
        if len(lengths) > 1:
            self.close_connection = True
            raise ApiError(400, "ELB.1001", "Content-Length given with different values")
        length_header = lengths.pop()
        if not _CONTENT_LENGTH.fullmatch(length_header):
            self.close_connection = True
            raise ApiError(400, "ELB.1001", "Content-Length is not a number of bytes")
        length = int(length_header)
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
        target = self.path
        if not target.startswith("/"):  # absolute form (RFC 9112 3.2.2): servers accept it
            target = _ABSOLUTE_FORM.sub("", target, count=1) or "/"
        path, _, query = target.partition("?")
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
            if self.command == "POST" and action == "users":
                args = parse_json_body(body)
                if not isinstance(args, dict):
                    raise ApiError(400, "ELB.1001", "a JSON object is mandatory")
                created = state.iam.add_user(*(args.get(key) for key in (  # type: ignore[arg-type]
                    "domain", "name", "password", "project_id", "project_name")))
                return json_response(201, created)
            if self.command == "POST" and action == "credentials":
                args = parse_json_body(body)
                if not isinstance(args, dict):
                    raise ApiError(400, "ELB.1001", "a JSON object is mandatory")
                created = state.iam.add_credential(*(args.get(key) for key in (  # type: ignore[arg-type]
                    "access", "secret", "project_id")))
                return json_response(201, created)
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


def _default_max_connections() -> int:
    """Well below the open-file limit, so the server never runs out of descriptors (at the
    limit, accept() fails at once, again and again, and the accept loop spins)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(16, min(512, (soft if soft > 0 else 1024) - 128))


class FakeElbHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that carries the fake's API object, closes idle connections
    after ``idle_timeout`` seconds and serves at most ``max_connections`` at once (one more is
    closed as soon as it is accepted, so it cannot hold a thread or a descriptor)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, api: ElbApi,
                 access_log: Callable[[str], None] | None = None, *,
                 idle_timeout: float = 30.0, max_connections: int | None = None) -> None:
        self.api = api
        #: Called with one line per answered request (``fake-elb serve --log``).
        self.access_log = access_log
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections or _default_max_connections()
        self._slots = threading.BoundedSemaphore(self.max_connections)
        #: Connections waiting for their next request, and since when.
        self.idle: dict[Any, float] = {}
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a thread of its own, within the limit: at the limit the
        longest-idle connection is closed to make room (a client with a request to make
        beats one that holds a connection open), and only when every connection is busy is
        the new one closed at once."""
        if not self._slots.acquire(blocking=False) and (
                not self._evict_idle() or not self._slots.acquire(timeout=2.0)):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def _evict_idle(self) -> bool:
        # list() copies under the GIL: handler threads add and remove entries meanwhile
        oldest = min(list(self.idle.items()), key=lambda item: item[1], default=None)
        if oldest is None:
            return False
        with contextlib.suppress(OSError):  # its thread sees the end of the stream and ends
            oldest[0].shutdown(socket.SHUT_RDWR)
        self.idle.pop(oldest[0], None)
        return True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

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
                 access_log: Callable[[str], None] | None = None, idle_timeout: float = 30.0,
                 max_connections: int | None = None, token_ttl: float = 24 * 3600.0) -> None:
        self.state = FakeElbState(tokens, strict=strict, token_ttl=token_ttl)
        self.httpd = FakeElbHTTPServer(host, port, ElbApi(self.state), access_log,
                                       idle_timeout=idle_timeout,
                                       max_connections=max_connections)
        self.httpd.api.base_url = self.httpd.url
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
