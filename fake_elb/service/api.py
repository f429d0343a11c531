"""HTTP semantics of the fake ELB API, with no HTTP library inside.

``ElbApi.handle(method, path, query, headers, body)`` turns one request into one
:class:`HttpResponse`. Both transports (``responses`` in-process, the real server) call it, so
routing, auth, body parsing, error bodies and the journal are the same in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from otc_elb_listener import rules
from otc_elb_listener.rules.machinery import INVALID

from .control import CONTROL_PREFIX, ControlPlane
from .errors import ApiError
from .faults import FaultRule, Faults
from .http import (
    MAX_BODY_BYTES,
    HttpResponse,
    body_too_large,
    error_response,
    header,
    json_response,
    parse_json_body,
)
from .routes import ROUTES, Route, loose_project, refuse_unrouted, route_for
from .signing import check_signature
from .store import FakeElbState

__all__ = ["MAX_BODY_BYTES", "ElbApi", "HttpResponse", "body_too_large", "error_response",
           "json_response", "parse_json_body"]


class _Request(NamedTuple):
    """One routed request, as a handler gets it: its route, the project, the IDs in its
    path, the query, the raw body, and where the parsed body goes for the journal. A tuple:
    it is made on every call, and a frozen dataclass cost a tenth of the fake's own time
    per PUT."""

    route: Route
    project: str
    ids: Mapping[str, str]
    #: The ID of the object the path names (its last), or ``""`` on a collection's path.
    item: str
    query: str
    raw_body: bytes | str | None
    parsed: list[Any]

    def filters(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)


Handler = Callable[[_Request], HttpResponse]


#: Keystone v3's token endpoint, served by the fake's IAM on the same host.
IAM_TOKENS = "/v3/auth/tokens"


class ElbApi:
    """Routes ELB API calls (:mod:`.routes`) to the state's collections and journals every
    one of them."""

    def __init__(self, state: FakeElbState, base_url: str = "") -> None:
        self.state = state
        self.faults = Faults()
        #: ``/_fake/*``: seeding, faults, strict mode, the journal (no auth, not journaled).
        self.control = ControlPlane(state, self.faults)
        #: Where this fake answers: the ELB endpoint in the IAM token's catalog.
        self.base_url = base_url
        #: Each object collection's route group to the state's collection, the group in
        #: the plural (``healthcheck`` -> ``state.healthchecks``).
        self._collections = {route.group: getattr(state, route.group + "s")
                             for route in ROUTES if any(
                                 h.endswith(("_object", "_objects"))
                                 for h in route.handlers.values())}

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes | str | None) -> HttpResponse:
        """Answer one request; every call, rejected and faulted ones included, goes into the
        journal. A fault that is not ``status`` comes back in ``response.fault`` for the
        transport to act out (drop the connection, time out, answer late)."""
        if path.startswith(CONTROL_PREFIX):
            return self.control.handle(method, path[len(CONTROL_PREFIX):], body, headers)
        if path == "/openapi.json" and method == "GET":
            from .openapi import document  # built on first request only

            return json_response(200, document())
        parsed: list[Any] = [None]  # the body once parsed, for the journal
        fault = None
        if self.faults.active:
            fault = self._fault_for(method, path)
        if fault is not None and not fault.applied and fault.action in ("status", "drop",
                                                                        "timeout"):
            response = HttpResponse(0)  # failed before the request reached the service
        else:
            try:
                response = self._dispatch(method, path, query, headers, body, parsed)
            except ApiError as error:
                response = error_response(error)
        if fault is None:
            self.state.record(method, path, query, response.status, parsed[0])
            return response
        if fault.action == "status":
            response = error_response(ApiError(fault.status, fault.code, fault.message))
        else:
            response = response._replace(fault=fault)
        no_answer = fault.action in ("drop", "timeout")
        self.state.record(method, path, query, None if no_answer else response.status,
                          parsed[0], fault.action)
        return response

    def _authenticate(self, method: str, path: str, query: str, headers: Mapping[str, str],
                      raw_body: bytes | str | None, project: str) -> None:
        """A signed request's signature, else the token: 403 without one, 401 refused."""
        token = header(headers, "X-Auth-Token")
        signed = (header(headers, "Authorization") or "").startswith("SDK-HMAC-SHA256")
        if signed:
            check_signature(self.state.iam.credentials, method, path, query, headers,
                            raw_body, project)
        elif not token:
            raise ApiError(403, "ELB.1102", "the X-Auth-Token header is missing")
        elif token not in self.state.tokens:
            refused = self.state.iam.check(token, project)
            if refused is not None:
                raise ApiError(401, "ELB.1103", "the X-Auth-Token is invalid or expired"
                               if refused == "unknown" else refused)

    def _fault_for(self, method: str, path: str) -> FaultRule | None:
        """The fault rule this call meets, if any: every ELB API call can meet one
        (listeners, members and their jobs, health checks, certificates); IAM and the
        control plane never do."""
        routed = route_for(path)
        if routed is None:
            return None
        route, match = routed
        return self.faults.pick(method, path, route.operation(method), match["project"])

    def _dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str],
                  raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        """One request through the route table (:mod:`.routes`)."""
        if path == IAM_TOKENS and method == "POST":  # the body holds a password: not parsed
            issued, payload = self.state.iam.issue(parse_json_body(raw_body), self.base_url,
                                                   header(headers, "X-Auth-Token"))
            answer = json_response(201, payload)
            return answer._replace(headers={**answer.headers, "X-Subject-Token": issued})
        routed = route_for(path)
        if routed is None:
            project = loose_project(path)
            if project is not None:
                self._authenticate(method, path, query, headers, raw_body, project)
            raise refuse_unrouted(path)
        route, match = routed
        self._authenticate(method, path, query, headers, raw_body, match["project"])
        handler = route.handlers.get(method)
        if handler is None:
            raise ApiError(405, INVALID, f"{method} is not allowed {route.allowed}")
        handle: Handler = getattr(self, handler)
        # Every group of a route's pattern is mandatory: the IDs are all there.
        item = match[match.lastindex or 0] if route.one else ""
        return handle(_Request(route, match["project"], match.groupdict(), item, query,
                               raw_body, parsed))

    def _body(self, request: _Request) -> Any:
        """The request's JSON body; the journal gets it without any secret field's value."""
        body = parse_json_body(request.raw_body)
        request.parsed[0] = _without_secrets(body)
        return body

    def _put_answer(self, updated: dict[str, Any]) -> HttpResponse:
        """A PUT's answer as the control plane set it (``FakeElbState.put_answer``)."""
        mode = self.state.put_answer
        if mode == "202-empty":
            return HttpResponse(202, b"", {})
        return json_response(202 if mode == "202" else 200, updated)

    # -- the handlers the route table names ------------------------------------------------
    # An object collection's five (listeners, health checks, certificates); the object a
    # path names is its last ID.
    def create_object(self, request: _Request) -> HttpResponse:
        return json_response(200, self._collection(request).create(
            request.project, self._body(request)))

    def list_objects(self, request: _Request) -> HttpResponse:
        return json_response(200, self._collection(request).list(request.project,
                                                                 request.filters()))

    def get_object(self, request: _Request) -> HttpResponse:
        return json_response(200, self._collection(request).get(request.project,
                                                                request.item))

    def update_object(self, request: _Request) -> HttpResponse:
        """A listener's and a health check's PUT answer as the control plane set it
        (:meth:`_put_answer`); a certificate's, always with the object."""
        updated = self._collection(request).update(request.project, request.item,
                                                   self._body(request))
        return self._put_answer(updated) if request.route.put_answer_modes else \
            json_response(200, updated)

    def delete_object(self, request: _Request) -> HttpResponse:
        self._collection(request).delete(request.project, request.item)
        return HttpResponse(204, b"", {})

    def _collection(self, request: _Request) -> Any:
        return self._collections[request.route.group]

    def list_members(self, request: _Request) -> HttpResponse:
        return json_response(200, self.state.members.list(
            request.project, request.ids["listener"], request.filters()))

    def add_members(self, request: _Request) -> HttpResponse:
        """Add and remove answer a job at once."""
        return json_response(200, self.state.members.add(
            request.project, request.ids["listener"], self._body(request)))

    def remove_members(self, request: _Request) -> HttpResponse:
        return json_response(200, self.state.members.remove(
            request.project, request.ids["listener"], self._body(request)))

    def get_job(self, request: _Request) -> HttpResponse:
        return json_response(200, self.state.members.get_job(request.project,
                                                             request.ids["id"]))


#: Fields whose values the journal never holds: every rule table's secrets.
_SECRET_FIELDS = frozenset(name for module in rules.modules() if hasattr(module, "TABLE")
                           for name in module.TABLE.secret)


def _without_secrets(body: Any) -> Any:
    """A body as the journal keeps it: a secret field's value (a private key) is never
    written down, at any depth (a list body, an object inside one). A flat object with no
    secret field (a listener's PUT) is kept as it is, uncopied."""
    if isinstance(body, dict):
        if _SECRET_FIELDS.isdisjoint(body):
            for value in body.values():  # a loop: any() of a generator costs more here
                if isinstance(value, (dict, list)):
                    break
            else:
                return body
        return {key: "***" if key in _SECRET_FIELDS else _without_secrets(value)
                for key, value in body.items()}
    if isinstance(body, list):
        return [_without_secrets(item) for item in body]
    return body
