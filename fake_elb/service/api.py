"""HTTP semantics of the fake ELB listener API, with no HTTP library inside.

``ElbApi.handle(method, path, query, headers, body)`` turns one request into one
:class:`HttpResponse`. Both transports (``responses`` in-process, the real server) call it, so
routing, auth, body parsing, error bodies and the journal are the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from otc_elb_listener.rules import certificate as certificate_rules
from otc_elb_listener.rules.machinery import ID_RE, INVALID

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
from .members import JOBS_PATH, MEMBERS_PATH
from .signing import check_signature
from .store import FakeElbState

__all__ = ["MAX_BODY_BYTES", "ElbApi", "HttpResponse", "body_too_large", "error_response",
           "json_response", "parse_json_body"]
_LISTENERS = re.compile(r"/v1\.0/(?P<project>[^/?#]*)/elbaas/listeners(?:/(?P<listener>[^?#]*))?")
_PROJECT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Certificates for HTTPS listeners (``elb-classic-subresources.md`` section 4).
_CERTIFICATES = re.compile(r"/v1\.0/(?P<project>[A-Za-z0-9_-]{1,64})/elbaas/certificate"
                           r"(?:/(?P<certificate>[^/?#]+))?")
#: A listener's health check (``elb-classic-subresources.md`` section 1).
_HEALTHCHECKS = re.compile(r"/v1\.0/(?P<project>[A-Za-z0-9_-]{1,64})/elbaas/healthcheck"
                           r"(?:/(?P<healthcheck>[^/?#]+))?")
#: A sub-resource's path whose project is malformed: 400, as for a listener's.
_ANY_PROJECT = re.compile(r"/v1\.0/(?P<project>[^/?#]*)/(?:elbaas/(?:healthcheck|certificate)"
                          r"|jobs)(?:/[^?#]*)?")
#: The common case in one match: a well-formed project and (optional) listener ID.
_WELL_FORMED = re.compile(r"/v1\.0/(?P<project>[A-Za-z0-9_-]{1,64})/elbaas/listeners"
                          r"(?:/(?P<listener>[0-9a-f]{32}))?")


def _check_listener_id(listener_id: str) -> None:
    if len(listener_id) != 32:
        raise ApiError(400, "ELB.6000", f"listener_id must be 32 characters, got "
                       f"{len(listener_id)}")
    if not ID_RE.fullmatch(listener_id):
        raise ApiError(400, "ELB.6010", "listener_id must be 32 lowercase hex characters")


_OPERATIONS: Mapping[tuple[bool, str], str] = {
    (False, "POST"): "create", (False, "GET"): "list", (True, "GET"): "get",
    (True, "PUT"): "update", (True, "DELETE"): "delete"}


#: Keystone v3's token endpoint, served by the fake's IAM on the same host.
IAM_TOKENS = "/v3/auth/tokens"


class ElbApi:
    """Routes listener API calls to the state core and journals every one of them."""

    def __init__(self, state: FakeElbState, base_url: str = "") -> None:
        self.state = state
        self.faults = Faults()
        #: ``/_fake/*``: seeding, faults, strict mode, the journal (no auth, not journaled).
        self.control = ControlPlane(state, self.faults)
        #: Where this fake answers: the ELB endpoint in the IAM token's catalog.
        self.base_url = base_url

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
        for pattern, group in ((_LISTENERS, "listener"), (_HEALTHCHECKS, "healthcheck"),
                               (_CERTIFICATES, "certificate"), (JOBS_PATH, "job")):
            match = pattern.fullmatch(path)
            if match is not None:
                operation = _OPERATIONS.get((bool(match[group]), method))
                return self.faults.pick(method, path, operation, match["project"])
        return None

    def _dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str],
                  raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        if path == IAM_TOKENS and method == "POST":  # the body holds a password: not parsed
            issued, payload = self.state.iam.issue(parse_json_body(raw_body), self.base_url,
                                                   header(headers, "X-Auth-Token"))
            answer = json_response(201, payload)
            return answer._replace(headers={**answer.headers, "X-Subject-Token": issued})
        match = _WELL_FORMED.fullmatch(path) or MEMBERS_PATH.fullmatch(path) or \
            JOBS_PATH.fullmatch(path) or _LISTENERS.fullmatch(path) or \
            _HEALTHCHECKS.fullmatch(path) or _CERTIFICATES.fullmatch(path)
        if match is None:
            loose = _ANY_PROJECT.fullmatch(path)
            if loose is None or _PROJECT_RE.fullmatch(loose["project"]):
                raise ApiError(404, "ELB.8904", f"no such resource: {path[:200]}")
            self._authenticate(method, path, query, headers, raw_body, loose["project"])
            raise ApiError(400, INVALID, "project_id must be 1-64 letters, digits, '_' "
                           "or '-'")
        self._authenticate(method, path, query, headers, raw_body, match["project"])
        project = match["project"]
        if match.re is _HEALTHCHECKS:
            return self._healthcheck(method, project, match["healthcheck"], raw_body, parsed)
        if match.re is _CERTIFICATES:
            return self._certificate(method, project, match["certificate"], raw_body, parsed)
        if match.re is MEMBERS_PATH or match.re is JOBS_PATH:
            return self._member(method, match, query, raw_body, parsed)
        listener_id = match["listener"]
        if match.re is _LISTENERS:  # something is malformed: say precisely what
            if not _PROJECT_RE.fullmatch(project):
                raise ApiError(400, INVALID, "project_id must be 1-64 letters, digits, "
                               "'_' or '-'")
            if listener_id:
                _check_listener_id(listener_id)
        if not listener_id:
            if method == "POST":
                parsed[0] = body = parse_json_body(raw_body)
                return json_response(200, self.state.create_listener(project, body))
            if method == "GET":
                filters = parse_qs(query, keep_blank_values=True)
                return json_response(200, self.state.list_listeners(project, filters))
            raise ApiError(405, INVALID, f"{method} is not allowed on the listener "
                           "collection (use GET or POST)")
        if method == "GET":
            return json_response(200, self.state.get_listener(project, listener_id))
        if method == "PUT":
            parsed[0] = body = parse_json_body(raw_body)
            return self._put_answer(self.state.update_listener(project, listener_id, body))
        if method == "DELETE":
            self.state.delete_listener(project, listener_id)
            return HttpResponse(204, b"", {})
        raise ApiError(405, INVALID, f"{method} is not allowed on a listener (use GET, "
                       "PUT or DELETE)")

    def _put_answer(self, updated: dict[str, Any]) -> HttpResponse:
        """A PUT's answer as the control plane set it (``FakeElbState.put_answer``)."""
        mode = self.state.put_answer
        if mode == "202-empty":
            return HttpResponse(202, b"", {})
        return json_response(202 if mode == "202" else 200, updated)

    def _healthcheck(self, method: str, project: str, healthcheck_id: str | None,
                     raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        """``/elbaas/healthcheck``: POST creates; GET, PUT and DELETE act on one by ID."""
        checks = self.state.healthchecks
        if healthcheck_id is None:
            if method != "POST":
                raise ApiError(405, INVALID, f"{method} is not allowed on the health "
                               "check collection (POST creates; there is no list)")
            parsed[0] = body = parse_json_body(raw_body)
            return json_response(200, checks.create(project, body))
        if method == "GET":
            return json_response(200, checks.get(project, healthcheck_id))
        if method == "PUT":
            parsed[0] = body = parse_json_body(raw_body)
            return self._put_answer(checks.update(project, healthcheck_id, body))
        if method == "DELETE":
            checks.delete(project, healthcheck_id)
            return HttpResponse(204, b"", {})
        raise ApiError(405, INVALID, f"{method} is not allowed on a health check (use "
                       "GET, PUT or DELETE)")

    def _certificate(self, method: str, project: str, certificate_id: str | None,
                     raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        """``/elbaas/certificate``: POST creates, GET lists (there is no GET of one); PUT and
        DELETE act on one by ID. The journal gets the body without its private key."""
        certificates = self.state.certificates
        if certificate_id is None:
            if method == "GET":
                return json_response(200, certificates.list(project))
            if method != "POST":
                raise ApiError(405, INVALID, f"{method} is not allowed on the certificate "
                               "collection (use GET or POST)")
            body = parse_json_body(raw_body)
            parsed[0] = _without_secrets(body)
            return json_response(200, certificates.create(project, body))
        if method == "PUT":
            body = parse_json_body(raw_body)
            parsed[0] = _without_secrets(body)
            return json_response(200, certificates.update(project, certificate_id, body))
        if method == "DELETE":
            certificates.delete(project, certificate_id)
            return HttpResponse(204, b"", {})
        raise ApiError(405, INVALID, f"{method} is not allowed on a certificate (use PUT "
                       "or DELETE; list the collection to read one)")

    def _member(self, method: str, match: re.Match[str], query: str,
                raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        """A listener's members (add and remove answer a job at once) and the jobs."""
        members, project = self.state.members, match["project"]
        if match.re is JOBS_PATH:
            if method != "GET":
                raise ApiError(405, INVALID, f"{method} is not allowed on a job (GET)")
            return json_response(200, members.get_job(project, match["job"]))
        listener_id = match["listener"]
        if method == "GET" and not match["action"]:
            filters = parse_qs(query, keep_blank_values=True)
            return json_response(200, members.list(project, listener_id, filters))
        if method != "POST":
            raise ApiError(405, INVALID, f"{method} is not allowed here (POST adds or, "
                           "on /members/action, removes; GET lists)")
        parsed[0] = body = parse_json_body(raw_body)
        if match["action"]:
            return json_response(200, members.remove(project, listener_id, body))
        return json_response(200, members.add(project, listener_id, body))


#: Fields whose values the journal never holds: the rule tables' secrets.
_SECRET_FIELDS = certificate_rules.SECRET_FIELDS


def _without_secrets(body: Any) -> Any:
    """A body as the journal keeps it: a secret field's value (a private key) is never
    written down, at any depth (a list body, an object inside one)."""
    if isinstance(body, dict):
        return {key: "***" if key in _SECRET_FIELDS else _without_secrets(value)
                for key, value in body.items()}
    if isinstance(body, list):
        return [_without_secrets(item) for item in body]
    return body
