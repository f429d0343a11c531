"""The fake server against slow and odd clients: a head trickled in, ``100-continue``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from fake_elb import DEFAULT_TOKEN, FakeElbServer
from fake_elb.service.faults import FaultRule
from tests.support import LISTENERS, PROJECT, raw, status


@pytest.fixture
def small_server() -> Iterator[FakeElbServer]:
    server = FakeElbServer(idle_timeout=30.0, header_timeout=1.0, max_connections=4).start()
    try:
        yield server
    finally:
        server.stop()


def _connect(server: FakeElbServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_clients_trickling_a_head_never_lock_new_clients_out(
        small_server: FakeElbServer) -> None:
    slow = [_connect(small_server) for _ in range(4)]  # the whole cap, each mid-head
    try:
        for sock in slow:
            sock.sendall(f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sl".encode())
        time.sleep(0.2)
        started = time.monotonic()
        answer = raw(small_server, f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                     f"{DEFAULT_TOKEN}\r\n\r\n".encode())
        assert status(answer) == 200 and time.monotonic() - started < 0.9
    finally:
        for sock in slow:
            sock.close()


def test_a_head_gets_its_own_deadline(small_server: FakeElbServer) -> None:
    started = time.monotonic()
    with _connect(small_server) as sock:
        sock.sendall(f"GET {LISTENERS} HTTP/1.1\r\n".encode())
        answer = b""
        while time.monotonic() - started < 5:  # a byte a while, never a whole head
            sock.sendall(b"X")
            try:
                sock.settimeout(0.3)
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
    assert status(answer) == 408 and time.monotonic() - started < 3, answer[:120]


def _body(server: FakeElbServer) -> bytes:
    lb = server.state.add_loadbalancer(PROJECT)["id"]
    return json.dumps({"loadbalancer_id": lb, "protocol": "TCP", "backend_protocol": "TCP",
                       "port": 80, "backend_port": 80, "lb_algorithm": "roundrobin",
                       "name": "x"}).encode()


def test_no_100_continue_to_http_1_0(small_server: FakeElbServer) -> None:
    body = _body(small_server)
    with _connect(small_server) as sock:
        sock.sendall(f"POST {LISTENERS} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                     f"X-Auth-Token: {DEFAULT_TOKEN}"
                     f"\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1024)  # a 1.0 client must be left to send its body
        sock.settimeout(5)
        sock.sendall(body)
        answer = sock.recv(65536)
    assert status(answer) == 200 and b"100 Continue" not in answer


def test_continue_waits_for_earlier_answers(small_server: FakeElbServer) -> None:
    small_server.api.faults.add(FaultRule(method="GET", action="latency", latency=0.5))
    body = _body(small_server)
    with _connect(small_server) as sock:
        sock.sendall(f"GET {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {DEFAULT_TOKEN}"
                     f"\r\n\r\nPOST {LISTENERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: "
                     f"{DEFAULT_TOKEN}\r\nExpect: 100-continue\r\nContent-Length: {len(body)}"
                     "\r\n\r\n".encode())
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first[:80]  # the GET's answer comes first
        rest = first.partition(b"\r\n\r\n")[2]
        while b"100 Continue" not in rest:
            rest += sock.recv(65536)
        sock.sendall(body)
        answer = rest.partition(b"100 Continue\r\n\r\n")[2]
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]  # the POST, created
