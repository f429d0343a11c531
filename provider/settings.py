"""Provider settings: where the API is and how hard to try. Cheap to import.

The provider host imports the provider on every ``pulumi`` run, and ``preview`` never talks
to the API, so nothing here imports the HTTP stack (``requests``/``urllib3``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({500, 503})
#: Answers after which a POST may or may not have been applied: find out before resending.
UNCERTAIN_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


class ConfigError(ValueError):
    """A setting the provider needs is missing; the message names the config key and env var."""


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


def secret_forms(secret: str) -> list[str]:
    """The ways a secret can show up in error text: raw, as ``repr`` writes it, URL-encoded."""
    from urllib.parse import quote, quote_plus

    forms = {secret, repr(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
    return sorted((form for form in forms if form), key=len, reverse=True)


@dataclass(frozen=True)
class Settings:
    endpoint: str
    project_id: str
    token: str
    verify_tls: bool = True

    def __repr__(self) -> str:  # never show the token
        return f"Settings(endpoint={self.endpoint!r}, project_id={self.project_id!r})"


def resolve_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """Stack config first (``elb:*``), then the environment; a clear error for what is missing."""

    def pick(key: str, env: str) -> str | None:
        value = config.get(key)
        if value in (None, ""):
            value = environ.get(env) or None
        return None if value is None else str(value)

    endpoint = pick("endpoint", "ELB_ENDPOINT")
    endpoint = endpoint.strip() if endpoint is not None else None
    region = pick("region", "OS_REGION_NAME")
    region = region.strip() if region is not None else None
    if endpoint is None and region is not None:
        endpoint = f"https://elb.{region}.otc.t-systems.com"
    missing = []
    if endpoint is None:
        missing.append("the endpoint: set config elb:endpoint (or elb:region) or env "
                       "ELB_ENDPOINT")
    project_id = pick("projectId", "OS_PROJECT_ID")
    project_id = project_id.strip() if project_id is not None else None
    if not project_id:
        missing.append("the project: set config elb:projectId or env OS_PROJECT_ID")
    token = pick("token", "OS_AUTH_TOKEN")
    if token is not None:
        token = _header_safe(token.strip(), "elb:token (or OS_AUTH_TOKEN)")
    if not token:
        missing.append("the token: set secret config elb:token (pulumi config set --secret "
                       "elb:token ...) or env OS_AUTH_TOKEN")
    if missing:
        raise ConfigError("ELB listener provider is not configured: " + "; ".join(missing))
    insecure = str(config.get("insecure") or environ.get("ELB_INSECURE") or "").lower()
    return Settings(str(endpoint), str(project_id), str(token),
                    verify_tls=insecure not in ("1", "true", "yes"))


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
                     # a POST answered 5xx may have been applied: the provider finds out
                     # before it sends it again, so the policy never resends one
                     allowed_methods=IDEMPOTENT_METHODS,
                     status_forcelist=RETRY_STATUSES, backoff_factor=self.backoff_factor,
                     backoff_max=self.backoff_max, backoff_jitter=self.backoff_jitter,
                     respect_retry_after_header=True, raise_on_status=False)
