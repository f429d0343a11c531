"""Benchmarks 1 and 2: the fake's speed in-process and as a server, against floor and moto."""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import responses

from fake_elb import DEFAULT_TOKEN, ServerControl, mock_elb

from .common import Row, interleaved, rate, server_process, versus

ENDPOINT = "https://elb.eu-de.otc.t-systems.com"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
LISTENER = {"name": "web", "protocol": "HTTP", "backend_protocol": "HTTP", "port": 80,
            "backend_port": 8080, "lb_algorithm": "roundrobin"}


def _session() -> requests.Session:
    """A keep-alive session that resolves proxies once, as boto3's clients do: with
    ``trust_env`` on, requests rescans ``os.environ`` twice on every call (100-150 µs here
    with 77 variables), a cost of the client and of the environment's size, not of any
    server, which would make the ratios depend on the machine's environment."""
    session = requests.Session()
    session.trust_env = False
    session.headers["X-Auth-Token"] = DEFAULT_TOKEN
    return session


def _put_loop(session: requests.Session, url: str, calls: int,
              clock: Callable[[], float] = time.perf_counter) -> float:
    def put(i: int) -> None:
        response = session.put(url, json={"port": 1000 + i % 50000, "description": f"d{i}"})
        if response.status_code != 200:
            raise RuntimeError(response.text)

    return rate(calls, put, clock)


# -- in-process ------------------------------------------------------------------------------
def fake_inprocess(calls: int) -> float:
    with mock_elb(ENDPOINT) as elb:
        lb = elb.add_loadbalancer(PROJECT)["id"]
        session = _session()
        base = f"{ENDPOINT}/v1.0/{PROJECT}/elbaas/listeners"
        listener = session.post(base, json={**LISTENER, "loadbalancer_id": lb}).json()
        return _put_loop(session, f"{base}/{listener['id']}", calls, time.thread_time)


def floor_inprocess(calls: int) -> float:
    """A bare ``responses`` regex callback that parses and echoes the JSON body."""

    def echo(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, json.dumps(json.loads(request.body))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("PUT", re.compile(re.escape(ENDPOINT) + r"/.*"), callback=echo)
        return _put_loop(_session(), f"{ENDPOINT}/v1.0/{PROJECT}/elbaas/listeners/{'a' * 32}",
                         calls, time.thread_time)


_BATCH = itertools.count()


def _moto_listener(client: Any) -> str:
    tag = f"bench{next(_BATCH)}"  # a moto server keeps its state between batches
    ec2 = client["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"eu-central-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    elb = client["elbv2"]
    lb = elb.create_load_balancer(Name=tag, Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name=tag, Protocol="HTTP", Port=8080,
                                    VpcId=vpc)["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                   Port=80, DefaultActions=[{
                                       "Type": "forward",
                                       "TargetGroupArn": group["TargetGroupArn"]}])
    return str(listener["Listeners"][0]["ListenerArn"])


def _boto_clients(endpoint: str | None = None) -> dict[str, Any]:
    import boto3

    kwargs: dict[str, Any] = {"region_name": "eu-central-1", "aws_access_key_id": "x",
                              "aws_secret_access_key": "x"}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    return {name: boto3.client(name, **kwargs) for name in ("ec2", "elbv2")}  # type: ignore[call-overload]


def _moto_loop(clients: dict[str, Any], calls: int) -> float:
    arn = _moto_listener(clients)
    elb = clients["elbv2"]
    return rate(calls, lambda i: elb.modify_listener(ListenerArn=arn, Port=1000 + i % 50000),
                time.thread_time)


def moto_inprocess(calls: int) -> float:
    from moto import mock_aws

    with mock_aws():
        return _moto_loop(_boto_clients(), calls)


def fake_logic_us(calls: int) -> float:
    """µs per validated PUT in the fake's own code (routing, JSON, rules, commit, journal)."""
    from fake_elb import ElbApi, FakeElbState

    state = FakeElbState()
    api = ElbApi(state)
    lb = state.add_loadbalancer(PROJECT)["id"]
    listener = state.create_listener(PROJECT, {**LISTENER, "loadbalancer_id": lb})
    path = f"/v1.0/{PROJECT}/elbaas/listeners/{listener['id']}"
    headers = {"X-Auth-Token": DEFAULT_TOKEN}
    bodies = [json.dumps({"port": 1000 + i, "description": f"d{i}"}).encode()
              for i in range(100)]
    per_second = rate(calls, lambda i: api.handle("PUT", path, "", headers, bodies[i % 100]),
                      time.thread_time)
    return 1e6 / per_second


def journal_bytes_per_entry(calls: int = 3000) -> tuple[float, int]:
    """Memory the journal keeps per call (in-process, through responses), and its bound."""
    with mock_elb(ENDPOINT) as elb:
        lb = elb.add_loadbalancer(PROJECT)["id"]
        session = _session()
        base = f"{ENDPOINT}/v1.0/{PROJECT}/elbaas/listeners"
        url = f"{base}/{session.post(base, json={**LISTENER, 'loadbalancer_id': lb}).json()['id']}"
        _put_loop(session, url, 200)  # warm up
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        _put_loop(session, url, calls)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        state = elb.state
        for _ in range(10_001):
            state.record("GET", "/", "", 200, None)
        return grown / calls, len(elb.requests)


def inprocess(rounds: int, calls: int) -> list[Row]:
    medians = interleaved({"fake": lambda: fake_inprocess(calls),
                           "floor": lambda: floor_inprocess(calls),
                           "moto": lambda: moto_inprocess(calls)}, rounds)
    logic = interleaved({"logic": lambda: fake_logic_us(calls * 10)}, rounds)["logic"]
    per_entry, bound = journal_bytes_per_entry()
    fake, floor, moto = medians["fake"], medians["floor"], medians["moto"]
    name = "1. fake in-process"
    return [
        versus(name, "PUT via mock_elb vs bare responses echo", fake, "calls/s",
               "responses regex echo", floor, 0.9),
        versus(name, "PUT via mock_elb vs moto mock_aws", fake, "calls/s",
               "moto modify_listener", moto, 2.7),
        Row(name, "fake logic per validated PUT (no HTTP)", logic, "us", goal="small part "
            "of a call", met=logic < 0.1 * 1e6 / fake),
        Row(name, "memory per journaled call", per_entry, "bytes", goal="<= 1 KB, bounded "
            f"(journal holds {bound} after 13,000+ calls)",
            met=per_entry <= 1024 and bound == 10_000),
    ]


# -- server ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _concurrent_targets(url: str, clients: int) -> list[str]:
    """One listener per client on a reset fake server (set up once, outside the timing)."""
    control = ServerControl(url)
    control.reset()
    base = f"{url}/v1.0/{PROJECT}/elbaas/listeners"
    targets = []
    for _ in range(clients):
        lb = control.add_loadbalancer(PROJECT)["id"]
        listener = _session().post(base, json={**LISTENER, "loadbalancer_id": lb}).json()
        targets.append(f"{base}/{listener['id']}")
    return targets


def _concurrent(targets: list[str], calls: int) -> float:
    """Throughput of one client thread per target, each with its own keep-alive session."""
    per_client = calls // len(targets)
    sessions = [_session() for _ in targets]
    start = time.perf_counter()
    with ThreadPoolExecutor(len(targets)) as pool:
        list(pool.map(lambda pair: _put_loop(pair[0], pair[1], per_client),
                      zip(sessions, targets, strict=True)))
    return per_client * len(targets) / (time.perf_counter() - start)


def server(rounds: int, calls: int) -> list[Row]:
    moto_port = _free_port()
    moto_command = ("-c", "import sys, time\nfrom moto.server import ThreadedMotoServer\n"
                    f"s = ThreadedMotoServer(ip_address='127.0.0.1', port={moto_port})\n"
                    f"s.start()\nprint('http://127.0.0.1:{moto_port}', flush=True)\n"
                    "time.sleep(3600)")
    with server_process("-m", "fake_elb", "serve") as fake_url, \
            server_process("-m", "benchmarks.echo_server") as echo_url, \
            server_process("-m", "benchmarks.echo_server", "--stdlib") as stdlib_url, \
            server_process(*moto_command) as moto_url:
        # Same shape on every side: one warm keep-alive session, one target, set up once.
        fake_session, fake_target = _session(), _concurrent_targets(fake_url, 1)[0]
        echo_session = _session()
        echo_target = f"{echo_url}/v1.0/{PROJECT}/elbaas/listeners/{'a' * 32}"
        stdlib_session = _session()
        stdlib_target = f"{stdlib_url}/v1.0/{PROJECT}/elbaas/listeners/{'a' * 32}"
        moto_clients = _boto_clients(moto_url)
        moto_arn = _moto_listener(moto_clients)
        moto_elb = moto_clients["elbv2"]
        medians = interleaved({
            "fake": lambda: _put_loop(fake_session, fake_target, calls),
            "floor": lambda: _put_loop(echo_session, echo_target, calls),
            "stdlib": lambda: _put_loop(stdlib_session, stdlib_target, calls),
            "moto": lambda: rate(calls, lambda i: moto_elb.modify_listener(
                ListenerArn=moto_arn, Port=1000 + i % 50000))}, rounds)
        fake_targets = _concurrent_targets(fake_url, 8)
        together = interleaved({"fake": lambda: _concurrent(fake_targets, calls * 2),
                                "floor": lambda: _concurrent([echo_target] * 8, calls * 2)},
                               rounds)
    fake, floor, moto = medians["fake"], medians["floor"], medians["moto"]
    name = "2. fake server"
    return [
        versus(name, "PUT over keep-alive vs the same stack's bare echo", fake, "calls/s",
               "asyncio + httptools echo", floor, 0.9),
        Row(name, "PUT over keep-alive vs stdlib echo + TCP_NODELAY", fake, "calls/s",
            "ThreadingHTTPServer echo", medians["stdlib"], fake / medians["stdlib"],
            goal="(reported: the stack the fake left)"),
        versus(name, "PUT over keep-alive vs moto server", fake, "calls/s",
               "ThreadedMotoServer modify_listener", moto, 4),
        Row(name, "8 concurrent clients (threads of one client process)", together["fake"],
            "calls/s", "echo server, 8 clients", together["floor"],
            together["fake"] / together["floor"], goal="(reported)"),
    ]
