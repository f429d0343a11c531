"""The transport under every collection of the ELB API: one ``requests.Session``, timeouts,
one retry policy for every verb, the POST look-up, redirects refused, secrets redacted, one
reader of JSON answers and one rule for "not found" (keystoneauth's ``Session``; the
collections in :mod:`.client` are its adapters).

Retries follow one urllib3 :class:`~urllib3.util.retry.Retry` policy (budget, exponential
backoff with jitter, ``Retry-After``, a deadline): 429, 5xx answers and connection failures
are retried, a 4xx never is. The policy is applied here rather than inside the adapter because
one 503 is a final answer, not a transient one: ``DELETE`` of a listener that does not exist
answers 503 ``ELB.6002``, and urllib3 cannot tell the two apart without reading the body.

The POST rule sits on top of the same policy: a POST whose outcome is uncertain (its answer
lost, or a 5xx) is never resent blindly. The caller's ``look_first`` finds out whether it was
applied; only when it was not is the POST sent again, on the common schedule. A 429 was never
applied and is simply sent again after ``Retry-After``.

Credentials live only in the sign-in plugin (:mod:`.auth`), created lazily in the provider
host and never pickled; every secret it held is removed from every error message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from . import offline
from .auth import RequestsAuth, SignIn
from .errors import MESSAGE_LIMIT, ElbApiError, NotFound, redact
from .settings import IDEMPOTENT_METHODS, RATE_LIMITED, RetrySettings


def _version() -> str:
    """The installed distribution's version: it lives in ``pyproject.toml`` only."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otc-elb-listener")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


USER_AGENT = f"otc-elb-listener-pulumi/{_version()}"
#: Failures raised while building a request, before anything is sent (a header that cannot be
#: encoded, a malformed URL): never retried, never taken for a lost answer.
LOCAL_ERRORS = (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                UnicodeError)
GONE_ON_DELETE = "ELB.6002"
#: How much of a body that is not JSON is read into an error before redaction (which then
#: runs in bounded time); the error keeps :data:`~.errors.MESSAGE_LIMIT` of it.
READ_LIMIT = 8 * MESSAGE_LIMIT
#: Answers that mean "not there" (a 404, or a 400 with a not-found code): the caller decides.
NOT_FOUND_CODES = frozenset({"ELB.8904", "ELB.2012", "ELB.2011", "ELB.7020", "ELB.5040"})
#: Finds out whether a POST with an uncertain outcome was applied: the object it made, or
#: ``None`` (not applied: send it again); raises when the answer is neither.
LookFirst = Callable[[ElbApiError], "dict[str, Any] | None"]


_SHAPES: dict[type, str] = {dict: "a JSON object", list: "a JSON list"}


class _Applied(Exception):
    """A POST with an uncertain outcome turned out to be applied: here is what it made."""

    def __init__(self, found: dict[str, Any]) -> None:
        self.found = found


def _as_urllib3_error(error: requests.RequestException) -> Exception:
    """Classify a requests failure the way urllib3's Retry understands it."""
    if isinstance(error, requests.ConnectTimeout):
        return ConnectTimeoutError(str(error))
    if isinstance(error, requests.ReadTimeout):
        return ReadTimeoutError(None, "", str(error))  # type: ignore[arg-type]
    text = str(error)
    never_sent = any(hint in text for hint in ("NewConnectionError", "Connection refused",
                                                "Failed to establish", "Name or service"))
    return ConnectTimeoutError(text) if never_sent else ProtocolError(text)


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (a number; a date is not worth parsing here); a value that
    is not a finite number of seconds >= 0 (``soon``, ``-1``) is ignored."""
    import math

    try:
        seconds = float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _service_clock(response: requests.Response) -> float:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return time.time()


def _error_body(response: requests.Response) -> tuple[str | None, str]:
    """The ELB code and message of an error answer; an answer that is not an ELB error body
    gives its text, bounded (:data:`READ_LIMIT`) but not yet cut: redaction comes first."""
    try:
        error = response.json().get("error", {})
        return error.get("code"), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return None, response.text[:READ_LIMIT]



@dataclass(frozen=True)
class Call:
    """What one logical request is about, for its errors: the operation, the kind of object
    and its ID (``None`` for a collection)."""

    operation: str
    kind: str
    object_id: str | None = None

    def error(self, status: int | None, code: str | None, message: str,
              hint: str | None = None, **more: Any) -> ElbApiError:
        return ElbApiError(self.operation, self.object_id, status, code, message, hint,
                           kind=self.kind, **more)


def is_not_found(response: requests.Response) -> bool:
    """The one rule for "not there": a 404, a 400 with a not-found code (the service's
    answer to an unknown member or listener in a members path), or the 503 ``ELB.6002`` a
    listener's DELETE gets when it is gone (docs/api-rules.md)."""
    if response.status_code == 404:
        return True
    if response.status_code not in (400, 503):
        return False
    code = _error_body(response)[0]
    return code == GONE_ON_DELETE if response.status_code == 503 else code in NOT_FOUND_CODES


class Transport:
    """One session for every collection of one project; safe across threads."""

    def __init__(self, endpoint: str, project_id: str, sign_in: SignIn, *,
                 timeout: float | tuple[float, float], retry: RetrySettings,
                 verify_tls: bool | str) -> None:
        self.endpoint = endpoint.rstrip("/")
        #: Every collection's path starts here: ``{endpoint}/v1.0/{project_id}``.
        self.prefix = f"{self.endpoint}/v1.0/{project_id}"
        self.sign_in = sign_in
        self.timeout = timeout
        self.retry = retry
        self.verify_tls = verify_tls
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()
        self._environments: dict[str, dict[str, Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("the ELB transport holds a token and must not be pickled")

    @property
    def session(self) -> requests.Session:
        """One session, made on first use (the host calls from several threads)."""
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    session = requests.Session()
                    session.headers.update({"User-Agent": USER_AGENT,
                                            "Accept": "application/json"})
                    session.auth = RequestsAuth(self.sign_in)
                    session.verify = self.verify_tls
                    session.trust_env = False  # read once per host: _environment
                    self._session = session
        return self._session

    def _environment(self, url: str) -> dict[str, Any]:
        """What requests reads from the environment for a URL (proxies, honouring
        ``NO_PROXY``; a CA bundle from ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` unless
        one is configured), read once per scheme and host: requests reads it on every call
        (docs/benchmarks.md, "Where a call's time goes")."""
        origin = "/".join(url.split("/", 3)[:3])
        found = self._environments.get(origin)
        if found is None:
            with requests.Session() as reader:
                merged = reader.merge_environment_settings(origin + "/", {}, None,
                                                           self.verify_tls, None)
            found = self._environments[origin] = {"proxies": merged["proxies"],
                                                  "verify": merged["verify"]}
        return found

    def _send(self, method: str, url: str, body: Any,
              params: Mapping[str, Any] | None) -> requests.Response:
        """One request through the session, prepared as ``Session.request`` would prepare
        it (the session's headers, cookie jar and signing auth, the JSON body, the query)
        without its merging of per-request settings this transport never passes (its cost:
        docs/benchmarks.md, "Where a call's time goes")."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, headers=dict(session.headers), json=body,
                         params=params, auth=session.auth, cookies=session.cookies)
        # Never redirected: the ELB API does not redirect, and requests would carry
        # X-Auth-Token to any host a 3xx names (it strips only Authorization).
        return session.send(prepared, timeout=self.timeout, allow_redirects=False,
                            **self._environment(url))

    def redact(self, text: str) -> str:
        """The text without any secret of the sign-in, in any form :func:`redact` knows."""
        return redact(text, self.sign_in.secrets())

    def call(self, call: Call, method: str, url: str, body: Any = None,
             params: Mapping[str, Any] | None = None,
             look_first: LookFirst | None = None) -> requests.Response:
        """Send one logical request, retried per policy; the final response. A POST whose
        outcome is uncertain is resent only after ``look_first`` found it was not applied;
        without ``look_first``, never."""
        policy, deadline = self.retry.policy(), time.monotonic() + self.retry.deadline
        renewed = False
        while True:
            # requests' exceptions hold the prepared request, token header and all: only
            # their type and redacted text go on, raised outside the handler so that no
            # ``__context__`` keeps them either.
            unbuilt: str | None = None
            unanswered: requests.RequestException | None = None
            try:
                response = self._send(method, url, body, params)
            except LOCAL_ERRORS as error:
                unbuilt = f"{type(error).__name__}: {error}"
            except requests.RequestException as error:
                unanswered = error
            if unbuilt is not None:
                # Made here, before anything was sent: it can never succeed, so no retry.
                raise call.error(None, None, self.redact(
                    f"the request could not be built ({unbuilt}); check the provider "
                    "settings"))
            if unanswered is not None:
                policy = self._after_no_answer(policy, unanswered, call, method, url,
                                               look_first)
                unanswered = None
                self._wait(policy, None, deadline, call)
                continue
            self._refuse_redirect(call, response)
            if response.status_code == 401 and not renewed and \
                    self.sign_in.renew(response.request):
                renewed = True  # expired or revoked: renewed once, then once again
                continue
            if is_not_found(response) or not policy.is_retry(
                    method, response.status_code, "Retry-After" in response.headers):
                return response
            uncertain = method not in IDEMPOTENT_METHODS and \
                response.status_code != RATE_LIMITED
            if uncertain and look_first is None:
                return response  # may have been applied: the caller gets the error
            try:
                policy = policy.increment(method, url, response=response.raw)
            except Exception:
                return response
            if uncertain:
                assert look_first is not None
                self._look_first(look_first, self.error(call, response))
            self._wait(policy, response, deadline, call)

    @staticmethod
    def _refuse_redirect(call: Call, response: requests.Response) -> None:
        """A 3xx ends the call (see :meth:`_send`), naming the host it points to."""
        if 300 <= response.status_code < 400:
            raise call.error(response.status_code, None, offline.redirect_refusal(
                response.headers.get("Location"), "the ELB API"))

    def _after_no_answer(self, policy: Retry, error: requests.RequestException, call: Call,
                         method: str, url: str, look_first: LookFirst | None) -> Retry:
        """The policy after a request that got no answer, or the error that ends the call."""
        failure = _as_urllib3_error(error)
        sent = not isinstance(failure, ConnectTimeoutError)
        lost = None
        if sent and method not in IDEMPOTENT_METHODS:
            lost = call.error(None, None, self.redact(
                f"no answer ({type(error).__name__}: {error}); not resent, as the request may "
                "have been applied"), unanswered=True)
            if look_first is None:
                raise lost
        exhausted = False
        try:
            policy = policy.increment(method, url, error=failure)
        except Exception:
            exhausted = True
        if exhausted:  # raised outside the handler: no exception chain to walk
            text = (f"no answer from {self.endpoint} ({type(error).__name__} "
                    f"after {self.retry.retries} retries: {error})")
            raise lost or call.error(None, None, self.redact(text), unanswered=sent)
        if lost is not None and look_first is not None:
            self._look_first(look_first, lost)
        return policy

    @staticmethod
    def _look_first(look_first: LookFirst, uncertain: ElbApiError) -> None:
        """Before a POST is resent: stop with what it made if it was applied after all."""
        found = look_first(uncertain)
        if found is not None:
            raise _Applied(found)

    def _wait(self, policy: Retry, response: requests.Response | None, deadline: float,
              call: Call) -> None:
        pause = policy.get_backoff_time()
        if response is not None and policy.respect_retry_after_header:
            # Read here, not by urllib3: it raises on a header it cannot parse (``soon``,
            # ``1.5``); such a header is ignored and the normal schedule kept.
            pause = max(pause, _retry_after(response) or 0)
        pause = min(pause, self.retry.backoff_max)
        if time.monotonic() + pause > deadline:
            raise call.error(None, None, f"gave up after {self.retry.deadline:.0f} s of "
                             "retries")
        if pause > 0:
            time.sleep(pause)

    def error(self, call: Call, response: requests.Response) -> ElbApiError:
        """The error an answer is: :class:`~.errors.NotFound` when it says "not there"."""
        code, message = _error_body(response)
        refused = response.status_code == 401 or code == "ELB.1102"
        kind = NotFound if is_not_found(response) else ElbApiError
        return kind(call.operation, call.object_id, response.status_code, code,
                    self.redact(message), self.sign_in.refused_hint if refused else None,
                    retry_after=_retry_after(response), kind=call.kind)

    def json(self, call: Call, response: requests.Response,
             shape: type | tuple[type, ...] = dict) -> Any:
        """The one reader of answers: the JSON of the ``shape`` the call expects (``None``
        for an empty body where ``None`` is in ``shape``); an error answer is its
        :class:`ElbApiError`, and so is an answer that is not JSON of that shape (an HTML
        page, a list where an object belongs, ``null``, a truncated body): one line naming
        what came, holding no part of the body."""
        if response.status_code >= 300:
            raise self.error(call, response)
        shapes = shape if isinstance(shape, tuple) else (shape,)
        if type(None) in shapes and not response.content.strip():
            return None
        problem = None
        try:
            found = response.json()
        except ValueError:  # JSONDecodeError keeps the whole body: never raised from here
            text = response.text.lstrip()[:1]
            found, problem = None, "an HTML page" if text == "<" else "a body that is not JSON"
        if problem is None and not isinstance(found, shapes):
            problem = f"JSON {type(found).__name__ if found is not None else 'null'}"
        if problem is not None:
            wanted = " or ".join(_SHAPES.get(kind, kind.__name__) for kind in shapes
                                 if kind is not type(None))
            raise call.error(response.status_code, None,
                             f"the service answered {problem} where {wanted} belongs")
        return found

    @staticmethod
    def clock(response: requests.Response) -> float:
        """The service's clock when it answered (its ``Date`` header, as epoch seconds;
        this machine's clock when the answer has none)."""
        return _service_clock(response)
