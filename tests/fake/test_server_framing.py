"""The fake server's framing under fragmentation and pipelining: however a client's bytes
are cut into packets, and however many requests it sends before reading, it gets the same
answers, in order, as a client that sends one whole request at a time.

Generated (hypothesis, derandomized): request sequences of listener calls, valid and not,
with and without bodies, chunked or not, sent pipelined in random fragments over one
connection; compared with the same sequence sent request by request to a fresh fake.
"""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_elb import DEFAULT_TOKEN, FakeElbServer
from tests.support import PROJECT

LB = "ab" * 16
LISTENERS = f"/v1.0/{PROJECT}/elbaas/listeners"
UNKNOWN = f"{LISTENERS}/{'0' * 32}"


def _request(method: str, target: str, body: bytes | None = None,
             chunked: bool = False) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: fake\r\nX-Auth-Token: {DEFAULT_TOKEN}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    if chunked:
        middle = len(body) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                          for part in (body[:middle], body[middle:]) if part)
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks + b"0\r\n\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _create(port: int, protocol: str) -> bytes:
    return json.dumps({"name": f"l{port}", "loadbalancer_id": LB, "protocol": protocol,
                       "port": port, "backend_protocol": protocol, "backend_port": 80,
                       "lb_algorithm": "roundrobin"}).encode()


REQUESTS = st.one_of(
    st.builds(lambda port, proto, chunked: _request("POST", LISTENERS, _create(port, proto),
                                                    chunked),
              st.sampled_from([80, 81, 0, 70000]), st.sampled_from(["TCP", "UDP", "FTP"]),
              st.booleans()),
    st.builds(lambda chunked: _request("POST", LISTENERS, b"{not json", chunked),
              st.booleans()),
    st.just(_request("GET", LISTENERS)),
    st.just(_request("GET", f"{LISTENERS}?port=80")),
    st.just(_request("HEAD", LISTENERS)),
    st.just(_request("GET", UNKNOWN)),
    st.just(_request("PUT", UNKNOWN, b'{"port": 90}')),
    st.just(_request("DELETE", UNKNOWN)),
    st.just(_request("OPTIONS", LISTENERS)),
    st.just(_request("GET", "/v1.0/x/elbaas/nothing")),
)


def _read_answers(sock: socket.socket, heads: list[bool]) -> list[tuple[int, bytes]]:
    """Read one answer per request (HEAD answers have no body whatever they announce)."""
    buffer = b""
    answers = []
    for is_head in heads:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(answers)} answers"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if is_head:
            length = 0
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        body, buffer = buffer[:length], buffer[length:]
        answers.append((int(head.split(b" ", 2)[1]), body))
    assert buffer == b"", "bytes after the last answer"
    return answers


def _shape(answer: tuple[int, bytes]) -> tuple[int, str]:
    """What must not depend on framing: the status and the error code (IDs and times do)."""
    status, body = answer
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return status, "not JSON"
    if isinstance(payload, dict) and "error" in payload:
        return status, payload["error"]["code"]
    if isinstance(payload, list):
        return status, f"{len(payload)} listeners"
    return status, "ok"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeElbServer]:
    fake = FakeElbServer().start()
    try:
        yield fake
    finally:
        fake.stop()


def _connect(server: FakeElbServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _fresh(server: FakeElbServer) -> None:
    server.state.reset()
    server.state.add_loadbalancer(PROJECT, id=LB)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(requests=st.lists(REQUESTS, min_size=1, max_size=8),
       cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12))
def test_fragmented_pipelined_requests_get_the_answers_of_whole_ones(
        server: FakeElbServer, requests: list[bytes], cuts: list[int]) -> None:
    heads = [request.startswith(b"HEAD ") for request in requests]

    _fresh(server)
    expected = []
    with _connect(server) as sock:
        for request, is_head in zip(requests, heads, strict=True):
            sock.sendall(request)
            expected += _read_answers(sock, [is_head])

    _fresh(server)
    stream = b"".join(requests)
    bounds = sorted({cut % (len(stream) + 1) for cut in cuts} | {0, len(stream)})
    with _connect(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start, end in itertools.pairwise(bounds):
            sock.sendall(stream[start:end])
        got = _read_answers(sock, heads)

    assert [_shape(answer) for answer in got] == [_shape(answer) for answer in expected]
