"""The fake's control plane, ``/_fake/*``: one implementation of each call, transport-free.

Both transports route ``/_fake/*`` here through :meth:`ElbApi.handle`, so the in-process fake
answers the control plane exactly as the server does, and the typed clients
(:class:`fake_elb.FakeControl`) send the same requests to either. No auth, not journaled, no
faults: the control plane is the test's, not the service's.

``POST reset`` · ``POST loadbalancers`` {project_id, type?, id?} · ``POST certificates``
{project_id, id?} · ``POST listeners`` {project_id, listener, id?, create_time?, status?}
(an existing listener) · ``POST listeners/update`` {project_id, id, changes} and ``POST
listeners/delete`` {project_id, id} (changes out of band, not journaled) · ``POST
healthchecks`` {project_id, healthcheck, id?, create_time?} (an existing one) · ``POST
servers`` {project_id, server_id, address, name} (an ECS) · ``POST members/health``
{project_id, member_id, health_status} (NORMAL, ABNORMAL, UNAVAILABLE, or null) ·
``POST jobs`` {duration?, next?, empty_members_as_object?} · ``POST answers`` {put:
"200"|"202"|"202-empty"} · ``POST transitions`` {create?, update? (seconds), end?: ACTIVE|ERROR}
· ``POST users`` {domain, name,
password, project_id, project_name, passcode?} · ``POST agencies`` {domain, name,
trusted_domain, project_id, project_name} · ``POST users/delete`` {domain, name} (their tokens
revoked) · ``POST credentials`` {access, secret, project_id, security_token?} · ``POST
strict`` {strict} · ``POST tokens`` {tokens} · ``GET requests`` ·
``GET|POST|DELETE faults`` · ``GET state`` (the estate as JSON) · ``POST state`` (replace
it with one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from .errors import ApiError
from .faults import FaultRule, Faults
from .http import HttpResponse, error_response, json_response, parse_json_body
from .store import FakeElbState

CONTROL_PREFIX = "/_fake/"
_NO_CONTENT = HttpResponse(204, b"", {})
_Handler = Callable[[Any], HttpResponse]


def _refuse_foreign(headers: Mapping[str, str], body: bytes | str | None) -> None:
    """The control plane answers tests, never a web page (docs/fake.md, "Control plane"): a
    request with an ``Origin`` other than the fake's own (a browser's cross-site request,
    DNS rebinding) is refused with 403, and a body that is not declared JSON (a form or
    ``text/plain`` POST, which a page may send without asking) with 415."""
    lowered = {name.lower(): value for name, value in headers.items()}
    origin = lowered.get("origin")
    if origin is not None:
        own = lowered.get("host")
        if own is None or origin.split("://", 1)[-1].rstrip("/").lower() != own.lower():
            raise ApiError(403, "ELB.1001", "the control plane refuses requests from another "
                           "origin (a web page); call it from a test or curl")
    if body:
        kind = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise ApiError(415, "ELB.1001", "the control plane takes a JSON body: send "
                           "Content-Type: application/json (curl -H 'Content-Type: "
                           f"application/json'), got {kind[:60] or 'none'!r}")


def _object(args: Any) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise ApiError(400, "ELB.1001", "a JSON object is mandatory")
    return args


def _nested(args: Any, name: str, shape: str) -> None:
    """A seeding call's object must come nested under ``name``: a flat body is a 400 naming
    the shape expected."""
    if not isinstance(_object(args).get(name), dict):
        raise ApiError(400, "ELB.1001", f"{name}: an object is mandatory; the body is {shape}")


def _strings(args: Any, *names: str, optional: tuple[str, ...] = ()) -> list[Any]:
    """The named members of a JSON object, each a non-empty string (``optional`` ones may be
    missing or null); 400 naming the first that is not."""
    args = _object(args)
    values: list[Any] = []
    for name in (*names, *optional):
        value = args.get(name)
        if value is None and name in optional:
            values.append(None)
            continue
        if not isinstance(value, str) or not value:
            raise ApiError(400, "ELB.1001", f"{name}: a non-empty string is mandatory")
        values.append(value)
    return values


class ControlPlane:
    """Seeds and steers one fake: its state and its fault rules."""

    def __init__(self, state: FakeElbState, faults: Faults) -> None:
        self.state = state
        self.faults = faults
        self._routes: Mapping[tuple[str, str], _Handler] = {
            ("POST", "reset"): self._reset,
            ("POST", "loadbalancers"): self._loadbalancer,
            ("POST", "certificates"): self._certificate,
            ("POST", "listeners"): self._listener,
            ("POST", "listeners/update"): self._change_listener,
            ("POST", "listeners/delete"): self._delete_listener,
            ("POST", "healthchecks"): self._healthcheck,
            ("POST", "servers"): self._server,
            ("POST", "members/health"): self._member_health,
            ("POST", "jobs"): self._jobs,
            ("POST", "answers"): self._answers,
            ("POST", "transitions"): self._transitions,
            ("GET", "state"): self._get_state,
            ("POST", "state"): self._set_state,
            ("POST", "users"): self._user,
            ("POST", "agencies"): self._agency,
            ("POST", "users/delete"): self._delete_user,
            ("POST", "credentials"): self._credential,
            ("POST", "strict"): self._strict,
            ("POST", "tokens"): self._tokens,
            ("GET", "requests"): lambda _: json_response(200, self.state.journal()),
            ("GET", "faults"): lambda _: json_response(200, [
                rule.model_dump() | {"fired": rule.fired} for rule in self.faults.rules]),
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
        }

    def handle(self, method: str, action: str, body: bytes | str | None,
               headers: Mapping[str, str] | None = None) -> HttpResponse:
        """Answer ``method /_fake/<action>``; a bad argument is a 400 with an ELB body.
        ``headers`` are those of an HTTP request (``None``: a typed client's own call):
        such a request is refused when a web page could have sent it (:func:`_foreign`)."""
        handler = self._routes.get((method, action))
        try:
            if headers is not None:
                _refuse_foreign(headers, body)
            if handler is None:
                if any(known == action for _, known in self._routes):
                    allowed = sorted(m for m, known in self._routes if known == action)
                    raise ApiError(405, "ELB.1001", f"use {' or '.join(allowed)} on "
                                   f"/_fake/{action}")
                raise ApiError(404, "ELB.8904", f"no control action {method} "
                               f"/_fake/{action[:100]}")
            needs_body = method == "POST" and action not in ("reset",)
            return handler(parse_json_body(body) if needs_body else None)
        except ApiError as error:
            return error_response(error)

    def _reset(self, _: Any) -> HttpResponse:
        self.state.reset()
        self.faults.clear()
        return _NO_CONTENT

    def _loadbalancer(self, args: Any) -> HttpResponse:
        project_id, kind, id_ = _strings(args, "project_id", optional=("type", "id"))
        return json_response(201, self.state.add_loadbalancer(
            project_id, type=kind or "External", id=id_))

    def _certificate(self, args: Any) -> HttpResponse:
        project_id, id_ = _strings(args, "project_id", optional=("id",))
        return json_response(201, self.state.add_certificate(project_id, id=id_))

    def _listener(self, args: Any) -> HttpResponse:
        _nested(args, "listener", '{"project_id": "...", "listener": {"loadbalancer_id": '
                '"...", "protocol": "HTTP", "port": 80, ...}, "id"?, "create_time"?, '
                '"status"?}')
        project_id, id_, create_time, status = _strings(
            args, "project_id", optional=("id", "create_time", "status"))
        return json_response(201, self.state.listeners.seed(
            project_id, _object(args).get("listener"), id=id_, create_time=create_time,
            status=status))

    def _healthcheck(self, args: Any) -> HttpResponse:
        _nested(args, "healthcheck", '{"project_id": "...", "healthcheck": {"listener_id": '
                '"...", ...}, "id"?, "create_time"?}')
        project_id, id_, create_time = _strings(args, "project_id",
                                                optional=("id", "create_time"))
        return json_response(201, self.state.healthchecks.create(
            project_id, _object(args).get("healthcheck"), id=id_, create_time=create_time))

    def _server(self, args: Any) -> HttpResponse:  # the members check their own arguments
        args = _object(args)
        return json_response(201, self.state.members.add_server(*(args.get(key) for key in (
            "project_id", "server_id", "address", "name"))))

    def _member_health(self, args: Any) -> HttpResponse:
        args = _object(args)
        return json_response(200, self.state.members.set_health(*(args.get(key) for key in (
            "project_id", "member_id", "health_status"))))

    def _jobs(self, args: Any) -> HttpResponse:
        args = _object(args)
        self.state.members.configure_jobs(args.get("duration"), args.get("next"),
                                          args.get("empty_members_as_object"))
        return _NO_CONTENT

    def _get_state(self, _: Any) -> HttpResponse:
        return json_response(200, self.state.dump())

    def _set_state(self, args: Any) -> HttpResponse:
        self.state.load(args)
        return _NO_CONTENT

    def _transitions(self, args: Any) -> HttpResponse:
        args = _object(args)
        self.state.listeners.set_transition(args.get("create"), args.get("update"), args.get("end"))
        return _NO_CONTENT

    def _answers(self, args: Any) -> HttpResponse:
        put = _object(args).get("put")
        if put not in ("200", "202", "202-empty"):
            raise ApiError(400, "ELB.1001", 'put: one of "200" (the object), "202" (the '
                           'object) or "202-empty" (no body), for listener and health-check '
                           "PUTs")
        with self.state.lock:
            self.state.put_answer = put
        return _NO_CONTENT

    def _change_listener(self, args: Any) -> HttpResponse:
        project_id, listener_id = _strings(args, "project_id", "id")
        return json_response(200, self.state.listeners.update(
            project_id, listener_id, _object(args).get("changes")))

    def _delete_listener(self, args: Any) -> HttpResponse:
        project_id, listener_id = _strings(args, "project_id", "id")
        self.state.listeners.delete(project_id, listener_id)
        return _NO_CONTENT

    def _user(self, args: Any) -> HttpResponse:  # the IAM checks its own arguments
        args = _object(args)
        return json_response(201, self.state.iam.add_user(*(args.get(key) for key in (
            "domain", "name", "password", "project_id", "project_name", "passcode"))))

    def _agency(self, args: Any) -> HttpResponse:
        args = _object(args)
        return json_response(201, self.state.iam.add_agency(*(args.get(key) for key in (
            "domain", "name", "trusted_domain", "project_id", "project_name"))))

    def _credential(self, args: Any) -> HttpResponse:
        args = _object(args)
        return json_response(201, self.state.iam.add_credential(*(args.get(key) for key in (
            "access", "secret", "project_id", "security_token"))))

    def _delete_user(self, args: Any) -> HttpResponse:
        args = _object(args)
        self.state.iam.remove_user(args.get("domain"), args.get("name"))
        return _NO_CONTENT

    def _strict(self, args: Any) -> HttpResponse:
        strict = _object(args).get("strict")
        if not isinstance(strict, bool):
            raise ApiError(400, "ELB.1001", "strict: true or false is mandatory")
        self.state.strict = strict
        return _NO_CONTENT

    def _tokens(self, args: Any) -> HttpResponse:
        tokens = _object(args).get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ApiError(400, "ELB.1001", "tokens: a list of strings is mandatory")
        self.state.set_tokens(tokens)
        return _NO_CONTENT

    def _add_fault(self, args: Any) -> HttpResponse:
        try:
            rule = self.faults.add(FaultRule.model_validate(args))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise ApiError(400, "ELB.1001", f"{where}: {first['msg']}") from None
        return json_response(201, rule.model_dump())

    def _clear_faults(self, _: Any) -> HttpResponse:
        self.faults.clear()
        return _NO_CONTENT
