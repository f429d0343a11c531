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
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


class ConfigError(ValueError):
    """A setting the provider needs is missing; the message names the config key and env var."""


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
    region = pick("region", "OS_REGION_NAME")
    if endpoint is None and region is not None:
        endpoint = f"https://elb.{region}.otc.t-systems.com"
    missing = []
    if endpoint is None:
        missing.append("the endpoint: set config elb:endpoint (or elb:region) or env "
                       "ELB_ENDPOINT")
    project_id = pick("projectId", "OS_PROJECT_ID")
    if project_id is None:
        missing.append("the project: set config elb:projectId or env OS_PROJECT_ID")
    token = pick("token", "OS_AUTH_TOKEN")
    if token is None:
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
                     allowed_methods=IDEMPOTENT_METHODS | {"POST"},
                     status_forcelist=RETRY_STATUSES, backoff_factor=self.backoff_factor,
                     backoff_max=self.backoff_max, backoff_jitter=self.backoff_jitter,
                     respect_retry_after_header=True, raise_on_status=False)
