"""The second hostile review (issue 20), the fake's items: its IAM in both transports, the
server over raw sockets, and the listener fake's JSON types."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, FakeElbServer, MockElb, ServerControl
from fake_elb.service.faults import FaultRule
from otc_elb_listener.auth import AkSk, signer
from tests.support import LISTENERS, PROJECT, Api, raw, status, url_of

DOMAIN = "OTC00000000001000000xyz"
PASSWORD = "pässwörd-ü"


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    return bare_fake


def sign_in(fake: MockElb | ServerControl, body: Any) -> requests.Response:
    return requests.post(f"{url_of(fake)}/v3/auth/tokens", json=body, timeout=10)


def password_body(name: Any = "deployer", password: Any = PASSWORD, domain: Any = DOMAIN,
                  methods: Any = ("password",), project: Any = None) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": list(methods) if isinstance(methods, tuple)
                                  else methods, "password": {"user": {
                                      "name": name, "password": password,
                                      "domain": {"name": domain}}}},
                     "scope": {"project": project if project is not None else {"id": PROJECT}}}}


# -- 6. malformed sign-ins are 400s naming the part, never a 500 or an exception ---------------
@pytest.mark.parametrize("body", [
    password_body(methods=5), password_body(methods="xpasswordx"), password_body(methods=[1]),
    password_body(name=["deployer"]), password_body(name={"n": 1}),
    password_body(domain={"name": DOMAIN}), password_body(project="p"),
    password_body(project=[PROJECT]), password_body(password=7), [], "auth",
    {"auth": {"identity": "x"}},
], ids=lambda b: json.dumps(b)[:40])
def test_6_a_malformed_sign_in_is_a_400(fake: MockElb | ServerControl, body: Any) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    answer = sign_in(fake, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "ELB.1001"
    assert "X-Subject-Token" not in answer.headers


# -- 7. any password, any text ------------------------------------------------------------------
def test_7_non_ascii_passwords_sign_in_or_are_refused(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    assert sign_in(fake, password_body(password="wrông")).status_code == 401
    assert sign_in(fake, password_body()).status_code == 201


# -- 8. a project name is a project of the domain named with it ---------------------------------
def test_8_a_project_name_in_another_domain_is_refused(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    elsewhere = {"name": "eu-de_p", "domain": {"name": "OTHER-DOMAIN"}}
    assert sign_in(fake, password_body(project=elsewhere)).status_code == 401
    here = {"name": "eu-de_p", "domain": {"name": DOMAIN}}
    assert sign_in(fake, password_body(project=here)).status_code == 201


# -- 9. revocation: exactly these tokens, a new password, a removed user ------------------------
def _issued(fake: MockElb | ServerControl) -> str:
    answer = sign_in(fake, password_body())
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]


def _opens(fake: MockElb | ServerControl, token: str) -> int:
    return requests.get(f"{url_of(fake)}/v1.0/{PROJECT}/elbaas/listeners",
                        headers={"X-Auth-Token": token}, timeout=10).status_code


def test_9_tokens_are_revoked_as_keystone_revokes_them(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    token = _issued(fake)
    assert _opens(fake, token) == 200
    fake.set_tokens(["only-this-one"])  # exactly these: IAM's tokens stop working
    assert _opens(fake, token) == 401 and _opens(fake, "only-this-one") == 200
    token = _issued(fake)
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")  # same password: kept
    assert _opens(fake, token) == 200
    fake.add_user(DOMAIN, "deployer", "a-new-password", PROJECT, "eu-de_p")
    assert _opens(fake, token) == 401
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    token = _issued(fake)
    fake.remove_user(DOMAIN, "deployer")
    assert _opens(fake, token) == 401 and sign_in(fake, password_body()).status_code == 401


# -- 10. a temporary key needs its security token ----------------------------------------------
def test_10_a_temporary_key_without_its_token_is_refused(fake: MockElb | ServerControl) -> None:
    fake.add_credential("TMPKEY", "tmp-secret", PROJECT, security_token="the-sts-token")
    url = f"{url_of(fake)}/v1.0/{PROJECT}/elbaas/listeners"
    without = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret"), PROJECT), timeout=10)
    assert without.status_code == 401 and "security token" in without.text
    wrong = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret", "other"), PROJECT),
                         timeout=10)
    assert wrong.status_code == 401
    right = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret", "the-sts-token"),
                                          PROJECT), timeout=10)
    assert right.status_code == 200, right.text


# -- 20. list items are typed whether or not the field applies ---------------------------------
@pytest.mark.parametrize("protocol", ["HTTP", "TCP"])
def test_20_certificates_items_must_be_strings_on_any_listener(
        fake: MockElb | ServerControl, protocol: str) -> None:
    lb = fake.add_loadbalancer(PROJECT)["id"]
    api = Api(url_of(fake))
    body = {"loadbalancer_id": lb, "protocol": protocol, "backend_protocol": protocol,
            "port": 80, "backend_port": 8080, "lb_algorithm": "roundrobin", "name": "web"}
    refused = api.create({**body, "certificates": [5]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ELB.1001"
    assert "certificates" in refused.text and api.list().json() == []
    created = api.create(body).json()
    refused = api.put(created["id"], {"certificates": [5]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ELB.1001"
    assert api.get(created["id"]).json()["update_time"] == created["update_time"]


# -- 17-19. the server: slow heads, 100 Continue, 414 -------------------------------------------
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


def test_17_clients_trickling_a_head_never_lock_new_clients_out(
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


def test_17_a_head_gets_its_own_deadline(small_server: FakeElbServer) -> None:
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


def test_18_no_100_continue_to_http_1_0(small_server: FakeElbServer) -> None:
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


def test_18_100_continue_waits_for_earlier_answers(small_server: FakeElbServer) -> None:
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
