"""The fake's backend members and jobs, in both transports: docs/api-rules.md Decisions 18
(what fails at once, what fails the job), 19 (the job URI says /v1/), 20 (the empty-list
quirk), 21 (addresses), 24 (a listener with members is not deleted), 25 and 27."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, MockElb, ServerControl
from tests.support import PROJECT, Api, url_of

SERVER = "556f0010-7a6b-4c3e-9b1a-0c8d2e3f4a5b"


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    return bare_fake


class Backend:
    """A listener, two registered ECSs, and the members API of one fake."""

    def __init__(self, fake: MockElb | ServerControl) -> None:
        self.fake = fake
        self.url = url_of(fake)
        lb = fake.add_loadbalancer(PROJECT)["id"]
        self.listener = fake.add_listener(PROJECT, loadbalancer_id=lb, protocol="TCP",
                                          backend_protocol="TCP", port=80, backend_port=8080,
                                          lb_algorithm="roundrobin", name="web")["id"]
        fake.add_server(PROJECT, SERVER, "192.168.0.10", "web-1")
        fake.add_server(PROJECT, "b" * 32, "192.168.0.11", "web-2")  # a machine ID, no dashes
        self.base = f"{self.url}/v1.0/{PROJECT}/elbaas/listeners/{self.listener}/members"
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = DEFAULT_TOKEN

    def add(self, body: Any) -> requests.Response:
        return self.session.post(self.base, json=body, timeout=10)

    def remove(self, *ids: str) -> requests.Response:
        return self.session.post(f"{self.base}/action", json={"removeMember": [
            {"id": i} for i in ids]}, timeout=10)

    def job(self, job_id: str) -> dict[str, Any]:
        answer = self.session.get(f"{self.url}/v1.0/{PROJECT}/jobs/{job_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def finished(self, answer: requests.Response, limit: float = 5.0) -> dict[str, Any]:
        assert answer.status_code == 200, answer.text
        started = time.monotonic()
        seen = []
        while time.monotonic() - started < limit:
            job = self.job(answer.json()["job_id"])
            seen.append(job["status"])
            if job["status"] in ("SUCCESS", "FAIL"):
                job["seen"] = seen
                return job
            time.sleep(0.05)
        raise AssertionError(f"the job did not end: {seen[-3:]}")

    def members(self, **filters: str) -> Any:
        return self.session.get(self.base, params=filters, timeout=10).json()


def code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_add_is_a_job_that_ends_with_the_member(fake: MockElb | ServerControl) -> None:
    backend = Backend(fake)
    answer = backend.add([{"server_id": SERVER, "address": "192.168.0.10"}])
    job_id = answer.json()["job_id"]
    assert answer.json()["uri"] == f"/v1/{PROJECT}/jobs/{job_id}"  # /v1/, as the service says
    job = backend.finished(answer)
    assert job["status"] == "SUCCESS" and job["job_type"] == "createMember"
    assert job["seen"][0] in ("INIT", "RUNNING") and job["fail_reason"] is None
    [made] = job["entities"]["members"]
    [member] = backend.members()
    assert member["id"] == made["id"] and member["server_id"] == SERVER
    assert member["server_address"] == "192.168.0.10" and member["address"].startswith("100.64.")
    assert member["health_status"] == "UNAVAILABLE" and member["server_name"] is None
    assert member["listeners"] == [{"id": backend.listener}]
    assert backend.members(server_id=SERVER)[0]["id"] == member["id"]
    assert backend.members(server_id="other") == []


@pytest.mark.parametrize(("body", "expected"), [
    ([], (400, "ELB.1001")),
    ({"server_id": SERVER}, (400, "ELB.1001")),
    ([{"address": "192.168.0.10"}], (400, "ELB.1001")),
    ([{"server_id": SERVER}], (400, "ELB.2021")),
    ([{"server_id": SERVER, "address": "300.1.1.1"}], (400, "ELB.1001")),
])
def test_what_needs_no_lookup_fails_at_once(fake: MockElb | ServerControl, body: Any,
                                            expected: tuple[int, str]) -> None:
    assert code(Backend(fake).add(body)) == expected


@pytest.mark.parametrize(("item", "reason"), [
    ({"server_id": "f" * 32, "address": "192.168.0.10"}, "does not exist"),
    ({"server_id": SERVER, "address": "192.168.0.99"}, "is not the private address"),
])
def test_what_needs_the_ecs_fails_the_job(fake: MockElb | ServerControl, item: Any,
                                          reason: str) -> None:
    backend = Backend(fake)
    job = backend.finished(backend.add([item]))
    assert job["status"] == "FAIL" and job["error_code"] and reason in job["fail_reason"]
    assert backend.members() == []


def test_the_same_ecs_twice_on_one_listener_fails_the_second_job(
        fake: MockElb | ServerControl) -> None:
    backend = Backend(fake)
    item = {"server_id": "b" * 32, "address": "192.168.0.11"}
    assert backend.finished(backend.add([item]))["status"] == "SUCCESS"
    again = backend.finished(backend.add([item]))
    assert again["status"] == "FAIL" and "already a member" in again["fail_reason"]
    assert len(backend.members()) == 1


def test_remove_is_a_job_and_a_listener_with_members_is_kept(
        fake: MockElb | ServerControl) -> None:
    backend = Backend(fake)
    backend.finished(backend.add([{"server_id": SERVER, "address": "192.168.0.10"}]))
    [member] = backend.members()
    refused = Api(backend.url).delete(backend.listener)
    assert code(refused) == (400, "ELB.1001") and member["id"] in refused.text
    assert code(backend.remove("0" * 32)) == (400, "ELB.2012")
    job = backend.finished(backend.remove(member["id"]))
    assert job["status"] == "SUCCESS" and job["entities"]["members"] == [{"id": member["id"]}]
    assert backend.members() == []
    assert Api(backend.url).delete(backend.listener).status_code == 204
    assert code(backend.add([{"server_id": SERVER, "address": "192.168.0.10"}])) == (
        404, "ELB.8904")


def test_jobs_can_be_made_to_fail_stick_or_crawl_and_the_empty_list_is_a_quirk(
        fake: MockElb | ServerControl) -> None:
    backend = Backend(fake)
    fake.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005", "fail_reason": "boom"},
                        {"outcome": "stuck"}], empty_members_as_object=True)
    item = [{"server_id": SERVER, "address": "192.168.0.10"}]
    failed = backend.finished(backend.add(item))
    assert (failed["status"], failed["error_code"], failed["fail_reason"]) == (
        "FAIL", "ELB.2005", "boom")
    stuck = backend.add(item).json()["job_id"]
    time.sleep(0.4)
    assert backend.job(stuck)["status"] == "RUNNING"
    assert backend.members() == {}  # the quirk: {} for an empty list
    fake.set_jobs(duration=0.0, empty_members_as_object=False)
    assert backend.finished(backend.add(item))["status"] == "SUCCESS"
    assert isinstance(backend.members(), list)


def test_health_follows_the_listeners_check_unless_the_control_plane_sets_it(
        fake: MockElb | ServerControl) -> None:
    """api-rules.md Decision 27: UNAVAILABLE without a health check, NORMAL with one, and ABNORMAL
    or UNAVAILABLE when the test says so (for code that waits for NORMAL)."""
    backend = Backend(fake)
    backend.finished(backend.add([{"server_id": SERVER, "address": "192.168.0.10"}]))
    [member] = backend.members()
    assert member["health_status"] == "UNAVAILABLE"
    fake.add_healthcheck(PROJECT, listener_id=backend.listener)
    assert backend.members()[0]["health_status"] == "NORMAL"
    shown = fake.set_member_health(PROJECT, member["id"], "ABNORMAL")
    assert shown["health_status"] == "ABNORMAL"
    assert backend.members(health_status="ABNORMAL")[0]["id"] == member["id"]
    assert backend.members(health_status="NORMAL") == []
    fake.set_member_health(PROJECT, member["id"], None)
    assert backend.members()[0]["health_status"] == "NORMAL"
    for args, expected in ((("x" * 32, "ABNORMAL"), (404, "ELB.2012")),
                           ((member["id"], "SICK"), (400, "ELB.1001"))):
        answer = requests.post(f"{url_of(fake)}/_fake/members/health", json={
            "project_id": PROJECT, "member_id": args[0], "health_status": args[1]}, timeout=10)
        assert code(answer) == expected
    assert backend.members()[0]["health_status"] == "NORMAL"  # a refused call changes nothing


# -- the quota, the control plane's job settings, and when a job takes effect ---------------
def _servers(fake: MockElb | ServerControl, count: int) -> list[dict[str, str]]:
    items = []
    for index in range(count):
        server = f"{index:08d}-0000-4000-8000-000000000000"
        address = f"192.168.{index // 250 + 1}.{index % 250 + 1}"
        fake.add_server(PROJECT, server, address, f"vm-{index}")
        items.append({"server_id": server, "address": address})
    return items


def test_adds_still_running_count_against_the_quota(fake: MockElb | ServerControl) -> None:
    """101 parallel adds made 101 members: running adds were not counted."""
    backend = Backend(fake)
    items = _servers(fake, 101)
    fake.set_jobs(duration=1.0)
    first, second = backend.add(items[:50]), backend.add(items[50:100])
    assert first.status_code == second.status_code == 200
    assert code(backend.add(items[100:])) == (403, "ELB.2001")
    backend.finished(first)
    backend.finished(second)
    assert len(backend.members()) == 100


def test_the_quota_is_judged_again_when_a_job_takes_effect() -> None:
    from fake_elb import mock_elb

    with mock_elb() as fake:
        backend = Backend(fake)
        items = _servers(fake, 101)
        fake.set_jobs(duration=0.5)
        pending = backend.add(items[100:])
        project = fake.state.project(PROJECT)
        for index, item in enumerate(items[:100]):  # members that came meanwhile
            project.members[f"{index:032x}"] = {
                "id": f"{index:032x}", "listener_id": backend.listener,
                "server_id": item["server_id"], "server_address": item["address"],
                "address": "100.64.0.1", "status": "ACTIVE", "health_status": None,
                "server_name": None, "create_time": "", "update_time": ""}
        job = backend.finished(pending)
        assert (job["status"], job["error_code"]) == ("FAIL", "ELB.2001")
        assert len(backend.members()) == 100


@pytest.mark.parametrize("entry", [{"outcome": "slow", "duration": "abc"},
                                   {"outcome": "slow", "duration": -1},
                                   {"outcome": "fail", "fail_reason": 5},
                                   {"outcome": "explode"}, "fail"])
def test_the_control_plane_judges_the_next_jobs(fake: MockElb | ServerControl,
                                                entry: Any) -> None:
    """``duration: "abc"`` was taken, and the next add got a 500 (a ValueError in-process)."""
    from fake_elb import ControlError

    with pytest.raises(ControlError) as refused:
        fake.set_jobs(next=[{"outcome": "fail"}, entry])
    assert refused.value.status == 400 and "next[1]" in str(refused.value)
    backend = Backend(fake)
    job = backend.finished(backend.add([{"server_id": SERVER, "address": "192.168.0.10"}]))
    assert job["status"] == "SUCCESS"  # nothing was queued by the refused call


def test_a_job_is_stamped_when_it_ended_not_when_someone_looked(
        fake: MockElb | ServerControl) -> None:
    import calendar

    backend = Backend(fake)
    fake.set_jobs(duration=0.5)
    began = time.time()
    answer = backend.add([{"server_id": SERVER, "address": "192.168.0.10"}])
    time.sleep(3.2)
    job = backend.job(answer.json()["job_id"])
    ended = calendar.timegm(time.strptime(job["end_time"], "%Y-%m-%dT%H:%M:%S.000Z"))
    made = calendar.timegm(time.strptime(backend.members()[0]["create_time"],
                                         "%Y-%m-%d %H:%M:%S"))
    assert ended - began < 1.6 and made - began < 1.6


# -- paging, as real clients list members (limit and marker) --------------------------------
def test_limit_and_marker_page_through_the_members(fake: MockElb | ServerControl) -> None:
    """golangsdk lists ``?limit=1`` on a listener with two members and expects one; Huawei's
    SDK sends ``limit`` beside its filters. The fake answered 400 ELB.2003."""
    backend = Backend(fake)
    items = _servers(fake, 3)
    backend.finished(backend.add(items))
    every = backend.members()
    assert [m["server_id"] for m in every] == [i["server_id"] for i in items]  # made order
    first = backend.members(limit="1")
    assert [m["id"] for m in first] == [every[0]["id"]]
    second = backend.members(limit="1", marker=first[-1]["id"])
    assert [m["id"] for m in second] == [every[1]["id"]]
    rest = backend.members(limit="5", marker=second[-1]["id"])
    assert [m["id"] for m in rest] == [every[2]["id"]]  # shorter than limit: the last page
    filtered = backend.members(limit="10", status="ACTIVE", server_id=items[1]["server_id"])
    assert [m["id"] for m in filtered] == [every[1]["id"]]


@pytest.mark.parametrize(("query", "expected"), [
    ({"limit": "0"}, "limit"), ({"limit": "-1"}, "limit"), ({"limit": "x"}, "limit"),
    ({"limit": "\u00b2"}, "limit"), ({"marker": "f" * 32}, "marker"),
])
def test_a_bad_limit_or_an_unknown_marker_is_a_400_naming_it(
        fake: MockElb | ServerControl, query: dict[str, str], expected: str) -> None:
    backend = Backend(fake)
    answer = backend.session.get(backend.base, params=query, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "ELB.1001"
    assert answer.json()["error"]["message"].startswith(f"{expected}:")
