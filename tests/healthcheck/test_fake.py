"""The fake's health checks, in both transports: docs/api-rules.md Decisions 16 (defaults),
17 (not found), 23 (what a PUT cannot change) and 24 (a deleted listener takes its health
check)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, MockElb, ServerControl
from tests.support import PROJECT, Api

Fake = MockElb | ServerControl


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    return bare_fake


class Checks:
    """The health check API of one fake, and a listener to put checks on."""

    def __init__(self, fake: Fake, protocol: str = "HTTP") -> None:
        self.url = fake.endpoint if isinstance(fake, MockElb) else fake.url
        self.base = f"{self.url}/v1.0/{PROJECT}/elbaas/healthcheck"
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = DEFAULT_TOKEN
        lb = fake.add_loadbalancer(PROJECT)["id"]
        self.listener = fake.add_listener(
            PROJECT, loadbalancer_id=lb, protocol=protocol, backend_protocol=(
                "HTTP" if protocol == "HTTP" else "TCP"), port=80, backend_port=8080,
            lb_algorithm="roundrobin", name="web")["id"]

    def create(self, **body: Any) -> requests.Response:
        return self.session.post(self.base, json={"listener_id": self.listener, **body},
                                 timeout=10)

    def get(self, check_id: str) -> requests.Response:
        return self.session.get(f"{self.base}/{check_id}", timeout=10)

    def put(self, check_id: str, body: Any) -> requests.Response:
        return self.session.put(f"{self.base}/{check_id}", json=body, timeout=10)

    def delete(self, check_id: str) -> requests.Response:
        return self.session.delete(f"{self.base}/{check_id}", timeout=10)


def code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize(("protocol", "expected"), [("HTTP", "HTTP"), ("TCP", "TCP")])
def test_a_health_check_reads_back_the_documented_defaults(
        fake: Fake, protocol: str, expected: str) -> None:
    checks = Checks(fake, protocol)
    created = checks.create()
    assert created.status_code == 200, created.text
    body = created.json()
    assert {k: body[k] for k in ("healthcheck_protocol", "healthcheck_uri",
                                 "healthcheck_connect_port", "healthy_threshold",
                                 "unhealthy_threshold", "healthcheck_timeout",
                                 "healthcheck_interval")} == {
        "healthcheck_protocol": expected, "healthcheck_uri": None,
        "healthcheck_connect_port": 8080, "healthy_threshold": 3, "unhealthy_threshold": 3,
        "healthcheck_timeout": 10, "healthcheck_interval": 5}
    assert len(body["id"]) == 32 and body["create_time"] == body["update_time"]
    assert checks.get(body["id"]).json() == body
    listener = Api(checks.url).get(checks.listener).json()
    assert listener["healthcheck_id"] == body["id"]


def test_an_explicit_empty_uri_reads_back_empty(fake: Fake) -> None:
    assert Checks(fake).create(healthcheck_uri="").json()["healthcheck_uri"] == ""


@pytest.mark.parametrize(("body", "expected"), [
    ({"listener_id": None}, (400, "ELB.7000")),
    ({"listener_id": "f" * 32}, (400, "ELB.7010")),
    ({"healthcheck_interval": 51}, (400, "ELB.7001")),
    ({"healthcheck_interval": 0}, (400, "ELB.7001")),
    ({"healthcheck_timeout": 51}, (400, "ELB.1001")),
    ({"healthy_threshold": 11}, (400, "ELB.1001")),
    ({"healthcheck_protocol": "ICMP"}, (400, "ELB.1001")),
    ({"healthcheck_uri": "no-slash"}, (400, "ELB.1001")),
    ({"healthcheck_connect_port": 80.0}, (400, "ELB.1001")),
    ({"colour": "blue"}, (400, "ELB.1001")),
])
def test_a_bad_create_names_the_field_and_the_code(fake: Fake, body: dict[str, Any],
                                                   expected: tuple[int, str]) -> None:
    checks = Checks(fake)
    refused = checks.create(**body)
    assert code(refused) == expected, refused.text
    assert next(iter(body)) in refused.json()["error"]["message"]
    listener = Api(checks.url).get(checks.listener).json()
    assert listener["healthcheck_id"] is None  # nothing was made


def test_one_health_check_per_listener(fake: Fake) -> None:
    checks = Checks(fake)
    first = checks.create().json()
    second = checks.create(healthcheck_interval=7)
    assert code(second) == (400, "ELB.1001") and "listener_id" in second.text
    assert first["id"] in second.text


def test_a_put_changes_what_it_may_and_nothing_when_refused(fake: Fake) -> None:
    checks = Checks(fake)
    created = checks.create().json()
    changed = checks.put(created["id"], {"healthcheck_interval": 9, "healthcheck_protocol":
                                         "tcp"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["healthcheck_protocol"] == "TCP"  # any case, stored upper-case
    assert changed.json()["healthcheck_interval"] == 9
    for body in ({"healthcheck_protocol": "UDP"}, {"listener_id": checks.listener},
                 {"healthcheck_interval": 9, "healthy_threshold": 0}, []):
        refused = checks.put(created["id"], body)
        assert code(refused) == (400, "ELB.1001"), (body, refused.text)
    assert checks.get(created["id"]).json() == changed.json()


def test_unknown_health_checks_are_404_and_deleting_clears_the_listener(fake: Fake) -> None:
    checks = Checks(fake)
    for response in (checks.get("0" * 32), checks.put("0" * 32, {"healthy_threshold": 2}),
                     checks.delete("0" * 32), checks.get("not-an-id")):
        assert code(response) == (404, "ELB.7020")
    created = checks.create().json()
    assert checks.delete(created["id"]).status_code == 204
    assert code(checks.delete(created["id"])) == (404, "ELB.7020")
    assert Api(checks.url).get(checks.listener).json()["healthcheck_id"] is None
    assert checks.create().status_code == 200  # the listener may have one again


def test_a_deleted_listener_takes_its_health_check(fake: Fake) -> None:
    checks = Checks(fake)
    created = checks.create().json()
    assert Api(checks.url).delete(checks.listener).status_code == 204
    assert code(checks.get(created["id"])) == (404, "ELB.7020")


def test_seeding_an_existing_health_check(fake: Fake) -> None:
    checks = Checks(fake)
    seeded = fake.add_healthcheck(PROJECT, id="a" * 32, create_time="2019-01-02 03:04:05",
                                  listener_id=checks.listener, healthcheck_interval=20)
    assert seeded["id"] == "a" * 32 and seeded["create_time"] == "2019-01-02 03:04:05"
    assert checks.get("a" * 32).json()["healthcheck_interval"] == 20
    assert Api(checks.url).get(checks.listener).json()["healthcheck_id"] == "a" * 32


def test_faults_reach_health_check_certificate_and_job_calls(fake: Fake) -> None:
    """Every ELB API call can meet a fault rule, not only the listener's: a refused call
    changes nothing, an applied one is changed though its answer is lost."""
    checks = Checks(fake)
    fake.faults.add(method="POST", path=r".*/healthcheck", times=1)
    refused = checks.create(healthcheck_interval=7)
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "ELB.5030")
    made = checks.create(healthcheck_interval=7)
    assert made.status_code == 200, made.text  # the refused POST made nothing
    check_id = made.json()["id"]
    fake.faults.add(method="PUT", path=r".*/healthcheck/.*", action="drop", applied=True, times=1)
    with pytest.raises(requests.ConnectionError):
        checks.put(check_id, {"healthcheck_interval": 9})
    assert checks.get(check_id).json()["healthcheck_interval"] == 9  # applied, answer lost
    fake.faults.add(operation="list", path=r".*/certificate", status=500, code="ELB.5000",
                    times=1)
    listed = checks.session.get(checks.base.replace("healthcheck", "certificate"), timeout=10)
    assert (listed.status_code, listed.json()["error"]["code"]) == (500, "ELB.5000")
    fake.faults.add(method="GET", path=r".*/jobs/.*", times=1)
    job = checks.session.get(f"{checks.url}/v1.0/{PROJECT}/jobs/{'a' * 32}", timeout=10)
    assert job.status_code == 503
    assert [r["fired"] for r in fake.faults.rules] == [1, 1, 1, 1]


@pytest.mark.parametrize(("path", "expected"), [
    ("/v1.0/b%20d/elbaas/healthcheck", (400, "ELB.1001")),  # a malformed project, as for
    ("/v1.0/b%20d/elbaas/certificate", (400, "ELB.1001")),  # a listener's path
    ("/v1.0/b%20d/jobs/x", (400, "ELB.1001")),
    (f"/v1.0/{PROJECT}/elbaas/healthcheck/a/b", (404, "ELB.8904")),  # no such resource
])
def test_a_malformed_path_is_a_4xx_that_says_what(fake: Fake, path: str,
                                                  expected: tuple[int, str]) -> None:
    checks = Checks(fake)
    answer = checks.session.get(f"{checks.url}{path}", timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == expected
    unsigned = requests.get(f"{checks.url}{path}", timeout=10)
    assert unsigned.status_code == (403 if expected[0] == 400 else 404)  # who asks, first
