"""Signing in with an IAM user name and password, end to end against the fake's IAM, in both
transports: a token fetched once, renewed on a 401, preferred over a stored token; clear
errors that never show a secret."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_elb import MockElb, ServerControl, mock_elb, serve_in_subprocess
from otc_elb_listener import ElbApiError, ListenerProvider, RetrySettings
from otc_elb_listener.auth import forget_tokens
from otc_elb_listener.settings import ConfigError
from tests.support import PROJECT

DOMAIN = "OTC00000000001000000xyz"
PROJECT_NAME = "eu-de_myproject"
PASSWORD = "correct horse battery staple"


class Target:
    """One fake (either transport) with an IAM user and a load balancer."""

    def __init__(self, control: MockElb | ServerControl, url: str) -> None:
        self.control, self.url = control, url
        control.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, PROJECT_NAME)
        self.lb = control.add_loadbalancer(PROJECT)["id"]

    def config(self, **changes: Any) -> dict[str, Any]:
        config: dict[str, Any] = {"authUrl": f"{self.url}/v3", "userName": "deployer",
                                  "password": PASSWORD, "domainName": DOMAIN,
                                  "projectId": PROJECT}
        config.update(changes)
        return {k: v for k, v in config.items() if v is not None}

    def calls(self) -> list[tuple[str, str]]:
        return [(e["method"], e["path"].split("/")[1]) for e in self.control.requests]


@pytest.fixture(params=["inprocess", "server"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    forget_tokens()
    if request.param == "inprocess":
        with mock_elb(token_ttl=2.5) as elb:
            yield Target(elb, elb.endpoint)
    else:
        with serve_in_subprocess(token_ttl=2.5) as server:
            yield Target(server, server.url)
    forget_tokens()


def provider(config: dict[str, Any]) -> ListenerProvider:
    listener_provider = ListenerProvider(retry=RetrySettings(retries=1, backoff_factor=0))
    listener_provider._config = config
    return listener_provider


def program(lb: str, **changes: Any) -> dict[str, Any]:
    return {"loadbalancer_id": lb, "protocol": "HTTP", "backend_protocol": "HTTP",
            "port": 80.0, "backend_port": 8080.0, "lb_algorithm": "roundrobin", "name": "web",
            "__provider": "x", **changes}


def test_password_by_project_id(target: Target) -> None:
    created = provider(target.config()).create(program(target.lb))
    assert len(created.id) == 32
    assert target.calls() == [("POST", "v3"), ("POST", "v1.0")]


def test_password_by_project_name_takes_project_and_endpoint_from_the_token(
        target: Target) -> None:
    """No elb:projectId and no elb:endpoint: both come from the token's catalog."""
    created = provider(target.config(projectId=None, projectName=PROJECT_NAME)).create(
        program(target.lb))
    assert len(created.id) == 32
    assert target.control.requests[-1]["path"].startswith(f"/v1.0/{PROJECT}/")


def test_the_token_is_fetched_once_per_host_and_renewed_when_it_expires(
        target: Target) -> None:
    first = provider(target.config()).create(program(target.lb))
    second = provider(target.config())  # another listener in the same host: same token
    second.read(first.id, first.outs or {})
    assert [c for c in target.calls() if c[1] == "v3"] == [("POST", "v3")]
    time.sleep(2.6)  # the token expires in the middle of the run
    outs = second.update(first.id, first.outs or {}, program(target.lb, port=81.0)).outs
    assert (outs or {})["port"] == 81
    statuses = [(e["method"], e["path"].split("/")[1], e["status"])
                for e in target.control.requests][-3:]
    assert statuses == [("PUT", "v1.0", 401), ("POST", "v3", 201), ("PUT", "v1.0", 200)]


def test_a_stored_expired_token_with_a_password_available_still_works(target: Target) -> None:
    """Precedence: credentials that renew themselves win over a token frozen into the state
    by the last up."""
    created = provider(target.config(token="expired-long-ago")).create(program(target.lb))
    assert len(created.id) == 32


def test_a_wrong_password_is_a_clear_error_without_the_secret(target: Target) -> None:
    with pytest.raises(ElbApiError) as caught:
        provider(target.config(password="wrong " + PASSWORD)).create(program(target.lb))
    text = str(caught.value)
    assert "IAM refused user 'deployer'" in text and "elb:password" in text
    assert PASSWORD not in text and "wrong" not in text.split("refused")[0]
    assert not [c for c in target.calls() if c[1] == "v1.0"]  # nothing reached the ELB API


def test_an_unknown_user_is_refused_and_no_secret_reaches_the_journal(target: Target) -> None:
    with pytest.raises(ElbApiError, match="IAM refused user 'nobody'"):
        provider(target.config(userName="nobody")).create(program(target.lb))
    assert PASSWORD not in json.dumps(target.control.requests)


@pytest.mark.parametrize(("config", "words"), [
    ({"userName": "deployer"}, ["elb:password", "elb:authUrl", "elb:domainName"]),
    ({"password": "x", "authUrl": "http://127.0.0.1:9/v3", "domainName": "d"},
     ["elb:userName", "elb:projectId or elb:projectName"]),
    ({}, ["elb:userName", "elb:password", "elb:token", "OS_AUTH_TOKEN", "elb:endpoint"]),
])
def test_misconfiguration_lists_what_is_missing(config: dict[str, Any], words: list[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OS_USERNAME", "OS_PASSWORD", "OS_AUTH_URL", "OS_AUTH_TOKEN",
                 "OS_PROJECT_ID", "OS_PROJECT_NAME", "ELB_ENDPOINT", "OS_USER_DOMAIN_NAME",
                 "OS_DOMAIN_NAME", "OS_REGION_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        provider(config).create(program("ab" * 16))
    for word in words:
        assert word in str(caught.value)


# -- endpoints per region -----------------------------------------------------------------------
@pytest.mark.parametrize(("region", "endpoint"), [
    ("eu-de", "https://elb.eu-de.otc.t-systems.com"),
    ("eu-nl", "https://elb.eu-nl.otc.t-systems.com"),
    ("eu-ch2", "https://elb.eu-ch2.sc.otc.t-systems.com"),
    ("cn-north-4", "https://elb.cn-north-4.myhuaweicloud.com"),
    ("ap-southeast-1", "https://elb.ap-southeast-1.myhuaweicloud.com"),
])
def test_the_region_builds_the_right_host(region: str, endpoint: str) -> None:
    from otc_elb_listener.settings import resolve_settings

    settings = resolve_settings({"region": region, "projectId": PROJECT, "token": "t"}, {})
    assert settings.endpoint == endpoint


@pytest.mark.parametrize("region", ["eu-fr", "europe", "EU-DE"])
def test_a_wrong_region_is_a_clear_error(region: str) -> None:
    from otc_elb_listener.settings import resolve_settings

    with pytest.raises(ConfigError, match=r"elb:region .* is not a region"):
        resolve_settings({"region": region, "projectId": PROJECT, "token": "t"}, {})


# -- AK/SK ----------------------------------------------------------------------------------
ACCESS, SECRET = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"


def test_the_signer_matches_the_signing_guides_worked_example() -> None:
    """The cloud's API signing guide's example (docs/sign-in.md): data, not code."""
    import hashlib

    from otc_elb_listener.auth import authorization, canonical_request

    url = ("https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
           "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0")
    headers = {"Content-Type": "application/json", "X-Sdk-Date": "20191115T033655Z",
               "Host": "service.region.example.com"}
    canonical = canonical_request("GET", url, headers, b"",
                                  ["content-type", "host", "x-sdk-date"])
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a")
    assert authorization(ACCESS, SECRET, "GET", url, headers, b"") == (
        "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, "
        "SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe")


def aksk_config(target: Target, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"accessKey": ACCESS, "secretKey": SECRET, "projectId": PROJECT,
                              "endpoint": target.url}
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


def test_aksk_signed_requests_work_end_to_end(target: Target) -> None:
    target.control.add_credential(ACCESS, SECRET, PROJECT)
    listener_provider = provider(aksk_config(target, token="expired-long-ago"))
    created = listener_provider.create(program(target.lb))
    outs = listener_provider.update(created.id, created.outs or {},
                                    program(target.lb, port=81.0)).outs
    assert (outs or {})["port"] == 81
    assert SECRET not in json.dumps(target.control.requests)


def test_temporary_aksk_sends_the_security_token(target: Target) -> None:
    target.control.add_credential(ACCESS, SECRET, PROJECT)
    created = provider(aksk_config(target, securityToken="temporary-token")).create(
        program(target.lb))
    assert len(created.id) == 32


def test_a_wrong_secret_key_is_refused(target: Target) -> None:
    target.control.add_credential(ACCESS, SECRET, PROJECT)
    with pytest.raises(ElbApiError, match=r"401 ELB\.1103: AK/SK signature refused") as caught:
        provider(aksk_config(target, secretKey="not-the-secret")).create(program(target.lb))
    assert "not-the-secret" not in str(caught.value) and SECRET not in str(caught.value)


def test_the_fake_refuses_tampered_and_stale_signatures(target: Target) -> None:
    import time as clock

    import requests

    from otc_elb_listener.auth import AkSk, signer

    target.control.add_credential(ACCESS, SECRET, PROJECT)
    url = f"{target.url}/v1.0/{PROJECT}/elbaas/listeners"
    auth = signer(AkSk(ACCESS, SECRET), PROJECT)
    good = requests.Request("GET", url, auth=auth).prepare()
    session = requests.Session()
    assert session.send(good, timeout=10).status_code == 200
    tampered_path = requests.Request("GET", url, auth=auth).prepare()
    tampered_path.url = url + "?port=80"
    assert session.send(tampered_path, timeout=10).status_code == 401
    body = {"name": "x"}
    tampered_body = requests.Request("POST", url, json=body, auth=auth).prepare()
    tampered_body.body = b'{"name": "y"}'
    assert session.send(tampered_body, timeout=10).status_code == 401
    stale = requests.Request("GET", url, auth=auth).prepare()
    old = clock.strftime("%Y%m%dT%H%M%SZ", clock.gmtime(clock.time() - 16 * 60))
    stale.headers["X-Sdk-Date"] = old
    from otc_elb_listener.auth import authorization

    signed = {k: stale.headers[k] for k in ("Host", "X-Sdk-Date", "X-Project-Id")}
    stale.headers["Authorization"] = authorization(ACCESS, SECRET, "GET", url, signed, b"")
    answer = session.send(stale, timeout=10)
    assert answer.status_code == 401 and "15 minutes" in answer.json()["error"]["message"]


# -- clouds.yaml, precedence, several targets ---------------------------------------------------
def write_clouds(tmp_path: Path, target: Target) -> Path:
    (tmp_path / "clouds.yaml").write_text(f"""
clouds:
  otc:
    region_name: eu-de
    auth:
      auth_url: {target.url}/v3
      username: deployer
      user_domain_name: {DOMAIN}
      project_name: {PROJECT_NAME}
  otc-aksk:
    auth:
      ak: {ACCESS}
      project_id: {PROJECT}
""")
    (tmp_path / "secure.yaml").write_text(f"""
clouds:
  otc:
    auth:
      password: {PASSWORD}
  otc-aksk:
    auth:
      sk: {SECRET}
""")
    return tmp_path / "clouds.yaml"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_USERNAME", "OS_PASSWORD",
                 "OS_AUTH_URL", "OS_AUTH_TOKEN", "OS_PROJECT_ID", "OS_PROJECT_NAME",
                 "ELB_ENDPOINT", "OS_REGION_NAME", "OS_ACCESS_KEY", "OS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_clouds_yaml_with_os_cloud_and_secure_yaml(target: Target, tmp_path: Path,
                                                   clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(tmp_path, target)))
    clean_env.setenv("OS_CLOUD", "otc")
    # the catalog gives the endpoint; the stack config's endpoint wins over region_name
    created = provider({"endpoint": target.url}).create(program(target.lb))
    assert len(created.id) == 32
    assert [c for c in target.calls() if c[1] == "v3"] == [("POST", "v3")]


def test_clouds_yaml_with_access_keys_and_config_over_environment(
        target: Target, tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    target.control.add_credential(ACCESS, SECRET, PROJECT)
    clean_env.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(tmp_path, target)))
    clean_env.setenv("OS_CLOUD", "no-such-cloud")  # the stack config's elb:cloud wins
    created = provider({"cloud": "otc-aksk", "endpoint": target.url}).create(
        program(target.lb))
    assert len(created.id) == 32


def test_an_unknown_cloud_name_is_a_clear_error(target: Target, tmp_path: Path,
                                                clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(tmp_path, target)))
    with pytest.raises(ConfigError, match=r"cloud 'prod' .* has: otc, otc-aksk"):
        provider({"cloud": "prod"}).create(program(target.lb))


def test_two_targets_in_one_program(target: Target, clean_env: pytest.MonkeyPatch) -> None:
    """Like aws.Provider(region=...): each ListenerProvider selects its project; only the
    non-secret selectors are pickled."""
    import dill  # type: ignore[import-untyped]

    other = "f" * 32
    target.control.add_user(DOMAIN, "deployer2", PASSWORD, other, "eu-de_other")
    other_lb = target.control.add_loadbalancer(other)["id"]
    shared = target.config(projectId=None)
    first = ListenerProvider(project_id=PROJECT, endpoint=target.url)
    second = ListenerProvider(project_name="eu-de_other", endpoint=target.url)
    first._config = shared
    second._config = {**shared, "userName": "deployer2"}
    assert len(first.create(program(target.lb)).id) == 32
    assert len(second.create(program(other_lb)).id) == 32
    paths = [e["path"] for e in target.control.requests if e["path"].startswith("/v1.0")]
    assert paths == [f"/v1.0/{PROJECT}/elbaas/listeners", f"/v1.0/{other}/elbaas/listeners"]
    pickled = dill.dumps(second, recurse=True)
    assert b"eu-de_other" in pickled and PASSWORD.encode() not in pickled


# -- TLS trust and proxies ----------------------------------------------------------------------
def test_a_ca_bundle_and_insecure_reach_the_session(clean_env: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    from otc_elb_listener.settings import resolve_settings

    base = {"endpoint": "https://elb.example.test", "projectId": PROJECT, "token": "t"}
    bundle = str(tmp_path / "ca.pem")
    assert resolve_settings({**base, "cacert": bundle}, {}).verify_tls == bundle
    assert resolve_settings(base, {"OS_CACERT": bundle}).verify_tls == bundle
    assert resolve_settings({**base, "insecure": "true"}, {}).verify_tls is False
    assert resolve_settings(base, {}).verify_tls is True


def test_calls_go_through_a_real_loopback_proxy(clean_env: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured (requests reads it): every API call crosses a forwarding proxy
    on loopback, which the test runs and watches."""
    import http.client
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    seen: list[str] = []

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            seen.append(f"{self.command} {self.path}")
            target = urlsplit(self.path)  # absolute form, as clients talk to a proxy
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(target.netloc, timeout=10)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("proxy-connection", "connection")}
            upstream.request(self.command, target.path + (f"?{target.query}" if target.query
                                                           else ""), body, headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with serve_in_subprocess() as server:
            lb = server.add_loadbalancer(PROJECT)["id"]
            clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
            clean_env.setenv("NO_PROXY", "")
            clean_env.delenv("no_proxy", raising=False)
            forget_tokens()
            created = provider({"endpoint": server.url, "projectId": PROJECT,
                                "token": "fake-elb-token"}).create(program(lb))
            assert len(created.id) == 32
            assert seen == [f"POST {server.url}/v1.0/{PROJECT}/elbaas/listeners"]
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.fake_elb(token_ttl=2.0)
def test_the_fixture_takes_the_token_lifetime(fake_elb: MockElb) -> None:
    import requests

    fake_elb.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, PROJECT_NAME)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "deployer", "password": PASSWORD, "domain": {"name": DOMAIN}}}},
        "scope": {"project": {"id": PROJECT}}}}
    issued = requests.post(f"{fake_elb.endpoint}/v3/auth/tokens", json=body, timeout=10)
    assert issued.status_code == 201
    token = issued.headers["X-Subject-Token"]
    url = f"{fake_elb.endpoint}/v1.0/{PROJECT}/elbaas/listeners"
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    time.sleep(2.1)
    expired = requests.get(url, headers={"X-Auth-Token": token}, timeout=10)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    assert expired.json()["error"]["code"] == "ELB.1103"


def test_no_secret_in_any_log_record(target: Target, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    target.control.add_credential(ACCESS, SECRET, PROJECT)
    with caplog.at_level(logging.DEBUG):
        provider(target.config()).create(program(target.lb))
        provider(aksk_config(target)).create(program(target.lb, port=81.0, name="web2"))
        forget_tokens()  # else the cached token is used and the password never sent
        with pytest.raises(ElbApiError):
            provider(target.config(password="wrong")).create(program(target.lb, port=82.0))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in text and SECRET not in text


def test_a_refused_password_names_where_each_setting_came_from(
        target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user from a clouds.yaml entry, the password from OS_PASSWORD, the domain from
    stack config: the hint names those places (never a value), not a fixed list of keys."""
    (tmp_path / "clouds.yaml").write_text(f"clouds:\n  otc:\n    auth:\n      username: deployer\n"
                                          f"      project_id: {PROJECT}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.setenv("OS_PASSWORD", "wrong " + PASSWORD)
    config = {"cloud": "otc", "authUrl": f"{target.url}/v3", "domainName": DOMAIN}
    with pytest.raises(ElbApiError) as caught:
        provider(config).create(program(target.lb))
    text = str(caught.value)
    assert "clouds.yaml cloud 'otc' (userName)" in text and "OS_PASSWORD" in text
    assert "elb:domainName" in text and "elb:password" not in text
    assert PASSWORD not in text


def test_the_documented_clouds_yaml_works_against_the_fake_as_written(
        target: Target, tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    """docs/sign-in.md's clouds.yaml entry with the README's ``export OS_CLOUD=otc``: only the
    IAM address points at the fake, and its ``...`` becomes the password."""
    repo = Path(__file__).resolve().parents[2]
    assert "export OS_CLOUD=otc" in (repo / "README.md").read_text()
    found = re.search(r"\*\*With `clouds.yaml`\*\*.*?```yaml\n(.*?)```",
                      (repo / "docs" / "sign-in.md").read_text(), re.S)
    assert found is not None, "docs/sign-in.md lost its clouds.yaml example"
    real_iam = "https://iam.eu-de.otc.t-systems.com/v3"
    assert real_iam in found[1] and "password: ..." in found[1]
    (tmp_path / "clouds.yaml").write_text(found[1].replace(real_iam, f"{target.url}/v3")
                                          .replace("password: ...", f"password: {PASSWORD}"))
    target.control.add_user(DOMAIN, "my-user", PASSWORD, PROJECT, PROJECT_NAME)
    clean_env.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    clean_env.setenv("OS_CLOUD", "otc")
    created = provider({"endpoint": target.url}).create(program(target.lb))
    assert len(created.id) == 32
    assert [c for c in target.calls() if c[1] == "v3"] == [("POST", "v3")]


# -- IAM answers that must not carry the password anywhere ----------------------------------
IAM = "https://iam.example.test/v3"


def _scripted_iam_error(status: int, **answer: Any) -> ElbApiError:
    import responses

    forget_tokens()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("POST", f"{IAM}/auth/tokens", status=status, **answer)
        mock.add("POST", re.compile(r"https://evil\.example/.*"), status=201,
                 headers={"X-Subject-Token": "stolen"}, json={"token": {}})
        with pytest.raises(ElbApiError) as caught:
            provider({"authUrl": IAM, "userName": "deployer", "password": PASSWORD,
                      "domainName": DOMAIN, "projectId": PROJECT,
                      "endpoint": "https://elb.example.test"})._api()
        assert [call.request.url for call in mock.calls] == [f"{IAM}/auth/tokens"]
    forget_tokens()
    return caught.value


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_the_sign_in_never_follows_a_redirect(status: int) -> None:
    """A 307/308 resent the password body to the Location host."""
    error = _scripted_iam_error(status, headers={"Location": "https://evil.example/v3/x"})
    assert error.status == status and "evil.example" in str(error)
    assert "never followed" in str(error)


def test_a_password_iam_quotes_in_its_schema_error_never_shows() -> None:
    """Keystone quotes a value with ``repr`` inside its JSON error: in no escaping, and in no
    run of 8 characters, may the password show."""
    password = 'Pw"q\\Zs3cret-Value-that-is-long'
    message = f"Invalid input for field 'password': {password!r} is too long"
    forget_tokens()
    import responses

    with responses.RequestsMock() as mock:
        mock.add("POST", f"{IAM}/auth/tokens", status=400,
                 body=json.dumps({"error": {"code": 400, "message": message}}))
        with pytest.raises(ElbApiError) as caught:
            provider({"authUrl": IAM, "userName": "deployer", "password": password,
                      "domainName": DOMAIN, "projectId": PROJECT})._api()
    forget_tokens()
    text = str(caught.value)
    assert "Invalid input for field" in text and "***" in text
    for form in (password, repr(password), json.dumps(repr(password))):
        assert all(form[i:i + 8] not in text for i in range(len(form) - 7)), form


@pytest.mark.parametrize("body", ["<html>gateway</html>", "[]", '{"token": "x"}', "null"])
def test_a_token_answer_without_a_token_body_is_one_clear_error(body: str) -> None:
    error = _scripted_iam_error(201, body=body, headers={"X-Subject-Token": "tok-123456789"})
    assert "no readable token body" in str(error)
    assert error.__context__ is None and "gateway" not in str(error)


# -- agencies and virtual MFA ---------------------------------------------------------------
DELEGATING = "OTC00000000001000000abc"
DELEGATED = "d" * 32
PASSCODE = "482913"


def agency_config(target: Target, **changes: Any) -> dict[str, Any]:
    target.control.add_agency(DELEGATING, "ops-agency", DOMAIN, DELEGATED, "eu-de_prod")
    config = target.config(projectId=None, agencyName="ops-agency",
                           agencyDomainName=DELEGATING, delegatedProject="eu-de_prod")
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


def test_an_agency_sign_in_reaches_the_delegated_project(target: Target) -> None:
    lb = target.control.add_loadbalancer(DELEGATED)["id"]
    created = provider(agency_config(target)).create(program(lb))
    assert created.id
    paths = [(e["method"], e["path"]) for e in target.control.requests]
    assert paths[:2] == [("POST", "/v3/auth/tokens")] * 2  # the user's token, the agency's
    assert paths[2] == ("POST", f"/v1.0/{DELEGATED}/elbaas/listeners")


def test_an_agency_is_renewed_user_token_first(target: Target) -> None:
    lb = target.control.add_loadbalancer(DELEGATED)["id"]
    signed = provider(agency_config(target))
    signed.create(program(lb))
    time.sleep(2.6)  # the fake's tokens live 2.5 s here: both have expired
    signed.create(program(lb, port=81.0))
    sign_ins = [e for e in target.control.requests if e["path"] == "/v3/auth/tokens"]
    assert len(sign_ins) == 4


@pytest.mark.parametrize(("change", "words"), [
    ({"agencyName": "no-such-agency"}, "elb:agencyName"),
    ({"delegatedProject": "eu-de_other"}, "elb:delegatedProject"),
])
def test_a_wrong_agency_is_one_clear_error_without_a_secret(
        target: Target, change: dict[str, Any], words: str) -> None:
    lb = target.control.add_loadbalancer(DELEGATED)["id"]
    with pytest.raises(ElbApiError) as caught:
        provider(agency_config(target, **change)).create(program(lb))
    text = str(caught.value)
    assert text.startswith("ELB sign-in of IAM user failed: HTTP 401: IAM refused agency")
    assert words in text and PASSWORD not in text and "fake-iam-" not in text
    assert caught.value.__context__ is None


def test_an_agency_given_in_part_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="agency sign-in is incomplete, missing the "
                                          "delegating account"):
        from otc_elb_listener.settings import resolve_settings
        resolve_settings({"endpoint": "http://127.0.0.1:9", "authUrl": "http://127.0.0.1:9/v3",
                          "userName": "u", "password": "p", "domainName": DOMAIN,
                          "agencyName": "ops", "delegatedProject": "eu-de_prod"}, {})


def test_a_virtual_mfa_passcode_signs_in_once(target: Target) -> None:
    target.control.add_user(DOMAIN, "mfa-user", PASSWORD, PROJECT, PROJECT_NAME,
                            passcode=PASSCODE)
    config = target.config(userName="mfa-user", passcode=PASSCODE)
    signed = provider(config)
    signed.create(program(target.lb))
    time.sleep(2.6)  # the token expires; the passcode was used
    with pytest.raises(ElbApiError) as caught:
        signed.create(program(target.lb, port=81.0))
    text = str(caught.value)
    assert "a passcode is good once" in text and "elb:passcode" in text
    assert PASSCODE not in text and PASSWORD not in text
    forget_tokens()
    with pytest.raises(ElbApiError, match="virtual MFA passcode"):
        provider(target.config(userName="mfa-user")).create(program(target.lb, port=82.0))
