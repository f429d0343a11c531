"""MembersProvider against the in-process fake: a listener's backends as one resource, one
add job and one remove job per change, diffed by ``server_id``; a failed job names its
members and what the listener holds, read back; ``import_`` takes the members as they are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fake_elb import MockElb, mock_elb
from otc_elb_listener import ElbApiError, MembersProvider, RetrySettings
from tests.support import ENDPOINT, PROJECT, configured, seeded_listener

SERVERS = [(f"{i}" * 8 + "-0000-4000-8000-" + f"{i}" * 12, f"192.168.6.{i}")
           for i in range(1, 6)]


@pytest.fixture
def elb() -> Iterator[MockElb]:
    with mock_elb(ENDPOINT) as fake:
        for server, address in SERVERS:
            fake.add_server(PROJECT, server, address, server)
        fake.set_jobs(duration=0.1)
        yield fake


@pytest.fixture
def listener(elb: MockElb) -> str:
    return seeded_listener(elb)


@pytest.fixture
def provider() -> MembersProvider:
    made = configured(MembersProvider(retry=RetrySettings(backoff_factor=0, retries=1)))
    assert isinstance(made, MembersProvider)
    return made


def news(listener: str, servers: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {"listener_id": listener, "members": [{"server_id": s, "address": a}
                                                 for s, a in servers],
            "__provider": "x", **extra}


def jobs(elb: MockElb, since: int) -> list[tuple[str, Any]]:
    """Each add or remove request since ``since``: (which, how many members)."""
    found = []
    for entry in elb.requests[since:]:
        if entry["method"] == "POST" and entry["path"].endswith("/members"):
            found.append(("add", len(entry["body"])))
        elif entry["method"] == "POST" and entry["path"].endswith("/action"):
            found.append(("remove", len(entry["body"]["removeMember"])))
    return found


def held(elb: MockElb, listener: str) -> list[str]:
    return sorted(m["server_id"] for m in elb.state.members.list(PROJECT, listener, {}))


def test_a_set_is_one_add_job_and_a_change_one_remove_and_one_add(
        provider: MembersProvider, elb: MockElb, listener: str) -> None:
    created = provider.create(provider.check({}, news(listener, SERVERS[:3])).inputs)
    assert created.id == listener and jobs(elb, 0) == [("add", 3)]
    outs = dict(created.outs or {})
    assert sorted(m["server_id"] for m in outs["listener_members"]) == held(elb, listener)
    changed = news(listener, [SERVERS[0], (SERVERS[1][0], "192.168.6.9"), *SERVERS[3:]])
    elb.add_server(PROJECT, SERVERS[1][0], "192.168.6.9", "moved")  # the ECS's new address
    diff = provider.diff(created.id, outs, provider.check(outs, changed).inputs)
    assert diff.changes and diff.replaces == []
    since = len(elb.requests)
    updated = provider.update(created.id, outs, provider.check(outs, changed).inputs)
    assert jobs(elb, since) == [("remove", 2), ("add", 3)]  # gone and moved; new and moved
    assert held(elb, listener) == sorted([SERVERS[0][0], SERVERS[1][0], *[
        s for s, _ in SERVERS[3:]]])
    outs = dict(updated.outs or {})
    assert not provider.diff(created.id, outs, changed).changes
    since = len(elb.requests)
    provider.delete(created.id, outs)
    assert jobs(elb, since) == [("remove", 4)] and held(elb, listener) == []


def test_check_judges_every_member_with_no_call(provider: MembersProvider, elb: MockElb,
                                                listener: str) -> None:
    bad = news(listener, [SERVERS[0], SERVERS[0], ("", "300.1.1.1")], job_timeout=float("inf"))
    failures = [(f.property, f.reason) for f in provider.check({}, bad).failures]
    assert ("members", f"[1].server_id: ECS {SERVERS[0][0]} is named twice") in failures
    assert any("[2].server_id" in reason for _, reason in failures)
    assert any("[2].address" in reason for _, reason in failures)
    assert any(prop == "job_timeout" for prop, _ in failures) and elb.requests == []


def test_a_failed_job_names_its_members_and_what_the_listener_holds(
        provider: MembersProvider, elb: MockElb, listener: str) -> None:
    created = provider.create(provider.check({}, news(listener, SERVERS[:2])).inputs)
    outs = dict(created.outs or {})
    elb.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005",
                        "fail_reason": "quota of backends"}])
    with pytest.raises(ElbApiError) as caught:
        provider.update(created.id, outs, news(listener, SERVERS[:4]))
    text = str(caught.value)
    assert f"ECS {SERVERS[2][0]}" in text and f"ECS {SERVERS[3][0]}" in text
    assert "ELB.2005" in text and "quota of backends" in text
    assert f"The listener now holds ECS {SERVERS[0][0]}" in text
    assert held(elb, listener) == sorted(s for s, _ in SERVERS[:2])


def test_import_takes_the_listeners_members_as_they_are(provider: MembersProvider,
                                                        elb: MockElb, listener: str) -> None:
    provider.create(provider.check({}, news(listener, SERVERS[:2])).inputs)
    since = len(elb.requests)
    taken = provider.create(provider.check({}, news(
        listener, SERVERS[:2], __import_id=listener)).inputs)
    assert taken.id == listener and jobs(elb, since) == []
    with pytest.raises(ElbApiError, match="An import takes them as they are"):
        provider.create(provider.check({}, news(listener, SERVERS[:3],
                                                __import_id=listener)).inputs)
    assert held(elb, listener) == sorted(s for s, _ in SERVERS[:2])


def test_the_pickled_provider_is_by_reference_and_plain(provider: MembersProvider) -> None:
    """Its module path is forever (it goes into users' state); it holds no secret."""
    import base64

    from pulumi.dynamic.dynamic import serialize_provider

    from fake_elb import DEFAULT_TOKEN

    decoded = base64.b64decode(serialize_provider(provider))
    assert b"otc_elb_listener.members" in decoded and DEFAULT_TOKEN.encode() not in decoded
    assert MembersProvider.serialize_as_secret_always is False


def test_a_refresh_shows_every_member_past_a_page(provider: MembersProvider, elb: MockElb,
                                                  listener: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider read the first page only; a listener with more members than a page."""
    monkeypatch.setattr(MembersProvider, "page_size", 2)
    created = provider.create(provider.check({}, news(listener, SERVERS)).inputs)
    read = provider.read(created.id, dict(created.outs or {}))
    assert read.outs is not None and len(read.outs["listener_members"]) == 5
    assert sorted(m["server_id"] for m in read.outs["members"]) == sorted(s for s, _ in SERVERS)
