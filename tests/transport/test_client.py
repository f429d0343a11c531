"""ElbClient retry policy and errors, against scripted answers (``responses``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from otc_elb_listener import ElbApiError, ElbClient, RetrySettings

ENDPOINT = "https://elb.example.test"
LID = "a" * 32
URL = re.compile(re.escape(ENDPOINT) + r"/v1\.0/p/elbaas/listeners.*")
TOKEN = "secret-token-value"
LISTENER = {"id": LID, "port": 80}


@pytest.fixture
def scripted() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record waits instead of sleeping, on a fake clock that the waits advance."""
    waited: list[float] = []
    monkeypatch.setattr("otc_elb_listener.transport.time.sleep", waited.append)
    monkeypatch.setattr("otc_elb_listener.transport.time.monotonic", lambda: 1000.0 + sum(waited))
    return waited


def client(**retry: Any) -> ElbClient:
    return ElbClient(ENDPOINT, "p", TOKEN, retry=RetrySettings(**retry))


def answer(mock: responses.RequestsMock, method: str, *replies: tuple[int, Any],
           headers: dict[str, str] | None = None) -> None:
    for status, body in replies:
        if isinstance(body, Exception):
            mock.add(method, URL, body=body)
        else:
            mock.add(method, URL, status=status, json=body, headers=headers)


def error(code: str, message: str = "boom") -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def test_503_then_success_is_retried_with_backoff(scripted: responses.RequestsMock,
                                                  sleeps: list[float]) -> None:
    answer(scripted, "PUT", (503, error("ELB.5030")), (500, error("ELB.5000")), (200, LISTENER))
    assert client(backoff_jitter=0).update(LID, {"port": 80}) == LISTENER
    assert len(scripted.calls) == 3
    assert sleeps == [1.0]  # urllib3's schedule: at once, then factor * 2**(n-1)


def test_retry_after_is_honoured(scripted: responses.RequestsMock, sleeps: list[float]) -> None:
    answer(scripted, "GET", (503, error("ELB.5030")), headers={"Retry-After": "3"})
    answer(scripted, "GET", (200, LISTENER))
    assert client(backoff_jitter=0).get(LID) == LISTENER
    assert sleeps == [3.0]


def test_jitter_spreads_the_waits(scripted: responses.RequestsMock, sleeps: list[float]) -> None:
    answer(scripted, "GET", *[(503, error("ELB.5030"))] * 3, (200, LISTENER))
    client(backoff_factor=1.0, backoff_jitter=0.5).get(LID)
    assert len(sleeps) == 2
    assert all(base <= waited <= base + 0.5 for base, waited in zip((2, 4), sleeps,
                                                                    strict=True))


def test_4xx_is_never_retried(scripted: responses.RequestsMock, sleeps: list[float]) -> None:
    answer(scripted, "PUT", (400, error("ELB.6041", "port: must be 1-65535")))
    with pytest.raises(ElbApiError) as caught:
        client().update(LID, {"port": 0})
    assert len(scripted.calls) == 1 and sleeps == []
    assert str(caught.value) == (f"ELB update of listener {LID} failed: HTTP 400 ELB.6041: "
                                 "port: must be 1-65535")
    assert (caught.value.status, caught.value.code) == (400, "ELB.6041")


def test_the_retry_budget_is_bounded(scripted: responses.RequestsMock,
                                     sleeps: list[float]) -> None:
    answer(scripted, "GET", *[(503, error("ELB.5030", "busy"))] * 10)
    with pytest.raises(ElbApiError, match=r"HTTP 503 ELB.5030: busy"):
        client(retries=3).get(LID)
    assert len(scripted.calls) == 4 and len(sleeps) == 2


def test_the_time_budget_is_bounded(scripted: responses.RequestsMock,
                                    sleeps: list[float]) -> None:
    answer(scripted, "GET", *[(503, error("ELB.5030"))] * 10, headers={"Retry-After": "5"})
    with pytest.raises(ElbApiError, match="gave up after 8 s"):
        client(retries=10, deadline=8, backoff_max=5).get(LID)
    assert sum(sleeps) <= 8


def test_delete_of_a_missing_listener_is_not_retried(scripted: responses.RequestsMock,
                                                     sleeps: list[float]) -> None:
    answer(scripted, "DELETE", (503, error("ELB.6002", "listener does not exist")))
    assert client().delete(LID) is False
    assert len(scripted.calls) == 1 and sleeps == []


def test_delete_404_is_gone_and_503_unavailable_is_retried(scripted: responses.RequestsMock,
                                                           sleeps: list[float]) -> None:
    answer(scripted, "DELETE", (404, error("ELB.6404")))
    assert client().delete(LID) is False
    scripted.reset()
    answer(scripted, "DELETE", (503, error("ELB.5030")))
    scripted.add("DELETE", URL, status=204)
    assert client().delete(LID) is True
    assert len(scripted.calls) == 2


def test_connection_errors_are_retried(scripted: responses.RequestsMock,
                                       sleeps: list[float]) -> None:
    answer(scripted, "GET", (0, requests.ConnectionError("Failed to establish a new "
                                                         "connection: Connection refused")),
           (200, LISTENER))
    assert client().get(LID) == LISTENER


def test_a_post_whose_answer_was_lost_is_not_resent(scripted: responses.RequestsMock,
                                                    sleeps: list[float]) -> None:
    answer(scripted, "POST", (0, requests.ConnectionError("Connection aborted: "
                                                          "RemoteDisconnected")),
           (200, LISTENER))
    with pytest.raises(ElbApiError, match=r"create of listener failed: no answer \(.*not resent"):
        client().create({"port": 80})
    assert len(scripted.calls) == 1


def test_a_put_whose_answer_was_lost_is_resent(scripted: responses.RequestsMock,
                                               sleeps: list[float]) -> None:
    answer(scripted, "PUT", (0, requests.ReadTimeout("read timed out")), (200, LISTENER))
    assert client().update(LID, {"port": 80}) == LISTENER


def test_ids_are_checked_before_any_url_is_built(scripted: responses.RequestsMock) -> None:
    for bad in ("../" + "a" * 29, "A" * 32, "a" * 31, "a" * 31 + "/"):
        with pytest.raises(ElbApiError, match="32 lowercase hex"):
            client().get(bad)
    assert len(scripted.calls) == 0


def test_the_token_never_appears_in_errors(scripted: responses.RequestsMock) -> None:
    answer(scripted, "GET", (401, error("ELB.1103", f"token {TOKEN} expired")))
    with pytest.raises(ElbApiError) as caught:
        client().get(LID)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
    assert scripted.calls[0].request.headers["X-Auth-Token"] == TOKEN


def test_client_refuses_to_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(client())


def test_tls_verification_is_on_by_default() -> None:
    assert client().session.verify is True
    assert ElbClient(ENDPOINT, "p", TOKEN, verify_tls=False).session.verify is False


def test_429_is_retried_after_retry_after_and_502_504_too(scripted: responses.RequestsMock,
                                                          sleeps: list[float]) -> None:
    answer(scripted, "PUT", (429, error("ELB.1001", "too many requests")),
           headers={"Retry-After": "3"})
    answer(scripted, "PUT", (502, error("ELB.5000")), (504, error("ELB.5000")),
           (200, LISTENER))
    assert client(backoff_jitter=0).update(LID, {"port": 80}) == LISTENER
    assert len(scripted.calls) == 4
    assert sleeps[0] == 3.0  # Retry-After honoured


def test_other_4xx_are_never_retried(scripted: responses.RequestsMock,
                                     sleeps: list[float]) -> None:
    answer(scripted, "PUT", (409, error("ELB.4090")), (200, LISTENER))
    with pytest.raises(ElbApiError, match="HTTP 409"):
        client().update(LID, {"port": 80})
    assert len(scripted.calls) == 1 and sleeps == []


# -- POST: the common schedule, with the look-first rule on top ---------------------------------
def test_a_post_is_resent_on_the_common_schedule_with_jitter_after_looking_first(
        scripted: responses.RequestsMock, sleeps: list[float]) -> None:
    """The same backoff as every other verb (jitter included), and a look before each
    resend: a POST with an uncertain outcome is never resent blindly."""
    answer(scripted, "POST", *[(503, error("ELB.5030"))] * 3, (200, LISTENER))
    looked: list[int | None] = []

    def look_first(uncertain: ElbApiError) -> dict[str, Any] | None:
        looked.append(uncertain.status)
        return None  # not applied: may be sent again

    assert client(backoff_factor=1.0, backoff_jitter=0.5).create(
        {"name": "x"}, look_first=look_first) == LISTENER
    assert looked == [503, 503, 503]
    assert len(sleeps) == 2
    assert all(base <= waited <= base + 0.5 for base, waited in zip((2, 4), sleeps,
                                                                    strict=True))


def test_a_post_found_applied_is_not_resent(scripted: responses.RequestsMock,
                                            sleeps: list[float]) -> None:
    answer(scripted, "POST", (503, error("ELB.5030")), (200, {"id": "other"}))
    assert client().create({"name": "x"}, look_first=lambda _: LISTENER) == LISTENER
    assert len(scripted.calls) == 1 and sleeps == []


def test_a_post_without_look_first_is_never_resent(scripted: responses.RequestsMock,
                                                   sleeps: list[float]) -> None:
    answer(scripted, "POST", (503, error("ELB.5030")), (200, LISTENER))
    with pytest.raises(ElbApiError, match="HTTP 503"):
        client().create({"name": "x"})
    assert len(scripted.calls) == 1


def test_a_rate_limited_post_is_resent_without_looking(scripted: responses.RequestsMock,
                                                       sleeps: list[float]) -> None:
    """429: refused before it was applied, so no lookup, only the wait it asks for."""
    answer(scripted, "POST", (429, error("ELB.1001")), headers={"Retry-After": "2"})
    answer(scripted, "POST", (200, LISTENER))

    def look_first(_: ElbApiError) -> dict[str, Any] | None:
        raise AssertionError("a 429 was looked up")

    assert client(backoff_jitter=0).create({"name": "x"}, look_first=look_first) == LISTENER
    assert sleeps == [2.0]


def test_the_environment_is_honoured_as_requests_honours_it(
        scripted: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies (and ``NO_PROXY``) and a CA bundle from the environment reach every call, as
    requests itself would apply them; the client reads them once per host."""
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                 "all_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corporate-ca.pem")
    answer(scripted, "GET", (200, {"listener": LISTENER}), (200, {"listener": LISTENER}))
    proxied = client()
    proxied.get(LID)
    proxied.get(LID)
    monkeypatch.setenv("NO_PROXY", "elb.example.test")
    answer(scripted, "GET", (200, {"listener": LISTENER}))
    direct = ElbClient(ENDPOINT, "p", TOKEN, verify_tls="/etc/elb-ca.pem")
    direct.get(LID)
    sent = [call.request.req_kwargs for call in scripted.calls]  # type: ignore[attr-defined]
    assert [kw["proxies"].get("https") for kw in sent] == [
        "http://proxy.example.test:3128", "http://proxy.example.test:3128", None]
    assert [kw["verify"] for kw in sent] == [
        "/etc/corporate-ca.pem", "/etc/corporate-ca.pem", "/etc/elb-ca.pem"]


@pytest.mark.parametrize(("method", "body", "params"), [
    ("GET", None, None), ("GET", None, {"loadbalancer_id": "b" * 32, "limit": 2}),
    ("POST", {"name": "l", "port": 80}, None), ("PUT", {"description": "ü"}, None),
    ("DELETE", None, None)])
def test_each_request_is_what_session_request_would_send(
        scripted: responses.RequestsMock, method: str, body: Any,
        params: dict[str, Any] | None) -> None:
    """The client prepares its requests itself (requests' own merging of settings it
    never uses was a sixth of a GET's CPU time); what goes out must stay byte for byte
    what ``Session.request`` sends: URL and query, headers (signing included), body."""
    made = client()
    sent = scripted.add(method, URL, status=200, json={"listener": LISTENER})
    made._call("op", method, LID, body=body, params=params)
    [call] = sent.calls
    want = made.session.prepare_request(requests.Request(
        method, f"{ENDPOINT}/v1.0/p/elbaas/listeners/{LID}", json=body, params=params))
    got = call.request
    assert (got.method, got.url, got.body) == (want.method, want.url, want.body)
    assert dict(got.headers) == dict(want.headers)
    assert got.headers["X-Auth-Token"] == TOKEN


# -- what the service may answer that it should not ----------------------------------------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed(scripted: responses.RequestsMock, sleeps: list[float],
                                      status: int) -> None:
    """The ELB API never redirects: a 3xx is one error naming the status and the host it
    points to, and nothing (the token least of all) goes there."""
    answer(scripted, "GET", (status, {}), headers={"Location": "https://evil.example/x"})
    scripted.add("GET", re.compile(r"https://evil\.example/.*"), json=LISTENER)
    with pytest.raises(ElbApiError) as caught:
        client().get(LID)
    assert [call.request.url.split("/")[2] for call in scripted.calls] == ["elb.example.test"]
    assert caught.value.status == status and "evil.example" in str(caught.value)
    assert "never followed" in str(caught.value) and sleeps == []


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", "nan", "Wed, 21 Oct 2015 07:28:00"])
def test_a_retry_after_that_is_no_number_is_ignored(scripted: responses.RequestsMock,
                                                    sleeps: list[float], value: str) -> None:
    """urllib3 raised InvalidHeader out of the client on ``soon``, ``-1`` and ``1.5``."""
    answer(scripted, "GET", (503, error("ELB.5030")), headers={"Retry-After": value})
    answer(scripted, "GET", (200, LISTENER))
    assert client(backoff_jitter=0).get(LID) == LISTENER
    assert sleeps in ([], [1.5])  # at once (the normal schedule), or the number it gave


@pytest.mark.parametrize(("body", "kind"), [
    (b"[1, 2]", "JSON list"), (b"null", "JSON null"), (b'{"id": "a', "not JSON"),
    (b"<html><body>Gateway</body></html>", "HTML page"), (b"42", "JSON int")])
def test_a_malformed_answer_is_one_line_holding_no_body(scripted: responses.RequestsMock,
                                                        body: bytes, kind: str) -> None:
    scripted.add("GET", URL, status=200, body=body)
    with pytest.raises(ElbApiError) as caught:
        client().get(LID)
    text = str(caught.value)
    assert text.startswith(f"ELB read of listener {LID} failed: HTTP 200: the service "
                           "answered") and kind in text and "\n" not in text
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert body.decode()[:8] not in text or len(body) < 5


def test_a_huge_message_is_cut_after_redaction(scripted: responses.RequestsMock) -> None:
    """A 1 MB message went whole into the error; cut before redaction, a secret at the cut
    would have shown its first characters."""
    message = "x" * 995 + TOKEN + "y" * 1_000_000
    answer(scripted, "PUT", (400, error("ELB.1001", message)))
    with pytest.raises(ElbApiError) as caught:
        client().update(LID, {"port": 80})
    text = str(caught.value)
    assert len(text) < 1200 and "secret-t" not in text and "(1001001 characters)" not in text


def test_a_body_that_is_not_json_is_redacted_before_it_is_cut(
        scripted: responses.RequestsMock) -> None:
    page = "<html>" + "x" * 290 + f"token={TOKEN}" + "</html>"
    scripted.add("PUT", URL, status=400, body=page)
    with pytest.raises(ElbApiError) as caught:
        client().update(LID, {"port": 80})
    assert "secret-" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("quoted", [
    lambda s: s[:14],  # a run of it
    lambda s: s[5:],  # the rest of it
    lambda s: repr(s),
    lambda s: json.dumps(repr(s)),  # keystone: repr inside a JSON answer
], ids=["start", "end", "repr", "repr-in-json"])
def test_any_run_of_a_secret_is_redacted(quoted: Any) -> None:
    from otc_elb_listener.errors import redact

    secret = 'Pw"q\\Zsecret-value-9'
    text = redact(f"Invalid input for field: {quoted(secret)} is too long", [secret])
    assert all(secret[i:i + 8] not in text for i in range(len(secret) - 7))
    assert text.startswith("Invalid input for field: ") and "***" in text


def test_service_text_cannot_drive_the_terminal(scripted: responses.RequestsMock) -> None:
    answer(scripted, "PUT", (400, error("ELB\x1b[2J", "bad\x1b]0;owned\x07\nnext line")))
    with pytest.raises(ElbApiError) as caught:
        client().update(LID, {"port": 80})
    text = str(caught.value)
    assert not any(ord(c) < 0x20 for c in text) and "\\x1b]0;owned\\x07\\n" in text
