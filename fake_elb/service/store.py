"""In-memory state of the fake ELB: its projects, each with its load balancers, ECSs and
the objects of every collection (listeners, health checks, certificates, members).

Every collection validates a request completely with its rule table
(:mod:`otc_elb_listener.rules`) and only then commits, all under this state's one lock, so a
rejected request changes nothing and concurrent requests see each other's effects in a
consistent order. Nothing here sleeps.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import INVALID

from .errors import ApiError
from .ids import TIME_FORMAT, check_id, new_id
from .listeners import copied

__all__ = ["DEFAULT_TOKEN", "TIME_FORMAT", "FakeElbState", "new_id"]

DEFAULT_TOKEN = "fake-elb-token"
JOURNAL_SIZE = 10_000


JournalEntry = tuple[str, str, str, "int | None", Any, "str | None"]


@dataclass
class _Project:
    loadbalancers: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificates: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)
    healthchecks: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)


#: What a project keeps, in :meth:`FakeElbState.dump`'s order: every collection by ``id``,
#: the ECSs by ``server_id``.
_KEPT = ("loadbalancers", "listeners", "healthchecks", "certificates", "servers", "members")


def _without_key(certificate: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in certificate.items() if k != "private_key"}


#: How each is dumped where a plain copy is not enough: never a private key.
_DUMPED: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "listeners": copied, "certificates": _without_key}
_SHAPE = ('{"version": 1, "projects": {"<project_id>": {'
          + ", ".join(f'"{name}": [...]' for name in _KEPT) + "}}}")


#: The version of :meth:`FakeElbState.dump`'s format.
STATE_VERSION = 1


def _items(parts: dict[str, Any], name: str, project_id: Any, shape: str
           ) -> list[dict[str, Any]]:
    items = parts.get(name, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ApiError(400, INVALID, f"projects.{str(project_id)[:64]}.{name}: must be a "
                       f"list of objects, as in {shape}")
    return items


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
        #: (gophertelekomcloud accepts either: docs/api-rules.md, "PUT answers").
        self.put_answer = "200"
        self.tokens = self._initial_tokens = frozenset(tokens)
        self._projects: dict[str, _Project] = {}
        #: (method, path, query, status, body, fault): a tuple costs a third of a dict, and
        #: the journal is written on every call but read rarely.
        self._journal: deque[JournalEntry] = deque(maxlen=journal_size)
        from .listeners import Listeners

        #: The collections, each over this state's projects, lock and journal.
        self.listeners = Listeners(self)
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

    def existing(self, project_id: str) -> _Project | None:
        """A project's objects if it has any (a read makes none); the caller holds the
        lock."""
        return self._projects.get(project_id)

    # The listener API under the names it had before the listeners were a collection.
    def create_listener(self, project_id: str, body: Any) -> dict[str, Any]:
        return self.listeners.create(project_id, body)

    def get_listener(self, project_id: str, listener_id: str) -> dict[str, Any]:
        return self.listeners.get(project_id, listener_id)

    def list_listeners(self, project_id: str,
                       filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        return self.listeners.list(project_id, filters)

    # -- control plane -------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """The estate as JSON (``GET /_fake/state``, ``fake-elb serve --state``; docs/fake.md,
        "State"): per project, its load balancers, listeners, health checks, certificates
        (never a private key), ECSs and members. Jobs, tokens and users are not part of it."""
        with self.lock:
            self.members.settle_all()
            return {"version": STATE_VERSION, "projects": {
                project_id: {name: [_DUMPED.get(name, dict)(item)
                                    for item in getattr(project, name).values()]
                             for name in _KEPT}
                for project_id, project in self._projects.items()}}

    def load(self, estate: Any) -> None:
        """Replace the estate with a :meth:`dump` (all or nothing; a malformed one is a 400
        naming the shape expected)."""
        projects = estate.get("projects") if isinstance(estate, dict) else None
        if not isinstance(projects, dict) or estate.get("version") != STATE_VERSION:
            raise ApiError(400, INVALID, f"a state must be {_SHAPE}")
        loaded: dict[str, _Project] = {}
        for project_id, parts in projects.items():
            if not isinstance(parts, dict):
                raise ApiError(400, INVALID, f"projects.{str(project_id)[:64]}: must be "
                               f"an object, as in {_SHAPE}")
            project = loaded[str(project_id)] = _Project()
            for name in _KEPT:
                kept = getattr(project, name)
                for item in _items(parts, name, project_id, _SHAPE):
                    key = str(item.get("server_id")) if name == "servers" else check_id(
                        name, item.get("id"))
                    kept[key] = dict(item)
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
            self.listeners.reset()
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
        lb = {"id": check_id("load balancer", id or new_id()), "type": type,
              "project_id": project_id}
        with self.lock:
            self._projects.setdefault(project_id, _Project()).loadbalancers[lb["id"]] = lb
        return dict(lb)

    def add_certificate(self, project_id: str, id: str | None = None) -> dict[str, Any]:
        """A real certificate (self-signed, with its key) that listeners of this project may
        use, as if made long ago; the certificate API lists it."""
        cert_id = check_id("certificate", id or new_id())
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
