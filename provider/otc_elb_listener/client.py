"""ElbClient: the listener API over one ``requests.Session``, with timeouts and one retry
policy for every verb.

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

import builtins
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from . import offline, spec
from .auth import AkSkSignIn, PasswordSignIn, RequestsAuth, SignIn, TokenSignIn
from .errors import MESSAGE_LIMIT, ConfigError, ElbApiError, redact
from .settings import IDEMPOTENT_METHODS, RATE_LIMITED, RetrySettings, Settings

__all__ = ["ElbApiError", "ElbClient", "RetrySettings"]

USER_AGENT = "otc-elb-listener-pulumi/0.1"
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


class ElbClient:
    """Synchronous client for ``/v1.0/{project_id}/elbaas/listeners``; safe across threads."""

    def __init__(self, endpoint: str, project_id: str, sign_in: SignIn | str, *,
                 timeout: float | tuple[float, float] = (10.0, 60.0),
                 retry: RetrySettings | None = None, verify_tls: bool | str = True) -> None:
        """``sign_in``: a :class:`~.auth.SignIn` plugin, or a ready token."""
        self.base = f"{endpoint.rstrip('/')}/v1.0/{project_id}/elbaas/listeners"
        self.sign_in = TokenSignIn(sign_in) if isinstance(sign_in, str) else sign_in
        self.timeout = timeout
        self.retry = retry or RetrySettings()
        self.verify_tls = verify_tls
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()
        self._environments: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | tuple[float, float],
                      retry: RetrySettings) -> ElbClient:
        """The client for resolved settings, with the sign-in plugin they call for."""
        sign_in: SignIn
        if settings.aksk is not None:
            assert settings.project_id is not None
            sign_in = AkSkSignIn(settings.aksk, settings.project_id)
        elif settings.password is not None:
            sign_in = PasswordSignIn(settings.password, timeout=timeout,
                                     verify_tls=settings.verify_tls)
        else:
            assert settings.token is not None
            sign_in = TokenSignIn(settings.token)
        learned_endpoint, learned_project = sign_in.target()
        endpoint = settings.endpoint or learned_endpoint
        if endpoint is None:
            raise ConfigError("ELB listener provider: the IAM token's catalog lists no ELB "
                              "endpoint; set config elb:endpoint (or elb:region)")
        project_id = settings.project_id or learned_project
        assert project_id is not None
        offline.guard(endpoint, "the ELB endpoint")
        return cls(endpoint, project_id, sign_in, timeout=timeout, retry=retry,
                   verify_tls=settings.verify_tls)

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("ElbClient holds a token and must not be pickled")

    def collection(self, name: str) -> ElbClient:
        """A client for another collection of the same project (``healthcheck``), sharing
        this one's sign-in, session and retry policy."""
        other = ElbClient.__new__(ElbClient)  # not copy.copy: a client refuses pickling
        other.__dict__.update(self.__dict__)
        other.base = f"{self.base.rsplit('/elbaas/', 1)[0]}/elbaas/{name}"
        return other

    @property
    def session(self) -> requests.Session:
        """One session per client, made on first use (the host calls from several threads)."""
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
        one is configured), read once per scheme and host: requests reads it on every call,
        walking the whole environment twice, a quarter of a call's time."""
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
        without its merging of per-request settings this client never passes: requests
        2.34 checks each merged setting against runtime protocols, a sixth of a GET's CPU
        time, on every call of a refresh."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, headers=dict(session.headers), json=body,
                         params=params, auth=session.auth, cookies=session.cookies)
        # Never redirected: the ELB API does not redirect, and requests would carry
        # X-Auth-Token to any host a 3xx names (it strips only Authorization).
        return session.send(prepared, timeout=self.timeout, allow_redirects=False,
                            **self._environment(url))

    def _redact(self, text: str) -> str:
        """The text without any secret of the sign-in, in any form :func:`redact` knows."""
        return redact(text, self.sign_in.secrets())

    def _call(self, operation: str, method: str, listener_id: str | None,
              body: Any = None, params: Mapping[str, Any] | None = None,
              gone_ok: bool = False, look_first: LookFirst | None = None,
              url: str | None = None) -> requests.Response:
        """Send one logical request (to ``url``, else the collection's), retried per
        policy; the final response. A POST whose outcome is uncertain is resent only after
        ``look_first`` found it was not applied; without ``look_first``, never."""
        if listener_id is not None and not spec.ID_RE.fullmatch(listener_id):
            raise ElbApiError(operation, listener_id[:64], None, None,
                              "a listener ID is 32 lowercase hex characters")
        url = url or (self.base if listener_id is None else f"{self.base}/{listener_id}")
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
                raise ElbApiError(operation, listener_id, None, None, self._redact(
                    f"the request could not be built ({unbuilt}); check the provider "
                    "settings"))
            if unanswered is not None:
                policy = self._after_no_answer(policy, unanswered, operation, method, url,
                                               listener_id, look_first)
                unanswered = None
                self._wait(policy, None, deadline, operation, listener_id)
                continue
            self._refuse_redirect(operation, response, listener_id)
            if response.status_code == 401 and not renewed and \
                    self.sign_in.renew(response.request):
                renewed = True  # expired or revoked: renewed once, then once again
                continue
            if gone_ok and response.status_code == 503 and \
                    _error_body(response)[0] == GONE_ON_DELETE:
                return response
            if not policy.is_retry(method, response.status_code,
                                   "Retry-After" in response.headers):
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
                self._look_first(look_first, self._error(operation, response, listener_id))
            self._wait(policy, response, deadline, operation, listener_id)

    @staticmethod
    def _refuse_redirect(operation: str, response: requests.Response,
                         listener_id: str | None) -> None:
        """A 3xx ends the call (see :meth:`_send`), naming the host it points to."""
        if 300 <= response.status_code < 400:
            raise ElbApiError(operation, listener_id, response.status_code, None,
                              offline.redirect_refusal(response.headers.get("Location"),
                                                       "the ELB API"))

    def _after_no_answer(self, policy: Retry, error: requests.RequestException,
                         operation: str, method: str, url: str, listener_id: str | None,
                         look_first: LookFirst | None) -> Retry:
        """The policy after a request that got no answer, or the error that ends the call."""
        failure = _as_urllib3_error(error)
        sent = not isinstance(failure, ConnectTimeoutError)
        lost = None
        if sent and method not in IDEMPOTENT_METHODS:
            lost = ElbApiError(operation, listener_id, None, None, self._redact(
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
            text = (f"no answer from {self.base.split('/v1.0/')[0]} ({type(error).__name__} "
                    f"after {self.retry.retries} retries: {error})")
            raise lost or ElbApiError(operation, listener_id, None, None, self._redact(text),
                                      unanswered=sent)
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
              operation: str, listener_id: str | None) -> None:
        pause = policy.get_backoff_time()
        if response is not None and policy.respect_retry_after_header:
            # Read here, not by urllib3: it raises on a header it cannot parse (``soon``,
            # ``1.5``); such a header is ignored and the normal schedule kept.
            pause = max(pause, _retry_after(response) or 0)
        pause = min(pause, self.retry.backoff_max)
        if time.monotonic() + pause > deadline:
            raise ElbApiError(operation, listener_id, None, None, f"gave up after "
                              f"{self.retry.deadline:.0f} s of retries")
        if pause > 0:
            time.sleep(pause)

    def _error(self, operation: str, response: requests.Response,
               listener_id: str | None) -> ElbApiError:
        code, message = _error_body(response)
        refused = response.status_code == 401 or code == "ELB.1102"
        return ElbApiError(operation, listener_id, response.status_code, code,
                           self._redact(message), self.sign_in.refused_hint if refused else None,
                           retry_after=_retry_after(response))

    def _json(self, operation: str, response: requests.Response, listener_id: str | None,
              shape: type | tuple[type, ...] = dict) -> Any:
        """The answer's JSON, of the ``shape`` the call expects; an error answer is its
        :class:`ElbApiError`, and so is an answer that is not JSON of that shape (an HTML
        page, a list where an object belongs, ``null``, a truncated body): one line naming
        what came, holding no part of the body."""
        if response.status_code >= 300:
            raise self._error(operation, response, listener_id)
        problem = None
        try:
            found = response.json()
        except ValueError:  # JSONDecodeError keeps the whole body: never raised from here
            text = response.text.lstrip()[:1]
            found, problem = None, "an HTML page" if text == "<" else "a body that is not JSON"
        if problem is None and not isinstance(found, shape):
            problem = f"JSON {type(found).__name__ if found is not None else 'null'}"
        if problem is not None:
            wanted = " or ".join(_SHAPES.get(kind, kind.__name__) for kind in (
                shape if isinstance(shape, tuple) else (shape,)))
            raise ElbApiError(operation, listener_id, response.status_code, None,
                              f"the service answered {problem} where {wanted} belongs")
        return found

    # -- the API -------------------------------------------------------------------------
    def create(self, body: Mapping[str, Any],
               look_first: LookFirst | None = None) -> dict[str, Any]:
        """POST a listener. With ``look_first``, a POST whose outcome is uncertain is resent
        (on the common schedule) only when ``look_first`` finds it was not applied, and what
        it finds applied is the answer; without it, such a POST raises."""
        try:
            response = self._call("create", "POST", None, body=body, look_first=look_first)
        except _Applied as applied:
            return applied.found
        result: dict[str, Any] = self._json("create", response, None)
        return result

    def get(self, listener_id: str) -> dict[str, Any] | None:
        """The listener, or ``None`` when it does not exist (404)."""
        response = self._call("read", "GET", listener_id)
        if response.status_code == 404:
            return None
        result: dict[str, Any] = self._json("read", response, listener_id)
        return result

    def request(self, operation: str, method: str, path: str, body: Any = None,
                params: Mapping[str, Any] | None = None,
                shape: type | tuple[type, ...] = (dict, list)) -> tuple[int, Any]:
        """One call to ``path`` under the project (``/elbaas/...`` or ``/jobs/...``), retried
        per policy (a POST is never resent blindly): its status and its JSON (``None`` when
        empty). Errors other than a 4xx not-found are raised."""
        from urllib.parse import quote

        prefix = self.base.rsplit("/elbaas/", 1)[0]
        response = self._call(operation, method, None, body=body, params=params,
                              url=f"{prefix}/{quote(path, safe='/')}")
        if response.status_code >= 300 and response.status_code not in (400, 404):
            raise self._error(operation, response, None)
        if response.status_code >= 300:
            code = _error_body(response)[0]
            if code not in NOT_FOUND_CODES:
                raise self._error(operation, response, None)
            return response.status_code, None
        if not response.content:
            return response.status_code, None
        return response.status_code, self._json(operation, response, None, shape)

    def read_collection(self) -> Any:
        """The collection's answer as it is (a certificate list is an object, not a list)."""
        response = self._call("list", "GET", None)
        return self._json("list", response, None, (dict, list))

    def list(self, **filters: Any) -> list[dict[str, Any]]:
        return self.list_with_clock(**filters)[0]

    def list_with_clock(self, operation: str = "list",
                        **filters: Any) -> tuple[builtins.list[dict[str, Any]], float]:
        """The listeners, and the service's clock when it answered (its ``Date`` header, as
        epoch seconds; this machine's clock when the answer has none)."""
        response = self._call(operation, "GET", None, params=filters)
        result: builtins.list[dict[str, Any]] = self._json(operation, response, None, list)
        return result, _service_clock(response)

    def update(self, listener_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One PUT; the object as it now is. The service may answer 200 or 202 with the
        object, or 202 without a body: then the object is read once (docs/engines.md,
        "What each command does")."""
        response = self._call("update", "PUT", listener_id, body=body)
        if response.status_code == 202 and not response.content.strip():
            found = self.get(listener_id)
            if found is None:
                raise ElbApiError("update", listener_id, 404, None, "the service accepted "
                                  "the PUT (202) but the object is gone")
            return found
        result: dict[str, Any] = self._json("update", response, listener_id)
        return result

    def delete(self, listener_id: str) -> bool:
        """Delete; ``False`` when it was already gone (404, or 503 ``ELB.6002``)."""
        response = self._call("delete", "DELETE", listener_id, gone_ok=True)
        if response.status_code == 404 or (response.status_code == 503 and
                                           _error_body(response)[0] == GONE_ON_DELETE):
            return False
        if response.status_code >= 300:
            self._json("delete", response, listener_id)  # raises ElbApiError
        return True
