"""The fake IAM in both transports: malformed sign-ins, non-ASCII passwords, projects in
another domain, revocation as keystone revokes, temporary keys without their token."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from fake_elb import MockElb, ServerControl
from otc_elb_listener.auth import AkSk, signer
from tests.support import PROJECT, url_of

DOMAIN = "OTC00000000001000000xyz"
PASSWORD = "pässwörd-ü"


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    return bare_fake


def sign_in(fake: MockElb | ServerControl, body: Any) -> requests.Response:
    return requests.post(f"{url_of(fake)}/v3/auth/tokens", json=body, timeout=10)


def password_body(name: Any = "deployer", password: Any = PASSWORD, domain: Any = DOMAIN,
                  methods: Any = ("password",), project: Any = None) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": list(methods) if isinstance(methods, tuple)
                                  else methods, "password": {"user": {
                                      "name": name, "password": password,
                                      "domain": {"name": domain}}}},
                     "scope": {"project": project if project is not None else {"id": PROJECT}}}}


# -- 6. malformed sign-ins are 400s naming the part, never a 500 or an exception ---------------
@pytest.mark.parametrize("body", [
    password_body(methods=5), password_body(methods="xpasswordx"), password_body(methods=[1]),
    password_body(name=["deployer"]), password_body(name={"n": 1}),
    password_body(domain={"name": DOMAIN}), password_body(project="p"),
    password_body(project=[PROJECT]), password_body(password=7), [], "auth",
    {"auth": {"identity": "x"}},
], ids=lambda b: json.dumps(b)[:40])
def test_a_malformed_sign_in_is_a_400(fake: MockElb | ServerControl, body: Any) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    answer = sign_in(fake, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "ELB.1001"
    assert "X-Subject-Token" not in answer.headers


# -- 7. any password, any text ------------------------------------------------------------------
def test_non_ascii_passwords_sign_in_or_are_refused(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    assert sign_in(fake, password_body(password="wrông")).status_code == 401
    assert sign_in(fake, password_body()).status_code == 201


# -- 8. a project name is a project of the domain named with it ---------------------------------
def test_a_project_name_in_another_domain_is_refused(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    elsewhere = {"name": "eu-de_p", "domain": {"name": "OTHER-DOMAIN"}}
    assert sign_in(fake, password_body(project=elsewhere)).status_code == 401
    here = {"name": "eu-de_p", "domain": {"name": DOMAIN}}
    assert sign_in(fake, password_body(project=here)).status_code == 201


# -- 9. revocation: exactly these tokens, a new password, a removed user ------------------------
def _issued(fake: MockElb | ServerControl) -> str:
    answer = sign_in(fake, password_body())
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]


def _opens(fake: MockElb | ServerControl, token: str) -> int:
    return requests.get(f"{url_of(fake)}/v1.0/{PROJECT}/elbaas/listeners",
                        headers={"X-Auth-Token": token}, timeout=10).status_code


def test_tokens_are_revoked_as_keystone_revokes_them(fake: MockElb | ServerControl) -> None:
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    token = _issued(fake)
    assert _opens(fake, token) == 200
    fake.set_tokens(["only-this-one"])  # exactly these: IAM's tokens stop working
    assert _opens(fake, token) == 401 and _opens(fake, "only-this-one") == 200
    token = _issued(fake)
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")  # same password: kept
    assert _opens(fake, token) == 200
    fake.add_user(DOMAIN, "deployer", "a-new-password", PROJECT, "eu-de_p")
    assert _opens(fake, token) == 401
    fake.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    token = _issued(fake)
    fake.remove_user(DOMAIN, "deployer")
    assert _opens(fake, token) == 401 and sign_in(fake, password_body()).status_code == 401


# -- 10. a temporary key needs its security token ----------------------------------------------
def test_a_temporary_key_without_its_token_is_refused(fake: MockElb | ServerControl) -> None:
    fake.add_credential("TMPKEY", "tmp-secret", PROJECT, security_token="the-sts-token")
    url = f"{url_of(fake)}/v1.0/{PROJECT}/elbaas/listeners"
    without = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret"), PROJECT), timeout=10)
    assert without.status_code == 401 and "security token" in without.text
    wrong = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret", "other"), PROJECT),
                         timeout=10)
    assert wrong.status_code == 401
    right = requests.get(url, auth=signer(AkSk("TMPKEY", "tmp-secret", "the-sts-token"),
                                          PROJECT), timeout=10)
    assert right.status_code == 200, right.text


# -- 20. list items are typed whether or not the field applies ---------------------------------
