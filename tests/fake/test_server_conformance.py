"""The fake's HTTP/1.1 server under a hostile review: methods, HEAD, message framing,
absolute-form targets, streamed and chunked bodies, oversized heads, idle and trickling
connections and a connection limit. Most tests here failed before their fix; the rest
(100-continue, pipelining, a bug's 500, a running loop) pin what the move from the stdlib
server to asyncio + httptools had to keep or could newly get wrong."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, FakeElbServer, mock_elb
from fake_elb.service.faults import FaultRule
from tests.support import LISTENERS, PROJECT, Api, raw, status


@pytest.fixture
def server() -> Iterator[FakeElbServer]:
    fake = FakeElbServer(idle_timeout=1.0, max_connections=64).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PATCH", "get", "BREW"])
def test_unknown_methods_get_405_with_an_elb_body(server: FakeElbServer, method: str) -> None:
    answer = raw(server, f"{method} {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\nContent-Length: 0\r\n\r\n".encode())
    assert status(answer) == 405, answer
    assert b'"code":"ELB.1001"' in answer and b"<html" not in answer.lower()


def test_head_answers_carry_no_body(server: FakeElbServer) -> None:
    answer = raw(server, f"HEAD {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\n\r\n".encode(), timeout=2)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 ") and body == b""


@pytest.mark.parametrize("framing", [
    b"Content-Length: 2\r\nContent-Length: 14\r\n",
    b"Content-Length: +2\r\n",
    b"Content-Length: 0_2\r\n",
    b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
])
def test_ambiguous_framing_is_refused(server: FakeElbServer, framing: bytes) -> None:
    answer = raw(server, f"POST {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\n".encode() + framing + b"\r\n{}")
    assert status(answer) == 400, answer
    assert b"Connection: close" in answer


def test_an_absolute_form_target_is_accepted(server: FakeElbServer) -> None:
    answer = raw(server, f"GET http://127.0.0.1{LISTENERS}?port=80 HTTP/1.1\r\n"
                 f"Host: 127.0.0.1\r\nX-Auth-Token: {DEFAULT_TOKEN}\r\n\r\n".encode())
    assert status(answer) == 200, answer
    assert answer.endswith(b"[]")


def test_the_in_process_fake_reads_a_streamed_body() -> None:
    with mock_elb() as elb:
        lb = elb.add_loadbalancer(PROJECT)["id"]
        parts = [b'{"name": "s", "loadbalancer_id": "', lb.encode(), b'", "protocol": "TCP", ',
                 b'"port": 80, "backend_protocol": "TCP", "backend_port": 80, ',
                 b'"lb_algorithm": "roundrobin"}']
        response = requests.post(f"{elb.endpoint}{LISTENERS}", data=iter(parts),
                                 headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10)
        assert response.status_code == 200, response.text


def test_idle_connections_are_closed_after_the_timeout(server: FakeElbServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as idle:
        started = time.monotonic()
        assert idle.recv(1) == b""  # the server closed it
        assert time.monotonic() - started < 5


def test_a_client_keeps_getting_answers_while_hundreds_idle(server: FakeElbServer) -> None:
    """More idle connections than the limit: those over it are closed at once, and a
    well-behaved client is still answered (it used to take one thread each, for ever)."""
    host, port = server.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(200)]
    try:
        api = Api(server.url)
        for _ in range(20):
            assert api.list().status_code == 200
    finally:
        for sock in idle:
            sock.close()
    assert server.max_connections == 64


def test_under_a_low_open_file_limit_idle_connections_do_not_stop_the_server() -> None:
    """The review's case: at the open-file limit, idle connections took every descriptor;
    the accept loop spun and nobody was answered. Here the server's limit is 256 files and
    300 idle connections are opened; a client must still be answered."""
    import resource
    import subprocess
    import sys

    from fake_elb.transport.client import stop_process

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    process = subprocess.Popen([sys.executable, "-m", "fake_elb", "serve"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               preexec_fn=low_limit)
    idle: list[socket.socket] = []
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        host, port = url.removeprefix("http://").split(":")
        for _ in range(300):
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        time.sleep(0.5)
        api = Api(url)
        for _ in range(10):
            assert api.list().status_code == 200
    finally:
        for sock in idle:
            sock.close()
        stop_process(process)


# -- the event-loop server (asyncio + httptools) ---------------------------------------------
TCP_LISTENER = {"name": "s", "protocol": "TCP", "port": 80, "backend_protocol": "TCP",
                "backend_port": 80, "lb_algorithm": "roundrobin"}


def _listener_body(server: FakeElbServer) -> bytes:
    lb = server.state.add_loadbalancer(PROJECT)["id"]
    return json.dumps({**TCP_LISTENER, "loadbalancer_id": lb}).encode()


def test_a_chunked_body_is_read_as_in_process(server: FakeElbServer) -> None:
    """requests sends a generator body chunked; the server used to answer 411 where the
    in-process fake (test above) reads it."""
    body = _listener_body(server)
    response = requests.post(f"{server.url}{LISTENERS}", data=iter([body[:20], body[20:]]),
                             headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["port"] == 80


def test_a_chunked_body_over_the_limit_is_refused(server: FakeElbServer) -> None:
    chunk = b"x" * 65536
    answer = raw(server, f"POST {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                 + b"%x\r\n%s\r\n" % (len(chunk), chunk) * 17 + b"0\r\n\r\n")
    assert status(answer) == 413, answer[:200]
    assert b"Connection: close" in answer and b"ELB.1001" in answer
    assert server.state.journal() == []  # refused before the API saw it


def test_expect_100_continue_is_answered(server: FakeElbServer) -> None:
    """curl sends ``Expect: 100-continue`` before bodies over 1 KB and waits for it."""
    body = _listener_body(server)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"POST {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"X-Auth-Token: {DEFAULT_TOKEN}"
                     f"\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode())
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = sock.recv(65536)
    assert status(answer) == 200, answer


def test_a_slow_answer_does_not_hold_up_other_connections(server: FakeElbServer) -> None:
    """One event loop serves every connection: a latency fault is a timer, not a sleep."""
    server.api.faults.add(FaultRule(method="PUT", action="latency", latency=2.0))
    fast, slow = Api(server.url), Api(server.url)
    created = fast.create(json.loads(_listener_body(server))).json()
    with ThreadPoolExecutor(1) as pool:
        delayed = pool.submit(slow.put, created["id"], {"description": "late"})
        time.sleep(0.2)  # the PUT is being held
        started = time.monotonic()
        assert fast.get(created["id"]).status_code == 200
        assert time.monotonic() - started < 1.0
        assert delayed.result().status_code == 200


def test_pipelined_answers_keep_their_order_behind_a_slow_one(server: FakeElbServer) -> None:
    server.api.faults.add(FaultRule(method="GET", path=f"{LISTENERS}/0+", action="latency",
                                    latency=0.5))
    request = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: " + DEFAULT_TOKEN + "\r\n\r\n"
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall((request.format(f"{LISTENERS}/{'0' * 32}")
                      + request.format(LISTENERS)).encode())
        answers = b""
        while answers.count(b"HTTP/1.1 ") < 2 or not answers.endswith(b"[]"):
            chunk = sock.recv(65536)
            assert chunk, answers
            answers += chunk
    first, second = answers.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"404") and second.startswith(b"200")  # slow one first


def test_a_trickling_client_is_closed_too(server: FakeElbServer) -> None:
    """A header byte every 0.3 s never idled the stdlib server's 1 s socket timeout, so the
    connection stayed open for good; a request must now arrive whole within the timeout."""
    host, port = server.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ".encode())
        with pytest.raises(OSError):  # the server closed it: a reset, or a broken pipe
            while time.monotonic() - started < 8:
                sock.sendall(b"a")
                time.sleep(0.3)
    assert time.monotonic() - started < 8, "the trickling connection is still open after 8 s"


def test_a_bug_in_the_fake_is_a_500_that_says_so(server: FakeElbServer,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.api, "handle", broken)
    response = Api(server.url).list()
    assert response.status_code == 500
    assert "a bug" in response.json()["error"]["message"]
    assert "RuntimeError: boom" in capfd.readouterr().err


def test_the_server_starts_inside_a_running_event_loop() -> None:
    """A Pulumi program (or an async test) has a loop running; the server runs its own."""
    async def program() -> int:
        with FakeElbServer() as fake:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(None, Api(fake.url).list)
            return answer.status_code

    assert asyncio.run(program()) == 200


@pytest.mark.parametrize("head", [
    b"X-Padding: " + b"a" * 200_000 + b"\r\n",          # one header that never seems to end
    b"".join(b"X-H%d: v\r\n" % i for i in range(150)),  # too many headers
    b"X-Same: v\r\n" * 20_000,                          # many lines of one name
], ids=["long-line", "many-headers", "repeated"])
def test_an_oversized_head_is_refused_not_kept(server: FakeElbServer, head: bytes) -> None:
    """llhttp sets no bound: the stdlib server refused a line over 64 KiB or 100 headers, and
    the fake must not hold whatever a client sends until the idle timeout."""
    answer = raw(server, f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + head
                 + b"\r\n")
    assert status(answer) == 431, answer[:200]
    assert b"Connection: close" in answer and b"ELB.1001" in answer


def test_a_head_of_ordinary_size_is_served(server: FakeElbServer) -> None:
    answer = raw(server, f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\n".encode()
                 + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(90)) + b"\r\n")
    assert status(answer) == 200, answer[:200]


@pytest.mark.parametrize("size", [70_000, 100_000])
def test_an_overlong_target_is_414_not_431(server: FakeElbServer, size: int) -> None:
    """RFC 9112 3: a request target too long is 414 URI Too Long (431 is for headers)."""
    answer = raw(server, f"GET {LISTENERS}?name={'a' * size} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                 .encode())
    assert status(answer) == 414, answer[:200]
    assert b"Connection: close" in answer and b"ELB.1001" in answer


def test_a_head_that_never_ends_is_cut_off(server: FakeElbServer) -> None:
    """A header line that keeps coming without its end: answered 431 after about 64 KiB,
    long before the 2 MiB this client would send."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ".encode())
        sent = 0
        while sent < 2 << 20 and not select.select([sock], [], [], 0.005)[0]:
            sock.sendall(b"a" * 16384)
            sent += 16384
        answer = sock.recv(65536)
    assert status(answer) == 431, answer[:200]
    assert sent < 512 * 1024, f"answered only after {sent} bytes"
