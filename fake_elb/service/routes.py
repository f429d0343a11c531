"""The fake's URL map, as moto's ``urls.py``: one table of (path pattern, method -> handler)
for every collection, read by :class:`.api.ElbApi` to route a request and to find the fault
rule it meets. A path no route matches is judged by :func:`refuse_unrouted`: precisely
what is malformed (400), else 404."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from otc_elb_listener.rules.machinery import ID_RE, INVALID

from .errors import ApiError

_PROJECT = r"/v1\.0/(?P<project>[A-Za-z0-9_-]{1,64})"
_PROJECT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LISTENER = r"(?P<listener>[0-9a-f]{32})"


@dataclass(frozen=True)
class Route:
    """Requests to ``pattern``: each method's handler (an :class:`~.api.ElbApi` method
    name), the collection a fault rule names (``listener``, ``healthcheck``,
    ``certificate``, ``member``, ``job``), whether the path names one object, and what a
    405 says."""

    pattern: re.Pattern[str]
    #: The collection's path under the project (``elbaas/healthcheck``, ``jobs``).
    collection: str
    handlers: Mapping[str, str]
    group: str
    one: bool
    allowed: str
    #: The operation a fault rule names for each method, where :data:`OPERATIONS` does not
    #: say it: a member list is a ``get`` (of the listener's members), an add or a remove
    #: none (match them by ``path`` or ``method``).
    operations: Mapping[str, str] | None = None
    #: Its PUT is answered as the control plane sets (``FakeElbState.put_answer``).
    put_answer_modes: bool = False

    def operation(self, method: str) -> str | None:
        if self.operations is not None:
            return self.operations.get(method)
        return OPERATIONS.get((self.one, method))


def _route(path: str, handlers: Mapping[str, str], group: str, one: bool, allowed: str,
           operations: Mapping[str, str] | None = None, put_answer_modes: bool = False
           ) -> Route:
    collection = re.match(r"/((?:elbaas/)?[a-z]+)", path)
    assert collection is not None, path
    return Route(re.compile(_PROJECT + path), collection[1], handlers, group, one, allowed,
                 operations, put_answer_modes)


#: An object collection's handlers (:class:`~.api.ElbApi`'s ``*_object`` methods).
_LIST_CREATE = {"GET": "list_objects", "POST": "create_object"}
_GET_PUT_DELETE = {"GET": "get_object", "PUT": "update_object", "DELETE": "delete_object"}

ROUTES: tuple[Route, ...] = (
    _route("/elbaas/listeners", _LIST_CREATE, "listener", False,
           "on the listener collection (use GET or POST)"),
    _route(f"/elbaas/listeners/{_LISTENER}", _GET_PUT_DELETE, "listener", True,
           "on a listener (use GET, PUT or DELETE)", put_answer_modes=True),
    _route(f"/elbaas/listeners/{_LISTENER}/members",
           {"GET": "list_members", "POST": "add_members"}, "member", False,
           "here (POST adds or, on /members/action, removes; GET lists)", {"GET": "get"}),
    _route(f"/elbaas/listeners/{_LISTENER}/members/action", {"POST": "remove_members"},
           "member", False, "here (POST adds or, on /members/action, removes; GET lists)",
           {}),
    _route("/jobs/(?P<id>[^/?#]+)", {"GET": "get_job"}, "job", True, "on a job (GET)"),
    _route("/elbaas/healthcheck", {"POST": "create_object"}, "healthcheck", False,
           "on the health check collection (POST creates; there is no list)"),
    _route("/elbaas/healthcheck/(?P<id>[^/?#]+)", _GET_PUT_DELETE, "healthcheck", True,
           "on a health check (use GET, PUT or DELETE)", put_answer_modes=True),
    _route("/elbaas/certificate", _LIST_CREATE, "certificate", False,
           "on the certificate collection (use GET or POST)"),
    _route("/elbaas/certificate/(?P<id>[^/?#]+)",
           {"PUT": "update_object", "DELETE": "delete_object"}, "certificate", True,
           "on a certificate (use PUT or DELETE; list the collection to read one)"),
)

#: Operations a fault rule may name, by whether the path names one object and the method.
OPERATIONS: Mapping[tuple[bool, str], str] = {
    (False, "POST"): "create", (False, "GET"): "list", (True, "GET"): "get",
    (True, "PUT"): "update", (True, "DELETE"): "delete"}

#: A listener path whose project or listener ID is malformed, and a sub-resource path whose
#: project is: the one is told precisely what is wrong, the other that its project is.
_LOOSE_LISTENERS = re.compile(r"/v1\.0/(?P<project>[^/?#]*)/elbaas/listeners"
                              r"(?:/(?P<listener>[^?#]*))?")
_LOOSE_OTHERS = re.compile(r"/v1\.0/(?P<project>[^/?#]*)/(?:" + "|".join(sorted(
    {route.collection for route in ROUTES} - {"elbaas/listeners"})) + r")(?:/[^?#]*)?")


def route_for(path: str) -> tuple[Route, re.Match[str]] | None:
    """The route a path takes, and its match (remembered for paths of a usual length: a
    client calls the same paths again and again, and trying the routes in turn was a tenth
    of the fake's time per PUT)."""
    return _remembered_route(path) if len(path) <= 256 else _route_for(path)


def _route_for(path: str) -> tuple[Route, re.Match[str]] | None:
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is not None:
            return route, match
    return None


_remembered_route = functools.lru_cache(maxsize=4096)(_route_for)


def loose_project(path: str) -> str | None:
    """The project of an ELB API path no route takes (to authenticate the caller before
    telling what is malformed), or ``None`` when it is no ELB API path at all."""
    match = _LOOSE_LISTENERS.fullmatch(path) or _LOOSE_OTHERS.fullmatch(path)
    if match is None or (match.re is _LOOSE_OTHERS and _PROJECT_RE.fullmatch(match["project"])):
        return None
    return match["project"]


def refuse_unrouted(path: str) -> ApiError:
    """What is wrong with an ELB API path no route takes (after authentication)."""
    match = _LOOSE_LISTENERS.fullmatch(path) or _LOOSE_OTHERS.fullmatch(path)
    if match is None:
        return ApiError(404, "ELB.8904", f"no such resource: {path[:200]}")
    if not _PROJECT_RE.fullmatch(match["project"]):
        return ApiError(400, INVALID, "project_id must be 1-64 letters, digits, '_' or '-'")
    listener_id = match["listener"] if match.re is _LOOSE_LISTENERS else None
    if listener_id and len(listener_id) != 32:
        return ApiError(400, "ELB.6000", f"listener_id must be 32 characters, got "
                        f"{len(listener_id)}")
    if listener_id and not ID_RE.fullmatch(listener_id):
        return ApiError(400, "ELB.6010", "listener_id must be 32 lowercase hex characters")
    return ApiError(404, "ELB.8904", f"no such resource: {path[:200]}")
