"""The fake's health checks (one per listener), over the same state, lock and journal as the
listeners: docs/api-rules.md Decisions 16, 17, 23 and 25.

Judged with the provider's own table (:mod:`otc_elb_listener.rules.healthcheck`); a rejected
request changes nothing. The listener's ``healthcheck_id`` follows its health check, and a
deleted listener takes its health check with it.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from otc_elb_listener.rules import healthcheck as rules

from .errors import ApiError
from .ids import new_id, timestamp


class _State(Protocol):
    """What the health checks need of the fake's state (:class:`.store.FakeElbState`)."""

    lock: threading.Lock

    def project(self, project_id: str) -> Any: ...


def _not_found(healthcheck_id: str) -> ApiError:
    return ApiError(404, "ELB.7020", f"health check {healthcheck_id[:64]} does not exist")


class HealthChecks:
    """Create, read, change and delete health checks of one fake's state."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def create(self, project_id: str, body: Any, *, id: str | None = None,
               create_time: str | None = None) -> dict[str, Any]:
        violations = rules.validate_create(body)
        if violations:
            raise ApiError.from_violations(violations)
        with self.state.lock:
            project = self.state.project(project_id)
            listener = project.listeners.get(body["listener_id"])
            if listener is None:
                raise ApiError(400, "ELB.7010", f"listener_id: listener {body['listener_id']} "
                               "does not exist in this project")
            if listener.get("healthcheck_id"):
                raise ApiError(400, "ELB.1001", f"listener_id: listener {listener['id']} "
                               f"already has health check {listener['healthcheck_id']}")
            now = create_time or timestamp()
            created = {"id": id or new_id(), **rules.defaults_for(listener), **body,
                       "create_time": now, "update_time": now}
            project.healthchecks[created["id"]] = created
            listener["healthcheck_id"] = created["id"]
            return dict(created)

    def get(self, project_id: str, healthcheck_id: str) -> dict[str, Any]:
        with self.state.lock:
            found = self.state.project(project_id).healthchecks.get(healthcheck_id)
            if found is None:
                raise _not_found(healthcheck_id)
            return dict(found)

    def update(self, project_id: str, healthcheck_id: str, body: Any) -> dict[str, Any]:
        with self.state.lock:
            current = self.state.project(project_id).healthchecks.get(healthcheck_id)
            if current is None:
                raise _not_found(healthcheck_id)
            violations = rules.validate_update(body)
            if violations:
                raise ApiError.from_violations(violations)
            current.update(rules.normalized_update(body), update_time=timestamp())
            return dict(current)

    def delete(self, project_id: str, healthcheck_id: str) -> None:
        with self.state.lock:
            project = self.state.project(project_id)
            found = project.healthchecks.pop(healthcheck_id, None)
            if found is None:
                raise _not_found(healthcheck_id)
            listener = project.listeners.get(found["listener_id"])
            if listener is not None:
                listener["healthcheck_id"] = None
