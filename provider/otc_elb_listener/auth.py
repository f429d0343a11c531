"""Sign-in with an IAM user name and password: Keystone v3 tokens that renew themselves.

Read in the provider host at run time, never pickled: ``elb:authUrl`` / ``OS_AUTH_URL``,
``elb:userName`` / ``OS_USERNAME``, ``elb:password`` (secret) / ``OS_PASSWORD``,
``elb:domainName`` / ``OS_USER_DOMAIN_NAME`` or ``OS_DOMAIN_NAME``, and the project by ID
(``elb:projectId``) or by name (``elb:projectName`` / ``OS_PROJECT_NAME``). A token is fetched
once per provider host process and shared by every listener of that host; a 401 from the ELB
API renews it once. The project ID and the ELB endpoint come from the token when not given.

Written on ``requests`` rather than keystoneauth1: one POST and its answer are all the provider
needs, and the provider host imports this module on every ``pulumi up`` that calls the API.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ElbApiError, secret_forms


@dataclass(frozen=True)
class PasswordAuth:
    """An IAM user's credentials and the project to scope the token to."""

    auth_url: str
    user_name: str
    password: str = field(repr=False)
    domain_name: str
    project_id: str | None = None
    project_name: str | None = None

    def scope(self) -> dict[str, Any]:
        if self.project_id:
            return {"project": {"id": self.project_id}}
        return {"project": {"name": self.project_name, "domain": {"name": self.domain_name}}}

    def body(self) -> dict[str, Any]:
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.user_name, "password": self.password,
            "domain": {"name": self.domain_name}}}}, "scope": self.scope()}}


@dataclass
class Token:
    value: str = field(repr=False)
    project_id: str
    elb_endpoint: str | None


_CACHE: dict[tuple[str, str, str, str], Token] = {}
_CACHE_LOCK = threading.Lock()


class PasswordTokens:
    """The token for one :class:`PasswordAuth`, fetched on first use, shared in the process,
    renewed on demand."""

    def __init__(self, auth: PasswordAuth, *, timeout: float | tuple[float, float],
                 verify_tls: bool | str = True) -> None:
        self.auth = auth
        self.timeout = timeout
        self.verify_tls = verify_tls
        self._key = (auth.auth_url, auth.domain_name, auth.user_name,
                     auth.project_id or f"name:{auth.project_name}")

    def current(self) -> Token:
        with _CACHE_LOCK:
            cached = _CACHE.get(self._key)
        return cached if cached is not None else self.renew()

    def renew(self) -> Token:
        token = self._fetch()
        with _CACHE_LOCK:
            _CACHE[self._key] = token
        return token

    def _fetch(self) -> Token:
        import requests

        url = f"{self.auth.auth_url.rstrip('/')}/auth/tokens"
        who = (f"user {self.auth.user_name!r} of domain {self.auth.domain_name!r} at "
               f"{self.auth.auth_url}")
        try:
            response = requests.post(url, json=self.auth.body(), timeout=self.timeout,
                                     verify=self.verify_tls)
        except requests.RequestException as error:
            raise ElbApiError("sign-in", None, None, None, self._redact(
                f"no answer from IAM for {who} ({type(error).__name__}: {error})")) from None
        if response.status_code == 401:
            raise ElbApiError("sign-in", None, 401, None, f"IAM refused {who}: wrong user "
                              "name, password or domain, or no role in the project (check "
                              "elb:userName, elb:password, elb:domainName, elb:projectId / "
                              "elb:projectName)") from None
        if response.status_code != 201 or "X-Subject-Token" not in response.headers:
            raise ElbApiError("sign-in", None, response.status_code, None, self._redact(
                f"IAM answered {who} without a token: {response.text[:300]}")) from None
        body = response.json().get("token", {})
        return Token(response.headers["X-Subject-Token"],
                     str(body.get("project", {}).get("id") or self.auth.project_id or ""),
                     _elb_endpoint(body.get("catalog") or []))

    def _redact(self, text: str) -> str:
        for form in secret_forms(self.auth.password):
            text = text.replace(form, "***")
        return text


def _elb_endpoint(catalog: list[Mapping[str, Any]]) -> str | None:
    """The public ELB endpoint of a Keystone catalog, if it lists one."""
    for service in catalog:
        if service.get("type") == "elb":
            for endpoint in service.get("endpoints") or []:
                if endpoint.get("interface", "public") == "public" and endpoint.get("url"):
                    return str(endpoint["url"]).rstrip("/")
    return None


def forget_tokens() -> None:
    """Drop every cached token (tests; a host process keeps them for its lifetime)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# -- AK/SK request signing (SDK-HMAC-SHA256) ----------------------------------------------------
SIGNING_ALGORITHM = "SDK-HMAC-SHA256"


def _uri_encode(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="-_.~")


def canonical_request(method: str, url: str, headers: Mapping[str, str], body: bytes,
                      signed_headers: list[str]) -> str:
    """The cloud's API signing guide: method, URI (each segment encoded, ending in ``/``),
    sorted encoded query, the signed headers (lower-case names, trimmed values), their
    names, and the body's SHA-256."""
    import hashlib
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    segments = [_uri_encode(segment) for segment in parts.path.split("/")]
    uri = "/".join(segments)
    if not uri.endswith("/"):
        uri += "/"
    query = "&".join(sorted(f"{_uri_encode(k)}={_uri_encode(v)}"
                            for k, v in parse_qsl(parts.query, keep_blank_values=True)))
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed_headers)
    return "\n".join([method.upper(), uri, query, canonical_headers, ";".join(signed_headers),
                      hashlib.sha256(body).hexdigest()])


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    import hashlib
    import hmac

    string_to_sign = "\n".join([SIGNING_ALGORITHM, sdk_date,
                                hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(access_key: str, secret_key: str, method: str, url: str,
                  headers: Mapping[str, str], body: bytes) -> str:
    """The ``Authorization`` header for a request whose headers already hold ``Host`` and
    ``X-Sdk-Date``; every header present is signed (at least host and x-sdk-date)."""
    signed = sorted({name.lower() for name in headers} | {"host", "x-sdk-date"})
    canonical = canonical_request(method, url, headers, body, signed)
    sdk_date = next(str(v) for k, v in headers.items() if k.lower() == "x-sdk-date")
    return (f"{SIGNING_ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed)}, "
            f"Signature={signature(secret_key, sdk_date, canonical)}")


@dataclass(frozen=True)
class AkSk:
    """An access key pair, permanent or temporary (with its security token)."""

    access_key: str
    secret_key: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


def signer(keys: AkSk, project_id: str) -> Any:
    """A ``requests`` auth that signs every request with ``keys`` (the project goes into
    ``X-Project-Id``; a temporary key's token into ``X-Security-Token``)."""
    import time as _time
    from urllib.parse import urlsplit

    import requests

    class _AkSkAuth(requests.auth.AuthBase):
        def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
            url = request.url or ""
            request.headers.pop("X-Auth-Token", None)
            request.headers["Host"] = urlsplit(url).netloc
            request.headers["X-Sdk-Date"] = _time.strftime("%Y%m%dT%H%M%SZ", _time.gmtime())
            request.headers["X-Project-Id"] = project_id
            if keys.security_token:
                request.headers["X-Security-Token"] = keys.security_token
            signed = {name: request.headers[name] for name in (
                "Host", "X-Sdk-Date", "X-Project-Id", "X-Security-Token", "Content-Type")
                if name in request.headers}
            body = request.body or b""
            request.headers["Authorization"] = authorization(
                keys.access_key, keys.secret_key, request.method or "GET", url, signed,
                body.encode() if isinstance(body, str) else bytes(body))
            return request

    return _AkSkAuth()
