"""MemberProvider against the in-process fake: an add is one POST and the job's polls; a
failed job is one error with its code and reason; a stuck job ends at ``job_timeout``; a lost
answer is looked up by ``server_id`` (one member, never a duplicate, never another stack's);
a remove is one POST and its job; gone counts as removed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from fake_elb import MockElb, mock_elb
from otc_elb_listener import ElbApiError, MemberProvider, RetrySettings
from tests.support import ENDPOINT, PROJECT, configured, seeded_listener

SERVER = "556f0010-7a6b-4c3e-9b1a-0c8d2e3f4a5b"


@pytest.fixture
def elb() -> Iterator[MockElb]:
    with mock_elb(ENDPOINT) as fake:
        fake.add_server(PROJECT, SERVER, "192.168.0.10", "web-1")
        yield fake


@pytest.fixture
def listener(elb: MockElb) -> str:
    return seeded_listener(elb)


@pytest.fixture
def provider() -> MemberProvider:
    result = configured(MemberProvider(retry=RetrySettings(backoff_factor=0, backoff_jitter=0,
                                                           retries=1)))
    assert isinstance(result, MemberProvider)
    return result


def props(listener: str, **extra: Any) -> dict[str, Any]:
    return {"listener_id": listener, "server_id": SERVER, "address": "192.168.0.10",
            "__provider": "x", **extra}


def calls(elb: MockElb, since: int = 0) -> list[str]:
    return [f"{e['method']} {e['path'].split('/', 3)[3].split('/')[0]}"
            f"{'/action' if e['path'].endswith('/action') else ''}"
            f"{'/members' if e['path'].endswith('/members') else ''}"
            for e in elb.requests[since:]]


def test_check_judges_with_no_call(provider: MemberProvider, elb: MockElb) -> None:
    failures = provider.check({}, {"listener_id": "x", "address": "300.0.0.1",
                                   "job_timeout": 0, "__provider": "x"}).failures
    assert [f.property for f in failures] == ["listener_id", "server_id", "address",
                                              "job_timeout"]
    assert provider.check({}, props("a" * 32)).failures == [] and elb.requests == []


def test_an_add_is_one_post_and_the_jobs_polls(provider: MemberProvider, elb: MockElb,
                                               listener: str) -> None:
    elb.set_jobs(duration=1.0)
    started = time.monotonic()
    created = provider.create(props(listener))
    outs = dict(created.outs or {})
    made = calls(elb)
    assert made[0] == "POST elbaas/members" and made[-1] == "GET elbaas/members"
    polls = [c for c in made if c.startswith("GET jobs")]
    assert 1 <= len(polls) <= 3, made  # a job of 1 s is seen done by the third poll
    assert time.monotonic() - started < 3
    assert outs["member_id"] == created.id and outs["server_address"] == "192.168.0.10"
    assert outs["health_status"] == "UNAVAILABLE"
    assert provider.read(created.id, outs).id == created.id
    since = len(elb.requests)
    provider.delete(created.id, outs)
    assert calls(elb, since)[0] == "POST elbaas/action" and provider.read(created.id, outs).id == ""
    provider.delete(created.id, outs)  # already gone: done


def test_a_failed_job_is_one_error_with_code_and_reason(provider: MemberProvider,
                                                       elb: MockElb, listener: str) -> None:
    with pytest.raises(ElbApiError) as caught:
        provider.create(props(listener, address="192.168.0.99"))  # not the ECS's address
    text = str(caught.value)
    assert text.startswith(f"ELB add member of member (ECS {SERVER} on listener {listener}) "
                           "failed: ELB.2005: job ")
    assert "is not the private address" in text


def test_a_stuck_job_ends_at_job_timeout(provider: MemberProvider, elb: MockElb,
                                         listener: str) -> None:
    elb.set_jobs(next=[{"outcome": "stuck"}])
    started = time.monotonic()
    with pytest.raises(ElbApiError, match=r"had not ended after 1 s \(job_timeout\)"):
        provider.create(props(listener, job_timeout=1.0))
    assert time.monotonic() - started < 2.5


def test_a_lost_answer_is_looked_up_never_sent_twice(provider: MemberProvider, elb: MockElb,
                                                     listener: str) -> None:
    elb.faults.add(method="POST", path=r".*/members", action="timeout", applied=True,
                   times=1)
    created = provider.create(props(listener))
    assert [r["fired"] for r in elb.faults.rules] == [1]  # the answer was lost
    assert calls(elb).count("POST elbaas/members") == 1
    assert created.id and len(elb.state.members.list(PROJECT, listener, {})) == 1


def test_another_stacks_member_is_never_taken(provider: MemberProvider, elb: MockElb,
                                              listener: str) -> None:
    first = provider.create(props(listener))
    time.sleep(2.1)  # made before this add began (timestamps are whole seconds)
    with pytest.raises(ElbApiError, match="already a member"):
        provider.create(props(listener))
    assert [m["id"] for m in elb.state.members.list(PROJECT, listener, {})] == [first.id]


def test_taking_over_a_member_by_id_or_server_id_sends_nothing(
        provider: MemberProvider, elb: MockElb, listener: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "otc_elb_listener")
    existing = provider.create(props(listener))
    for target in (existing.id, SERVER):  # api-rules.md Decision 26: also by listener and server_id
        for key in ("member_id", "__import_id"):
            since = len(elb.requests)
            checked = provider.check({}, {"listener_id": listener, key: target,
                                          "__provider": "x"})
            assert checked.failures == []
            assert "it matches the program, up sends nothing" in caplog.text
            taken = provider.create(checked.inputs)
            assert taken.id == existing.id
            assert (taken.outs or {})["server_id"] == SERVER
            assert (taken.outs or {})["address"] == "192.168.0.10"
            assert all(c.startswith("GET") for c in calls(elb, since))  # the list, reused
            diff = provider.diff(taken.id, dict(taken.outs or {}), checked.inputs)
            assert not diff.changes and not diff.replaces
    assert len(elb.state.members.list(PROJECT, listener, {})) == 1


def test_a_member_taken_over_must_match_the_program(provider: MemberProvider, elb: MockElb,
                                                    listener: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    existing = provider.create(props(listener))
    checked = provider.check({}, props(listener, __import_id=existing.id,
                                       address="192.168.0.11"))
    assert "up will fail: address is '192.168.0.10', the program says '192.168.0.11'" \
        in caplog.text
    since = len(elb.requests)
    with pytest.raises(ElbApiError, match=r"address is '192.168.0.10', the program says "
                       r"'192.168.0.11'. A member has no update"):
        provider.create(checked.inputs)
    assert all(c.startswith("GET") for c in calls(elb, since))  # nothing was changed
    with pytest.raises(ElbApiError, match="has no member with that ID or server_id"):
        provider.create(props(listener, member_id="f" * 32))
    both = provider.check({}, props(listener, __import_id=existing.id, member_id=existing.id))
    assert [f.property for f in both.failures] == ["member_id"]


# -- jobs as a hostile or slow service runs them --------------------------------------------
@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, 0.0, True, "5"])
def test_a_job_timeout_that_is_not_a_finite_positive_number_fails_check(
        provider: MemberProvider, listener: str, timeout: Any) -> None:
    """NaN and infinity passed check: a stuck job was polled forever."""
    failures = provider.check({}, props(listener, job_timeout=timeout)).failures
    assert [(f.property, "finite number > 0" in f.reason) for f in failures] == [
        ("job_timeout", True)]


@pytest.mark.parametrize("value", ["nan", "inf", "-3", "0", "soon"])
def test_elb_job_timeout_is_judged_at_configure_naming_the_key(value: str) -> None:
    import pulumi.dynamic as dyn

    request = dyn.ConfigureRequest.__new__(dyn.ConfigureRequest)
    request.config = type("Config", (), {"get": staticmethod(
        lambda key: value if key == "elb:jobTimeout" else None)})()
    with pytest.raises(Exception, match="elb:jobTimeout must be seconds, a finite number > 0"):
        MemberProvider().configure(request)


@pytest.mark.parametrize("job_id", ["../../../v3/auth/tokens", "a" * 31, "g" * 32, ""])
def test_a_job_id_that_is_not_one_is_never_polled(provider: MemberProvider, elb: MockElb,
                                                  listener: str, job_id: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A job ID went into the poll's path unchecked: ``../../../v3/auth/tokens`` polled the
    IAM path with the token."""
    real = elb.state.members._job

    def hostile(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = real(*args, **kwargs)
        return {**answer, "job_id": job_id}

    monkeypatch.setattr(elb.state.members, "_job", hostile)
    since = len(elb.requests)
    with pytest.raises(ElbApiError, match="not a job ID"):
        provider.create(props(listener))
    assert not any("jobs" in c or "auth" in c for c in calls(elb, since))


def test_a_failed_job_cannot_drive_the_terminal(provider: MemberProvider, elb: MockElb,
                                                listener: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "otc_elb_listener")
    elb.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005\x1b[2J",
                        "fail_reason": "\x1b]0;owned\x07\nnext: forged line"}])
    with pytest.raises(ElbApiError) as caught:
        provider.create(props(listener))
    for text in (str(caught.value), caplog.text):
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07\\nnext: forged line" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_add_that_timed_out_advises_the_takeover(provider: MemberProvider, elb: MockElb,
                                                    listener: str) -> None:
    """The advice said ``pulumi refresh`` then ``up``: the state holds nothing to refresh,
    and the next add meets the member (ELB.2005)."""
    elb.set_jobs(next=[{"outcome": "stuck"}])
    with pytest.raises(ElbApiError) as caught:
        provider.create(props(listener, job_timeout=0.6))
    text = str(caught.value)
    assert f'member_id="{SERVER}"' in text and "import_" in text
    assert "pulumi refresh" not in text


def test_the_poll_schedule_sees_a_job_done_promptly() -> None:
    """Within max(0.5 s, 25 % of its duration) after it ends, never more often than once
    per 10 s once it has run a while, and by the third poll for a 1 s job."""
    from otc_elb_listener.member import poll_delay

    def polls_until(duration: float) -> tuple[int, float]:
        waited, count = 0.0, 0
        while waited < duration:
            waited += poll_delay(waited)
            count += 1
        return count, waited - duration

    assert polls_until(1.0)[0] <= 3
    for duration in (0.3, 1.0, 4.0, 7.9, 30.0, 120.0, 599.0):
        for end in (duration, duration + 0.01):
            late = polls_until(end)[1]
            assert late <= max(0.5, 0.25 * end) + 1e-9, (end, late)
    assert max(poll_delay(w) for w in range(0, 3600, 7)) == 10.0


def test_every_read_pages_to_the_end(provider: MemberProvider, elb: MockElb, listener: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A member past the first page is found by a takeover and by refresh (the provider read
    the first page only)."""
    monkeypatch.setattr(MemberProvider, "page_size", 2)
    servers = [(f"{i}" * 8 + "-0000-4000-8000-" + f"{i}" * 12, f"192.168.5.{i}")
               for i in range(1, 6)]
    for server, address in servers:
        elb.add_server(PROJECT, server, address, server)
        provider.create(props(listener, server_id=server, address=address))
    since = len(elb.requests)
    last_server = servers[-1][0]
    checked = provider.check({}, {"listener_id": listener, "member_id": last_server,
                                  "__provider": "x"})
    assert checked.failures == []
    taken = provider.create(checked.inputs)
    assert (taken.outs or {})["server_id"] == last_server
    lists = [e for e in elb.requests[since:] if e["path"].endswith("/members")]
    assert [e["query"].count("marker") for e in lists] == [0, 1, 1]  # 2 + 2 + 1 members
    assert provider.read(taken.id, dict(taken.outs or {})).id == taken.id
