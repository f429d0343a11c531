"""HealthCheckProvider against the in-process fake: the calls each step makes, to the Listener's
standard (check at preview with zero calls, one PUT of the changed fields, replacement,
drift, gone counts as deleted, taking over an existing health check)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from fake_elb import DEFAULT_TOKEN, MockElb, mock_elb
from otc_elb_listener import ElbApiError, HealthCheckProvider, RetrySettings
from tests.support import ENDPOINT, PROJECT, configured, seeded_listener

FAST = RetrySettings(backoff_factor=0, backoff_jitter=0)


@pytest.fixture
def elb() -> Iterator[MockElb]:
    with mock_elb(ENDPOINT, strict=True) as fake:
        yield fake


@pytest.fixture
def listener(elb: MockElb) -> str:
    return seeded_listener(elb, "HTTP")


@pytest.fixture
def provider() -> HealthCheckProvider:
    result = configured(HealthCheckProvider(retry=FAST))
    assert isinstance(result, HealthCheckProvider)
    return result


def calls(elb: MockElb, since: int = 0) -> list[tuple[str, str, Any]]:
    return [(e["method"], e["path"].rsplit("/elbaas/", 1)[1].split("/")[0], e["body"])
            for e in elb.requests[since:]]


def news(listener: str, **extra: Any) -> dict[str, Any]:
    return {"listener_id": listener, "healthcheck_interval": 5.0, "__provider": "x", **extra}


def test_check_judges_every_rule_with_no_call(provider: HealthCheckProvider, elb: MockElb,
                                              listener: str) -> None:
    failures = provider.check({}, news(listener, healthcheck_interval=60.0,
                                       healthy_threshold=0.0, healthcheck_uri="x")).failures
    assert {(f.property, f.reason.rsplit("[", 1)[1]) for f in failures} == {
        ("healthcheck_interval", "ELB.7001]"), ("healthy_threshold", "ELB.1001]"),
        ("healthcheck_uri", "ELB.1001]")}
    missing = provider.check({}, {"__provider": "x"}).failures
    assert [(f.property, "ELB.7000" in f.reason) for f in missing] == [("listener_id", True)]
    ok = provider.check({}, news(listener))
    assert ok.failures == [] and ok.inputs["healthcheck_interval"] == 5
    assert elb.requests == []


def test_create_update_read_delete_make_one_call_each(provider: HealthCheckProvider,
                                                      elb: MockElb, listener: str) -> None:
    created = provider.create(provider.check({}, news(listener)).inputs)
    outs = dict(created.outs or {})
    assert calls(elb) == [("POST", "healthcheck", {"listener_id": listener,
                                                   "healthcheck_interval": 5})]
    assert outs["healthcheck_id"] == created.id and outs["healthcheck_timeout"] == 10
    assert provider.diff(created.id, outs, news(listener)).changes is False
    changed = provider.diff(created.id, outs, news(listener, healthcheck_interval=9.0))
    assert changed.changes and changed.replaces == []
    since = len(elb.requests)
    updated = provider.update(created.id, outs, news(listener, healthcheck_interval=9.0,
                                                     healthy_threshold=3.0))
    assert calls(elb, since) == [("PUT", "healthcheck", {"healthcheck_interval": 9})]
    outs = dict(updated.outs or {})
    elb.state.healthchecks.update(PROJECT, created.id, {"healthcheck_interval": 30})  # drift
    read = provider.read(created.id, outs)
    assert read.inputs == {"listener_id": listener, "healthcheck_interval": 30,
                           "healthy_threshold": 3}
    since = len(elb.requests)
    provider.delete(created.id, outs)
    provider.delete(created.id, outs)  # already gone: done
    assert [(e["method"], e["status"]) for e in elb.requests[since:]] == [("DELETE", 204),
                                                                          ("DELETE", 404)]
    assert provider.read(created.id, outs).id == ""


def test_listener_id_and_a_protocol_to_udp_replace(provider: HealthCheckProvider,
                                                   listener: str) -> None:
    olds = {"listener_id": listener, "healthcheck_protocol": "HTTP"}
    assert provider.diff("x", olds, news("b" * 32)).replaces == ["listener_id"]
    assert provider.diff("x", olds, news(listener, healthcheck_protocol="UDP")).replaces == [
        "healthcheck_protocol"]
    assert provider.diff("x", olds, news(listener, healthcheck_protocol="TCP")).replaces == []


def test_taking_over_an_existing_health_check(provider: HealthCheckProvider, elb: MockElb,
                                              listener: str) -> None:
    existing = elb.add_healthcheck(PROJECT, listener_id=listener, healthcheck_interval=20)
    since = len(elb.requests)
    adopt = provider.check({}, {"healthcheck_id": existing["id"], "healthcheck_interval": 8.0,
                                "__provider": "x"})
    result = provider.create(adopt.inputs)
    assert [(m, body) for m, _, body in calls(elb, since)] == [
        ("GET", None), ("PUT", {"healthcheck_interval": 8})]  # the GET of check, reused
    assert result.id == existing["id"]
    since = len(elb.requests)
    imported = provider.check({}, {"listener_id": listener, "healthcheck_interval": 9.0,
                                   "__import_id": existing["id"], "__provider": "x"})
    with pytest.raises(ElbApiError, match=r"health check .* healthcheck_interval is 8, the "
                       r"program says 9"):
        provider.create(imported.inputs)
    assert [m for m, _, _ in calls(elb, since)] == ["GET"]  # nothing was changed


def test_errors_name_the_health_check(provider: HealthCheckProvider, elb: MockElb,
                                      listener: str) -> None:
    provider.create(provider.check({}, news(listener)).inputs)
    with pytest.raises(ElbApiError) as caught:
        provider.create(provider.check({}, news(listener)).inputs)  # a second one
    assert str(caught.value).startswith("ELB create of health check failed: HTTP 400 ELB.1001")


def test_the_pickled_provider_holds_no_token(provider: HealthCheckProvider, elb: MockElb,
                                             listener: str) -> None:
    provider.create(provider.check({}, news(listener)).inputs)
    decoded = base64.b64decode(serialize_provider(provider))
    assert DEFAULT_TOKEN.encode() not in decoded and b"otc_elb_listener.healthcheck" in decoded


def test_a_lost_post_is_found_through_the_listener_never_made_twice(
        provider: HealthCheckProvider, elb: MockElb, listener: str) -> None:
    elb.faults.add(method="POST", path=r".*/healthcheck", action="timeout", applied=True,
                   times=1)
    created = provider.create(provider.check({}, news(listener)).inputs)
    assert [r["fired"] for r in elb.faults.rules] == [1]
    assert [m for m, _, _ in calls(elb)] == ["POST", "GET", "GET"]  # the listener, the check
    assert created.id == elb.state.project(PROJECT).listeners[listener]["healthcheck_id"]


@pytest.mark.parametrize("answer", ["200", "202", "202-empty"])
def test_a_put_answered_202_with_or_without_a_body_updates_the_state(
        provider: HealthCheckProvider, elb: MockElb, listener: str, answer: str) -> None:
    """gophertelekomcloud accepts 200 or 202 for a health-check PUT; the provider took the
    answer's body as the new state."""
    created = provider.create(provider.check({}, news(listener)).inputs)
    elb.set_put_answer(answer)
    since = len(elb.requests)
    updated = provider.update(created.id, dict(created.outs or {}),
                              news(listener, healthcheck_interval=9.0))
    assert (updated.outs or {})["healthcheck_interval"] == 9
    made = [(method, status) for method, status in
            ((e["method"], e["status"]) for e in elb.requests[since:])]
    assert made == [("PUT", 202 if answer != "200" else 200)] + (
        [("GET", 200)] if answer == "202-empty" else [])  # read once, only without a body
