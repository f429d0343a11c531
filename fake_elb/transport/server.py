"""Server transport: the fake ELB as a real HTTP/1.1 server on loopback.

Built on asyncio with ``httptools`` (Python bindings of llhttp, the C parser of Node.js)
rather than the standard library's ``ThreadingHTTPServer``: llhttp refuses ambiguous framing
(several or malformed ``Content-Length`` values, one beside ``Transfer-Encoding``), reads
chunked and absolute-form requests, and an event loop holds no thread per connection, so idle
and trickling clients cost a descriptor, not a thread; it is also cheaper per request than the
stdlib's server (benchmark 2 measures both). Each answer goes out in one write with
``TCP_NODELAY`` (no 40 ms delayed-ACK stall on keep-alive connections).

One event loop, on a thread of its own, serves every connection; the API is called on it
directly. Faults that delay an answer are timers, never sleeps, so other connections are
answered meanwhile. The API answers the control plane (``/_fake/*``,
:mod:`fake_elb.service.control`) and ``/openapi.json`` too: this module is only about HTTP.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from http import HTTPStatus
from typing import cast

import httptools

from ..service.api import ElbApi
from ..service.errors import ApiError
from ..service.http import MAX_BODY_BYTES, HttpResponse, body_too_large, error_response
from ..service.store import DEFAULT_TOKEN, FakeElbState
from .listen import bind_socket, default_max_connections, own_hosts

_REASONS = {status.value: status.phrase for status in HTTPStatus}
#: A request line and headers past these are refused (431), as the stdlib server refused a
#: line over 64 KiB or more than 100 headers: llhttp itself sets no bound, and the fake must
#: not keep whatever a client sends until the idle timeout.
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
#: A request target past this is refused with 414 URI Too Long (RFC 9112 3), not 431: the
#: head's own bound, so a target the head could hold is served (a 10 KB query is).
MAX_TARGET_BYTES = MAX_HEAD_BYTES
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: Headers the connection itself reads (lower case, as llhttp hands over what was sent).
_FRAMING_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"expect"})
_ABSOLUTE_FORM = re.compile(r"https?://[^/?#]*", re.IGNORECASE)


@functools.lru_cache(maxsize=2)
def _date_header(epoch: int) -> bytes:
    """``Date`` for this second, formatted once per second rather than once per answer."""
    return f"Date: {formatdate(epoch, usegmt=True)}\r\n".encode()


@functools.lru_cache(maxsize=64)
def _status_line(status: int) -> bytes:
    return f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n".encode()


def _header_lines(headers: Mapping[str, str]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")


#: The headers most answers carry (``HttpResponse``'s default), rendered once.
_DEFAULT_HEADERS: Mapping[str, str] = HttpResponse._field_defaults["headers"]
_DEFAULT_HEADER_LINES = _header_lines(_DEFAULT_HEADERS)


def _encode(method: str, response: HttpResponse, close: bool) -> bytes:
    """Status line, headers and body as one buffer (one write, one segment)."""
    headers = response.headers
    body = response.body
    return b"".join((
        _status_line(response.status),
        _date_header(int(time.time())),  # the service's clock, as HTTP servers send
        _DEFAULT_HEADER_LINES if headers is _DEFAULT_HEADERS else _header_lines(headers),
        b"Content-Length: %d\r\n" % len(body),
        b"Connection: close\r\n\r\n" if close else b"\r\n",
        b"" if method == "HEAD" else body))  # HEAD: headers only


def _route(api: ElbApi, method: str, target: str, headers: dict[str, str],
           body: bytes | None, own_hosts: frozenset[str] | None) -> HttpResponse:
    """A parsed request to the API, which also answers the control plane and the OpenAPI
    document; an absolute-form target (RFC 9112 3.2.2) is reduced to its path first. A
    request for another host (its ``Host``, or an absolute-form target's authority) is
    refused with 421: a web page whose name was rebound to this address (DNS rebinding)
    never reaches the fake."""
    host = next((value for name, value in headers.items() if name.lower() == "host"), "")
    wanted = [host]
    if not target.startswith("/"):
        authority = _ABSOLUTE_FORM.match(target)
        wanted.append(authority.group(0).split("://", 1)[1] if authority else "")
        target = _ABSOLUTE_FORM.sub("", target, count=1) or "/"
    if own_hosts is not None and any(name.lower() not in own_hosts for name in wanted):
        return error_response(ApiError(421, "ELB.1001", "this fake ELB answers only requests "
                                       f"for its own address ({sorted(own_hosts)[0]}), not "
                                       f"for {wanted[-1][:100]!r}"))
    path, _, query = target.partition("?")
    return api.handle(method, path, query, headers, body)


class _Answer:
    """An answer in its connection's queue: answers leave in request order, and one a fault
    delays holds back those behind it (HTTP/1.1 pipelining)."""

    __slots__ = ("close", "log", "payload", "ready")

    def __init__(self, payload: bytes | None, close: bool, log: str | None,
                 ready: bool = True) -> None:
        self.payload = payload  # None: no answer at all (a dropped or timed-out request)
        self.close = close
        self.log = log
        self.ready = ready


_HEAD_TOO_LARGE = ApiError(431, "ELB.1001", f"the request line and headers are over "
                           f"{MAX_HEAD_BYTES} bytes or {MAX_HEADERS} headers")
_TARGET_TOO_LONG = ApiError(414, "ELB.1001", f"the request target is over {MAX_TARGET_BYTES} "
                            "bytes")


class _Refused(Exception):
    """Raised inside a parser callback to stop reading a connection that was refused."""


class _Connection(asyncio.Protocol):
    """One client connection: llhttp parses, the router answers, answers leave in order.

    A request must arrive whole within ``idle_timeout`` of the connection falling idle (so a
    client trickling bytes cannot hold it open either), and its request line and headers
    within ``header_timeout`` of its first byte; the server's sweep closes it otherwise (a
    408 for a head that did not arrive in time).
    """

    def __init__(self, server: FakeElbServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url: list[bytes] = []
        self._headers: dict[str, str] = {}
        self._body: list[bytes] | None = None
        self._body_size = 0
        self._expect_continue = False
        self._started = 0.0
        self._in_head = True  # reading a request line and headers (or waiting for one)
        self._head_bytes = 0
        self._head_size = 0
        self._url_size = 0
        self._header_count = 0
        self._in_message = False
        #: Since when it has been reading a request line and headers (``None``: it is not).
        self.head_since: float | None = None
        self._outbox: collections.deque[_Answer] = collections.deque()
        self._done = False  # closing, or refused: nothing more is read or answered
        #: Since when it has waited for a whole request (``None`` while one is answered);
        #: the server's sweep closes it ``idle_timeout`` seconds after that.
        self.waiting_since: float | None = None
        #: The same, but ``None`` as soon as a request begins: a candidate for eviction.
        self.idle_since: float | None = None

    # -- asyncio -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._server._admit(self):
            self._await_request()
        else:
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        self._outbox.clear()
        self._server._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._done:
            return  # a refused request's rest, or data after a close: not read
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._finish_after_answers()  # answered as HTTP/1.1; no protocol switch
        except httptools.HttpParserInvalidMethodError:
            self._refuse(ApiError(405, "ELB.1001", "the method is not an HTTP method; the "
                                  "listener API allows GET, POST, PUT and DELETE"))
        except httptools.HttpParserError as error:
            if not self._done:  # else a callback refused the request (_Refused)
                self._refuse(ApiError(400, "ELB.1001", f"malformed HTTP/1.1 request: {error}"))
        else:
            if self._in_head and self._head_bytes > MAX_HEAD_BYTES:  # a head that never ends
                self._refuse(_HEAD_TOO_LARGE)

    def eof_received(self) -> bool | None:
        return None  # the client is done sending: close once our answers are out

    def pause_writing(self) -> None:
        """A client that does not read its answers is not read from either."""
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._outbox and not self._done:
            self._transport.resume_reading()

    def abort(self) -> None:
        self._done = True
        if self._transport is not None:
            self._transport.abort()

    # -- llhttp callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.idle_since = None  # busy: not a candidate for eviction (unless its head is slow)
        self.head_since = time.monotonic()
        self._in_message = True
        self._url_size = 0
        self._url = []
        self._headers = {}
        self._body = None
        self._body_size = 0
        self._expect_continue = False
        self._started = time.perf_counter()
        self._head_bytes = 0  # counted again from the next packet: bounded, if loosely
        self._head_size = 0  # what the parser handed over: exact
        self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._head_size += len(url)
        self._url_size += len(url)
        if self._url_size > MAX_TARGET_BYTES:
            self._refuse(_TARGET_TOO_LONG)
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._head_size += len(name) + len(value)
        if self._header_count > MAX_HEADERS or self._head_size > MAX_HEAD_BYTES:
            self._refuse(_HEAD_TOO_LARGE)
            raise _Refused
        self._headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        lowered = name.lower()
        if lowered in _FRAMING_HEADERS:
            if lowered == b"content-length":
                self._body = []  # llhttp has checked it: one value, plain digits
                self._body_size = int(value)
            elif lowered == b"transfer-encoding":
                self._body = []
            elif value.lower() == b"100-continue":
                self._expect_continue = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.head_since = None
        if self._body_size > MAX_BODY_BYTES:
            self._refuse(body_too_large())
            raise _Refused
        # Never to HTTP/1.0 (RFC 9110 15.2), and after the answers to earlier pipelined
        # requests (RFC 9112 9.3.2): it joins the queue like any answer.
        if self._expect_continue and self._parser.get_http_version() != "1.0":
            self._queue(_Answer(_CONTINUE, False, None))
        self._body_size = 0

    def on_body(self, chunk: bytes) -> None:
        self._body_size += len(chunk)
        if self._body_size > MAX_BODY_BYTES:  # a chunked body may not say its size first
            self._refuse(body_too_large())
            raise _Refused
        assert self._body is not None
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        self.waiting_since = None
        self._in_message = False
        self._in_head = True
        self._head_bytes = 0
        method = self._parser.get_method().decode("ascii")
        target = b"".join(self._url).decode("latin-1")
        body = None if self._body is None else b"".join(self._body)
        close = not self._parser.should_keep_alive()
        try:
            response = _route(self._server.api, method, target, self._headers, body,
                              self._server.own_hosts)
        except Exception:  # a bug in the fake: loud on stderr, a 500 that says so
            traceback.print_exc()
            response = error_response(ApiError(500, "ELB.1001", "internal error in the fake "
                                               "ELB (a bug; the traceback is on its stderr)"))
        log = None
        if self._server.access_log is not None:  # no query: it may name IDs; no headers
            took = (time.perf_counter() - self._started) * 1000
            log = f"{method} {target.partition('?')[0][:200]} {response.status} {took:.1f}ms"
        fault = response.fault
        if fault is None or (fault.action == "latency" and not fault.latency):
            self._queue(_Answer(_encode(method, response, close), close, log))
            return
        delay = fault.latency if fault.action in ("timeout", "latency") else 0.0
        if fault.action == "latency":
            answer = _Answer(_encode(method, response, close), close, log, ready=False)
        else:  # drop or timeout: the connection ends with no answer
            answer = _Answer(None, True, None, ready=False)
        self._queue(answer)
        assert self._transport is not None
        self._transport.pause_reading()  # nothing more is read until it has left
        asyncio.get_running_loop().call_later(delay, self._release, answer)

    # -- answers ---------------------------------------------------------------------------
    def _queue(self, answer: _Answer) -> None:
        self._outbox.append(answer)
        self._flush()

    def _release(self, answer: _Answer) -> None:
        answer.ready = True
        self._flush()
        if not self._done and not self._outbox and self._transport is not None:
            self._transport.resume_reading()

    def _flush(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        while self._outbox and self._outbox[0].ready:
            answer = self._outbox.popleft()
            if answer.payload is not None:
                transport.write(answer.payload)
            if answer.log is not None and self._server.access_log is not None:
                self._server.access_log(answer.log)
            if answer.close:
                self._done = True
                if answer.payload is None:  # dropped or timed out: closed, no answer
                    transport.close()  # RemoteDisconnected, as the in-process fake raises
                elif transport.can_write_eof():
                    transport.write_eof()  # the client sees the end, may still be sending
                    self.waiting_since = self.idle_since = time.monotonic()  # swept later
                else:
                    transport.close()
                return
        if not self._outbox:
            self._await_request()

    def _refuse(self, error: ApiError) -> None:
        """Answer a request that cannot be read (after those before it) and read no more."""
        self._queue(_Answer(_encode("", error_response(error), True), True, None))
        self._done = True

    def _finish_after_answers(self) -> None:
        self._done = True
        if self._outbox:
            self._outbox[-1].close = True
        elif self._transport is not None:
            self._transport.close()

    def _await_request(self) -> None:
        if not self._done and not self._in_message:
            self.waiting_since = self.idle_since = time.monotonic()

    def head_timed_out(self) -> None:
        """Its request line and headers did not arrive in time: 408, and closed."""
        if not self._done:
            self.head_since = None
            self._refuse(ApiError(408, "ELB.1001", "the request line and headers did not "
                                  f"arrive within {self._server.header_timeout:g} s"))

    def close(self) -> None:
        self._done = True
        if self._transport is not None:
            self._transport.close()


class FakeElbServer:
    """The fake ELB as an HTTP/1.1 server on an event loop in a background thread (tests,
    benchmarks, ``fake-elb serve``). It closes connections idle for ``idle_timeout``
    seconds and serves at most ``max_connections`` at once: at the limit the longest-idle
    connection is closed to make room, and only when every one is busy is a new one refused.

    >>> with FakeElbServer() as server:
    ...     print(server.url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,), *, strict: bool = False,
                 access_log: Callable[[str], None] | None = None, idle_timeout: float = 30.0,
                 max_connections: int | None = None, token_ttl: float = 24 * 3600.0,
                 header_timeout: float = 10.0) -> None:
        self.state = FakeElbState(tokens, strict=strict, token_ttl=token_ttl)
        self.api = ElbApi(self.state)
        #: Called with one line per answered request (``fake-elb serve --log``).
        self.access_log = access_log
        self.idle_timeout = idle_timeout
        #: Seconds a request line and headers may take from their first byte (slow clients
        #: holding connections open, a byte at a time, are closed after it).
        self.header_timeout = header_timeout
        self.max_connections = max_connections or default_max_connections()
        self._socket = bind_socket(host, port)
        self.api.base_url = self.url
        #: The ``Host`` values this server answers: its bound address (and port), and
        #: ``localhost`` (and port) when the address is loopback.
        self.own_hosts = own_hosts(self._socket)
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def _admit(self, connection: _Connection) -> bool:
        """At the cap, the connection idle longest, or slowest to send its head, makes room:
        clients trickling header bytes never lock new ones out."""
        if len(self._connections) >= self.max_connections:
            idle = [c for c in self._connections
                    if c.idle_since is not None or c.head_since is not None]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c.idle_since or c.head_since or 0.0)
            self._connections.discard(oldest)
            oldest.abort()
        self._connections.add(connection)
        return True

    def start(self) -> FakeElbServer:
        """Serve from a thread of its own (its own event loop, so a caller's running loop,
        a Pulumi program's for one, is never touched)."""
        started = threading.Event()
        failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(started, failed), daemon=True,
                                        name="fake-elb-server")
        self._thread.start()
        started.wait(30)
        if failed:
            raise failed[0]
        return self

    def _run(self, started: threading.Event, failed: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            serving = loop.run_until_complete(loop.create_server(
                lambda: _Connection(self), sock=self._socket, backlog=128))
        except BaseException as error:
            failed.append(error)
            loop.close()
            started.set()
            return
        self._loop = loop
        started.set()
        self._sweep(loop)
        try:
            loop.run_forever()
        finally:
            serving.close()
            for connection in list(self._connections):
                connection.abort()
            loop.run_until_complete(asyncio.sleep(0))  # let the transports close
            loop.close()

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close connections that have waited ``idle_timeout`` seconds for a whole request:
        one timer for the server, not one per request."""
        now = time.monotonic()
        for connection in list(self._connections):
            head = connection.head_since
            if head is not None and now - head >= self.header_timeout:
                connection.head_timed_out()
                continue
            since = connection.waiting_since
            if since is not None and now - since >= self.idle_timeout:
                connection.close()
        period = min(self.idle_timeout, self.header_timeout) / 4
        loop.call_later(max(0.05, min(1.0, period)), self._sweep, loop)

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> FakeElbServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
