"""The fake's backend members and the asynchronous jobs that add and remove them:
docs/api-rules.md Decisions 18, 19, 20, 21, 24, 27 and 29.

Add and remove answer at once with ``{"uri": "/v1/{project}/jobs/{id}", "job_id"}``; what
needs no lookup of the ECS is judged at once, the rest ends the job in FAIL. A job goes
INIT -> RUNNING -> SUCCESS/FAIL in the fake's own time (``duration`` seconds, 0.2 by
default), its effect applied when it ends; the control plane can make the next jobs slow,
stuck or failed. ECSs are registered through the control plane, as load balancers are.
"""

from __future__ import annotations

import builtins
import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from otc_elb_listener.rules import member as rules

from .errors import ApiError
from .ids import TIME_FORMAT, new_id

#: The documented quota is not published; the fake's, per listener.
MEMBER_QUOTA = 100
_JOB_TIME = "%Y-%m-%dT%H:%M:%S.000Z"
#: What the control plane may set a member's ``health_status`` to (docs/api-rules.md Decision 27).
HEALTH_STATUSES = ("NORMAL", "ABNORMAL", "UNAVAILABLE")
_FILTERS = frozenset({"id", "server_id", "server_address", "address", "status",
                      "health_status"})


class _State(Protocol):
    lock: threading.Lock

    def project(self, project_id: str) -> Any: ...


@dataclass
class _Job:
    job_id: str
    job_type: str
    project_id: str
    began: float
    duration: float
    #: Applied under the lock when the job succeeds, given the epoch second it ended at.
    effect: Any
    #: When it began by the wall clock (its times are stamped from this, not from a look).
    began_at: float = 0.0
    #: An add's listener and how many members it adds (they count against the quota).
    listener_id: str = ""
    adds: int = 0
    outcome: str = "success"  # success, fail, stuck
    error_code: str | None = None
    fail_reason: str | None = None
    done: bool = False
    entities: dict[str, Any] = field(default_factory=dict)
    begin_time: str = ""
    end_time: str = ""


class Members:
    """Members of listeners, the ECSs they point at, and the jobs that change them."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.duration = 0.2
        #: What the next jobs do instead of succeeding in ``duration``: fail, stuck, slow.
        self.next: deque[dict[str, Any]] = deque()
        #: Answer an empty member list as ``{}`` (a quirk seen on the real service).
        self.empty_as_object = False
        self._jobs: dict[str, _Job] = {}
        self._addresses = 0

    # -- control plane ---------------------------------------------------------------------
    def add_server(self, project_id: Any, server_id: Any, address: Any,
                   name: Any) -> dict[str, Any]:
        for key, value in (("project_id", project_id), ("server_id", server_id),
                           ("name", name)):
            if not isinstance(value, str) or not value:
                raise ApiError(400, "ELB.1001", f"{key}: a non-empty string is mandatory")
        if not rules.is_ipv4(address):
            raise ApiError(400, "ELB.1001", "address: the ECS's private IPv4 address is "
                           "mandatory")
        server = {"server_id": server_id, "address": address, "name": name}
        with self.state.lock:
            self.state.project(project_id).servers[server_id] = server
        return dict(server)

    def set_health(self, project_id: Any, member_id: Any, health_status: Any) -> dict[str, Any]:
        """What the service says of a member's health from now on (api-rules.md Decision 27);
        ``None`` gives it back to the listener's health check."""
        if health_status not in (*HEALTH_STATUSES, None):
            raise ApiError(400, "ELB.1001", "health_status: one of "
                           f"{', '.join(HEALTH_STATUSES)}, or null")
        with self.state.lock:
            project = self.state.project(str(project_id))
            member = project.members.get(member_id) if isinstance(member_id, str) else None
            if member is None:
                raise ApiError(404, "ELB.2012", f"member {str(member_id)[:64]} does not exist")
            member["health_status"] = health_status
            return self._shown(project, member)

    def configure_jobs(self, duration: Any = None, next_jobs: Any = None,
                       empty_as_object: Any = None) -> None:
        if duration is not None:
            if not isinstance(duration, (int, float)) or isinstance(duration, bool) or \
                    not math.isfinite(duration) or duration < 0:
                raise ApiError(400, "ELB.1001", "duration: seconds, a finite number >= 0")
            self.duration = float(duration)
        if next_jobs is not None:
            _check_next_jobs(next_jobs)
            self.next.extend(next_jobs)
        if empty_as_object is not None:
            self.empty_as_object = bool(empty_as_object)

    def reset(self) -> None:
        self.duration, self.empty_as_object = 0.2, False
        self.next.clear()
        self._jobs.clear()

    # -- jobs ------------------------------------------------------------------------------
    def _job(self, project_id: str, job_type: str, effect: Any,
             entities: dict[str, Any], listener_id: str = "", adds: int = 0
             ) -> dict[str, Any]:
        began_at = time.time()
        job = _Job(new_id(), job_type, project_id, time.monotonic(), self.duration, effect,
                   began_at, listener_id, adds, entities=entities,
                   begin_time=time.strftime(_JOB_TIME, time.gmtime(began_at)))
        if self.next:
            behaviour = self.next.popleft()
            outcome = behaviour["outcome"]
            job.duration = float(behaviour.get("duration", job.duration))
            job.outcome = "success" if outcome == "slow" else outcome
            if outcome == "fail":
                job.error_code = str(behaviour.get("error_code", "ELB.2005"))
                job.fail_reason = str(behaviour.get("fail_reason", "injected failure"))
        self._jobs[job.job_id] = job
        return {"uri": f"/v1/{project_id}/jobs/{job.job_id}", "job_id": job.job_id}

    def _settle(self, job: _Job, now: float) -> str:
        """The job's status now; its effect is applied (once) when it ends."""
        elapsed = now - job.began
        if job.outcome == "stuck" or elapsed < job.duration:
            return "INIT" if elapsed < job.duration * 0.3 else "RUNNING"
        if not job.done:
            job.done = True
            ended = job.began_at + job.duration  # when it ended, not when someone looked
            job.end_time = time.strftime(_JOB_TIME, time.gmtime(ended))
            if job.outcome == "success":
                try:
                    job.entities = job.effect(ended)
                except ApiError as failed:  # decided when the job runs (api-rules.md Decision 18)
                    job.outcome, job.error_code, job.fail_reason = ("fail", failed.code,
                                                                    failed.message)
        return "SUCCESS" if job.outcome == "success" else "FAIL"

    def settle_all(self) -> None:
        """End every job whose time has come, in the order they ended (the caller holds the
        lock)."""
        now = time.monotonic()
        for job in sorted((j for j in self._jobs.values() if not j.done),
                          key=lambda j: j.began + j.duration):
            self._settle(job, now)

    def _pending_adds(self, listener_id: str) -> int:
        """Members that add jobs still running will make on ``listener_id`` (the caller holds
        the lock, and has settled what has ended)."""
        return sum(job.adds for job in self._jobs.values()
                   if not job.done and job.listener_id == listener_id and job.outcome != "fail")

    def get_job(self, project_id: str, job_id: str) -> dict[str, Any]:
        with self.state.lock:
            job = self._jobs.get(job_id)
            if job is None or job.project_id != project_id:
                raise ApiError(404, "ELB.8904", f"job {job_id[:64]} does not exist")
            status = self._settle(job, time.monotonic())
            running = status in ("INIT", "RUNNING")
            return {"status": status, "job_id": job.job_id, "job_type": job.job_type,
                    "begin_time": job.begin_time, "end_time": job.end_time,
                    "entities": {} if status == "INIT" else dict(job.entities),
                    "error_code": None if running or status == "SUCCESS" else job.error_code,
                    "fail_reason": None if running or status == "SUCCESS" else
                    job.fail_reason}

    # -- members ---------------------------------------------------------------------------
    def _listener(self, project: Any, listener_id: str) -> dict[str, Any]:
        listener = project.listeners.get(listener_id)
        if listener is None:
            raise ApiError(404, "ELB.8904", f"listener {listener_id[:64]} does not exist")
        return dict(listener)

    def add(self, project_id: str, listener_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, list) or not body:
            raise ApiError(400, "ELB.1001", "the body must be a non-empty JSON array of "
                           "{server_id, address}")
        for index, item in enumerate(body):
            if not isinstance(item, dict):
                raise ApiError(400, "ELB.1001", f"[{index}]: must be {{server_id, address}}")
            violations = rules.item_violations(item, f"[{index}].")
            if violations:
                raise ApiError.from_violations(violations)
        items = [{"server_id": i["server_id"], "address": i["address"]} for i in body]
        with self.state.lock:
            self.settle_all()
            project = self.state.project(project_id)
            self._listener(project, listener_id)
            count = sum(1 for m in project.members.values() if m["listener_id"] == listener_id)
            if count + self._pending_adds(listener_id) + len(items) > MEMBER_QUOTA:
                raise ApiError(403, "ELB.2001", f"listener {listener_id} would have more than "
                               f"{MEMBER_QUOTA} members (quota; adds still running count)")
            return self._job(project_id, "createMember",
                             lambda ended: self._add_now(project_id, listener_id, items, ended),
                             {}, listener_id, len(items))

    def _add_now(self, project_id: str, listener_id: str,
                 items: list[dict[str, str]], ended: float) -> dict[str, Any]:
        """The add job's effect (under the lock), stamped with the second the job ended: all
        members or none; the quota is judged again, as members may have come since."""
        project = self.state.project(project_id)
        self._listener(project, listener_id)
        on_listener = {m["server_id"] for m in project.members.values()
                       if m["listener_id"] == listener_id}
        if len(on_listener) + len(items) > MEMBER_QUOTA:
            raise ApiError(403, "ELB.2001", f"listener {listener_id} would have more than "
                           f"{MEMBER_QUOTA} members (quota)")
        for item in items:
            server = project.servers.get(item["server_id"])
            if server is None:
                raise ApiError(400, "ELB.2005", f"ECS {item['server_id']} does not exist in "
                               "this project")
            if server["address"] != item["address"]:
                raise ApiError(400, "ELB.2005", f"{item['address']} is not the private "
                               f"address of ECS {item['server_id']}")
            if item["server_id"] in on_listener:
                raise ApiError(400, "ELB.2005", f"ECS {item['server_id']} is already a "
                               f"member of listener {listener_id}")
            on_listener.add(item["server_id"])
        made = []
        now = time.strftime(TIME_FORMAT, time.gmtime(int(ended)))
        for item in items:
            self._addresses += 1
            member = {"id": new_id(), "listener_id": listener_id,
                      "server_id": item["server_id"], "server_address": item["address"],
                      "address": f"100.64.{self._addresses // 250}.{self._addresses % 250 + 1}",
                      "status": "ACTIVE", "health_status": None,  # see _shown
                      "server_name": None, "create_time": now, "update_time": now}
            project.members[member["id"]] = member
            made.append({"address": member["address"], "id": member["id"],
                         "listener_id": listener_id, "server_id": member["server_id"],
                         "status": "ACTIVE"})
        return {"members": made}

    def remove(self, project_id: str, listener_id: str, body: Any) -> dict[str, Any]:
        items = body.get("removeMember") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not all(
                isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            raise ApiError(400, "ELB.2002", "removeMember: a non-empty list of {id} is "
                           "mandatory")
        ids = [i["id"] for i in items]
        with self.state.lock:
            self.settle_all()
            project = self.state.project(project_id)
            self._listener(project, listener_id)
            for member_id in ids:
                member = project.members.get(member_id)
                if member is None or member["listener_id"] != listener_id:
                    raise ApiError(400, "ELB.2012", f"member {member_id[:64]} does not exist "
                                   f"on listener {listener_id}")

            def effect(_ended: float) -> dict[str, Any]:
                for member_id in ids:
                    project.members.pop(member_id, None)
                return {"listener_id": listener_id, "members": [{"id": i} for i in ids]}

            return self._job(project_id, "removeMember", effect, {})

    def list(self, project_id: str, listener_id: str,
             filters: Mapping[str, builtins.list[str]]) -> Any:
        """The listener's members in the order they were made, filtered by any field, one
        page of ``limit`` after the member ``marker`` names (docs/fake.md, "Paging")."""
        filters = dict(filters)
        limit = _limit(filters.pop("limit", None))
        marker = _one("marker", filters.pop("marker", None))
        for name in filters:
            if name not in _FILTERS:
                raise ApiError(400, "ELB.2003", f"{name[:64]}: is not a member field to "
                               "filter on")
        with self.state.lock:
            self.settle_all()
            project = self.state.project(project_id)
            self._listener(project, listener_id)
            shown = [self._shown(project, m) for m in project.members.values()
                     if m["listener_id"] == listener_id]
        if marker is not None:
            after = next((i for i, m in enumerate(shown) if m["id"] == marker), None)
            if after is None:
                raise ApiError(400, "ELB.1001", f"marker: listener {listener_id} has no "
                               f"member {marker[:64]} (a marker is the ID of the last member "
                               "of the page before)")
            shown = shown[after + 1:]
        found = [m for m in shown if all(str(m.get(k)) in wanted
                                         for k, wanted in filters.items())]
        if limit is not None:
            found = found[:limit]
        return {} if not found and self.empty_as_object else found

    @staticmethod
    def _shown(project: Any, member: Mapping[str, Any]) -> dict[str, Any]:
        """A member as the service lists it: every listener that ECS serves (api-rules.md Decision
        24); its ``health_status`` as the control plane set it, else NORMAL while its listener
        has a health check and UNAVAILABLE without one (api-rules.md Decision 27: the fake probes
        no ECS)."""
        serves = sorted(m["listener_id"] for m in project.members.values()
                        if m["server_id"] == member["server_id"])
        shown = {k: v for k, v in member.items() if k != "listener_id"}
        shown["listeners"] = [{"id": listener} for listener in serves]
        if shown["health_status"] is None:
            listener = project.listeners.get(member["listener_id"]) or {}
            shown["health_status"] = "NORMAL" if listener.get("healthcheck_id") else \
                "UNAVAILABLE"
        return shown

    def listener_members(self, project: Any, listener_id: str) -> builtins.list[str]:
        """IDs of a listener's members (a listener with members cannot be deleted)."""
        return sorted(m["id"] for m in project.members.values()
                      if m["listener_id"] == listener_id)


def _one(name: str, values: builtins.list[str] | None) -> str | None:
    """A query parameter given at most once."""
    if values is None:
        return None
    if len(values) != 1:
        raise ApiError(400, "ELB.1001", f"{name}: give it once, got {len(values)} values")
    return values[0]


def _limit(values: builtins.list[str] | None) -> int | None:
    """A page's size: a whole number of at least 1."""
    text = _one("limit", values)
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise ApiError(400, "ELB.1001", f"limit: must be an integer of at least 1, got "
                       f"{text[:20]!r}")
    return int(text)


_NEXT_KEYS = frozenset({"outcome", "duration", "error_code", "fail_reason"})
_NEXT_SHAPE = ("next: a list of {outcome: fail|stuck|slow, error_code?: string, "
               "fail_reason?: string, duration?: seconds >= 0}")


def _check_next_jobs(next_jobs: Any) -> None:
    """What the control plane may queue for the next jobs, judged before any is queued: a
    400 naming the entry and the shape expected."""
    if not isinstance(next_jobs, list):
        raise ApiError(400, "ELB.1001", f"{_NEXT_SHAPE}; got {type(next_jobs).__name__}")
    for index, job in enumerate(next_jobs):
        problem = None
        if not isinstance(job, dict):
            problem = "is not an object"
        elif job.get("outcome") not in ("fail", "stuck", "slow"):
            problem = "outcome must be fail, stuck or slow"
        elif "duration" in job and (
                isinstance(job["duration"], bool)
                or not isinstance(job["duration"], (int, float))
                or not math.isfinite(job["duration"]) or job["duration"] < 0):
            problem = "duration must be seconds, a finite number >= 0"
        elif any(key in job and not isinstance(job[key], str)
                 for key in ("error_code", "fail_reason")):
            problem = "error_code and fail_reason must be strings"
        elif set(job) - _NEXT_KEYS:
            problem = f"unknown keys {sorted(set(job) - _NEXT_KEYS)}"
        if problem is not None:
            raise ApiError(400, "ELB.1001", f"next[{index}]: {problem} ({_NEXT_SHAPE})")
