"""HTTP semantics of the fake ELB listener API, with no HTTP library inside.

``ElbApi.handle(method, path, query, headers, body)`` turns one request into one
:class:`HttpResponse`. Both transports (``responses`` in-process, the real server) call it, so
routing, auth, body parsing, error bodies and the journal are the same in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import orjson
from requests.structures import CaseInsensitiveDict

from otc_elb_listener import spec

from .errors import ApiError
from .faults import FaultRule, Faults
from .store import FakeElbState

#: Bodies above this are refused before they are parsed (the server does not even read them).
MAX_BODY_BYTES = 1 << 20
#: Listener bodies nest two deep; anything past this is refused unparsed.
MAX_NESTING = 32
_JSON_HEADERS: dict[str, str] = {"Content-Type": "application/json"}
_LISTENERS = re.compile(r"/v1\.0/(?P<project>[^/?#]*)/elbaas/listeners(?:/(?P<listener>[^?#]*))?")
_PROJECT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The common case in one match: a well-formed project and (optional) listener ID.
_WELL_FORMED = re.compile(r"/v1\.0/(?P<project>[A-Za-z0-9_-]{1,64})/elbaas/listeners"
                          r"(?:/(?P<listener>[0-9a-f]{32}))?")


class HttpResponse(NamedTuple):
    """One answer: status, body bytes and headers (a tuple: cheap to build per request)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = _JSON_HEADERS
    #: A fault the transport must act out (drop, timeout, latency), if any.
    fault: FaultRule | None = None


def body_too_large() -> ApiError:
    """413 for a body over :data:`MAX_BODY_BYTES`, wherever it is found to be."""
    return ApiError(413, spec.INVALID, f"the request body is over {MAX_BODY_BYTES} bytes")


def json_response(status: int, payload: Any) -> HttpResponse:
    try:
        return HttpResponse(status, orjson.dumps(payload))
    except (orjson.JSONEncodeError, TypeError):  # ints over 64 bits, lone surrogates
        return HttpResponse(status, _ENCODER.encode(payload).encode())


def error_response(error: ApiError) -> HttpResponse:
    return json_response(error.status, {"error": {"code": error.code, "message": error.message}})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Built once: json.dumps/loads with any non-default argument build a new coder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _nesting(text: str) -> int:
    """Deepest ``[``/``{`` nesting outside strings (only run on bodies with many brackets)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json_body(raw: bytes | str | None) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, no absurd nesting; 400 otherwise.

    orjson parses the common case; whenever it refuses a body, or could have read a huge
    integer as a float (it does), the standard library decides, so the answer is the same.
    """
    if raw is None or not raw.strip():
        raise ApiError(400, "ELB.0002", "the request body is empty: a JSON object is needed")
    if len(raw) > MAX_BODY_BYTES:
        raise body_too_large()
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= MAX_NESTING:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            if not isinstance(parsed, dict) or float not in map(type, parsed.values()):
                return _not_null(parsed)
    return _not_null(_parse_carefully(raw))


def _not_null(parsed: Any) -> Any:
    """The JSON literal ``null`` is an empty body (Decision "Error codes", fine points)."""
    if parsed is None:
        raise ApiError(400, "ELB.0002", "the request body is null: a JSON object is needed")
    return parsed


def _parse_carefully(raw: bytes | str) -> Any:
    """The standard library's strict parse, with a precise reason for every refusal."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ApiError(400, spec.INVALID, f"the request body is not UTF-8 ({exc.reason} at byte "
                       f"{exc.start})") from None
    if text.count("[") + text.count("{") > MAX_NESTING and _nesting(text) > MAX_NESTING:
        # Refused before parsing: a RecursionError deep in json leaves CPython 3.11 unstable.
        raise ApiError(400, spec.INVALID, f"the request body is nested deeper than {MAX_NESTING}")
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        raise ApiError(400, spec.INVALID, f"the request body is not valid JSON ({exc})") from None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header whatever its case. ``requests`` (the in-process transport) hands over a
    case-insensitive mapping already, where a miss is final: scanning it was a quarter of
    the fake's work per call."""
    value = headers.get(name)
    if value is None and not isinstance(headers, CaseInsensitiveDict):
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def _check_listener_id(listener_id: str) -> None:
    if len(listener_id) != 32:
        raise ApiError(400, "ELB.6000", f"listener_id must be 32 characters, got "
                       f"{len(listener_id)}")
    if not spec.ID_RE.fullmatch(listener_id):
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
        #: Where this fake answers: the ELB endpoint in the IAM token's catalog.
        self.base_url = base_url

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes | str | None) -> HttpResponse:
        """Answer one request; every call, rejected and faulted ones included, goes into the
        journal. A fault that is not ``status`` comes back in ``response.fault`` for the
        transport to act out (drop the connection, time out, answer late)."""
        parsed: list[Any] = [None]  # the body once parsed, for the journal
        fault = None
        if self.faults.active:
            match = _LISTENERS.fullmatch(path)
            if match is not None:
                operation = _OPERATIONS.get((bool(match["listener"]), method))
                fault = self.faults.pick(method, path, operation, match["project"])
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

    def _check_signature(self, method: str, path: str, query: str,
                         headers: Mapping[str, str], raw_body: bytes | str | None,
                         project: str) -> None:
        """An AK/SK-signed request, checked as the service checks it (401 otherwise)."""
        import time

        from otc_elb_listener.auth import verify

        body = raw_body.encode() if isinstance(raw_body, str) else (raw_body or b"")
        url = f"http://fake{path}" + (f"?{query}" if query else "")
        owner, reason = verify(self.state.iam.credentials, method, url, headers, body,
                               time.time())
        if owner is None:
            raise ApiError(401, "ELB.1103", f"AK/SK signature refused: {reason}")
        if owner != project or _header(headers, "X-Project-Id") != project:
            raise ApiError(401, "ELB.1103", "AK/SK signature refused: the key and "
                           "X-Project-Id must belong to the project in the path")

    def _dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str],
                  raw_body: bytes | str | None, parsed: list[Any]) -> HttpResponse:
        if path == IAM_TOKENS and method == "POST":  # the body holds a password: not parsed
            issued, payload = self.state.iam.issue(parse_json_body(raw_body), self.base_url)
            answer = json_response(201, payload)
            return answer._replace(headers={**answer.headers, "X-Subject-Token": issued})
        match = _WELL_FORMED.fullmatch(path) or _LISTENERS.fullmatch(path)
        if match is None:
            raise ApiError(404, "ELB.8904", f"no such resource: {path[:200]}")
        token = _header(headers, "X-Auth-Token")
        signed = (_header(headers, "Authorization") or "").startswith("SDK-HMAC-SHA256")
        if signed:
            self._check_signature(method, path, query, headers, raw_body, match["project"])
        elif not token:
            raise ApiError(403, "ELB.1102", "the X-Auth-Token header is missing")
        elif token not in self.state.tokens:
            refused = self.state.iam.check(token, match["project"])
            if refused is not None:
                raise ApiError(401, "ELB.1103", "the X-Auth-Token is invalid or expired"
                               if refused == "unknown" else refused)
        project = match["project"]
        listener_id = match["listener"]
        if match.re is _LISTENERS:  # something is malformed: say precisely what
            if not _PROJECT_RE.fullmatch(project):
                raise ApiError(400, spec.INVALID, "project_id must be 1-64 letters, digits, "
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
            raise ApiError(405, spec.INVALID, f"{method} is not allowed on the listener "
                           "collection (use GET or POST)")
        if method == "GET":
            return json_response(200, self.state.get_listener(project, listener_id))
        if method == "PUT":
            parsed[0] = body = parse_json_body(raw_body)
            return json_response(200, self.state.update_listener(project, listener_id, body))
        if method == "DELETE":
            self.state.delete_listener(project, listener_id)
            return HttpResponse(204, b"", {})
        raise ApiError(405, spec.INVALID, f"{method} is not allowed on a listener (use GET, "
                       "PUT or DELETE)")
