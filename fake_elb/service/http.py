"""HTTP answers and request bodies as the fake reads and writes them, with no HTTP library:
the API, the control plane and both transports share them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson
from requests.structures import CaseInsensitiveDict

from otc_elb_listener.rules.machinery import INVALID

from .errors import ApiError
from .faults import FaultRule

#: Bodies above this are refused before they are parsed (the server does not even read them).
MAX_BODY_BYTES = 1 << 20
#: Listener bodies nest two deep; anything past this is refused unparsed.
MAX_NESTING = 32
_JSON_HEADERS: dict[str, str] = {"Content-Type": "application/json"}


class HttpResponse(NamedTuple):
    """One answer: status, body bytes and headers (a tuple: cheap to build per request)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = _JSON_HEADERS
    #: A fault the transport must act out (drop, timeout, latency), if any.
    fault: FaultRule | None = None


def body_too_large() -> ApiError:
    """413 for a body over :data:`MAX_BODY_BYTES`, wherever it is found to be."""
    return ApiError(413, INVALID, f"the request body is over {MAX_BODY_BYTES} bytes")


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
    """The JSON literal ``null`` is an empty body (docs/api-rules.md Decision 4, fine points)."""
    if parsed is None:
        raise ApiError(400, "ELB.0002", "the request body is null: a JSON object is needed")
    return parsed


def _parse_carefully(raw: bytes | str) -> Any:
    """The standard library's strict parse, with a precise reason for every refusal."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ApiError(400, INVALID, f"the request body is not UTF-8 ({exc.reason} at byte "
                       f"{exc.start})") from None
    if text.count("[") + text.count("{") > MAX_NESTING and _nesting(text) > MAX_NESTING:
        # Refused before parsing: a RecursionError deep in json leaves CPython 3.11 unstable.
        raise ApiError(400, INVALID, f"the request body is nested deeper than {MAX_NESTING}")
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        raise ApiError(400, INVALID, f"the request body is not valid JSON ({exc})") from None


def header(headers: Mapping[str, str], name: str) -> str | None:
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
