"""Sign-in secrets and renewal, each in the layer where a user meets it: a password never in
an error or a chain, offline isolation of IAM, concurrent renewal, clouds.yaml errors, and
AK/SK signing against independent vectors (the fake IAM: test_fake_iam.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from fake_elb import DEFAULT_TOKEN, MockElb, mock_elb
from fake_elb.engine import HarnessError, OfflineStack
from fake_elb.engine.host import offline_host_environment
from fake_elb.service.iam import Credential
from fake_elb.service.signing import verify
from otc_elb_listener import ElbApiError, RetrySettings
from otc_elb_listener.auth import (
    AkSk,
    AkSkSignIn,
    PasswordAuth,
    PasswordSignIn,
    PasswordTokens,
    canonical_request,
    forget_tokens,
)
from otc_elb_listener.client import ElbClient
from otc_elb_listener.clouds import load_cloud
from otc_elb_listener.errors import ConfigError
from otc_elb_listener.offline import OFFLINE_VARIABLE
from tests.support import PROJECT

DOMAIN = "OTC00000000001000000xyz"
PASSWORD = 'Kx7"Wörd\\tail-a-long-secret-value'
NO_RETRY = RetrySettings(retries=0, backoff_factor=0, backoff_jitter=0)


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything its chain holds (causes and contexts, recursively)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def leaks(error: BaseException, secret: str) -> list[str]:
    """Where ``secret`` shows in the chain: texts, reprs, and a request's headers and body."""
    found = []
    for link in chain(error):
        texts = [str(link), repr(link), repr(vars(link))]
        request = getattr(link, "request", None)
        if request is not None:
            texts += [repr(dict(request.headers)), repr(request.body)]
        found += [type(link).__name__ for text in texts if secret in text]
    return found


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


# -- 1. a YAML error never quotes the password's line ------------------------------------------
def test_a_yaml_error_on_the_password_line_does_not_show_it(tmp_path: Path) -> None:
    (tmp_path / "clouds.yaml").write_text("clouds:\n  otc:\n    auth:\n      username: u\n"
                                          "      password: [Sup3r-Secret-Pw, x\n")
    with pytest.raises(ConfigError) as caught:
        load_cloud("otc", {"OS_CLIENT_CONFIG_FILE": str(tmp_path / "clouds.yaml")})
    assert "not valid YAML at line" in str(caught.value) and "clouds.yaml" in str(caught.value)
    assert leaks(caught.value, "Sup3r-Secret-Pw") == []


# -- 2. an IAM answer echoing the password, JSON-escaped, and cut at 300 characters -------------
@responses.activate
def test_an_iam_echo_of_the_password_is_redacted_in_json_form_before_the_cut() -> None:
    echoed = json.dumps(PASSWORD)[1:-1]
    for padding in (0, 280, 290):  # the cut at 300 falls before, through, after the password
        responses.post("http://127.0.0.1:9/v3/auth/tokens", status=400, body=json.dumps(
            {"error": {"message": "x" * padding + f" bad password {PASSWORD}"}}))
        auth = PasswordAuth("http://127.0.0.1:9/v3", "u", PASSWORD, DOMAIN, PROJECT)
        with pytest.raises(ElbApiError) as caught:
            PasswordTokens(auth, timeout=1).current()
        text = str(caught.value)
        assert echoed not in text and PASSWORD not in text
        assert "Kx7" not in text, f"a prefix of the password leaked (padding {padding})"
        responses.reset()


# -- 3. a temporary key's security token is a secret too ---------------------------------------
@responses.activate
def test_the_security_token_of_temporary_keys_is_redacted() -> None:
    token = "temporary-security-token-XYZ"
    url = f"http://127.0.0.1:9/v1.0/{PROJECT}/elbaas/listeners"
    responses.get(url, status=400, json={"error": {"code": "ELB.1001",
                                                   "message": f"bad token {token}"}})
    sign_in = AkSkSignIn(AkSk("AK", "SK-secret", token), PROJECT)
    client = ElbClient("http://127.0.0.1:9", PROJECT, sign_in, retry=NO_RETRY)
    with pytest.raises(ElbApiError) as caught:
        client.list()
    assert token not in str(caught.value) and "***" in str(caught.value)
    assert sorted(sign_in.secrets()) == sorted(["SK-secret", token])


# -- 4. no exception chain keeps the request (and its token or password) ------------------------
def test_a_connection_error_leaves_no_request_in_the_chain() -> None:
    client = ElbClient("http://127.0.0.1:9", PROJECT, "tok-SECRET-1234", retry=NO_RETRY)
    for call in (client.list, lambda: client.create({"name": "x"})):
        with pytest.raises(ElbApiError) as caught:
            call()
        assert leaks(caught.value, "tok-SECRET-1234") == []
        assert not any(isinstance(link, requests.RequestException)
                       for link in chain(caught.value))


def test_an_iam_connection_error_leaves_no_password_in_the_chain() -> None:
    auth = PasswordAuth("http://127.0.0.1:9/v3", "u", PASSWORD, DOMAIN, PROJECT)
    with pytest.raises(ElbApiError) as caught:
        PasswordTokens(auth, timeout=1).current()
    assert leaks(caught.value, PASSWORD) == [] and caught.value.__context__ is None


# -- 5. offline means offline: IAM and clouds.yaml too ------------------------------------------
@pytest.mark.parametrize("config", [
    {"elb:endpoint": "http://127.0.0.1:9", "elb:authUrl": "https://iam.eu-de.otc.t-systems.com/v3",
     "elb:userName": "u", "elb:domainName": DOMAIN},
    {"elb:endpoint": "http://127.0.0.1:9", "elb:cloud": "otc"},
])
def test_the_in_process_engine_refuses_a_remote_iam_and_a_clouds_yaml_cloud(
        config: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match=r"offline tests|real cloud"):
        OfflineStack(config={"elb:token": "t", **config}, cwd=tmp_path)
    # from a stack file, as a user's Pulumi.dev.yaml would hold it
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + "".join(
        f"  {k}: {v}\n" for k, v in config.items()))
    with pytest.raises(HarnessError):
        OfflineStack(cwd=tmp_path)


def test_every_offline_host_makes_the_provider_refuse_remote_addresses(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the address came from (a clouds.yaml entry, a region, a catalog), the
    provider in an offline host sends nothing to a non-loopback one: IAM or ELB."""
    from fake_elb.engine.locate import offline_environment

    assert offline_host_environment()[OFFLINE_VARIABLE] == "1"
    assert offline_environment(Path("/h"), Path("/s"), Path("/c/pulumi"))[OFFLINE_VARIABLE] \
        == "1"
    monkeypatch.setenv(OFFLINE_VARIABLE, "1")
    auth = PasswordAuth("https://iam.eu-de.otc.t-systems.com/v3", "u", PASSWORD, DOMAIN,
                        PROJECT)
    with responses.RequestsMock() as mocked, pytest.raises(ConfigError, match="offline"):
        PasswordTokens(auth, timeout=1).current()
    assert len(mocked.calls) == 0
    from otc_elb_listener.settings import resolve_settings

    settings = resolve_settings({"region": "eu-de", "token": "t", "projectId": PROJECT}, {})
    with pytest.raises(ConfigError, match=r"offline: the ELB endpoint elb\.eu-de"):
        ElbClient.from_settings(settings, timeout=1, retry=NO_RETRY)


# -- 11-13. sign-in: one sign-in, the password in the key, the right hint -----------------------
@pytest.fixture
def iam() -> Iterator[MockElb]:
    with mock_elb() as elb:
        elb.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
        elb.add_loadbalancer(PROJECT)
        yield elb


def _auth(elb: MockElb, password: str = PASSWORD, project: str = PROJECT) -> PasswordAuth:
    return PasswordAuth(f"{elb.endpoint}/v3", "deployer", password, DOMAIN, project)


def _sign_ins(elb: MockElb) -> int:
    return sum(1 for e in elb.requests if e["path"] == "/v3/auth/tokens")


def test_concurrent_401s_and_providers_renew_and_sign_in_once(iam: MockElb) -> None:
    barrier = threading.Barrier(4)
    made: list[PasswordSignIn] = []

    def construct() -> None:
        barrier.wait()
        made.append(PasswordSignIn(_auth(iam), timeout=5))

    threads = [threading.Thread(target=construct) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4 and _sign_ins(iam) == 1  # four providers, one sign-in
    client = ElbClient(iam.endpoint, PROJECT, made[0], retry=NO_RETRY)
    client.list()
    iam.set_tokens([DEFAULT_TOKEN])  # every token IAM issued is revoked: all get 401
    threads = [threading.Thread(target=client.list) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _sign_ins(iam) == 2  # four 401s in flight, one renewal


def test_a_wrong_password_never_rides_on_a_cached_token(iam: MockElb) -> None:
    PasswordSignIn(_auth(iam), timeout=5)
    with pytest.raises(ElbApiError, match="IAM refused"):
        PasswordSignIn(_auth(iam, password="wrong"), timeout=5)


def test_a_refusal_after_renewal_gives_advice_for_the_method_used(iam: MockElb) -> None:
    # the token opens the user's project, not the one in the path: refused after a renewal
    sign_in = PasswordSignIn(_auth(iam), timeout=5)
    with pytest.raises(ElbApiError) as caught:
        ElbClient(iam.endpoint, "f" * 32, sign_in, retry=NO_RETRY).list()
    text = str(caught.value)
    assert "24 hours" not in text and "even after a fresh sign-in" in text
    iam.add_credential("AK1", "right-secret", PROJECT)
    keys = AkSkSignIn(AkSk("AK1", "wrong-secret"), PROJECT)
    with pytest.raises(ElbApiError) as caught:
        ElbClient(iam.endpoint, PROJECT, keys, retry=NO_RETRY).list()
    text = str(caught.value)
    assert "24 hours" not in text and "refused the request's signature" in text


# -- 14. clouds.yaml problems are ConfigErrors naming the file ----------------------------------
@pytest.mark.parametrize(("content", "expected"), [
    (b"clouds:\n  otc: just-a-string\n", "the entry of cloud 'otc' must be a mapping"),
    (b"clouds:\n  otc:\n    auth: [a, b]\n", "auth of cloud 'otc' must be a mapping"),
    (b"clouds:\n  otc:\n    auth:\n      username: caf\xe9\n", "is not UTF-8"),
])
def test_a_malformed_clouds_yaml_is_a_config_error_naming_the_file(
        tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_cloud("otc", {"OS_CLIENT_CONFIG_FILE": str(path)})
    assert str(path) in str(caught.value)


def test_an_unreadable_clouds_yaml_is_a_config_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: {}\n")

    def refused(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refused)  # root reads any file: simulate it
    with pytest.raises(ConfigError, match=r"cannot be read \(PermissionError: Permission denied"):
        load_cloud("otc", {"OS_CLIENT_CONFIG_FILE": str(path)})


# -- 15-16. AK/SK signing: independent vectors, for the signer and the verifier -----------------
#: Written by hand from the signing guide (not by our code): the canonical request of a GET
#: whose path has a percent-encoded segment and whose query has names that sort differently
#: as whole strings (``port-x=`` < ``port1=`` < ``port=``) and by name.
VECTOR_URL = "https://elb.example.com/v1/caf%C3%A9/x%2Fy?port1=a&port=b&port-x=c"
VECTOR_HEADERS = {"host": "elb.example.com", "x-sdk-date": "20261204T120000Z"}
VECTOR_CANONICAL = "\n".join([
    "GET", "/v1/caf%C3%A9/x%2Fy/", "port=b&port-x=c&port1=a",
    "host:elb.example.com\nx-sdk-date:20261204T120000Z\n", "host;x-sdk-date",
    hashlib.sha256(b"").hexdigest()])


def test_the_signer_matches_an_independent_vector() -> None:
    assert canonical_request("GET", VECTOR_URL, VECTOR_HEADERS, b"",
                             ["host", "x-sdk-date"]) == VECTOR_CANONICAL


def test_the_fakes_verifier_accepts_an_independently_signed_request() -> None:
    to_sign = "\n".join(["SDK-HMAC-SHA256", "20261204T120000Z",
                         hashlib.sha256(VECTOR_CANONICAL.encode()).hexdigest()])
    signature = hmac.new(b"the-secret", to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {**VECTOR_HEADERS, "Authorization": f"SDK-HMAC-SHA256 Access=AK, "
               f"SignedHeaders=host;x-sdk-date, Signature={signature}"}
    import calendar
    import time

    now = calendar.timegm(time.strptime("20261204T120000Z", "%Y%m%dT%H%M%SZ"))
    credentials = {"AK": Credential("the-secret", PROJECT)}
    assert verify(credentials, "GET", VECTOR_URL, headers, b"", now) == (PROJECT, "")
