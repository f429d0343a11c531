"""What the tests share: the project, the fake's clients, configured providers, program
inputs, raw HTTP to the server and the CLI tier's fake ELB. No test module imports another;
they import from here (fixtures live in the conftest files)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from fake_elb import DEFAULT_TOKEN, FakeControl, FakeElbServer, MockElb, ServerControl
from fake_elb.engine import DynamicResource
from otc_elb_listener.listener import TYPE_TOKEN, ListenerProvider
from otc_elb_listener.rules import listener as listener_rules

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


class Api:
    """The listener API of one fake, as a test calls it (token set, JSON in and out)."""

    def __init__(self, endpoint: str, project: str = PROJECT) -> None:
        self.base = f"{endpoint}/v1.0/{project}/elbaas/listeners"
        self.session = requests.Session()
        # Loopback or in-process only: no proxy lookup in the environment on every request
        # (it is a third of a call's cost in the differential fuzzing).
        self.session.trust_env = False
        self.session.headers["X-Auth-Token"] = DEFAULT_TOKEN

    def create(self, body: Any) -> requests.Response:
        return self.session.post(self.base, json=body, timeout=10)

    def get(self, listener_id: str) -> requests.Response:
        return self.session.get(f"{self.base}/{listener_id}", timeout=10)

    def put(self, listener_id: str, body: Any) -> requests.Response:
        return self.session.put(f"{self.base}/{listener_id}", json=body, timeout=10)

    def delete(self, listener_id: str) -> requests.Response:
        return self.session.delete(f"{self.base}/{listener_id}", timeout=10)

    def list(self, **filters: Any) -> requests.Response:
        return self.session.get(self.base, params=filters, timeout=10)


class Fake:
    """One fake ELB (either transport) plus an API client and a seeded load balancer."""

    def __init__(self, control: FakeControl, endpoint: str) -> None:
        self.control = control
        self.endpoint = endpoint
        self.api = Api(endpoint)
        self.lb = control.add_loadbalancer(PROJECT, type="External")["id"]
        self.internal_lb = control.add_loadbalancer(PROJECT, type="Internal")["id"]
        self.cert = control.add_certificate(PROJECT)["id"]
        self.cert2 = control.add_certificate(PROJECT)["id"]

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.control.requests


def url_of(control: MockElb | ServerControl) -> str:
    """Where a fake answers, either transport."""
    return control.endpoint if isinstance(control, MockElb) else control.url


ENDPOINT = "https://elb.eu-de.otc.t-systems.com"


def seeded_listener(fake: Any, protocol: str = "TCP") -> str:
    """An existing listener (``protocol`` on port 80, to 8080) on a new load balancer of
    ``fake``: what a health check, a member or members hang off."""
    lb = fake.add_loadbalancer(PROJECT)["id"]
    backend = "HTTP" if protocol in ("HTTP", "HTTPS") else protocol
    return str(fake.add_listener(PROJECT, loadbalancer_id=lb, protocol=protocol,
                                 backend_protocol=backend, port=80, backend_port=8080,
                                 lb_algorithm="roundrobin", name="web")["id"])


def configured(provider: ListenerProvider, **config: Any) -> ListenerProvider:
    values = {"elb:endpoint": ENDPOINT, "elb:projectId": PROJECT, "elb:token": DEFAULT_TOKEN}
    values.update({f"elb:{k}": v for k, v in config.items()})
    provider.configure(ConfigureRequest(Config({k: v for k, v in values.items()
                                                if v is not None}, "proj")))
    return provider


def program(lb: str, **extra: Any) -> dict[str, Any]:
    """Inputs as the engine hands them over: numbers as floats, plus ``__provider``."""
    inputs: dict[str, Any] = {"name": "web", "loadbalancer_id": lb, "protocol": "HTTP",
                              "port": 80.0, "backend_protocol": "HTTP", "backend_port": 8080.0,
                              "lb_algorithm": "roundrobin", "__provider": "serialized"}
    inputs.update(extra)
    return inputs


def api_body(lb: str, **extra: Any) -> dict[str, Any]:
    """The same listener as :func:`program`, as a JSON body for the API itself."""
    return {k: listener_rules.wire_value(k, v) for k, v in program(lb, **extra).items()
            if k != "__provider"}


#: Bodies per hypothesis example (batching amortises hypothesis's own cost per example).
BATCH = 10


LISTENERS = f"/v1.0/{PROJECT}/elbaas/listeners"


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


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


#: The repository root, so that the provider host can import test-only providers.
REPO = Path(__file__).resolve().parents[1]


class Elb:
    """The fake server with one External load balancer, and listener inputs for it."""

    def __init__(self, control: ServerControl, lb_id: str | None = None) -> None:
        self.control = control
        control.set_strict(True)  # the provider never sends a field the service ignores
        self.lb = control.add_loadbalancer(PROJECT, id=lb_id)["id"]
        self.provider = ListenerProvider()
        self.config = {"elb:endpoint": control.url, "elb:projectId": PROJECT}
        self.secrets = {"elb:token": DEFAULT_TOKEN}

    def inputs(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = dict(loadbalancer_id=self.lb, protocol="HTTP",
                                    backend_protocol="HTTP", port=80, backend_port=8080,
                                    lb_algorithm="roundrobin", name="web")
        return {**base, **changes}

    def listener(self, name: str = "web", **options: Any) -> DynamicResource:
        inputs = options.pop("inputs", None) or self.inputs()
        return DynamicResource(name, self.provider, inputs, TYPE_TOKEN, **options)

    def calls(self, since: int = 0) -> list[tuple[str, Any]]:
        """(method, body) of the listener API calls since ``since`` (control plane excluded)."""
        return [(entry["method"], entry["body"]) for entry in self.control.requests[since:]]

    def mark(self) -> int:
        return len(self.control.requests)

def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def run_pytest(where: Path, *args: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """pytest in a user's directory, in a process of its own, as the user would run it."""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", *args], cwd=where, env=env,
                          capture_output=True, text=True, timeout=timeout)
