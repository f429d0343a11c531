"""Shared fixtures: the fake ELB in either transport, and a small API client for tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fake_elb import FakeControl, MockElb, ServerControl, mock_elb
from tests.support import ENDPOINT, Fake


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


@pytest.fixture(params=["inprocess", "server"])
def any_transport(request: pytest.FixtureRequest) -> Iterator[tuple[FakeControl, str]]:
    """A fresh fake in each transport, and the endpoint its clients use."""
    if request.param == "inprocess":
        with mock_elb(ENDPOINT) as elb:
            yield elb, ENDPOINT
    else:
        server: ServerControl = request.getfixturevalue("fake_elb_server")
        yield server, server.url
