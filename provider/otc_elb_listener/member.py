"""The ``Member`` dynamic resource (one backend ECS on one listener) and its provider.

Adding and removing a member are **asynchronous jobs**: the service answers at once with a
``job_id``; the provider polls ``GET /v1.0/{project_id}/jobs/{job_id}`` (building the path
itself: the service's ``uri`` says ``/v1/``) with backoff until the job ends or a deadline
passes (``job_timeout`` input, else ``elb:jobTimeout``, else 10 minutes; Pulumi's custom
timeouts do not reach dynamic providers). While it waits it reports the job's status as an
info line on the resource (the CLI shows it under the member, see :mod:`.report`). A
``FAIL`` job is one error with its ``error_code`` and ``fail_reason``. When an add's answer is
lost, the member is looked up by ``server_id`` before anything is sent again: never a
duplicate member, never another stack's member. Members have no update: every field but
``job_timeout`` replaces.

An existing member is taken over (api-rules.md Decision 26) by ``member_id`` or ``import_``, either
holding the member's ID or the ECS's ``server_id`` (the member of that ECS on ``listener_id``). A
member has no PUT, so the two are the same: every field the program sets must match the live
member, or ``up`` fails naming each field and changes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from .adoption import IMPORT
from .base import (
    DEFAULT_WAIT,
    PROVIDER_KEY,
    ElbProvider,
    headline_first,
    is_unknown,
    made_since,
    stored,
)
from .errors import ElbApiError, printable
from .report import report
from .resource import ElbResource, lean_outputs
from .rules import member as rules
from .waiting import JOB_TIMEOUT_RULE, job_timeout_problem, poll_delay

__all__ = ["Member", "MemberArgs", "MemberProvider"]

KIND = "member"
FIELDS = ("listener_id", "server_id", "address")
OUTPUT_ONLY = ("server_address", "internal_address", "status", "health_status",
               "create_time", "update_time")
#: Delays of the look for a lost add's member (a fixed, short schedule).
POLL_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0, 5.0)
#: A job ID as the service gives it: anything else never goes into a poll's path.
JOB_ID_RE = re.compile(r"[0-9a-fA-F]{32}")
#: How long a lost add's member is looked for before the add is sent again.
LOST_LOOK_SECONDS = 30.0
#: Input that takes over an existing member (its ID, or its ECS's ``server_id``).
ADOPT = "member_id"


def listener_failures(listener_id: Any) -> list[dyn.CheckFailure]:
    """The rule on the listener a member (or a listener's members) names
    (:func:`.rules.member.listener_violation`); an unknown value is judged when it is
    known."""
    found = None if is_unknown(listener_id) else rules.listener_violation(listener_id)
    return [] if found is None else [dyn.CheckFailure(found.field,
                                                      f"{found.rule} [{found.code}]")]


def timeout_failures(timeout: Any) -> list[dyn.CheckFailure]:
    """The rule on a ``job_timeout`` (:func:`.waiting.job_timeout_problem`)."""
    if timeout is None or is_unknown(timeout) or job_timeout_problem(timeout) is None:
        return []
    return [dyn.CheckFailure("job_timeout", f"must be {JOB_TIMEOUT_RULE}, got {timeout!r}")]


def _takeover_target(props: Mapping[str, Any]) -> Any:
    """What a takeover names (``import_`` or ``member_id``), or ``None``."""
    imported = props.get(IMPORT)
    return imported if imported is not None else props.get(ADOPT)


class MemberProvider(ElbProvider):
    """Adds and removes one backend ECS on one listener, through the service's jobs."""

    kind = KIND
    adopt_input = "member_id"
    #: Members asked for per page of a list (the quota is 100 a listener: one page).
    page_size = 100

    # -- check and diff: no API call (but a takeover's one list) ----------------------------
    @headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        inputs = {k: news.get(k) for k in (*FIELDS, "job_timeout", ADOPT)
                  if news.get(k) is not None}
        target = _takeover_target(news)
        failures = self._judge(inputs, target is not None)
        if news.get(IMPORT) is not None:
            inputs[IMPORT] = news[IMPORT]
            if news.get(ADOPT) is not None:
                failures.append(dyn.CheckFailure(ADOPT, "give one of import_ and member_id "
                                                 "(for a member they do the same)"))
        if target is not None and not is_unknown(target) and not (
                isinstance(target, str) and target):
            failures.append(dyn.CheckFailure(ADOPT, "must be the ID of an existing member or "
                                             f"its ECS's server_id, got {target!r}"))
        if not failures and not olds and isinstance(target, str) and all(
                not is_unknown(inputs.get(k)) for k in FIELDS):
            self._preview_member(target, inputs)
        return dyn.CheckResult({**inputs, PROVIDER_KEY: news.get(PROVIDER_KEY)}, failures)

    @staticmethod
    def _judge(inputs: Mapping[str, Any], taking_over: bool) -> list[dyn.CheckFailure]:
        """Every rule on the inputs; a takeover's live member supplies what it leaves out."""
        failures = listener_failures(inputs.get("listener_id"))
        known = {k: inputs.get(k) for k in ("server_id", "address")
                 if not is_unknown(inputs.get(k)) and (k in inputs or not taking_over)}
        failures += [dyn.CheckFailure(v.field, f"{v.rule} [{v.code}]")
                     for v in rules.item_violations({"server_id": "unknown", "address":
                                                     "0.0.0.0", **known})]
        return failures + timeout_failures(inputs.get("job_timeout"))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Every field replaces (the old member goes first: one ECS is a member of a listener
        once); ``job_timeout`` alone is a change that calls nothing."""
        replaces = [n for n in FIELDS if news.get(n) is not None and (
            is_unknown(news.get(n)) or news.get(n) != olds.get(n))]
        timeout_changed = news.get("job_timeout") != olds.get("job_timeout")
        return dyn.DiffResult(changes=bool(replaces) or timeout_changed, replaces=replaces,
                              delete_before_replace=True)

    # -- taking over an existing member (api-rules.md Decision 26)
    # -----------------------------------------
    def _member_of(self, listener_id: str, target: str) -> dict[str, Any] | None:
        """The listener's member whose ID, or whose ECS's ``server_id``, is ``target``: one
        list of the listener's members."""
        return next((member for member in self._find(listener_id)
                     if target in (member.get("id"), member.get("server_id"))), None)

    @staticmethod
    def _differences(live: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[str]:
        """Each field the program sets that the live member does not have."""
        have = {"listener_id": inputs.get("listener_id"), "server_id": live.get("server_id"),
                "address": live.get("server_address")}
        return [f"{name} is {have[name]!r}, the program says {inputs[name]!r}"
                for name in FIELDS if inputs.get(name) is not None
                and inputs[name] != have[name]]

    def _preview_member(self, target: str, inputs: Mapping[str, Any]) -> None:
        """A new member that takes over a live one: one list, and what ``up`` will do shows
        on the resource. ``create`` reuses the answer."""
        listener_id = str(inputs["listener_id"])
        live = self._member_of(listener_id, target)
        if live is None:
            report(f"taking over member {target} will fail: listener {listener_id} has no "
                   "member with that ID or server_id", warning=True)
            return
        self._remember_live(target, live)
        wrong = self._differences(live, inputs)
        report(f"taking over member {live.get('id')} (ECS {live.get('server_id')}): " + (
            f"up will fail: {'; '.join(wrong)}" if wrong else "it matches the program, up "
            "sends nothing"), warning=bool(wrong))

    def _take_over_member(self, target: str, props: Mapping[str, Any]) -> dyn.CreateResult:
        """``create`` of a takeover: the member ``check`` read (or one list); a member has no
        PUT, so any field the program sets that differs fails the takeover, naming it."""
        listener_id = str(props["listener_id"])
        live = self._live_object(target, lambda: self._member_of(listener_id, target))
        if live is None:
            raise ElbApiError("take over", target, 404, "ELB.2012", f"listener {listener_id} "
                              "has no member with that ID or server_id; remove import_ / "
                              "member_id to add a new one", kind=KIND)
        wrong = self._differences(live, props)
        if wrong:
            raise ElbApiError("take over", str(live.get("id")), None, None, "the live member "
                              f"differs from the program: {'; '.join(wrong)}. A member has no "
                              "update: make the program match it; nothing was changed",
                              kind=KIND)
        return dyn.CreateResult(live["id"], self._outputs(
            live, {**props, "address": live.get("server_address")}))

    # -- jobs -------------------------------------------------------------------------------
    def _deadline(self, props: Mapping[str, Any]) -> float:
        """Seconds a job may take: ``job_timeout``, else ``elb:jobTimeout`` (judged at
        ``configure``), else :data:`DEFAULT_WAIT`."""
        configured = props.get("job_timeout")
        if configured is None or job_timeout_problem(configured) is not None:
            configured = self._config.get("jobTimeout")
        return float(configured) if configured is not None else DEFAULT_WAIT

    def _wait(self, operation: str, job_id: str, label: str, what: str, seconds: float,
              advice: str) -> dict[str, Any]:
        """Poll the job until it ends; its answer, or an error naming the job and ``what``
        it was for (``(ECS ... on listener ...)``)."""
        if not JOB_ID_RE.fullmatch(job_id):
            raise ElbApiError(operation, None, None, None, f"the service answered a job_id "
                              f"that is not a job ID (32 hex characters), got "
                              f"{job_id[:40]!r}; nothing was polled", kind=KIND)
        began = time.monotonic()
        while True:
            waited = time.monotonic() - began
            delay = poll_delay(waited)
            if waited + delay > seconds:
                break
            time.sleep(delay)
            job = self._api().jobs().action(operation, "GET", job_id, gone_ok=True) or {}
            status = printable(str(job.get("status")))[:40]
            report(f"{label}: job {job_id} {status} after "
                   f"{time.monotonic() - began:.1f} s", warning=False)
            if status == "SUCCESS":
                return dict(job)
            if status == "FAIL":
                code = job.get("error_code")
                raise ElbApiError(operation, what, None, str(code) if code else None,
                                  f"job {job_id} failed: {job.get('fail_reason')}", kind=KIND)
        raise ElbApiError(operation, what, None, None, f"job {job_id} had not ended after "
                          f"{seconds:g} s (job_timeout)", advice, kind=KIND)

    def _find(self, listener_id: str, **filters: str) -> list[dict[str, Any]]:
        """The listener's members matching ``filters``, every page of them (``limit`` and
        ``marker``, as the service pages; a page shorter than :attr:`page_size` is the
        last). ``{}``, an empty list's quirk, and a listener that is gone read as none."""
        found: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            query = {**filters, "limit": str(self.page_size),
                     **({"marker": marker} if marker else {})}
            page = self._call_as_kind(self._api().members(listener_id).action, "read", "GET",
                                      "", None, query, None, (dict, list), True)
            page = page if isinstance(page, list) else []
            found += page
            last = page[-1].get("id") if page and isinstance(page[-1], dict) else None
            if len(page) < self.page_size or not isinstance(last, str) or last == marker:
                return found
            marker = last

    # -- create, read, delete -----------------------------------------------------------------
    @headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One POST and the job's polls; a lost answer is looked up before a resend. A
        takeover reuses the list ``check`` made and sends nothing."""
        target = _takeover_target(props)
        if target is not None:
            return self._take_over_member(str(target), props)
        listener_id, server_id = str(props["listener_id"]), str(props["server_id"])
        body = [{"server_id": server_id, "address": str(props["address"])}]
        began, seconds = time.time(), self._deadline(props)
        member = None
        for _ in range(2):
            try:
                answer = self._api().members(listener_id).action("add member", "POST", "",
                                                                 body)
            except ElbApiError as error:
                if not (error.unanswered or (error.status or 0) >= 500):
                    raise error.for_kind(KIND) from None
                member = self._look_for_lost(listener_id, server_id, began)
                if member is not None:
                    break
                continue  # not applied: sent again, once
            if not isinstance(answer, dict) or "job_id" not in answer:
                raise ElbApiError("add member", None, None, (answer or {}).get("error", {})
                                  .get("code") if isinstance(answer, dict) else None,
                                  f"the service refused the add: {answer}", kind=KIND)
            try:
                job = self._wait("add member", str(answer["job_id"]), f"member {server_id}",
                                 f"(ECS {server_id} on listener {listener_id})", seconds,
                                 f"It may still end and add the member, which this stack "
                                 f"would then not hold: once it has, take it over with "
                                 f"member_id=\"{server_id}\" (or import_) and run `pulumi "
                                 "up`; a longer job_timeout (or elb:jobTimeout) waits longer")
            except ElbApiError as failed:
                member = self._ours_after_all(listener_id, server_id, began, failed)
                break
            made = (job.get("entities") or {}).get("members") or [{}]
            member = next(iter(self._find(listener_id, id=str(made[0].get("id")))), None)
            break
        if member is None:
            raise ElbApiError("add member", None, None, None, f"ECS {server_id} is not a "
                              f"member of listener {listener_id} after the add", kind=KIND)
        return dyn.CreateResult(member["id"], self._outputs(member, props))

    def _look_for_lost(self, listener_id: str, server_id: str,
                       began: float) -> dict[str, Any] | None:
        """After an add whose answer was lost: the member this add made, once its job ends,
        or ``None`` when none appears (the add was not applied)."""
        waited = time.monotonic()
        for delay in (*POLL_DELAYS, *([5.0] * 6)):
            found = self._find(listener_id, server_id=server_id)
            if found:
                return self._ours_after_all(listener_id, server_id, began, None, found)
            if time.monotonic() - waited + delay > LOST_LOOK_SECONDS:
                return None
            time.sleep(delay)
        return None

    def _ours_after_all(self, listener_id: str, server_id: str, began: float,
                        failed: ElbApiError | None,
                        found: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The member of ``server_id`` on the listener, if this stack's add made it (its
        ``create_time`` no earlier than the add began by this machine's clock, within a
        second: unlike a listener's create, no answer here carries the service's clock);
        else the error."""
        found = self._find(listener_id, server_id=server_id) if found is None else found
        for member in found:
            if made_since(member, began):
                return member
        if failed is not None:
            raise failed
        raise ElbApiError("add member", None, None, "ELB.2005", f"ECS {server_id} is already a "
                          f"member of listener {listener_id} ({found[0].get('id')}), made "
                          "before this add: not taking another stack's member; take it "
                          "over (member_id or import_) or remove it first", kind=KIND)

    @staticmethod
    def _outputs(member: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        return stored({
                "listener_id": props.get("listener_id"), "server_id": member.get("server_id"),
                "address": props.get("address"), "job_timeout": props.get("job_timeout"),
                "member_id": member.get("id"), "server_address": member.get("server_address"),
                "internal_address": member.get("address"), "status": member.get("status"),
                "health_status": member.get("health_status"),
                "create_time": member.get("create_time"),
                "update_time": member.get("update_time")})

    @headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """One list of the listener's members, filtered by ID; gone gives an empty id."""
        found = self._find(str(props.get("listener_id")), id=id_)
        if not found:
            return dyn.ReadResult("", {})
        outputs = self._outputs(found[0], {**props, "address": found[0].get("server_address")})
        inputs = {k: outputs[k] for k in FIELDS if k in outputs}
        if props.get("job_timeout") is not None:
            inputs["job_timeout"] = props["job_timeout"]
        return dyn.ReadResult(id_, outputs, inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Only ``job_timeout`` can change without a replacement: nothing is called."""
        return dyn.UpdateResult({**olds, "job_timeout": news.get("job_timeout")})

    @headline_first
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """One remove and its job; a member (or listener) already gone counts as removed."""
        listener_id = str(props.get("listener_id"))
        answer = self._api().members(listener_id).action(
            "remove member", "POST", "action", {"removeMember": [{"id": id_}]}, gone_ok=True)
        if answer is None:
            return  # ELB.2012 / ELB.8904: already gone
        self._wait("remove member", str(answer["job_id"]), f"member {props.get('server_id')}",
                   f"{id_} (ECS {props.get('server_id')} on listener {listener_id})",
                   self._deadline(props), "It may still end: run `pulumi refresh` to see "
                   "whether the member is gone, then `pulumi up`")


@dataclass
class MemberArgs:
    """Inputs of a :class:`Member`: the listener, the ECS (its ID) and the ECS's private IPv4
    address. ``job_timeout`` (seconds) bounds the wait for the add and remove jobs."""


    listener_id: pulumi.Input[str] | None = None
    server_id: pulumi.Input[str] | None = None
    address: pulumi.Input[str] | None = None
    job_timeout: pulumi.Input[float] | None = None
    #: Take over this existing member (its ID, or its ECS's ``server_id``) instead of adding
    #: one; ``server_id`` and ``address`` may then be left out.
    member_id: pulumi.Input[str] | None = None


@lean_outputs
class Member(ElbResource[MemberArgs, MemberProvider], module="elb", name="Member",
             identity="member_id", output_only=OUTPUT_ONLY):
    """One backend ECS of a classic ELB (v1.0) listener. ``Member.get(name, id,
    listener_id=...)``: a member is found within its listener."""


    member_id: pulumi.Output[str]
    listener_id: pulumi.Output[str]
    server_id: pulumi.Output[str]
    address: pulumi.Output[str]
    job_timeout: pulumi.Output[float | None]
    server_address: pulumi.Output[str]
    internal_address: pulumi.Output[str]
    status: pulumi.Output[str]
    health_status: pulumi.Output[str]
    create_time: pulumi.Output[str]
    update_time: pulumi.Output[str]
