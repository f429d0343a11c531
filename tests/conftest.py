"""Shared fixtures: the fake ELB in either transport, and a small API client for tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, FakeControl, MockElb, ServerControl, mock_elb

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


@pytest.fixture(params=["inprocess", "server"])
def fake(request: pytest.FixtureRequest) -> Iterator[Fake]:
    """The fake ELB, once in-process (responses) and once as a real server."""
    if request.param == "inprocess":
        with mock_elb() as elb:
            yield Fake(elb, elb.endpoint)
    else:
        control: ServerControl = request.getfixturevalue("fake_elb_server")
        yield Fake(control, control.url)


@pytest.fixture(params=["inprocess", "server"])
def bare_fake(request: pytest.FixtureRequest) -> Iterator[MockElb | ServerControl]:
    """A fake's own control (nothing seeded), once in-process and once as a real server."""
    if request.param == "inprocess":
        with mock_elb() as elb:
            yield elb
    else:
        yield request.getfixturevalue("fake_elb_server")


def url_of(control: MockElb | ServerControl) -> str:
    """Where a fake answers, either transport."""
    return control.endpoint if isinstance(control, MockElb) else control.url


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many bodies the differential fuzzing judged, and how many disagreements it found
    (from every worker: the figures travel in the reports' user properties)."""
    totals: dict[str, list[int]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "fuzz" and getattr(report, "when", "") == "call":
                    judged, disagreements = totals.setdefault(value["kind"], [0, 0])
                    totals[value["kind"]] = [judged + value["judged"],
                                             disagreements + value["disagreements"]]
    for kind, (judged, disagreements) in sorted(totals.items()):
        terminalreporter.write_line(f"differential fuzzing: {judged} {kind} bodies judged "
                                    f"(default and strict mode, both transports), "
                                    f"{disagreements} disagreements")
