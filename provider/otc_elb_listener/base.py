"""What every provider of this package shares: settings read in the provider host (never
pickled), the HTTP client built on first use, the tuning knobs that are pickled, and the
first line the CLI shows for an error.

Everything the provider object holds when the program constructs a resource is pickled into
state, so it holds only tuning knobs; endpoint, project and credentials are read in
``configure()`` inside the provider host. Subclasses are pickled by their own module path
(``otc_elb_listener.listener.ListenerProvider``), which must never change.
"""

from __future__ import annotations

import calendar
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import pulumi.dynamic as dyn
from pulumi.output import Unknown

from .errors import ConfigError, ElbApiError, ElbListenerError
from .report import PartialState, fail_in_one_line, report
from .rules.machinery import UNKNOWN
from .settings import RetrySettings, checked_endpoint, resolve_settings
from .waiting import JOB_TIMEOUT_RULE, job_timeout_problem

if TYPE_CHECKING:
    from .client import ElbClient

PROVIDER_KEY = "__provider"
#: Seconds to connect and to read, unless a provider is given others.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
#: Seconds a live object ``check`` read stays good for ``create`` in the same pass.
LIVE_FOR = 60.0
#: The ``elb:*`` stack config keys the provider reads (in the host, never pickled).
CONFIG_KEYS = ("cloud", "endpoint", "projectId", "projectName", "token", "region", "insecure",
               "cacert",
               "authUrl", "userName", "password", "domainName", "accessKey", "secretKey",
               "securityToken", "jobTimeout", "statusTimeout", "agencyName",
               "agencyDomainName", "agencyDomainId", "delegatedProject", "passcode", "userId")
#: Seconds a wait for the service may take unless ``elb:jobTimeout`` (a member's job) or
#: ``elb:statusTimeout`` (a listener becoming ACTIVE) says otherwise.
DEFAULT_WAIT = 600.0


def _warn_unknown_keys(req: dyn.ConfigureRequest) -> None:
    """Warn of every ``elb:*`` key the provider does not read (a typo, ``elb:endpont``, would
    otherwise pass silently until ``up``), naming the nearest valid key."""
    import difflib

    # The SDK's Config has no public way to list its keys: its ``_props`` is the whole stack
    # config as the engine sent it.
    given = getattr(req.config, "_props", None) or {}
    for key in sorted(k for k in given if isinstance(k, str) and k.startswith("elb:")):
        name = key.split(":", 1)[1]
        if name in CONFIG_KEYS:
            continue
        near = difflib.get_close_matches(name, CONFIG_KEYS, n=1, cutoff=0.6)
        advice = f"did you mean elb:{near[0]}?" if near else \
            f"the settings are {', '.join(f'elb:{k}' for k in CONFIG_KEYS)}"
        report(f"config {key} is not a setting of this provider and is ignored ({advice})")


def is_unknown(value: Any) -> bool:
    """Is the value, or anything inside it (``certificates=[cert.id]``), unknown until
    ``up``? Such a value is never judged, and always counts as a change."""
    if isinstance(value, Unknown) or value is UNKNOWN:
        return True
    if isinstance(value, (list, tuple)):
        return any(is_unknown(item) for item in value)
    if isinstance(value, dict):
        return any(is_unknown(item) for item in value.values())
    return False



def made_since(obj: Mapping[str, Any], began: float) -> bool:
    """Was ``obj`` created at or after ``began`` (epoch seconds), by its ``create_time``
    (``2026-12-04 15:00:00`` UTC, whole seconds: a second's slack)? An unreadable time
    proves nothing: ``False``."""
    try:
        made = calendar.timegm(time.strptime(str(obj.get("create_time")), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return False
    return made >= int(began) - 1


_Method = TypeVar("_Method", bound=Callable[..., Any])


def headline_first(method: _Method) -> _Method:
    """A failure of ``method`` reaches the user as one line: what was being done, to which
    object, the service's code and message and the hint; no Python traceback, no chained
    exception (:func:`~.report.fail_in_one_line`; ``OTC_ELB_TRACEBACK=1`` shows it). A
    :class:`~.report.PartialState` failure also hands the engine the state to record."""

    @functools.wraps(method)
    def wrapper(provider: ElbProvider, *args: Any) -> Any:
        failure: ElbApiError | ConfigError | None = None
        partial: PartialState | None = None
        try:
            return method(provider, *args)
        except PartialState as error:
            partial = error
            failure = error.error if isinstance(error.error, (ElbApiError, ConfigError)) \
                else ElbApiError("update", error.object_id, None, None, str(error),
                                kind=provider.kind)
        except (ElbApiError, ConfigError) as error:
            failure = error
        fields = failure.fields() if isinstance(failure, ElbApiError) else {
            "operation": "configure", "kind": "settings", "object": None, "status": None,
            "code": None}
        fail_in_one_line(str(failure), fields, partial)
        raise failure from ElbListenerError(str(failure))

    return cast(_Method, wrapper)


class ElbProvider(dyn.ResourceProvider):
    """The shared part of every provider here: a target, a timeout and a retry budget."""

    #: The pickled provider holds no credential by design (only tuning knobs and target
    #: selectors; see ``__getstate__``), so it is stored as plain text, not encrypted twice
    #: per resource; Pulumi still makes it a secret when a secret Output went into it.
    serialize_as_secret_always = False

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 retry: RetrySettings | None = None, *, cloud: str | None = None,
                 region: str | None = None, project_id: str | None = None,
                 project_name: str | None = None, endpoint: str | None = None) -> None:
        """``timeout``: seconds to connect and to read (one number for both); ``retry``: the
        retry budget. ``cloud``, ``region``, ``project_id``, ``project_name`` and
        ``endpoint`` select this provider's target (a ``clouds.yaml`` entry, a region, a
        project), over the stack config, like ``aws.Provider(region=...)``: one stack, many
        projects and regions. All of these are pickled into state; they are not secrets, and
        credentials are resolved in the provider host."""
        super().__init__()
        self.timeout = timeout
        self.retry = retry or RetrySettings()
        self.target = {key: value for key, value in (
            ("cloud", cloud), ("region", region), ("projectId", project_id),
            ("projectName", project_name), ("endpoint", endpoint)) if value is not None}
        self._runtime_init()

    def _runtime_init(self) -> None:
        self._config: dict[str, Any] = {}
        self._client: ElbClient | None = None
        self._lock = threading.Lock()
        #: Live listeners ``check`` read for a takeover, for ``create`` in the same pass.
        self._live: dict[str, tuple[float, dict[str, Any]]] = {}

    # Only the tuning knobs are pickled into state; never config, token, session or lock.
    # And only those that differ from the defaults: the blob is stored twice per resource
    # (inputs and outputs) and the file backend rewrites the whole checkpoint after every
    # step, so a plain provider pickles as its class name and one flag (~110 characters of
    # base64, not 360).
    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {"v": 2}  # never empty: pickle skips __setstate__ for {}
        if self.timeout != DEFAULT_TIMEOUT:
            state["timeout"] = self.timeout
        if self.retry != RetrySettings():
            state["retry"] = self.retry
        if self.target:
            state["target"] = self.target
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Also reads the states pickled before (``timeout`` and ``retry`` always there)."""
        self.timeout = state.get("timeout", DEFAULT_TIMEOUT)
        self.retry = state.get("retry") or RetrySettings()
        self.target = dict(state.get("target") or {})
        self._runtime_init()

    @headline_first
    def configure(self, req: dyn.ConfigureRequest) -> None:
        """Read ``elb:*`` from the stack config (called once in the provider host). A
        malformed ``elb:endpoint`` (or provider ``endpoint=``) fails here, at the first
        moment, naming the key: not at the first request, after retries."""
        self._config = {key: req.config.get(f"elb:{key}") for key in CONFIG_KEYS}
        _warn_unknown_keys(req)
        for key in ("jobTimeout", "statusTimeout"):  # judged now, naming the key
            configured = self._config.get(key)
            if configured is None:
                continue
            try:
                seconds = float(configured)
            except (TypeError, ValueError):
                seconds = math.nan
            if job_timeout_problem(seconds) is not None:
                raise ConfigError(f"elb:{key} must be {JOB_TIMEOUT_RULE}, got "
                                  f"{str(configured)[:40]!r}")
            self._config[key] = seconds
        for source, value in (("elb:endpoint", self._config.get("endpoint")),
                              ("the provider's endpoint=", self.target.get("endpoint"))):
            if value:
                checked_endpoint(str(value), source)

    def _api(self) -> ElbClient:
        """The HTTP client, built on first use so that check/diff need no configuration."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from .client import ElbClient

                    settings = resolve_settings(self._config, os.environ, explicit=self.target)
                    self._client = ElbClient.from_settings(settings, timeout=self.timeout,
                                                           retry=self.retry)
        return self._client

    # -- taking over a live object (import_ or an adopt-by-ID input) ------------------------
    #: What this provider's objects are (as errors name them), and the input that takes
    #: one over by ID.
    kind: ClassVar[str]
    adopt_input: ClassVar[str]
    #: Fields whose values are secrets (a private key): every message that names a field's
    #: value (the takeover preview, its refusal, the adoption's PUT) shows ``***`` instead.
    secret_fields: frozenset[str] = frozenset()

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        """One GET of an object of this provider's kind (``None``: it does not exist)."""
        raise NotImplementedError

    def _remember_live(self, object_id: str, live: dict[str, Any]) -> None:
        """Keep what ``check`` read of a live object for ``create`` in the same pass."""
        with self._lock:
            self._live[object_id] = (time.monotonic(), live)

    def _live_object(self, object_id: str,
                     fetch: Callable[[], dict[str, Any] | None] | None = None
                     ) -> dict[str, Any] | None:
        """The object ``check`` just read in this pass, else one read (``fetch``, or one
        GET of ``object_id``)."""
        with self._lock:
            seen = self._live.pop(object_id, None)
        if seen is not None and time.monotonic() - seen[0] < LIVE_FOR:
            return seen[1]
        return fetch() if fetch is not None else self._fetch(object_id)

    def _call_as_kind(self, action: Callable[..., Any], *args: Any,
                      secrets: tuple[str, ...] = ()) -> Any:
        """A client call whose errors name this provider's kind (the client is shared), with
        ``secrets`` (a private key the service may echo) taken out of them."""
        # Built inside ``except``, raised after it: ``raise ... from None`` only hides the
        # unredacted error from tracebacks, it stays in ``__context__``.
        failure: ElbApiError | None = None
        try:
            return action(*args)
        except ElbApiError as error:
            failure = error.for_kind(self.kind, [s for s in secrets if s])
        raise failure

def stored(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as they go into state: without the fields that are null. A registered
    property the engine returns no value for reads ``None`` in the program all the same
    (unknown at preview, as a null is), and the file backend rewrites every resource's
    state after every step (a listener's nulls: docs/benchmarks.md, "Figures behind design
    choices")."""
    return {name: value for name, value in outputs.items() if value is not None}
