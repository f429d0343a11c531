"""Sign-in methods as plugins behind one interface, :class:`SignIn` (as keystoneauth1's auth
plugins): what each request carries, what a refusal (401) means, which secrets to keep out of
every message. A new method is one new class here.

- :class:`TokenSignIn`: a ready IAM token (``elb:token`` / ``OS_AUTH_TOKEN``).
- :class:`PasswordSignIn`: an IAM user and password; Keystone v3 tokens fetched once per
  provider host process, shared by every listener of that host, renewed once after a 401.
  The project ID and the ELB endpoint come from the token when not given.
- :class:`AkSkSignIn`: an access key pair, every request signed with ``SDK-HMAC-SHA256``.

Where the settings come from is :mod:`.settings`' business, not this module's. Written on
``requests`` rather than keystoneauth1: one POST and its answer are all the provider needs,
and the provider host imports this module on every ``pulumi up`` that calls the API.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import offline
from .errors import ElbApiError, redact


@dataclass(frozen=True)
class Agency:
    """Another account's project reached through an agency (IAM's "Obtaining an Agency
    Token"): the delegating account (by name or ID), the agency's name, and the delegated
    project (by ID, 32 hex characters, or by name)."""

    name: str
    domain_name: str | None
    domain_id: str | None
    project: str

    def body(self) -> dict[str, Any]:
        import re

        account = {"domain_name": self.domain_name} if self.domain_name else \
            {"domain_id": self.domain_id}
        project = {"id": self.project} if re.fullmatch(r"[0-9a-f]{32}", self.project) else \
            {"name": self.project}
        return {"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
            **account, "agency_name": self.name, "duration_seconds": 3600}},
            "scope": {"project": project}}}


@dataclass(frozen=True)
class PasswordAuth:
    """An IAM user's credentials and the project to scope the token to; with ``agency``,
    the user's token is scoped to its own account and then exchanged for the agency's; with
    ``passcode``, the sign-in carries a virtual MFA passcode (good once)."""

    auth_url: str
    user_name: str
    password: str = field(repr=False)
    domain_name: str
    project_id: str | None = None
    project_name: str | None = None
    #: Where these settings came from, in words (``elb:userName, OS_PASSWORD``), for hints.
    origin: str = "elb:userName, elb:password, elb:domainName, elb:projectId / elb:projectName"
    agency: Agency | None = None
    passcode: str | None = field(default=None, repr=False)
    user_id: str | None = None

    def scope(self) -> dict[str, Any]:
        if self.agency is not None:
            return {"domain": {"name": self.domain_name}}
        if self.project_id:
            return {"project": {"id": self.project_id}}
        return {"project": {"name": self.project_name, "domain": {"name": self.domain_name}}}

    def body(self) -> dict[str, Any]:
        identity: dict[str, Any] = {"methods": ["password"], "password": {"user": {
            "name": self.user_name, "password": self.password,
            "domain": {"name": self.domain_name}}}}
        if self.passcode:
            who: dict[str, Any] = {"id": self.user_id} if self.user_id else {
                "name": self.user_name, "domain": {"name": self.domain_name}}
            identity["methods"].append("totp")
            identity["totp"] = {"user": {**who, "passcode": self.passcode}}
        return {"auth": {"identity": identity, "scope": self.scope()}}

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.passcode) if s]


@dataclass
class Token:
    value: str = field(repr=False)
    project_id: str
    elb_endpoint: str | None
    #: Other secrets this token came with (the user's own token an agency's was made with).
    related: tuple[str, ...] = field(default=(), repr=False)


_CACHE: dict[tuple[str, ...], Token] = {}
#: One lock per user and project: one sign-in at a time for each, however many providers
#: and threads of the host ask at once.
_FLIGHTS: dict[tuple[str, ...], threading.Lock] = {}
_CACHE_LOCK = threading.Lock()
#: Keys the password into the cache key without keeping it: a different password is a
#: different entry (it never rides on another provider's token), and the key shows nothing.
_PROCESS_KEY = _secrets.token_bytes(32)


class PasswordTokens:
    """The token for one :class:`PasswordAuth`, fetched on first use, shared in the process,
    renewed on demand; one sign-in at a time per user, project and password."""

    def __init__(self, auth: PasswordAuth, *, timeout: float | tuple[float, float],
                 verify_tls: bool | str = True) -> None:
        import hashlib
        import hmac

        self.auth = auth
        self.timeout = timeout
        self.verify_tls = verify_tls
        agency = auth.agency
        self._key = (auth.auth_url, auth.domain_name, auth.user_name,
                     auth.project_id or f"name:{auth.project_name}",
                     hmac.new(_PROCESS_KEY, auth.password.encode(), hashlib.sha256).hexdigest(),
                     "" if agency is None else
                     f"agency:{agency.domain_name or agency.domain_id}/{agency.name}/"
                     f"{agency.project}")
        with _CACHE_LOCK:
            self._flight = _FLIGHTS.setdefault(self._key, threading.Lock())

    def _cached(self) -> Token | None:
        with _CACHE_LOCK:
            return _CACHE.get(self._key)

    def current(self) -> Token:
        cached = self._cached()
        if cached is not None:
            return cached
        with self._flight:
            return self._cached() or self._store(self._fetch())

    def renew(self, stale: str | None = None) -> Token:
        """A fresh token, unless another caller has renewed ``stale`` (the token the service
        refused) already: then that one, and no sign-in. A virtual MFA passcode is good once:
        a sign-in that used one cannot be renewed, and says so."""
        with self._flight:
            cached = self._cached()
            if cached is not None and stale is not None and cached.value != stale:
                return cached
            if cached is not None and self.auth.passcode:
                raise ElbApiError("sign-in", None, 401, None, "the token from the sign-in "
                                  f"with a virtual MFA passcode ({self._who()}) was refused "
                                  "or expired, and a passcode is good once: set a fresh one "
                                  "(pulumi config set --secret elb:passcode ...) and run "
                                  "again", kind="IAM user")
            return self._store(self._fetch())

    def _store(self, token: Token) -> Token:
        with _CACHE_LOCK:
            _CACHE[self._key] = token
        return token

    def _who(self) -> str:
        return (f"user {self.auth.user_name!r} of domain {self.auth.domain_name!r} at "
                f"{self.auth.auth_url}")

    def _fetch(self) -> Token:
        """The user's token; with an agency, then the agency's, made with the user's."""
        user, body = self._post(self.auth.body(), None, self._who())
        agency = self.auth.agency
        if agency is None:
            return Token(user, str(body.get("project", {}).get("id") or self.auth.project_id
                                   or ""), _elb_endpoint(body.get("catalog") or []))
        what = (f"agency {agency.name!r} of account "
                f"{agency.domain_name or agency.domain_id!r} for {self._who()}")
        value, body = self._post(agency.body(), user, what)
        return Token(value, str(body.get("project", {}).get("id") or ""),
                     _elb_endpoint(body.get("catalog") or []), related=(user,))

    def _post(self, payload: dict[str, Any], token: str | None, who: str
              ) -> tuple[str, dict[str, Any]]:
        """One ``POST /auth/tokens``: the token and its body, or one clear error."""
        import requests

        url = f"{self.auth.auth_url.rstrip('/')}/auth/tokens"
        offline.guard(url, "the IAM endpoint")  # before the password goes anywhere
        response: requests.Response | None = None
        failure = ""
        try:
            # Never redirected: a 307/308 would resend the password to its Location.
            response = requests.post(url, json=payload, timeout=self.timeout,
                                     verify=self.verify_tls, allow_redirects=False,
                                     headers={"X-Auth-Token": token} if token else None)
        except requests.RequestException as error:
            # It holds the request, password and all: only its redacted text goes on,
            # raised outside the handler so that no exception chain keeps it.
            failure = f"{type(error).__name__}: {error}"
        if response is None:
            raise ElbApiError("sign-in", None, None, None, self._redact(
                f"no answer from IAM for {who} ({failure})", token), kind="IAM user")
        if 300 <= response.status_code < 400:
            raise ElbApiError("sign-in", None, response.status_code, None,
                              offline.redirect_refusal(response.headers.get("Location"),
                                                       f"IAM ({who})"), kind="IAM user")
        if response.status_code == 401:
            said = self._redact(_iam_message(response), token)
            raise ElbApiError("sign-in", None, 401, None, self._refusal(who, token) + (
                f". IAM said: {said}" if said else ""), kind="IAM user")
        if response.status_code != 201 or "X-Subject-Token" not in response.headers:
            # Redacted whole, then cut: a cut through a secret would leave a prefix of it.
            raise ElbApiError("sign-in", None, response.status_code, None, "IAM answered "
                              f"{who} without a token: "
                              f"{self._redact(response.text[:8000], token)}", kind="IAM user")
        body = _token_body(response)
        if body is None:  # built outside any handler: no JSONDecodeError keeps the answer
            raise ElbApiError("sign-in", None, response.status_code, None, f"IAM answered "
                              f"{who} with a token but no readable token body (not a JSON "
                              "object)", kind="IAM user")
        return response.headers["X-Subject-Token"], body

    def _refusal(self, who: str, token: str | None) -> str:
        if token is not None:  # the agency step
            return (f"IAM refused {who}: the agency does not exist, does not trust the "
                    "user's account, or grants no role in the delegated project (check "
                    "elb:agencyName, elb:agencyDomainName or elb:agencyDomainId, and "
                    "elb:delegatedProject)")
        mfa = ", or the virtual MFA passcode (elb:passcode; each is good once)" \
            if self.auth.passcode else ", or a virtual MFA passcode is needed (elb:passcode)"
        return (f"IAM refused {who}: wrong user name, password or domain{mfa}, or no role "
                f"in the project (check where they came from: {self.auth.origin})")

    def _redact(self, text: str, token: str | None = None) -> str:
        return redact(text, [*self.auth.secrets(), *([token] if token else [])])


def _iam_message(response: Any) -> str:
    """IAM's own words for a refusal (keystone's ``error.message``), or ``""``."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    error = answer.get("error") if isinstance(answer, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message)[:8000] if message else ""


def _token_body(response: Any) -> dict[str, Any] | None:
    """The ``token`` object of an IAM answer, or ``None`` when the answer has none."""
    try:
        answer = response.json()
    except ValueError:
        return None
    token = answer.get("token", {}) if isinstance(answer, dict) else None
    return token if isinstance(token, dict) else None


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
        _FLIGHTS.clear()


# -- AK/SK request signing (SDK-HMAC-SHA256) ----------------------------------------------------
SIGNING_ALGORITHM = "SDK-HMAC-SHA256"


def _uri_encode(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="-_.~")


def canonical_request(method: str, url: str, headers: Mapping[str, str], body: bytes,
                      signed_headers: list[str]) -> str:
    """The cloud's API signing guide: method, URI (each segment decoded, then encoded,
    ending in ``/``), the encoded query sorted by name and value, the signed headers
    (lower-case names, trimmed values), their names, and the body's SHA-256."""
    import hashlib
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    # A segment is decoded before it is encoded: ``caf%C3%A9`` is ``café`` sent encoded,
    # and must not become ``caf%25C3%25A9``.
    segments = [_uri_encode(unquote(segment)) for segment in parts.path.split("/")]
    uri = "/".join(segments)
    if not uri.endswith("/"):
        uri += "/"
    # Sorted by name, then value (``port`` < ``port-x`` < ``port1``), not as whole strings.
    pairs = sorted((_uri_encode(k), _uri_encode(v))
                   for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" for k, v in pairs)
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


def signer(keys: AkSk, project_id: str) -> RequestsAuth:
    """A ``requests`` auth that signs every request with ``keys`` (see :class:`AkSkSignIn`)."""
    return RequestsAuth(AkSkSignIn(keys, project_id))


# -- the plugins --------------------------------------------------------------------------------
#: What to do when the service refuses what a sign-in sent (401, or 403 ELB.1102).
REFUSED_HINT = ("The token was refused: IAM tokens expire after 24 hours. Sign in with "
                "credentials that renew themselves (elb:userName and secret elb:password, or "
                "elb:accessKey and secret elb:secretKey, or elb:cloud), or set a fresh token "
                "with `pulumi config set --secret elb:token ...` and run `pulumi up`: refresh "
                "and destroy use the config stored by the last `pulumi up`, so they do not see "
                "a token set since then")


def set_header(request: Any, name: str, value: str) -> None:
    """A header set on a prepared request, checked as ``requests`` checks the ones it
    prepares itself (an auth's headers come after that check): a value that cannot be sent
    raises ``InvalidHeader`` before anything is sent."""
    from requests.utils import check_header_validity

    check_header_validity((name, value))
    request.headers[name] = value


class SignIn(ABC):
    """One way to sign in to the ELB API; one object per client, safe across threads."""

    #: Advice appended to an error when the service refuses what this sign-in sent.
    refused_hint: str = REFUSED_HINT

    @abstractmethod
    def sign(self, request: Any) -> None:
        """Put the credentials on a prepared ``requests`` request (headers only)."""

    def renew(self, refused: Any = None) -> bool:
        """The service refused the credentials ``refused`` (the prepared request that got
        a 401) carried: get fresh ones if this method can. ``True`` when the call is worth
        one more try."""
        return False

    def secrets(self) -> list[str]:
        """Every secret this sign-in has held, to be removed from any message."""
        return []

    def target(self) -> tuple[str | None, str | None]:
        """The ELB endpoint and project this sign-in learned (a token's catalog), if any."""
        return None, None


class TokenSignIn(SignIn):
    """A ready IAM token, sent as ``X-Auth-Token``; it cannot renew itself."""

    def __init__(self, token: str) -> None:
        self._token = token

    def sign(self, request: Any) -> None:
        set_header(request, "X-Auth-Token", self._token)

    def secrets(self) -> list[str]:
        return [self._token]


class PasswordSignIn(SignIn):
    """An IAM user: a token fetched on first use (shared in the process), renewed after a
    401. The first token is fetched here, so the endpoint and project are known at once."""

    def __init__(self, auth: PasswordAuth, *, timeout: float | tuple[float, float],
                 verify_tls: bool | str = True) -> None:
        self._tokens = PasswordTokens(auth, timeout=timeout, verify_tls=verify_tls)
        self._lock = threading.Lock()
        self._token = self._tokens.current()
        self._seen = [*auth.secrets(), self._token.value, *self._token.related]
        self.refused_hint = (
            f"IAM signed in user {auth.user_name!r}, but the ELB service refused the token "
            "even after a fresh sign-in: the user may have no ELB permission (role) in the "
            "project, or the endpoint is another region's (check elb:endpoint or elb:region "
            f"and the project; the settings came from: {auth.origin})")

    def sign(self, request: Any) -> None:
        set_header(request, "X-Auth-Token", self._token.value)

    def renew(self, refused: Any = None) -> bool:
        headers = getattr(refused, "headers", None) or {}
        token = self._tokens.renew(headers.get("X-Auth-Token") or self._token.value)
        with self._lock:
            self._token = token
            self._seen += [token.value, *token.related]
        return True

    def secrets(self) -> list[str]:
        with self._lock:
            return list(self._seen)

    def target(self) -> tuple[str | None, str | None]:
        return self._token.elb_endpoint, self._token.project_id or None


class AkSkSignIn(SignIn):
    """An access key pair: every request signed (``X-Sdk-Date``, the project in
    ``X-Project-Id``, a temporary key's token in ``X-Security-Token``)."""

    refused_hint = ("The ELB service refused the request's signature: check the access key "
                    "and its secret key (elb:accessKey, secret elb:secretKey, or OS_ACCESS_KEY"
                    ", OS_SECRET_KEY), that the key belongs to this project, that this "
                    "machine's clock is right (X-Sdk-Date may be at most 15 minutes off), and "
                    "for temporary keys that secret elb:securityToken is set and current")

    def __init__(self, keys: AkSk, project_id: str) -> None:
        self._keys = keys
        self._project_id = project_id

    def sign(self, request: Any) -> None:
        import time as _time
        from urllib.parse import urlsplit

        url = request.url or ""
        request.headers.pop("X-Auth-Token", None)
        request.headers["Host"] = urlsplit(url).netloc
        request.headers["X-Sdk-Date"] = _time.strftime("%Y%m%dT%H%M%SZ", _time.gmtime())
        request.headers["X-Project-Id"] = self._project_id
        if self._keys.security_token:
            set_header(request, "X-Security-Token", self._keys.security_token)
        signed = {name: request.headers[name] for name in (
            "Host", "X-Sdk-Date", "X-Project-Id", "X-Security-Token", "Content-Type")
            if name in request.headers}
        body = request.body or b""
        request.headers["Authorization"] = authorization(
            self._keys.access_key, self._keys.secret_key, request.method or "GET", url, signed,
            body.encode() if isinstance(body, str) else bytes(body))

    def secrets(self) -> list[str]:
        return [s for s in (self._keys.secret_key, self._keys.security_token) if s]


class RequestsAuth:
    """A sign-in plugin as ``requests`` calls an auth: once per prepared request (any
    callable will do, so this module needs no ``requests`` import)."""

    def __init__(self, sign_in: SignIn) -> None:
        self.sign_in = sign_in

    def __call__(self, request: Any) -> Any:
        self.sign_in.sign(request)
        return request
