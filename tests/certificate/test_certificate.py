"""Certificates: the fake in both transports (section 4, api-rules.md Decisions 17, 22, 23 and 28)
and the CertificateProvider against it (PEM checked at preview, list-and-filter to read, a PUT for
name and description, the private key out of every error and out of the journal)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fake_elb import DEFAULT_TOKEN, MockElb, ServerControl, mock_elb
from fake_elb.service.certificates import self_signed
from otc_elb_listener import CertificateProvider, ElbApiError, RetrySettings
from tests.support import ENDPOINT, PROJECT, Api, configured

Fake = MockElb | ServerControl
CERT, KEY = self_signed("www.example.com")
OTHER_CERT, OTHER_KEY = self_signed("other.example.com")


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    return bare_fake


class Certs:
    def __init__(self, fake: Fake) -> None:
        self.url = fake.endpoint if isinstance(fake, MockElb) else fake.url
        self.base = f"{self.url}/v1.0/{PROJECT}/elbaas/certificate"
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = DEFAULT_TOKEN

    def create(self, **body: Any) -> requests.Response:
        return self.session.post(self.base, json={"certificate": CERT, "private_key": KEY,
                                                  **body}, timeout=10)

    def list(self) -> dict[str, Any]:
        answer = self.session.get(self.base, timeout=10)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


def code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_create_list_put_delete(fake: Fake) -> None:
    certs = Certs(fake)
    created = certs.create(name="web", domain="www.example.com")
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["private_key"] == KEY and body["description"] == "" and body["tenant_id"]
    listed = certs.list()
    assert listed["instance_num"] == "1" and listed["certificates"][0]["id"] == body["id"]
    changed = certs.session.put(f"{certs.base}/{body['id']}", json={
        "name": "renamed", "domain": "www.example.com"}, timeout=10)  # domain: taken, ignored
    assert changed.status_code == 200 and changed.json()["name"] == "renamed"
    assert code(certs.session.put(f"{certs.base}/{body['id']}", json={"certificate": CERT},
                                  timeout=10)) == (400, "ELB.1001")
    assert certs.session.delete(f"{certs.base}/{body['id']}", timeout=10).status_code == 204
    assert code(certs.session.delete(f"{certs.base}/{body['id']}", timeout=10)) == (
        404, "ELB.5040")
    assert code(certs.session.delete(f"{certs.base}/abc", timeout=10)) == (400, "ELB.5020")
    assert certs.list() == {"certificates": [], "instance_num": "0"}


@pytest.mark.parametrize(("body", "expected"), [
    ({"certificate": "not pem"}, (400, "ELB.1011")),
    ({"private_key": "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"},
     (400, "ELB.5013")),
    ({"private_key": OTHER_KEY}, (400, "ELB.1011")),  # not this certificate's key
    ({"name": "bad name!"}, (400, "ELB.1001")),
    ({"description": "<b>"}, (400, "ELB.1001")),
    ({"domain": "-starts-with-dash"}, (400, "ELB.1001")),
])
def test_a_bad_certificate_is_refused_without_showing_the_key(
        fake: Fake, body: dict[str, Any], expected: tuple[int, str]) -> None:
    certs = Certs(fake)
    refused = certs.create(**body)
    assert code(refused) == expected, refused.text
    for key in (KEY, OTHER_KEY, "!!!"):  # no key material, valid or not, in the answer
        assert key.splitlines()[min(1, len(key.splitlines()) - 1)] not in refused.text
    assert certs.list()["instance_num"] == "0"


def test_the_journal_never_holds_the_private_key(fake: Fake) -> None:
    certs = Certs(fake)
    certs.create(name="web")
    certs.create(private_key=OTHER_KEY)
    journal = json.dumps(fake.requests)
    secret_line = KEY.splitlines()[1]
    assert secret_line not in journal and OTHER_KEY.splitlines()[1] not in journal
    assert '"private_key": "***"' in journal


def test_a_certificate_a_listener_uses_cannot_be_deleted(fake: Fake) -> None:
    certs = Certs(fake)
    cert = certs.create().json()["id"]
    lb = fake.add_loadbalancer(PROJECT)["id"]
    listener = Api(certs.url).create({
        "loadbalancer_id": lb, "protocol": "HTTPS", "backend_protocol": "HTTP", "port": 443,
        "backend_port": 80, "lb_algorithm": "roundrobin", "name": "tls",
        "certificate_id": cert})
    assert listener.status_code == 200, listener.text
    refused = certs.session.delete(f"{certs.base}/{cert}", timeout=10)
    assert code(refused) == (400, "ELB.1001") and listener.json()["id"] in refused.text


def test_seeded_certificates_are_real_and_listed(fake: Fake) -> None:
    seeded = fake.add_certificate(PROJECT, id="e" * 32)
    listed = Certs(fake).list()["certificates"]
    assert [c["id"] for c in listed] == [seeded["id"]]
    assert listed[0]["certificate"].startswith("-----BEGIN CERTIFICATE-----")


# -- the provider ---------------------------------------------------------------------------
@pytest.fixture
def elb() -> Iterator[MockElb]:
    with mock_elb(ENDPOINT, strict=True) as fake:
        yield fake


@pytest.fixture
def provider() -> CertificateProvider:
    result = configured(CertificateProvider(retry=RetrySettings(backoff_factor=0,
                                                                backoff_jitter=0)))
    assert isinstance(result, CertificateProvider)
    return result


def program(**extra: Any) -> dict[str, Any]:
    return {"certificate": CERT, "private_key": KEY, "name": "web", "__provider": "x", **extra}


def test_check_judges_pem_form_with_no_call_and_never_quotes_the_key(
        provider: CertificateProvider, elb: MockElb) -> None:
    bad = provider.check({}, program(private_key="-----BEGIN PRIVATE KEY-----\nnot base64!"
                                     "\n-----END PRIVATE KEY-----", certificate="x"))
    assert {(f.property, f.reason.rsplit("[", 1)[1]) for f in bad.failures} == {
        ("certificate", "ELB.1011]"), ("private_key", "ELB.5013]")}
    assert all("not base64" not in f.reason for f in bad.failures)
    assert provider.check({}, program()).failures == [] and elb.requests == []


def test_lifecycle_reads_by_list_and_puts_name_only(provider: CertificateProvider,
                                                    elb: MockElb) -> None:
    created = provider.create(provider.check({}, program()).inputs)
    outs = dict(created.outs or {})
    assert outs["certificate_id"] == created.id and outs["private_key"] == KEY
    assert [e["method"] for e in elb.requests] == ["POST"]
    assert provider.diff(created.id, outs, program(name="x")).replaces == []
    assert provider.diff(created.id, outs, program(private_key=OTHER_KEY)).replaces == [
        "private_key"]
    updated = provider.update(created.id, outs, program(name="renamed"))
    assert elb.requests[-1]["body"] == {"name": "renamed"}
    read = provider.read(created.id, dict(updated.outs or {}))
    assert read.id == created.id and read.outs is not None and read.outs["name"] == "renamed"
    assert [e["method"] for e in elb.requests[-1:]] == ["GET"]  # the list
    provider.delete(created.id, outs)
    provider.delete(created.id, outs)  # gone: done
    assert provider.read(created.id, outs).id == ""


def test_an_error_never_carries_the_key_the_service_echoed(
        provider: CertificateProvider, elb: MockElb) -> None:
    from fake_elb.service.errors import ApiError

    def echoing(*_: Any, **__: Any) -> Any:  # a service that echoes the key in its error
        raise ApiError(400, "ELB.1011", f"certificate invalid: {json.dumps(KEY)}")

    elb.state.certificates.create = echoing  # type: ignore[method-assign]
    with pytest.raises(ElbApiError) as caught:
        provider.create(provider.check({}, program()).inputs)
    text = str(caught.value)
    assert "ELB create of certificate failed" in text and KEY.splitlines()[1] not in text
    assert "***" in text


def test_importing_a_certificate_compares_the_key_without_showing_it(
        provider: CertificateProvider, elb: MockElb) -> None:
    existing = elb.add_certificate(PROJECT)["id"]
    checked = provider.check({}, program(__import_id=existing))
    with pytest.raises(ElbApiError) as caught:
        provider.create(checked.inputs)
    text = str(caught.value)
    assert "private_key is '***', the program says '***'" in text
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" in text  # certificates are public


def test_the_pickled_provider_is_by_reference(provider: CertificateProvider) -> None:
    from pulumi.dynamic.dynamic import serialize_provider

    decoded = base64.b64decode(serialize_provider(provider))
    assert b"otc_elb_listener.certificate" in decoded and DEFAULT_TOKEN.encode() not in decoded


@pytest.mark.parametrize("applied", [True, False])
def test_a_lost_post_is_looked_up_before_it_is_sent_again(
        provider: CertificateProvider, elb: MockElb, applied: bool) -> None:
    elb.faults.add(method="POST", path=r".*/certificate", action="timeout", applied=applied,
                   times=1)
    created = provider.create(provider.check({}, program()).inputs)
    assert [r["fired"] for r in elb.faults.rules] == [1]
    posts = [e["method"] for e in elb.requests].count("POST")
    assert posts == (1 if applied else 2)  # applied: found in the list; not: sent once more
    assert [c["id"] for c in elb.state.certificates.list(PROJECT)["certificates"]] == [
        created.id]


def _secret_runs(secret: str) -> list[str]:
    """16-character runs of a P-256 PKCS#8 key's private scalar (base64 characters 48 to
    91: before it a prefix every such key shares, after it the public key, which the
    certificate carries too): none may appear anywhere."""
    body = "".join(line for line in secret.splitlines() if not line.startswith("-----"))
    return [body[i:i + 16] for i in range(48, 76, 4)]


def _shows_a_key(text: str, *keys: str) -> bool:
    return any(run in text for key in keys for run in _secret_runs(key))


@pytest.mark.parametrize("how", ["import", "adopt"])
def test_a_takeover_preview_never_shows_either_private_key(
        provider: CertificateProvider, elb: MockElb, how: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """The preview's warning names the differing field, and masks its values (it printed
    both PEM keys)."""
    existing = elb.add_certificate(PROJECT)["id"]
    live_key = elb.state.certificates.list(PROJECT)["certificates"][0]["private_key"]
    takeover = {"__import_id": existing} if how == "import" else {"certificate_id": existing}
    with caplog.at_level("INFO", logger="otc_elb_listener"):
        checked = provider.check({}, program(**takeover))
    assert checked.failures == []
    shown = "\n".join(record.getMessage() for record in caplog.records)
    assert "private_key" in shown and "***" in shown
    assert not _shows_a_key(shown, KEY, live_key)
    with pytest.raises(ElbApiError) as caught:
        provider.create(checked.inputs)
    assert "private_key" in str(caught.value) and not _shows_a_key(str(caught.value), KEY,
                                                                   live_key)


def test_a_secret_field_of_the_wrong_type_is_never_quoted() -> None:
    from otc_elb_listener.rules import certificate as rules

    secret = ["MIGHAgEAMBMGByqGSM49AgEGCCqG"]
    violations = rules.validate_create({"certificate": CERT, "private_key": secret})
    assert [v.field for v in violations] == ["private_key"]
    assert secret[0] not in violations[0].rule


def test_the_error_chain_holds_no_unredacted_error(provider: CertificateProvider,
                                                   elb: MockElb) -> None:
    """``raise ... from None`` hid the echoing error from tracebacks only: it stayed in
    ``__context__``, the key in it."""
    from fake_elb.service.errors import ApiError

    def echoing(*_: Any, **__: Any) -> Any:
        raise ApiError(400, "ELB.1011", f"certificate invalid: {KEY}")

    elb.state.certificates.create = echoing  # type: ignore[method-assign]
    with pytest.raises(ElbApiError) as caught:
        provider.create(provider.check({}, program()).inputs)
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert not any(_shows_a_key(f"{e!r} {e}", KEY) for e in chain)
    assert all(e.__context__ is None for e in chain if isinstance(e, ElbApiError))


def test_a_list_body_in_the_journal_shows_no_key(fake: Fake) -> None:
    """The journal masked ``private_key`` only at an object's top level."""
    certs = Certs(fake)
    certs.session.post(certs.base, json=[{"certificate": CERT, "private_key": KEY}],
                       timeout=10)
    certs.session.post(certs.base, json={"nested": {"private_key": KEY}}, timeout=10)
    journal = json.dumps(fake.requests)
    assert len(fake.requests) == 2 and not _shows_a_key(journal, KEY)


def test_the_args_repr_shows_no_key() -> None:
    from otc_elb_listener import CertificateArgs

    args = CertificateArgs(certificate=CERT, private_key=KEY, name="web")
    assert not _shows_a_key(repr(args), KEY) and "name='web'" in repr(args)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"private_key": OTHER_KEY}, "private_key", "must belong to the certificate"),
    ({"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
     "certificate", "does not parse"),
    ({"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"},
     "private_key", "does not parse"),
])
def test_check_judges_the_pair_at_preview_without_quoting_it(
        provider: CertificateProvider, elb: MockElb, changes: dict[str, str], field: str,
        words: str) -> None:
    """A key that did not belong to its certificate passed preview and failed at up."""
    failures = provider.check({}, program(**changes)).failures
    assert [(f.property, words in f.reason, f.reason.endswith("[ELB.1011]"))
            for f in failures] == [(field, True, True)]
    assert not _shows_a_key(failures[0].reason, KEY, OTHER_KEY) and elb.requests == []
