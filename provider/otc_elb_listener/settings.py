"""Provider settings: where the API is and how hard to try. Cheap to import.

The provider host imports the provider on every ``pulumi`` run, and ``preview`` never talks
to the API, so nothing here imports the HTTP stack (``requests``/``urllib3``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from .errors import ConfigError as ConfigError  # its home before errors.py had it
from .rules.machinery import ID_RE

if TYPE_CHECKING:
    from urllib3.util.retry import Retry

    from .auth import AkSk, PasswordAuth

#: Too many requests: never applied, so even a POST is sent again (after ``Retry-After``).
RATE_LIMITED = 429
#: Answers after which a POST may or may not have been applied: find out before resending.
UNCERTAIN_STATUSES = frozenset({500, 502, 503, 504})
#: Answers worth another try: rate limited (``Retry-After`` honoured) and server trouble.
RETRY_STATUSES = UNCERTAIN_STATUSES | {RATE_LIMITED}
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


#: Open Telekom Cloud's regions and the domain of their hosts (eu-ch2 is the Swiss cloud).
OTC_REGIONS: Final[Mapping[str, str]] = {"eu-de": "otc.t-systems.com",
                                         "eu-nl": "otc.t-systems.com",
                                         "eu-ch2": "sc.otc.t-systems.com"}
#: Huawei Cloud region names: ``cn-north-4``, ``ap-southeast-1``, ``la-south-2``, ...
HUAWEI_REGION = re.compile(r"[a-z]{2}-[a-z]+-[0-9]{1,2}")


def elb_endpoint_for(region: str) -> str:
    """The ELB endpoint of a region of Open Telekom Cloud or Huawei Cloud; a clear error for a
    name that is neither."""
    if region in OTC_REGIONS:
        return f"https://elb.{region}.{OTC_REGIONS[region]}"
    if HUAWEI_REGION.fullmatch(region):
        return f"https://elb.{region}.myhuaweicloud.com"
    raise ConfigError(f"elb:region (or OS_REGION_NAME) {region!r} is not a region of Open "
                      f"Telekom Cloud ({', '.join(OTC_REGIONS)}) or Huawei Cloud (like "
                      "cn-north-4); set elb:endpoint to the ELB endpoint instead")


#: Every way to sign in, as the missing-credentials error lists them (docs/sign-in.md).
SIGN_IN_WAYS = (
    "sign in one of four ways: (1) an access key pair: elb:accessKey and secret "
    "elb:secretKey (env OS_ACCESS_KEY, OS_SECRET_KEY); (2) an IAM user: elb:userName and "
    "secret elb:password with elb:authUrl and elb:domainName (env OS_USERNAME, OS_PASSWORD, "
    "OS_AUTH_URL, OS_USER_DOMAIN_NAME); (3) a clouds.yaml entry: elb:cloud (env OS_CLOUD); "
    "(4) a ready token: secret elb:token (env OS_AUTH_TOKEN), e.g. `pulumi config set "
    "--secret elb:token ...`")


def checked_endpoint(value: str, setting: str) -> str:
    """An endpoint URL, or a clear error naming where it came from: ``http(s)://host[:port]``
    and nothing after it but one ``/`` (the provider adds ``/v1.0/{project}/...`` itself:
    an endpoint ending in ``/v1.0`` would 404 on every call). ``http//host``, ``host:8080``,
    user information, a backslash or whitespace inside are refused here, before any request
    or retry; the URL is read as the transport reads it (:mod:`.offline`)."""
    from urllib.parse import urlsplit

    from .offline import url_problem

    text = value.strip()
    example = ("must be a URL such as https://elb.eu-de.otc.t-systems.com (http or https, a "
               "host, an optional port, nothing after it)")
    problem = url_problem(text)
    if problem is not None:  # user information may be a password: never quoted
        shown = "" if "@" in text else f", got {value[:200]!r}"
        raise ConfigError(f"{setting} {example}: {problem}{shown}")
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        raise ConfigError(f"{setting} {example}: its port is not a number, got "
                          f"{value!r}") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text \
            or "#" in text:
        raise ConfigError(f"{setting} {example}: it has a path, query or fragment "
                          f"({value!r}); the provider adds /v1.0/<project>/elbaas itself")
    return text.rstrip("/")


def _header_safe(secret: str, setting: str) -> str:
    """A secret that can travel in an HTTP header, or a clear error that names the setting
    (and never shows the secret): surrounding whitespace is dropped (a token read from a file
    ends in a newline); control characters and characters outside Latin-1 are refused."""
    for position, char in enumerate(secret):
        if ord(char) < 0x20 or ord(char) == 0x7F or ord(char) > 0xFF:
            raise ConfigError(f"{setting} has a character an HTTP header cannot carry (U+"
                              f"{ord(char):04X} at position {position + 1}); set it again "
                              "without it")
    return secret


@dataclass(frozen=True)
class Settings:
    """Where the API is and how to sign in: a ready ``token``, or ``password`` credentials
    (then ``endpoint`` and ``project_id`` may come from the token's catalog)."""

    endpoint: str | None
    project_id: str | None
    token: str | None
    verify_tls: bool | str = True
    password: PasswordAuth | None = None
    aksk: AkSk | None = None

    def __repr__(self) -> str:  # never show a secret
        how = "AK/SK" if self.aksk else "password" if self.password is not None else "token"
        return f"Settings(endpoint={self.endpoint!r}, project_id={self.project_id!r}, {how})"


def resolve_settings(config: Mapping[str, Any], environ: Mapping[str, str],
                     explicit: Mapping[str, Any] | None = None) -> Settings:
    """Each setting from the first place that has it: ``explicit`` (the provider's own
    arguments), stack config (``elb:*``), the environment (OpenStack's names), then the
    ``clouds.yaml`` entry named by ``elb:cloud`` / ``OS_CLOUD``; one clear error listing what
    is missing. Credentials that renew themselves (access keys, an IAM user) win over a
    ready token: a token stored at the last ``up`` then no longer breaks ``refresh`` and
    ``destroy`` once it expires."""
    explicit = {k: v for k, v in (explicit or {}).items() if v not in (None, "")}
    cloud_name = explicit.get("cloud") or config.get("cloud") or environ.get("OS_CLOUD")
    cloud: Mapping[str, str] = {}
    if cloud_name:
        from .clouds import load_cloud

        cloud = load_cloud(str(cloud_name), environ)

    #: Where each setting came from, in words, for hints (never a value).
    origin: dict[str, str] = {}

    def raw(key: str, *envs: str) -> Any:
        places = [("the provider's argument", explicit.get(key)), (f"elb:{key}",
                  config.get(key)), *((env, environ.get(env)) for env in envs),
                  (f"clouds.yaml cloud {cloud_name!r} ({key})", cloud.get(key))]
        for place, value in places:
            if value not in (None, ""):
                origin[key] = place
                return value
        return None

    def pick(key: str, *envs: str) -> str | None:
        value = raw(key, *envs)
        return None if value is None else str(value).strip() or None

    endpoint = pick("endpoint", "ELB_ENDPOINT")
    if endpoint is not None:
        endpoint = checked_endpoint(endpoint, "elb:endpoint (or ELB_ENDPOINT)")
    region = pick("region", "OS_REGION_NAME")
    if endpoint is None and region is not None:
        endpoint = elb_endpoint_for(region)
    project_id = pick("projectId", "OS_PROJECT_ID")
    insecure = str(raw("insecure", "ELB_INSECURE", "OS_INSECURE") or "").lower()
    # TLS trust: off with elb:insecure, else a CA bundle (elb:cacert / OS_CACERT) or the
    # system's (requests also honours REQUESTS_CA_BUNDLE)
    verify_tls: bool | str = insecure not in ("1", "true", "yes") and (
        pick("cacert", "OS_CACERT") or True)
    access = pick("accessKey", "OS_ACCESS_KEY")
    secret = raw("secretKey", "OS_SECRET_KEY")
    if access is not None or secret is not None:
        return _aksk_settings(pick, endpoint, project_id, access, secret, verify_tls)
    user, password = pick("userName", "OS_USERNAME"), raw("password", "OS_PASSWORD")
    if user is not None or password is not None:
        settings = _password_settings(pick, endpoint, project_id, user, password, verify_tls)
        assert settings.password is not None
        used = [origin[key] for key in ("userName", "password", "domainName", "projectId",
                                         "projectName") if key in origin]
        return replace(settings, password=replace(settings.password,
                                                  origin=", ".join(used)))
    return _token_settings(pick, endpoint, project_id, verify_tls)


def _token_settings(pick: Any, endpoint: str | None, project_id: str | None,
                    verify_tls: bool | str) -> Settings:
    token = pick("token", "OS_AUTH_TOKEN")
    if token is not None:
        token = _header_safe(token, "elb:token (or OS_AUTH_TOKEN)")
    missing = []
    if endpoint is None:
        missing.append("the endpoint: set config elb:endpoint (or elb:region) or env "
                       "ELB_ENDPOINT")
    if not project_id:
        missing.append("the project: set config elb:projectId or env OS_PROJECT_ID")
    if not token:
        missing.append(f"credentials: {SIGN_IN_WAYS}")
    if missing:
        raise ConfigError("ELB listener provider is not configured: " + "; ".join(missing))
    return Settings(endpoint, project_id, token, verify_tls=verify_tls)


def _aksk_settings(pick: Any, endpoint: str | None, project_id: str | None,
                   access: str | None, secret: Any, verify_tls: bool | str) -> Settings:
    from .auth import AkSk

    missing = [what for what, value in (
        ("the access key: config elb:accessKey or env OS_ACCESS_KEY", access),
        ("the secret key: secret config elb:secretKey or env OS_SECRET_KEY", secret),
        ("the project: config elb:projectId or env OS_PROJECT_ID (signed requests carry it)",
         project_id),
        ("the endpoint: config elb:endpoint or elb:region (or env ELB_ENDPOINT, "
         "OS_REGION_NAME)", endpoint)) if not value]
    if missing:
        raise ConfigError("ELB listener provider: AK/SK sign-in is incomplete, missing " +
                          "; ".join(missing))
    assert access is not None
    security_token = pick("securityToken", "OS_SECURITY_TOKEN")  # temporary keys only
    if security_token is not None:
        security_token = _header_safe(security_token, "elb:securityToken (or "
                                      "OS_SECURITY_TOKEN)")
    return Settings(endpoint, project_id, None, verify_tls=verify_tls, aksk=AkSk(
        access, _header_safe(str(secret).strip(), "elb:secretKey (or OS_SECRET_KEY)"),
        security_token))


def _password_settings(pick: Any, endpoint: str | None, project_id: str | None,
                       user: str | None, password: Any, verify_tls: bool | str) -> Settings:
    from .auth import PasswordAuth

    auth_url = pick("authUrl", "OS_AUTH_URL")
    domain = pick("domainName", "OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")
    project_name = pick("projectName", "OS_PROJECT_NAME")
    agency = _agency(pick)
    missing = [what for what, value in (
        ("the user: config elb:userName or env OS_USERNAME", user),
        ("the password: secret config elb:password or env OS_PASSWORD", password),
        ("the IAM endpoint: config elb:authUrl or env OS_AUTH_URL (e.g. "
         "https://iam.eu-de.otc.t-systems.com/v3)", auth_url),
        ("the account (domain): config elb:domainName or env OS_USER_DOMAIN_NAME", domain),
        ("the project: config elb:projectId or elb:projectName (or env OS_PROJECT_ID, "
         "OS_PROJECT_NAME), or an agency's elb:delegatedProject",
         project_id or project_name or agency)) if not value]
    if missing:
        raise ConfigError("ELB listener provider: IAM password sign-in is incomplete, "
                          "missing " + "; ".join(missing))
    assert user is not None and auth_url is not None and domain is not None
    secret = _header_safe(str(password).strip(), "elb:password (or OS_PASSWORD)")
    passcode = pick("passcode", "OS_PASSCODE")
    if agency is not None and project_id is None and ID_RE.fullmatch(agency.project):
        project_id = agency.project  # the delegated project, by ID
    return Settings(endpoint, project_id, None, verify_tls=verify_tls, password=PasswordAuth(
        auth_url, user, secret, domain, project_id, project_name, agency=agency,
        passcode=passcode, user_id=pick("userId", "OS_USER_ID")))


def _agency(pick: Any) -> Any:
    """The agency to reach another account's project through (``elb:agencyName``, its
    account ``elb:agencyDomainName`` or ``elb:agencyDomainId``, ``elb:delegatedProject``),
    or ``None``; one clear error when it is given in part."""
    from .auth import Agency

    name = pick("agencyName", "OS_AGENCY_NAME")
    domain_name = pick("agencyDomainName", "OS_AGENCY_DOMAIN_NAME")
    domain_id = pick("agencyDomainId", "OS_AGENCY_DOMAIN_ID")
    project = pick("delegatedProject", "OS_DELEGATED_PROJECT")
    if not any((name, domain_name, domain_id, project)):
        return None
    missing = [what for what, value in (
        ("the agency: config elb:agencyName or env OS_AGENCY_NAME", name),
        ("the delegating account: config elb:agencyDomainName or elb:agencyDomainId (or env "
         "OS_AGENCY_DOMAIN_NAME, OS_AGENCY_DOMAIN_ID)", domain_name or domain_id),
        ("the delegated project (its name or ID): config elb:delegatedProject or env "
         "OS_DELEGATED_PROJECT", project)) if not value]
    if missing:
        raise ConfigError("ELB listener provider: agency sign-in is incomplete, missing "
                          + "; ".join(missing))
    assert name is not None and project is not None
    return Agency(name, domain_name, domain_id, project)


@dataclass(frozen=True)
class RetrySettings:
    """How hard to try: up to 4 retries on urllib3's schedule (the first at once, then
    ``backoff_factor * 2**(n-1)`` seconds plus up to ``backoff_jitter``, capped at
    ``backoff_max``; a longer ``Retry-After`` wins up to that cap), within ``deadline``."""

    retries: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    backoff_jitter: float = 0.25
    #: Total time budget for one call, retries and waits included.
    deadline: float = 60.0

    def policy(self) -> Retry:
        from urllib3.util.retry import Retry  # imported only when the API is used

        return Retry(total=self.retries, connect=self.retries, read=self.retries,
                     status=self.retries, other=0, redirect=0,
                     # every verb; a POST that may have been applied is resent only after
                     # the client found out it was not (ElbClient's look_first)
                     allowed_methods=None,
                     status_forcelist=RETRY_STATUSES, backoff_factor=self.backoff_factor,
                     backoff_max=self.backoff_max, backoff_jitter=self.backoff_jitter,
                     respect_retry_after_header=True, raise_on_status=False)
