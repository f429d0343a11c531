"""Hostile conditions: injected faults, lost answers, concurrency, hostile input, secrets."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, MockElb, ServerControl, mock_elb
from otc_elb_listener import ElbApiError, ListenerProvider, RetrySettings
from tests.support import ENDPOINT, PROJECT, Api, api_body, configured, program

#: Backoff off (the waits are tested in test_client.py); 6 retries.
PATIENT = RetrySettings(retries=6, backoff_factor=0, backoff_jitter=0)


@pytest.fixture
def elb() -> Iterator[MockElb]:
    # strict: the provider is proven never to send a field the service would ignore
    with mock_elb(ENDPOINT, strict=True) as fake:
        yield fake


def provider_for(retry: RetrySettings = PATIENT, endpoint: str = ENDPOINT) -> ListenerProvider:
    return configured(ListenerProvider(retry=retry), endpoint=endpoint)


# -- the fault rules themselves ------------------------------------------------------------
def test_fault_fires_on_nth_call_for_k_calls(elb: MockElb) -> None:
    elb.faults.add(operation="list", nth=2, times=2, status=500, code="ELB.5000")
    api = Api(ENDPOINT)
    assert [api.list().status_code for _ in range(5)] == [200, 500, 500, 200, 200]
    assert [e.get("fault") for e in elb.requests] == [None, "status", "status", None, None]


def test_fault_probability_is_seeded(elb: MockElb) -> None:
    def run() -> list[int]:
        elb.reset()
        elb.faults.add(method="GET", probability=0.5, seed=7)
        return [Api(ENDPOINT).list().status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second and 10 < first.count(503) < 30


def test_a_fault_before_applying_changes_nothing(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    api = Api(ENDPOINT)
    listener = api.create(api_body(lb)).json()
    elb.faults.add(operation="update", status=503)
    response = api.put(listener["id"], {"port": 81})
    assert response.status_code == 503 and response.json()["error"]["code"] == "ELB.5030"
    assert api.get(listener["id"]).json()["port"] == 80
    elb.faults.clear()
    elb.faults.add(operation="update", action="drop")
    with pytest.raises(requests.ConnectionError):
        api.put(listener["id"], {"port": 81})
    assert api.get(listener["id"]).json()["port"] == 80


def test_applied_then_lost_changes_state(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    api = Api(ENDPOINT)
    listener = api.create(api_body(lb)).json()
    elb.faults.add(operation="update", action="timeout", applied=True)
    with pytest.raises(requests.ReadTimeout):
        api.put(listener["id"], {"port": 81})
    assert api.get(listener["id"]).json()["port"] == 81


def test_latency_is_virtual_in_process(elb: MockElb) -> None:
    elb.faults.add(operation="list", action="latency", latency=5.0)
    api = Api(ENDPOINT)
    assert api.session.get(api.base, timeout=10).status_code == 200  # late, but in time
    with pytest.raises(requests.ReadTimeout):
        api.session.get(api.base, timeout=(1, 2))


def test_server_faults_over_the_control_plane(fake_elb_server: ServerControl) -> None:
    api = Api(fake_elb_server.url)
    rule = fake_elb_server.faults.add(operation="list", times=1, status=500, code="ELB.5000")
    assert rule["id"] >= 1
    assert api.list().status_code == 500 and api.list().status_code == 200
    fake_elb_server.faults.add(operation="list", action="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        api.list()
    assert api.list().status_code == 200  # the session reconnects
    fake_elb_server.faults.add(operation="list", action="latency", latency=0.3, times=1)
    with pytest.raises(requests.ReadTimeout):
        api.session.get(api.base, timeout=(5, 0.1))
    assert fake_elb_server.faults.rules[-1]["fired"] == 1
    bad = requests.post(f"{fake_elb_server.url}/_fake/faults", json={"action": "explode"},
                        timeout=10)
    assert bad.status_code == 400 and "action" in bad.json()["error"]["message"]
    fake_elb_server.faults.clear()
    assert fake_elb_server.faults.rules == []


def test_server_latency_does_not_hold_the_state_lock(fake_elb_server: ServerControl) -> None:
    """While one call sleeps in a latency fault, others are answered at once."""
    import time

    fake_elb_server.faults.add(operation="list", action="latency", latency=1.5, times=1)
    slow = threading.Thread(target=lambda: Api(fake_elb_server.url).list())
    slow.start()
    time.sleep(0.2)
    start = time.perf_counter()
    assert Api(fake_elb_server.url).get("0" * 32).status_code == 404
    assert time.perf_counter() - start < 1.0
    slow.join()


# -- 1. transient faults survived ----------------------------------------------------------
@pytest.mark.parametrize("transport", ["inprocess", "server"])
def test_lifecycle_survives_transient_faults(transport: str,
                                             fake_elb_server: ServerControl) -> None:
    """503, 500 and dropped connections on ~30 % of calls: every step still succeeds,
    with exactly one effective change per update."""
    def run(control: Any, endpoint: str) -> None:
        lbs = [control.add_loadbalancer(PROJECT)["id"] for _ in range(4)]
        control.faults.add(action="status", status=503, probability=0.15, seed=11)
        control.faults.add(action="status", status=500, code="ELB.5000", probability=0.1,
                           seed=12)
        control.faults.add(action="drop", probability=0.08, seed=13)
        provider = provider_for(endpoint=endpoint)
        outs = [provider.create(program(lbs[i // 5], port=float(100 + i), name=f"l{i}")).outs
                or {} for i in range(20)]
        for i, old in enumerate(outs):
            new = provider.update(old["listener_id"], old, program(
                lbs[i // 5], port=float(200 + i), name=f"l{i}")).outs or {}
            assert new["port"] == 200 + i
            assert (provider.read(old["listener_id"], new).outs or {})["port"] == 200 + i
        applied_puts = [e for e in control.requests if e["method"] == "PUT"
                        and e["status"] == 200]
        assert len(applied_puts) == 20  # one effective change per update
        for old in outs:
            provider.delete(old["listener_id"], old)
        control.faults.clear()
        assert Api(endpoint).list().json() == []
        faulted = [e for e in control.requests if e.get("fault")]
        assert len(faulted) >= 15, "the faults must really have fired"

    if transport == "inprocess":
        with mock_elb(ENDPOINT) as elb:
            run(elb, ENDPOINT)
    else:
        run(fake_elb_server, fake_elb_server.url)


def test_the_retry_budget_is_bounded_and_4xx_not_retried(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", status=503)
    with pytest.raises(ElbApiError, match="HTTP 503"):
        provider_for(RetrySettings(retries=3, backoff_factor=0)).create(program(lb))
    # each POST that may have been applied is followed by a GET that finds it was not
    assert [e["method"] for e in elb.requests] == ["POST", "GET"] * 3 + ["POST"]
    elb.reset()
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", status=409, code="ELB.4090")
    with pytest.raises(ElbApiError, match="HTTP 409"):
        provider_for().create(program(lb))
    assert len(elb.requests) == 1


# -- 2. lost answers -----------------------------------------------------------------------
def test_a_put_applied_but_lost_is_retried_safely(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    provider = provider_for()
    old = provider.create(program(lb)).outs or {}
    elb.faults.add(operation="update", action="drop", applied=True, times=1)
    new = provider.update(old["listener_id"], old, program(lb, port=81.0)).outs or {}
    assert new["port"] == 81
    puts = [e for e in elb.requests if e["method"] == "PUT"]
    assert [(e["status"], e.get("fault")) for e in puts] == [(None, "drop"), (200, None)]
    assert Api(ENDPOINT).get(old["listener_id"]).json()["port"] == 81


def test_a_post_applied_but_lost_is_found_not_duplicated(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", action="timeout", applied=True, times=1)
    result = provider_for().create(program(lb))
    assert [e["method"] for e in elb.requests] == ["POST", "GET"]  # no second POST
    listeners = Api(ENDPOINT).list().json()
    assert [x["id"] for x in listeners] == [result.id]  # exactly one, and it is ours


def test_a_post_lost_before_applying_is_sent_again(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", action="drop", times=1)
    result = provider_for().create(program(lb))
    assert [e["method"] for e in elb.requests] == ["POST", "GET", "POST"]
    assert [x["id"] for x in Api(ENDPOINT).list().json()] == [result.id]


def test_a_lost_post_never_adopts_someone_elses_listener(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    Api(ENDPOINT).create(api_body(lb, name="other"))
    elb.faults.add(operation="create", action="drop", times=1)
    with pytest.raises(ElbApiError, match="differs from the program"):
        provider_for().create(program(lb))
    assert len(Api(ENDPOINT).list().json()) == 1


# -- 5. concurrency ------------------------------------------------------------------------
def test_sixteen_clients_mixed_operations(fake_elb_server: ServerControl) -> None:
    """16 threads x 500 mixed create/PUT/GET/DELETE: no 5xx but the documented 503 ELB.6002
    for a delete that lost a race, no lost update, counts and journal consistent."""
    url = fake_elb_server.url
    lbs = [fake_elb_server.add_loadbalancer(PROJECT)["id"] for _ in range(16)]
    shared = Api(url).create({"name": "shared", "loadbalancer_id": lbs[0], "protocol": "TCP",
                              "port": 1, "backend_protocol": "TCP", "backend_port": 1,
                              "lb_algorithm": "roundrobin"}).json()["id"]
    outcome: dict[int, dict[str, Any]] = {}
    bad: list[str] = []

    def worker(n: int) -> None:
        api = Api(url)
        mine: dict[str, str] = {}  # listener -> last acknowledged description
        created = deleted = requests_made = 0
        for step in range(500):
            kind = step % 10
            requests_made += 1
            if kind == 0 and len(mine) < 3:
                response = api.create({"name": f"w{n}-{step}", "loadbalancer_id": lbs[n],
                                       "protocol": "TCP", "port": 1000 + step,
                                       "backend_protocol": "TCP", "backend_port": 80,
                                       "lb_algorithm": "roundrobin"})
                if response.status_code == 200:
                    mine[response.json()["id"]] = ""
                    created += 1
            elif kind == 9 and mine:
                victim = next(iter(mine))
                if api.delete(victim).status_code == 204:
                    del mine[victim]
                    deleted += 1
            elif kind == 8:
                response = api.delete("f" * 32) if n % 2 else api.get(shared)
                if response.status_code >= 500 and \
                        response.json()["error"]["code"] != "ELB.6002":
                    bad.append(response.text)
            elif mine:
                target = list(mine)[step % len(mine)]
                text = f"w{n}-s{step}"
                response = api.put(target, {"description": text})
                if response.status_code == 200:
                    mine[target] = text
                else:
                    bad.append(response.text)
            else:
                api.list(loadbalancer_id=lbs[n])
        outcome[n] = {"mine": mine, "created": created, "deleted": deleted,
                      "requests": requests_made}

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(worker, range(16)))
    assert bad == []
    listeners = {x["id"]: x for x in Api(url).list().json()}
    for result in outcome.values():
        for listener_id, description in result["mine"].items():
            assert listeners[listener_id]["description"] == description  # no lost update
    expected = 1 + sum(r["created"] - r["deleted"] for r in outcome.values())
    assert len(listeners) == expected
    journal = fake_elb_server.requests
    assert len(journal) == sum(r["requests"] for r in outcome.values()) + 2
    assert sum(1 for e in journal if e["method"] == "POST" and e["status"] == 200) == \
        1 + sum(r["created"] for r in outcome.values())
    assert all(e["status"] < 500 or e["status"] == 503 for e in journal)


# -- 6. hostile input ----------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/v1.0/{p}/elbaas/listeners/../../other/elbaas/listeners",
    "/v1.0/{p}/elbaas/listeners/%2E%2E%2F" + "a" * 23,
    "/v1.0/{p}/elbaas/listeners/" + "a" * 31 + "%2F",
    "/v1.0/{p}/elbaas/listeners/" + "a" * 5000,
    "/v1.0/{p}/elbaas/listeners/" + "A" * 32,
    "/v1.0/{p}/elbaas/listeners/" + "a" * 32 + "/extra",
    "/v1.0/..%2F{p}/elbaas/listeners",
    "/v1.0/other%2F..%2F{p}/elbaas/listeners",
    "/v1.0/{p}/elbaas/listeners/{lid}/../{lid}",
    "/v1.0/{p}/elbaas/listeners/{lid}%00",
])
def test_path_injection_never_reaches_other_data(fake_elb_server: ServerControl,
                                                 path: str) -> None:
    lb = fake_elb_server.add_loadbalancer("victim")["id"]
    victim = Api(fake_elb_server.url, project="victim")
    secret = victim.create({"name": "secret", "loadbalancer_id": lb, "protocol": "TCP",
                            "port": 22, "backend_protocol": "TCP", "backend_port": 22,
                            "lb_algorithm": "roundrobin"}).json()
    attacker = Api(fake_elb_server.url, project="attacker")
    url = fake_elb_server.url + path.format(p="attacker", lid=secret["id"])
    for method in ("GET", "PUT", "DELETE"):
        response = attacker.session.request(method, url, json={"port": 1}, timeout=10)
        missing_here = response.status_code == 503 and \
            response.json()["error"]["code"] == "ELB.6002"  # urllib3 folded the dots
        assert response.status_code in (400, 404, 405) or missing_here, (method, response.text)
        assert "secret" not in response.text
    assert victim.get(secret["id"]).json() == secret


def test_query_tricks_are_refused_or_harmless(fake_elb_server: ServerControl) -> None:
    api = Api(fake_elb_server.url)
    for query in ("loadbalancer_id=a&loadbalancer_id=b", "port=1%00", "__class__=x",
                  "project_id=other", "a" * 10000 + "=1"):
        response = api.session.get(f"{api.base}?{query}", timeout=10)
        assert response.status_code in (200, 400), query
        if response.status_code == 200:
            assert response.json() == []


def test_huge_and_deep_bodies_are_refused(fake_elb_server: ServerControl) -> None:
    api = Api(fake_elb_server.url)
    huge = b'{"name": "' + b"a" * (2 << 20) + b'"}'
    response = api.session.post(api.base, data=huge, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    deep = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = api.session.post(api.base, data=deep, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested" in response.json()["error"]["message"]
    many = b'{"name": [' + b"1," * 300_000 + b"1]}"
    assert api.session.post(api.base, data=many, timeout=30).status_code == 400
    long_name = {"name": "n" * 500_000, "colour" * 50_000: 1}
    response = api.session.post(api.base, json=long_name, timeout=30)
    assert response.status_code == 400 and len(response.content) < 4096  # no echo of it all
    assert api.list().status_code == 200  # and the server is still fine


def test_a_lying_content_length_does_not_hang_the_server(
        fake_elb_server: ServerControl) -> None:
    host, port = fake_elb_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"PUT /v1.0/p/elbaas/listeners/" + b"a" * 32 + b" HTTP/1.1\r\n"
                     b"Host: 127.0.0.1\r\nContent-Length: -5\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    assert Api(fake_elb_server.url).list().status_code == 200


# -- 7. secrets ----------------------------------------------------------------------------
def test_the_token_is_in_no_log_line_at_any_level(elb: MockElb,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    caplog.set_level(logging.DEBUG)
    provider = provider_for(RetrySettings(retries=1, backoff_factor=0))
    outs = provider.create(program(lb)).outs or {}
    elb.faults.add(operation="update", status=503)
    with pytest.raises(ElbApiError) as caught:
        provider.update(outs["listener_id"], outs, program(lb, port=81.0))
    elb.faults.clear()
    provider.delete(outs["listener_id"], outs)
    assert caplog.records, "debug logging must have been captured"
    assert all(DEFAULT_TOKEN not in record.getMessage() for record in caplog.records)
    assert DEFAULT_TOKEN not in str(caught.value) and DEFAULT_TOKEN not in repr(caught.value)
    assert all(DEFAULT_TOKEN not in repr(entry) for entry in elb.requests)
