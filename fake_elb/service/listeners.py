"""The fake's listeners, over the same state, lock and journal as the other collections:
create, seed, get, list, update and delete, judged with the provider's own table
(:mod:`otc_elb_listener.rules.listener`); a rejected request changes nothing. A new or
changed listener may stay PENDING a while (:meth:`Listeners.set_transition`, as moto's
``set_transition``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from otc_elb_listener.rules import listener as rules
from otc_elb_listener.rules.machinery import INVALID, json_repr

from .errors import ApiError
from .ids import TIME_FORMAT, check_id, new_id, timestamp

#: No transition: a listener is ACTIVE the moment it is made or changed.
_INSTANT = {"create": 0.0, "update": 0.0, "end": "ACTIVE"}


class _State(Protocol):
    """What the listeners need of the fake's state (:class:`.store.FakeElbState`)."""

    lock: threading.Lock
    strict: bool
    members: Any

    def project(self, project_id: str) -> Any: ...

    def existing(self, project_id: str) -> Any: ...


class Listeners:
    """The listener API of one fake's state."""

    def __init__(self, state: _State) -> None:
        self.state = state
        #: How long a new or changed listener stays PENDING_CREATE / PENDING_UPDATE, and the
        #: status it ends in (``ACTIVE``, or ``ERROR``): instant and ACTIVE by default.
        self.transition: dict[str, Any] = dict(_INSTANT)
        #: Listeners in a transition: their ID -> (monotonic time it ends, the end status).
        self._pending: dict[str, tuple[float, str]] = {}

    def reset(self) -> None:
        """Back to instant transitions (the caller holds the lock)."""
        self.transition = dict(_INSTANT)
        self._pending.clear()

    def _context(self, project: Any, lb_id: Any, exclude: str | None = None,
                 body: Any = None) -> rules.LoadBalancerContext:
        """What the rules need to know about the load balancer. For a PUT (``exclude`` set),
        sibling ports and certificates are gathered only when the body touches them."""
        lb = project.loadbalancers.get(lb_id) if isinstance(lb_id, str) else None
        if lb is None:
            return rules.LoadBalancerContext(None)
        fields = body if isinstance(body, dict) else {}
        creating = exclude is None
        ports: frozenset[int] = frozenset()
        count = 0
        if creating or not rules.PORT_FIELDS.isdisjoint(fields):
            siblings = [listener["port"] for lid, listener in project.listeners.items()
                        if listener["loadbalancer_id"] == lb_id and lid != exclude]
            ports, count = frozenset(siblings), len(siblings)
        certificates: frozenset[str] = frozenset()
        if creating or not rules.CERTIFICATE_FIELDS.isdisjoint(fields):
            certificates = frozenset(project.certificates)
        return rules.LoadBalancerContext(loadbalancer_type=lb["type"],
                                         certificate_ids=certificates, ports_in_use=ports,
                                         listener_count=count)

    def create(self, project_id: str, body: Any) -> dict[str, Any]:
        with self.state.lock:
            return self._create_locked(self.state.project(project_id), body)

    def _create_locked(self, project: Any, body: Any) -> dict[str, Any]:
        """A create, validated then committed; the caller holds the lock."""
        lb_id = body.get("loadbalancer_id") if isinstance(body, dict) else None
        violations = rules.validate_create(body, self._context(project, lb_id, body=body),
                                           strict=self.state.strict)
        if violations:
            raise ApiError.from_violations(violations)
        now = timestamp()
        listener = rules.materialize({
            "id": new_id(), "status": "ACTIVE", "admin_state_up": True,
            "healthcheck_id": None, "member_number": 0,
            "create_time": now, "update_time": now,
            **{name: value for name, value in body.items() if name in rules.FIELDS},
        })
        listener = {name: listener.get(name) for name in rules.RESPONSE_FIELDS}
        project.listeners[listener["id"]] = listener
        self._begin_transition(listener, "create")
        return copied(listener)

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
        with self.state.lock:
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

    def seed(self, project_id: str, fields: Any, *, id: str | None = None,
             create_time: str | None = None, status: str | None = None) -> dict[str, Any]:
        """An existing listener, as if made long ago (the control plane's seeding): the
        fields pass the same rules as a create; ``id``, ``create_time`` (``YYYY-MM-DD
        HH:MM:SS``, also its ``update_time``) and ``status`` may be chosen."""
        if create_time is not None:
            try:
                time.strptime(create_time, TIME_FORMAT)
            except (TypeError, ValueError):
                raise ApiError(400, INVALID, "create_time must be YYYY-MM-DD HH:MM:SS, "
                               f"got {create_time!r}") from None
        listener_id = check_id("listener", id) if id is not None else None
        with self.state.lock:
            project = self.state.project(project_id)
            if listener_id is not None and listener_id in project.listeners:
                raise ApiError(400, INVALID, f"listener {listener_id} exists already")
            created = self._create_locked(project, fields)
            listener = project.listeners.pop(created["id"])
            listener.update({"id": listener_id or created["id"]} | (
                {"create_time": create_time, "update_time": create_time} if create_time
                else {}) | ({"status": status} if status else {}))
            project.listeners[listener["id"]] = listener
            return copied(listener)

    def _find(self, project_id: str, listener_id: str) -> tuple[Any, dict[str, Any]]:
        project = self.state.existing(project_id)
        listener = project.listeners.get(listener_id) if project else None
        if project is None or listener is None:
            raise ApiError(404, "ELB.8904", f"listener {listener_id} not found")
        self._settle(listener)
        return project, listener

    def get(self, project_id: str, listener_id: str) -> dict[str, Any]:
        with self.state.lock:
            return copied(self._find(project_id, listener_id)[1])

    def list(self, project_id: str, filters: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """Listeners of a project whose fields equal every filter (values as query text)."""
        for name in filters:
            if name not in rules.RESPONSE_FIELDS:
                raise ApiError(400, "ELB.6003", f"{name[:64]}: is not a listener field to "
                               "filter on")
            if name in rules.UNFILTERABLE_FIELDS:
                raise ApiError(400, "ELB.6003", f"{name}: listeners cannot be filtered on "
                               f"it (not on {', '.join(sorted(rules.UNFILTERABLE_FIELDS))})")
        with self.state.lock:
            project = self.state.existing(project_id)
            listeners = list(project.listeners.values()) if project else []
            for listener in listeners:
                self._settle(listener)
            return [copied(listener) for listener in listeners
                    if all(_query_text(listener[name]) in wanted
                           for name, wanted in filters.items())]

    def update(self, project_id: str, listener_id: str, body: Any) -> dict[str, Any]:
        with self.state.lock:
            project, current = self._find(project_id, listener_id)
            context = self._context(project, current["loadbalancer_id"], exclude=listener_id,
                                    body=body)
            violations = rules.validate_update(body, current, context, strict=self.state.strict)
            if violations:
                raise ApiError.from_violations(violations)
            updated = rules.apply_update(current, body)
            updated["update_time"] = timestamp()
            project.listeners[listener_id] = updated
            self._begin_transition(updated, "update")
            return copied(updated)

    def delete(self, project_id: str, listener_id: str) -> None:
        with self.state.lock:
            project = self.state.existing(project_id)
            if project is None or project.listeners.get(listener_id) is None:
                # What the real service answers (docs/api-rules.md), not 404.
                raise ApiError(503, "ELB.6002", f"listener {listener_id} does not exist")
            self.state.members.settle_all()
            members = self.state.members.listener_members(project, listener_id)
            if members:  # docs/api-rules.md docs/api-rules.md Decision 39
                raise ApiError(400, "ELB.1001", f"listener {listener_id} still has members "
                               f"{', '.join(members)}: remove them first")
            removed = project.listeners.pop(listener_id)
            project.healthchecks.pop(removed.get("healthcheck_id") or "", None)  # goes with it


def copied(listener: dict[str, Any]) -> dict[str, Any]:
    """A copy callers may keep or change (the only nested value is ``certificates``)."""
    certificates = listener.get("certificates")
    result = dict(listener)
    if certificates is not None:
        result["certificates"] = list(certificates)
    return result


def _query_text(value: Any) -> str:
    """How a field value is written in a query string, for list filters: booleans and null
    as JSON writes them, a list comma-separated, anything else as text."""
    if value is None or isinstance(value, bool):
        return json_repr(value)
    if isinstance(value, list):
        return ",".join(value)
    return str(value)
