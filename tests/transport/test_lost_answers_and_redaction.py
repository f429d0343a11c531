"""The transport under hostile conditions: tokens no header can carry, local errors never
retried, every form of a secret redacted, POSTs answered 503 or 429 or lost, and the
messages a user reads after them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pulumi.output import Unknown

from fake_elb import DEFAULT_TOKEN, MockElb, ServerControl, mock_elb
from otc_elb_listener import ElbApiError, ElbClient, ListenerProvider, RetrySettings, spec
from otc_elb_listener.settings import ConfigError, resolve_settings
from tests.support import PROJECT, Api

ENDPOINT = "https://elb.eu-de.otc.t-systems.com"


@pytest.fixture
def elb() -> Iterator[MockElb]:
    with mock_elb(ENDPOINT, strict=True) as fake:
        yield fake


def provider_for(token: str = DEFAULT_TOKEN) -> ListenerProvider:
    provider = ListenerProvider(retry=RetrySettings(backoff_factor=0, backoff_jitter=0))
    provider._config = {"endpoint": ENDPOINT, "projectId": PROJECT, "token": token}
    return provider


def program(lb: str, **changes: Any) -> dict[str, Any]:
    return {"loadbalancer_id": lb, "protocol": "HTTP", "backend_protocol": "HTTP",
            "port": 80.0, "backend_port": 8080.0, "lb_algorithm": "roundrobin", "name": "web",
            "__provider": "x", **changes}


# -- 1. secrets in error messages -----------------------------------------------------------
def test_a_token_with_a_trailing_newline_is_normalised() -> None:
    settings = resolve_settings({"endpoint": ENDPOINT, "projectId": PROJECT,
                                 "token": DEFAULT_TOKEN + "\n"}, {})
    assert settings.token == DEFAULT_TOKEN


@pytest.mark.parametrize("token", ["abc\ndef", "tok\x00en", "t\u00f6k\u20acen"])
def test_a_token_no_header_can_carry_is_a_clear_error_without_the_token(token: str) -> None:
    with pytest.raises(ConfigError) as error:
        resolve_settings({"endpoint": ENDPOINT, "projectId": PROJECT, "token": token}, {})
    assert "elb:token" in str(error.value)
    for part in token.split("\n"):
        assert part not in str(error.value) or len(part) < 3


def test_a_local_error_is_never_retried_nor_taken_for_a_lost_post(elb: MockElb) -> None:
    """A header requests refuses is made before anything is sent: one attempt, no list
    lookup, reported as the create, the secret in no form in the text or the chain."""
    lb = elb.add_loadbalancer(PROJECT)["id"]
    token = "sec ret\r\nX-Evil: 1"
    client = ElbClient(ENDPOINT, PROJECT, token, retry=RetrySettings(backoff_factor=0))
    with pytest.raises(ElbApiError) as caught:
        client.create({"name": "x", "loadbalancer_id": lb})
    text = str(caught.value)
    assert text.startswith("ELB create of listener failed")
    assert "could not be built" in text
    for form in (token, repr(token)[1:-1], "sec%20ret", "sec+ret"):
        assert form not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert elb.requests == []  # nothing sent, nothing retried


def test_redaction_covers_every_form_of_the_secret() -> None:
    token = "a b/c\n"
    client = ElbClient(ENDPOINT, PROJECT, token)
    text = f"raw {token} repr {token!r} url a%20b%2Fc%0A plus a+b%2Fc%0A"
    redacted = client._redact(text)
    assert "a b/c" not in redacted and "a%20b" not in redacted and "a+b" not in redacted


# -- 2. unknowns inside lists -------------------------------------------------------------------
def test_unknowns_inside_lists_are_not_judged_and_count_as_changes() -> None:
    provider = ListenerProvider()
    inputs = program("ab" * 16, protocol="HTTPS", port=443.0, certificate_id=Unknown(),
                     certificates=[Unknown()])
    assert provider.check({}, inputs).failures == []
    olds = {**inputs, "certificate_id": "c0" * 16, "certificates": ["c0" * 16]}
    diff = provider.diff("x" * 32, olds, {**inputs, "certificate_id": "c0" * 16})
    assert diff.changes is True and diff.replaces == []


# -- 3, 4. a POST that may have been applied ---------------------------------------------------
def test_a_post_answered_503_after_it_was_applied_is_not_resent(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", status=503, applied=True, times=1)
    result = provider_for().create(program(lb))
    assert [e["method"] for e in elb.requests] == ["POST", "GET"]  # found, not resent
    assert [x["id"] for x in Api(ENDPOINT).list().json()] == [result.id]


def test_a_post_answered_503_before_applying_is_sent_once_more(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", status=503, times=1)
    result = provider_for().create(program(lb))
    assert [e["method"] for e in elb.requests] == ["POST", "GET", "POST"]
    assert [x["id"] for x in Api(ENDPOINT).list().json()] == [result.id]


def test_a_lost_post_never_takes_another_stacks_identical_listener(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    body = {k: v for k, v in program(lb).items() if k != "__provider"}
    body = {k: int(v) if type(v) is float else v for k, v in body.items()}
    theirs = Api(ENDPOINT).create(body).json()  # another stack's, identical
    time.sleep(2.1)  # created seconds before our create began
    elb.faults.add(operation="create", action="drop", times=1)
    with pytest.raises(ElbApiError) as caught:
        provider_for().create(program(lb))
    text = str(caught.value)
    assert "ELB.6101" in text and theirs["id"] in text and "not adopting it" in text
    assert "before this create began" in text and "delete_before_replace" in text
    assert [x["id"] for x in Api(ENDPOINT).list().json()] == [theirs["id"]]


# -- 5. messages ------------------------------------------------------------------------------
def test_an_unreachable_endpoint_on_create_names_the_create() -> None:
    provider = ListenerProvider(retry=RetrySettings(retries=1, backoff_factor=0))
    provider._config = {"endpoint": "http://127.0.0.1:9", "projectId": PROJECT,
                        "token": DEFAULT_TOKEN}
    with pytest.raises(ElbApiError) as caught:
        provider.create(program("ab" * 16))
    assert str(caught.value).startswith("ELB create of listener failed: no answer from "
                                        "http://127.0.0.1:9")


def test_an_adoption_mismatch_does_not_say_no_answer(elb: MockElb) -> None:
    lb = elb.add_loadbalancer(PROJECT)["id"]
    created = provider_for().create(program(lb))
    with pytest.raises(ElbApiError) as caught:
        provider_for().create(program(lb, protocol="TCP", backend_protocol="TCP",
                                      listener_id=created.id))
    assert "no answer" not in str(caught.value) and "differs" in str(caught.value)


def test_id_and_backend_protocol_messages_say_the_rule() -> None:
    found = spec.validate_create({"name": "x", "loadbalancer_id": "abc", "protocol": "HTTPS",
                                  "port": 443, "backend_protocol": "HTTPS", "backend_port": 80,
                                  "lb_algorithm": "roundrobin", "certificate_id": "c0" * 16})
    messages = {v.field: v.message for v in found}
    assert "32 to 32" not in messages["loadbalancer_id"]
    assert "32 lowercase hex" in messages["loadbalancer_id"]
    assert "protocol HTTPS needs backend_protocol 'HTTP'" in messages["backend_protocol"]


# -- 7. the control plane -------------------------------------------------------------------
def test_a_fault_with_a_bad_regex_is_a_400_naming_the_field(
        fake_elb_server: ServerControl) -> None:
    response = requests.post(f"{fake_elb_server.url}/_fake/faults", json={"path": "("},
                             timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("path:")
    assert requests.get(f"{fake_elb_server.url}/_fake/faults", timeout=10).json() == []


def test_a_post_answered_429_is_sent_again_without_a_lookup(elb: MockElb) -> None:
    """429: refused before it was applied, so no GET is needed to know it."""
    lb = elb.add_loadbalancer(PROJECT)["id"]
    elb.faults.add(operation="create", status=429, code="ELB.1001", times=1)
    result = provider_for().create(program(lb))
    assert [e["method"] for e in elb.requests] == ["POST", "POST"]
    assert [x["id"] for x in Api(ENDPOINT).list().json()] == [result.id]
