"""The fake's HTTP/1.1 server under a hostile review: methods, HEAD, message framing,
absolute-form targets, streamed bodies in-process, idle connections and a connection limit.
Every test here failed before its fix."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, FakeElbServer, mock_elb
from tests.conftest import PROJECT, Api

LISTENERS = f"/v1.0/{PROJECT}/elbaas/listeners"


@pytest.fixture
def server() -> Iterator[FakeElbServer]:
    fake = FakeElbServer(idle_timeout=1.0, max_connections=64).start()
    try:
        yield fake
    finally:
        fake.stop()


def raw(server: FakeElbServer, request: bytes, timeout: float = 5.0) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
        return b"".join(chunks)


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PATCH", "get", "BREW"])
def test_unknown_methods_get_405_with_an_elb_body(server: FakeElbServer, method: str) -> None:
    answer = raw(server, f"{method} {LISTENERS} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\nContent-Length: 0\r\n\r\n".encode())
    assert status(answer) == 405, answer
    assert b'"code":"ELB.1001"' in answer and b"<html" not in answer.lower()


def test_head_answers_carry_no_body(server: FakeElbServer) -> None:
    answer = raw(server, f"HEAD {LISTENERS} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
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
    answer = raw(server, f"POST {LISTENERS} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
                 f"{DEFAULT_TOKEN}\r\n".encode() + framing + b"\r\n{}")
    assert status(answer) == 400, answer
    assert b"Connection: close" in answer


def test_an_absolute_form_target_is_accepted(server: FakeElbServer) -> None:
    answer = raw(server, f"GET http://elb.example.test{LISTENERS}?port=80 HTTP/1.1\r\n"
                 f"Host: elb.example.test\r\nX-Auth-Token: {DEFAULT_TOKEN}\r\n\r\n".encode())
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
    assert server.httpd.max_connections == 64


def test_under_a_low_open_file_limit_idle_connections_do_not_stop_the_server() -> None:
    """The review's case: at the open-file limit, idle connections took every descriptor;
    the accept loop spun and nobody was answered. Here the server's limit is 256 files and
    300 idle connections are opened; a client must still be answered."""
    import resource
    import subprocess
    import sys

    from fake_elb.control import stop_process

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
