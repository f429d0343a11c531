"""In-memory state of the fake ELB: projects, load balancers, certificates, listeners.

Every listener operation validates completely with the rule table (:mod:`otc_elb_listener.spec`) and
only then commits, all under one lock, so a rejected request changes nothing and concurrent
requests see each other's effects in a consistent order. Nothing here sleeps.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import ID_RE, INVALID

from .errors import ApiError
from .ids import TIME_FORMAT, new_id
from .ids import timestamp as _timestamp

__all__ = ["DEFAULT_TOKEN", "TIME_FORMAT", "FakeElbState", "new_id"]

DEFAULT_TOKEN = "fake-elb-token"
JOURNAL_SIZE = 10_000


JournalEntry = tuple[str, str, str, "int | None", Any, "str | None"]


#: No transition: a listener is ACTIVE the moment it is made or changed.
_INSTANT = {"create": 0.0, "update": 0.0, "end": "ACTIVE"}


@dataclass
class _Project:
    loadbalancers: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)
    healthchecks: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)




#: The version of :meth:`FakeElbState.dump`'s format.
STATE_VERSION = 1


def _items(parts: dict[str, Any], name: str, project_id: Any, shape: str
           ) -> list[dict[str, Any]]:
    items = parts.get(name, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ApiError(400, INVALID, f"projects.{str(project_id)[:64]}.{name}: must be a "
                       f"list of objects, as in {shape}")
    return items


def _check_id(kind: str, value: Any) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise ApiError(400, INVALID, f"{kind} id must be 32 lowercase hex characters, "
                       f"got {value!r}")
    return value




class FakeElbState:
    """The state core shared by both transports (in-process and server)."""

    def __init__(self, tokens: Iterable[str] = (DEFAULT_TOKEN,),
                 journal_size: int = JOURNAL_SIZE, *, strict: bool = False,
                 token_ttl: float = 24 * 3600.0) -> None:
        from .iam import FakeIam

        self.lock = threading.Lock()
        #: IAM users and the tokens issued to them (``POST /v3/auth/tokens``).
        self.iam = FakeIam(token_ttl)
        #: Strict mode refuses fields that do not apply (the real service ignores them).
        self.strict = self._initial_strict = strict
        #: How a listener or health-check PUT is answered: ``"200"`` with the object (the
        #: documented answer, the default), ``"202"`` with it, ``"202-empty"`` without a body
        #: (gophertelekomcloud accepts either: elb-classic-subresources.md, turn 4).
        self.put_answer = "200"
        #: How long a new or changed listener stays PENDING_CREATE / PENDING_UPDATE, and the
        #: status it ends in (``ACTIVE``, or ``ERROR``): instant and ACTIVE by default.
        self.transition: dict[str, Any] = dict(_INSTANT)
        #: Listeners in a transition: their ID -> (monotonic time it ends, the end status).
        self._pending: dict[str, tuple[float, str]] = {}
        self.tokens = self._initial_tokens = frozenset(tokens)
        self._projects: dict[str, _Project] = {}
        #: (method, path, query, status, body, fault): a tuple costs a third of a dict, and
        #: the journal is written on every call but read rarely.
        self._journal: deque[JournalEntry] = deque(maxlen=journal_size)
        from .healthchecks import HealthChecks

        #: The listeners' health checks (one per listener).
        self.healthchecks = HealthChecks(self)
        from .certificates import Certificates

        #: The certificates HTTPS listeners use.
        self.certificates = Certificates(self)
        from .members import Members

        #: Listeners' backend members, the ECSs they point at, the jobs that change them.
        self.members = Members(self)

    def project(self, project_id: str) -> _Project:
        """A project's objects (made empty on first use); the caller holds :attr:`lock`."""
        project = self._projects.get(project_id)
        if project is None:
            project = self._projects[project_id] = _Project()
        return project

    # -- control plane -------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """The estate as JSON (``GET /_fake/state``, ``fake-elb serve --state``; docs/fake.md,
        "State"): per project, its load balancers, listeners, health checks, certificates
        (never a private key), ECSs and members. Jobs, tokens and users are not part of it."""
        with self.lock:
            self.members.settle_all()
            return {"version": STATE_VERSION, "projects": {
                project_id: {
                    "loadbalancers": list(project.loadbalancers.values()),
                    "listeners": [_copy(item) for item in project.listeners.values()],
                    "healthchecks": [dict(item) for item in project.healthchecks.values()],
                    "certificates": [{k: v for k, v in item.items() if k != "private_key"}
                                     for item in project.certificates.values()],
                    "servers": list(project.servers.values()),
                    "members": [dict(item) for item in project.members.values()]}
                for project_id, project in self._projects.items()}}

    def load(self, estate: Any) -> None:
        """Replace the estate with a :meth:`dump` (all or nothing; a malformed one is a 400
        naming the shape expected)."""
        shape = ('{"version": 1, "projects": {"<project_id>": {"loadbalancers": [...], '
                 '"listeners": [...], "healthchecks": [...], "certificates": [...], '
                 '"servers": [...], "members": [...]}}}')
        projects = estate.get("projects") if isinstance(estate, dict) else None
        if not isinstance(projects, dict) or estate.get("version") != STATE_VERSION:
            raise ApiError(400, INVALID, f"a state must be {shape}")
        loaded: dict[str, _Project] = {}
        for project_id, parts in projects.items():
            if not isinstance(parts, dict):
                raise ApiError(400, INVALID, f"projects.{str(project_id)[:64]}: must be "
                               f"an object, as in {shape}")
            project = loaded[str(project_id)] = _Project()
            for name, by_id in (("loadbalancers", project.loadbalancers),
                                ("listeners", project.listeners),
                                ("healthchecks", project.healthchecks),
                                ("certificates", project.certificates),
                                ("members", project.members)):
                for item in _items(parts, name, project_id, shape):
                    by_id[_check_id(name, item.get("id"))] = dict(item)
            for item in _items(parts, "servers", project_id, shape):
                project.servers[str(item.get("server_id"))] = dict(item)
        with self.lock:
            self._projects.clear()
            self._projects.update(loaded)

    def reset(self) -> None:
        """Forget everything: load balancers, certificates, listeners, the journal, and
        tokens and the mode set since start (those the fake was made with come back)."""
        with self.lock:
            self._projects.clear()
            self._journal.clear()
            self.tokens = self._initial_tokens
            self.strict = self._initial_strict
            self.put_answer = "200"
            self.transition = dict(_INSTANT)
            self._pending.clear()
            self.members.reset()
        self.iam.reset()

    def set_tokens(self, tokens: Iterable[str]) -> None:
        """Accept exactly these tokens from now on (a revoked or rotated token gets 401)."""
        accepted = frozenset(tokens)
        if not all(isinstance(token, str) and token for token in accepted):
            raise ApiError(400, "ELB.1001", "tokens: a list of non-empty strings is mandatory")
        self.tokens = accepted
        self.iam.revoke_all()  # exactly these: tokens the IAM issued stop working too

    def add_loadbalancer(self, project_id: str, type: str = "External",
                         id: str | None = None) -> dict[str, Any]:
        """Register a load balancer (the fake does not model their API)."""
        if type not in listener_rules.LOADBALANCER_TYPES:
            raise ApiError(400, INVALID, f"type must be one of "
                           f"{', '.join(listener_rules.LOADBALANCER_TYPES)}, got {type!r}")
        lb = {"id": _check_id("load balancer", id or new_id()), "type": type,
              "project_id": project_id}
        with self.lock:
            self._projects.setdefault(project_id, _Project()).loadbalancers[lb["id"]] = lb
        return dict(lb)

    def add_certificate(self, project_id: str, id: str | None = None) -> dict[str, Any]:
        """A real certificate (self-signed, with its key) that listeners of this project may
        use, as if made long ago; the certificate API lists it."""
        cert_id = _check_id("certificate", id or new_id())
        self.certificates.seed(project_id, cert_id)
        return {"id": cert_id, "project_id": project_id}

    def record(self, method: str, path: str, query: str, status: int | None, body: Any,
               fault: str | None = None) -> None:
        """Append one API call to the bounded journal (never a header, so never a token)."""
        self._journal.append((method, path, query, status, body, fault))  # deque: atomic

    def journal(self) -> list[dict[str, Any]]:
        """The calls, oldest first, as ``{method, path, query, status, body}`` (plus
        ``fault`` for a call a fault rule failed)."""
        with self.lock:
            entries = list(self._journal)
        result = []
        for method, path, query, status, body, fault in entries:
            entry = {"method": method, "path": path, "query": query, "status": status,
                     "body": body}
            if fault is not None:
                entry["fault"] = fault
            result.append(entry)
        return result

    # -- listener API --------------------------------------------------------------------
    def _context(self, project: _Project, lb_id: Any, exclude: str | None = None,
                 body: Any = None) -> listener_rules.LoadBalancerContext:
        """What the rules need to know about the load balancer. For a PUT (``exclude`` set),
        sibling ports and certificates are gathered only when the body touches them."""
        lb = project.loadbalancers.get(lb_id) if isinstance(lb_id, str) else None
        if lb is None:
            return listener_rules.LoadBalancerContext(None)
        fields = body if isinstance(body, dict) else {}
        creating = exclude is None
        ports: frozenset[int] = frozenset()
        count = 0
        if creating or not listener_rules.PORT_FIELDS.isdisjoint(fields):
            siblings = [listener["port"] for lid, listener in project.listeners.items()
                        if listener["loadbalancer_id"] == lb_id and lid != exclude]
            ports, count = frozenset(siblings), len(siblings)
        certificates: frozenset[str] = frozenset()
        if creating or not listener_rules.CERTIFICATE_FIELDS.isdisjoint(fields):
            certificates = frozenset(project.certificates)
        return listener_rules.LoadBalancerContext(loadbalancer_type=lb["type"],
                                        certificate_ids=certificates, ports_in_use=ports,
                                        listener_count=count)

    def create_listener(self, project_id: str, body: Any) -> dict[str, Any]:
        with self.lock:
            return self._create_locked(self._projects.setdefault(project_id, _Project()), body)

    def _create_locked(self, project: _Project, body: Any) -> dict[str, Any]:
        """A create, validated then committed; the caller holds the lock."""
        lb_id = body.get("loadbalancer_id") if isinstance(body, dict) else None
        violations = listener_rules.validate_create(body, self._context(project, lb_id, body=body),
                                          strict=self.strict)
        if violations:
            raise ApiError.from_violations(violations)
        now = _timestamp()
        listener = listener_rules.materialize({
            "id": new_id(), "status": "ACTIVE", "admin_state_up": True,
            "healthcheck_id": None, "member_number": 0,
            "create_time": now, "update_time": now,
            **{name: value for name, value in body.items() if name in listener_rules.FIELDS},
        })
        listener = {name: listener.get(name) for name in listener_rules.RESPONSE_FIELDS}
        project.listeners[listener["id"]] = listener
        self._begin_transition(listener, "create")
        return _copy(listener)

    def set_transition(self, create: Any = None, update: Any = None, end: Any = None) -> None:
        """How listeners change status from now on (the control plane's ``transitions``, as
        moto's ``set_transition``): seconds PENDING_CREATE after a create, seconds
        PENDING_UPDATE after a PUT, and the status they then end in."""
        for name, value in (("create", create), ("update", update)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not 0 <= value < float("inf")):
                raise ApiError(400, INVALID, f"{name}: seconds, a finite number >= 0")
        if end is not None and end not in ("ACTIVE", "ERROR"):
            raise ApiError(400, INVALID, "end: ACTIVE or ERROR")
        with self.lock:
            self.transition.update({k: v for k, v in (("create", create), ("update", update),
                                                      ("end", end)) if v is not None})

    def _begin_transition(self, listener: dict[str, Any], kind: str) -> None:
        """A new or changed listener starts its transition (the caller holds the lock)."""
        seconds = float(self.transition[kind])
        if seconds <= 0 and self.transition["end"] == "ACTIVE":
            return
        listener["status"] = "PENDING_CREATE" if kind == "create" else "PENDING_UPDATE"
        self._pending[listener["id"]] = (time.monotonic() + seconds, self.transition["end"])
        if seconds <= 0:
            self._settle(listener)

    def _settle(self, listener: dict[str, Any]) -> None:
        """A listener whose transition has run its time takes its end status."""
        pending = self._pending.get(listener["id"])
        if pending is not None and time.monotonic() >= pending[0]:
            listener["status"] = pending[1]
            del self._pending[listener["id"]]

    def seed_listener(self, project_id: str, fields: Any, *, id: str | None = None,
                      create_time: str | None = None, status: str | None = None
                      ) -> dict[str, Any]:
        """An existing listener, as if made long ago (the control plane's seeding): the
        fields pass the same rules as a create; ``id``, ``create_time`` (``YYYY-MM-DD
        HH:MM:SS``, also its ``update_time``) and ``status`` may be chosen."""
        if create_time is not None:
            try:
                time.strptime(create_time, TIME_FORMAT)
            except (TypeError, ValueError):
                raise ApiError(400, INVALID, "create_time must be YYYY-MM-DD HH:MM:SS, "
                               f"got {create_time!r}") from None
        listener_id = _check_id("listener", id) if id is not None else None
        with self.lock:
            project = self._projects.setdefault(project_id, _Project())
            if listener_id is not None and listener_id in project.listeners:
                raise ApiError(400, INVALID, f"listener {listener_id} exists already")
            created = self._create_locked(project, fields)
            listener = project.listeners.pop(created["id"])
            listener.update({"id": listener_id or created["id"]} | (
                {"create_time": create_time, "update_time": create_time} if create_time
                else {}) | ({"status": status} if status else {}))
            project.listeners[listener["id"]] = listener
            return _copy(listener)

    def _find(self, project_id: str, listener_id: str) -> tuple[_Project, dict[str, Any]]:
        project = self._projects.get(project_id)
        listener = project.listeners.get(listener_id) if project else None
        if project is None or listener is None:
            raise ApiError(404, "ELB.8904", f"listener {listener_id} not found")
        self._settle(listener)
        return project, listener

    def get_listener(self, project_id: str, listener_id: str) -> dict[str, Any]:
        with self.lock:
            return _copy(self._find(project_id, listener_id)[1])

    def list_listeners(self, project_id: str,
                       filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """Listeners of a project whose fields equal every filter (values as query text)."""
        for name in filters:
            if name not in listener_rules.RESPONSE_FIELDS:
                raise ApiError(400, "ELB.6003", f"{name[:64]}: is not a listener field to "
                               "filter on")
            if name in listener_rules.UNFILTERABLE_FIELDS:
                raise ApiError(400, "ELB.6003", f"{name}: listeners cannot be filtered on "
                               f"it (not on "
                               f"{', '.join(sorted(listener_rules.UNFILTERABLE_FIELDS))})")
        with self.lock:
            project = self._projects.get(project_id)
            listeners = list(project.listeners.values()) if project else []
            for listener in listeners:
                self._settle(listener)
            return [_copy(listener) for listener in listeners
                    if all(_query_text(listener[name]) in wanted
                           for name, wanted in filters.items())]

    def update_listener(self, project_id: str, listener_id: str, body: Any) -> dict[str, Any]:
        with self.lock:
            project, current = self._find(project_id, listener_id)
            context = self._context(project, current["loadbalancer_id"], exclude=listener_id,
                                    body=body)
            violations = listener_rules.validate_update(body, current, context, strict=self.strict)
            if violations:
                raise ApiError.from_violations(violations)
            updated = listener_rules.apply_update(current, body)
            updated["update_time"] = _timestamp()
            project.listeners[listener_id] = updated
            self._begin_transition(updated, "update")
            return _copy(updated)

    def delete_listener(self, project_id: str, listener_id: str) -> None:
        with self.lock:
            project = self._projects.get(project_id)
            if project is None or project.listeners.get(listener_id) is None:
                # What the real service answers (elb-classic-api.md), not 404.
                raise ApiError(503, "ELB.6002", f"listener {listener_id} does not exist")
            self.members.settle_all()
            members = self.members.listener_members(project, listener_id)
            if members:  # Decision 10, by analogy with the load balancer's ELB.1008/1018
                raise ApiError(400, "ELB.1001", f"listener {listener_id} still has members "
                               f"{', '.join(members)}: remove them first")
            removed = project.listeners.pop(listener_id)
            project.healthchecks.pop(removed.get("healthcheck_id") or "", None)  # goes with it


def _copy(listener: dict[str, Any]) -> dict[str, Any]:
    """A copy callers may keep or change (the only nested value is ``certificates``)."""
    certificates = listener.get("certificates")
    result = dict(listener)
    if certificates is not None:
        result["certificates"] = list(certificates)
    return result


def _query_text(value: Any) -> str:
    """How a field value is written in a query string, for list filters."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)
