"""What is specific to each transport: the server process and socket, the in-process hooks."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from fake_elb import ControlError, FakeControl, FakeElbState, ServerControl, mock_elb
from fake_elb.service.api import MAX_BODY_BYTES
from tests.support import PROJECT, Api


def _start(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen([sys.executable, "-m", "fake_elb", "serve", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    return process, process.stdout.readline().decode().strip()


def test_serve_prints_its_url_first_and_stops_on_sigterm() -> None:
    process, url = _start("--port", "0", "--token", "custom")
    try:
        assert url.startswith("http://127.0.0.1:"), url
        port = int(url.rsplit(":", 1)[1])
        assert port > 0
        control = ServerControl(url)
        lb = control.add_loadbalancer(PROJECT)
        assert len(lb["id"]) == 32 and lb["type"] == "External"
        api = Api(url)
        api.session.headers["X-Auth-Token"] = "custom"
        assert api.list().status_code == 200
        api.session.headers["X-Auth-Token"] = "fake-elb-token"  # not accepted: --token replaced it
        assert api.list().status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None and process.stderr is not None
        # stderr says how to stop it, and nothing else (no traceback on SIGTERM)
        assert process.stderr.read().decode().splitlines() == [
            f"fake-elb: serving the classic ELB listener API at {url}; stop it with Ctrl-C "
            "(or SIGTERM)"]
        process.stdout.close()
        process.stderr.close()


def test_fake_elb_console_script_is_installed() -> None:
    scripts = __import__("pathlib").Path(sys.executable).parent
    assert (scripts / "fake-elb").exists()
    out = subprocess.run([str(scripts / "fake-elb"), "--help"], capture_output=True, timeout=30)
    assert out.returncode == 0 and b"serve" in out.stdout


def test_control_plane(fake_elb_server: ServerControl) -> None:
    url = fake_elb_server.url
    created = requests.post(f"{url}/_fake/loadbalancers", json={"project_id": PROJECT,
                            "type": "Internal", "id": "a" * 32}, timeout=10)
    assert created.status_code == 201 and created.json()["id"] == "a" * 32
    bad = requests.post(f"{url}/_fake/loadbalancers", json={"project_id": PROJECT,
                        "type": "Public"}, timeout=10)
    assert bad.status_code == 400 and "type" in bad.json()["error"]["message"]
    cert = requests.post(f"{url}/_fake/certificates", json={"project_id": PROJECT}, timeout=10)
    assert cert.status_code == 201 and len(cert.json()["id"]) == 32
    Api(url).list()
    assert len(requests.get(f"{url}/_fake/requests", timeout=10).json()) == 1
    assert requests.post(f"{url}/_fake/reset", timeout=10).status_code == 204
    assert requests.get(f"{url}/_fake/requests", timeout=10).json() == []


def test_keep_alive_reuses_one_connection(fake_elb_server: ServerControl) -> None:
    api = Api(fake_elb_server.url)
    for _ in range(20):
        assert api.list().status_code == 200
    pool = api.session.get_adapter(fake_elb_server.url).poolmanager
    connections = [c for p in pool.pools._container.values() for c in p.pool.queue if c]
    assert len(connections) == 1


def test_oversized_body_is_refused_unread(fake_elb_server: ServerControl) -> None:
    host, port = fake_elb_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"PUT /v1.0/{PROJECT}/elbaas/listeners/{'a' * 32} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nX-Auth-Token: fake-elb-token\r\n"
                     f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode())
        sock.sendall(b"{")  # the server must answer without waiting for the rest
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert '"ELB.1001"' in answer and "over 1048576 bytes" in answer


def test_server_answers_unknown_paths_and_methods(fake_elb_server: ServerControl) -> None:
    url = fake_elb_server.url
    assert requests.get(f"{url}/nothing", timeout=10).status_code == 404
    api = Api(url)
    response = api.session.patch(api.base, json={}, timeout=10)
    assert response.status_code == 405 and response.json()["error"]["code"] == "ELB.1001"


def test_inprocess_keeps_responses_journal_bounded() -> None:
    with mock_elb() as elb:
        api = Api(elb.endpoint)
        for _ in range(200):
            api.list()
        assert len(elb._mock.calls) <= 32
        assert len(elb.requests) == 200


def test_inprocess_does_not_catch_other_hosts() -> None:
    with mock_elb("https://elb.eu-de.otc.t-systems.com"):
        try:
            requests.get("https://elb.eu-nl.otc.t-systems.com/v1.0/p/elbaas/listeners",
                         timeout=1)
        except requests.ConnectionError as error:
            assert "Connection refused by Responses" in str(error)
        else:
            raise AssertionError("a request to another endpoint must not be answered")


def test_journal_is_bounded_to_the_newest_entries() -> None:
    state = FakeElbState(journal_size=3)
    for i in range(5):
        state.record("GET", str(i), "", 200, None)
    assert [e["path"] for e in state.journal()] == ["2", "3", "4"]


def test_server_handles_concurrent_clients(fake_elb_server: ServerControl) -> None:
    from concurrent.futures import ThreadPoolExecutor

    lb = fake_elb_server.add_loadbalancer(PROJECT)["id"]

    def create(port: int) -> int:
        body = {"name": f"l{port}", "loadbalancer_id": lb, "protocol": "TCP", "port": port,
                "backend_protocol": "TCP", "backend_port": 80, "lb_algorithm": "roundrobin"}
        return Api(fake_elb_server.url).create(body).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    assert sorted(statuses) == [200] * 5 + [403] * 5  # the quota holds under concurrency
    assert len(Api(fake_elb_server.url).list().json()) == 5
    journal = fake_elb_server.requests
    assert sorted(e["status"] for e in journal if e["method"] == "POST") == sorted(statuses)


# -- one control plane: the same requests, the same answers, in both transports -------------
CONTROL_CASES = [
    ("POST", "loadbalancers", {"project_id": PROJECT, "id": "b" * 32}, 201),
    ("POST", "loadbalancers", {"project_id": 5}, 400),
    ("POST", "loadbalancers", [1], 400),
    ("POST", "certificates", {"project_id": PROJECT, "id": "c" * 32}, 201),
    ("POST", "users", {"domain": "d", "name": "n", "password": "p", "project_id": PROJECT,
                       "project_name": "eu-de_p"}, 201),
    ("POST", "users", {"domain": "d", "name": ["n"]}, 400),
    ("POST", "credentials", {"access": "AK", "secret": "SK", "project_id": PROJECT}, 201),
    ("POST", "strict", {"strict": "yes"}, 400),
    ("POST", "tokens", {"tokens": [1]}, 400),
    ("POST", "faults", {"action": "nonsense"}, 400),
    ("PUT", "faults", {}, 405),
    ("POST", "nothing", {}, 404),
    ("GET", "requests", None, 200),
]


def _answers(base: str) -> list[tuple[int, object]]:
    answers = []
    for method, action, payload, _ in CONTROL_CASES:
        response = requests.request(method, f"{base}/_fake/{action}", json=payload, timeout=10)
        body = response.json() if response.content else None
        answers.append((response.status_code, body.get("error", {}).get("code")
                        if isinstance(body, dict) and "error" in body else None))
    return answers


def test_the_in_process_fake_answers_the_control_plane_as_the_server_does(
        fake_elb_server: ServerControl) -> None:
    """One implementation: ``requests`` to ``<endpoint>/_fake/*`` get the server's answers."""
    with mock_elb() as elb:
        in_process = _answers(elb.endpoint)
        assert elb.add_loadbalancer(PROJECT)["project_id"] == PROJECT
    over_http = _answers(fake_elb_server.url)
    assert in_process == over_http
    assert [status for status, _ in in_process] == [case[3] for case in CONTROL_CASES]


def _refusals(control: FakeControl) -> list[object]:
    """What the typed client does with a refused call and with fault rules."""
    seen: list[object] = []
    try:
        control.add_loadbalancer("", id="x")
    except ControlError as error:
        seen += [error.status, "project_id" in str(error)]
    rule = control.faults.add(operation="list", status=500, times=1)
    seen += [rule["status"], control.faults.rules[-1]["fired"]]
    control.faults.clear()
    seen.append(control.faults.rules)
    return seen


def test_a_control_call_refused_raises_the_same_error_in_both_transports(
        fake_elb_server: ServerControl) -> None:
    with mock_elb() as elb:
        in_process = _refusals(elb)
    assert in_process == _refusals(fake_elb_server) == [400, True, 500, 0, []]


# -- existing listeners, and changes made out of band -------------------------------------------
def _existing(control: FakeControl) -> list[object]:
    lb = control.add_loadbalancer(PROJECT)["id"]
    seeded = control.add_listener(
        PROJECT, id="e" * 32, create_time="2019-03-01 08:00:00", loadbalancer_id=lb,
        protocol="TCP", backend_protocol="TCP", port=443, backend_port=8443,
        lb_algorithm="leastconn", name="legacy", tcp_timeout=30)
    changed = control.change_listener(PROJECT, "e" * 32, backend_port=9443)
    seen: list[object] = [seeded["id"], seeded["create_time"], seeded["tcp_timeout"],
                          changed["backend_port"], changed["create_time"]]
    try:
        control.add_listener(PROJECT, loadbalancer_id=lb, protocol="TCP", port=443,
                             backend_protocol="TCP", backend_port=1, lb_algorithm="source",
                             name="same-port")
    except ControlError as error:
        seen.append(("refused", error.status, "ELB.6101" in str(error)))
    control.remove_listener(PROJECT, "e" * 32)
    seen.append(control.requests)  # none of it is the API's: the journal stays empty
    return seen


def test_existing_listeners_are_seeded_and_changed_out_of_band_in_both_transports(
        fake_elb_server: ServerControl) -> None:
    with mock_elb() as elb:
        in_process = _existing(elb)
    assert in_process == _existing(fake_elb_server) == [
        "e" * 32, "2019-03-01 08:00:00", 30, 9443, "2019-03-01 08:00:00",
        ("refused", 400, True), []]


# -- a web page never drives the fake (DNS rebinding, cross-site requests) -------------------
def test_the_server_answers_only_for_its_own_address(fake_elb_server: ServerControl) -> None:
    url = fake_elb_server.url
    port = url.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{int(port) + 1}"):
        for path in ("/_fake/reset", f"/v1.0/{PROJECT}/elbaas/listeners"):
            answer = requests.post(url + path, headers={"Host": host}, json={}, timeout=10)
            assert answer.status_code == 421, (host, path)
            assert answer.json()["error"]["code"] == "ELB.1001"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert requests.get(f"{url}/_fake/requests", headers={"Host": host},
                            timeout=10).status_code == 200
    assert fake_elb_server.requests == []  # nothing a foreign host sent was served


def test_the_control_plane_refuses_what_a_web_page_can_send(bare_fake: FakeControl) -> None:
    from tests.support import url_of

    url = url_of(bare_fake)
    body = json.dumps({"project_id": PROJECT})
    page = requests.post(f"{url}/_fake/certificates", data=body, timeout=10,
                         headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert page.status_code == 403 and "another origin" in page.text
    form = requests.post(f"{url}/_fake/certificates", data=body, timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and "Content-Type: application/json" in form.text
    plain = requests.post(f"{url}/_fake/certificates", data=body, timeout=10,
                          headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    reset = requests.post(f"{url}/_fake/reset", headers={"Origin": "http://evil.example"},
                          timeout=10)
    assert reset.status_code == 403
    api = Api(url)
    listed = api.session.get(f"{url}/v1.0/{PROJECT}/elbaas/certificate", timeout=10).json()
    assert listed["certificates"] == []  # the refused calls made nothing
    made = requests.post(f"{url}/_fake/certificates", data=body, timeout=10,
                         headers={"Content-Type": "application/json; charset=utf-8"})
    assert made.status_code in (200, 201), made.text


# -- the fake as a tool: its estate dumped, loaded, kept across restarts --------------------
def test_the_estate_dumps_and_loads_in_both_transports(bare_fake: FakeControl) -> None:
    lb = bare_fake.add_loadbalancer(PROJECT)["id"]
    listener = bare_fake.add_listener(PROJECT, loadbalancer_id=lb, protocol="HTTP",
                                      backend_protocol="HTTP", port=80, backend_port=8080,
                                      lb_algorithm="roundrobin", name="web")
    bare_fake.add_certificate(PROJECT)
    estate = bare_fake.dump_state()
    assert estate["version"] == 1
    assert [item["id"] for item in estate["projects"][PROJECT]["listeners"]] == [
        listener["id"]]
    assert "private_key" not in json.dumps(estate)  # never a key, not even the fake's own
    bare_fake.reset()
    bare_fake.load_state(estate)
    assert bare_fake.dump_state() == estate


@pytest.mark.parametrize(("action", "body", "words"), [
    ("listeners", {"project_id": PROJECT, "loadbalancer_id": "a" * 32, "port": 80},
     "listener: an object is mandatory; the body is {"),
    ("healthchecks", {"project_id": PROJECT, "listener_id": "a" * 32},
     "healthcheck: an object is mandatory; the body is {"),
    ("state", {"projects": []}, "a state must be {"),
])
def test_a_malformed_control_body_names_the_shape_expected(bare_fake: FakeControl,
                                                           action: str, body: Any,
                                                           words: str) -> None:
    """A flat listener body got "the request body must be a JSON object, got NoneType"."""
    with pytest.raises(ControlError) as refused:
        bare_fake._send("POST", action, body)
    assert refused.value.status == 400 and words in str(refused.value)


def test_serve_keeps_its_estate_in_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "estate.json"
    process, url = _start("--port", "0", "--state", str(state))
    try:
        ServerControl(url).add_loadbalancer(PROJECT, id="b" * 32)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()
    written = json.loads(state.read_text())
    assert [lb["id"] for lb in written["projects"][PROJECT]["loadbalancers"]] == ["b" * 32]
    process, url = _start("--port", "0", "--state", str(state))
    try:
        assert ServerControl(url).dump_state() == written  # loaded at start
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            assert stream is not None
            stream.close()
