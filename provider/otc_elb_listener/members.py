"""The ``Members`` dynamic resource: all the backends of one listener as one resource, added
in one request (one job) and removed in one request (one job).

A listener with many backends as ``Member`` resources costs one job each, and the provider
host serves four calls at a time; ``Members`` costs one add job and one remove job per change,
whatever the count (docs/engines.md, "Members"). It diffs by ``server_id``: an ECS that is
new is added, one that is gone is removed, one whose address changed is removed and added
again. A failed job is one error naming the members it was for and what the listener holds
now, read back; the state then holds what the service holds (a partial failure, as the engine
records it). ``import_`` (the listener's ID) takes over the listener's current members as
they are. ``Members`` and ``Member`` must not manage the same listener.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from .adoption import IMPORT
from .base import PROVIDER_KEY, headline_first, is_unknown, stored
from .errors import ElbApiError
from .member import MemberProvider, listener_failures, timeout_failures
from .report import PartialState
from .resource import ElbResource, lean_outputs
from .rules import member as rules

__all__ = ["Members", "MembersArgs", "MembersProvider"]

KIND = "members"
OUTPUT_ONLY = ("listener_members",)


def _wanted(props: Mapping[str, Any]) -> dict[str, str]:
    """The program's members as ``server_id -> address``."""
    return {str(item["server_id"]): str(item["address"])
            for item in props.get("members") or [] if isinstance(item, Mapping)}


class MembersProvider(MemberProvider):
    """A listener's backends as one set: one add job and one remove job per change."""

    kind = KIND
    adopt_input = "listener_id"

    @headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Every rule, with no API call: the listener's ID, each member's ``server_id`` and
        private IPv4 address, no ECS twice, a finite ``job_timeout``."""
        inputs = {k: news.get(k) for k in ("listener_id", "members", "job_timeout")
                  if news.get(k) is not None}
        failures = listener_failures(inputs.get("listener_id"))
        members = inputs.get("members", [])
        if not is_unknown(members):
            failures += self._judge_members(members)
        failures += timeout_failures(inputs.get("job_timeout"))
        if news.get(IMPORT) is not None:
            inputs[IMPORT] = news[IMPORT]
        return dyn.CheckResult({**inputs, PROVIDER_KEY: news.get(PROVIDER_KEY)}, failures)

    @staticmethod
    def _judge_members(members: Any) -> list[dyn.CheckFailure]:
        if not isinstance(members, list):
            return [dyn.CheckFailure("members", "must be a list of {server_id, address}")]
        failures, seen = [], set()
        for index, item in enumerate(members):
            if is_unknown(item):
                continue
            if not isinstance(item, Mapping):
                failures.append(dyn.CheckFailure("members", f"[{index}] must be "
                                                 "{server_id, address}"))
                continue
            known = {k: v for k, v in item.items() if not is_unknown(v)}
            failures += [dyn.CheckFailure("members", f"{v.field}: {v.rule} [{v.code}]")
                         for v in rules.item_violations({"server_id": "unknown",
                                                         "address": "0.0.0.0", **known},
                                                        f"[{index}].")]
            server = known.get("server_id")
            if server in seen:
                failures.append(dyn.CheckFailure("members", f"[{index}].server_id: ECS "
                                                 f"{server} is named twice"))
            seen.add(server)
        return failures

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Another listener replaces; the members and ``job_timeout`` change in place."""
        replaces = ["listener_id"] if news.get("listener_id") != olds.get("listener_id") \
            else []
        members = news.get("members")
        changed = is_unknown(members) or _wanted(news) != _wanted(olds) or \
            news.get("job_timeout") != olds.get("job_timeout")
        return dyn.DiffResult(changes=bool(replaces) or changed, replaces=replaces,
                              delete_before_replace=True)

    # -- create, update, read, delete -----------------------------------------------------
    @headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One add job for every member (none: no call); ``import_`` takes the listener's
        current members as they are, and changes nothing."""
        listener_id = str(props["listener_id"])
        wanted = _wanted(props)
        if props.get(IMPORT) is not None:
            return self._take_over_set(listener_id, str(props[IMPORT]), props, wanted)
        if wanted:
            self._batch(listener_id, props, wanted, {}, adding=wanted)
        return dyn.CreateResult(listener_id, self._set_outputs(listener_id, props))

    def _take_over_set(self, listener_id: str, imported: str, props: Mapping[str, Any],
                       wanted: dict[str, str]) -> dyn.CreateResult:
        if imported != listener_id:
            raise ElbApiError("import", imported, None, None, "import_ of Members is the "
                              f"listener's ID, and listener_id says {listener_id}", kind=KIND)
        live = {str(m.get("server_id")): str(m.get("server_address"))
                for m in self._find(listener_id)}
        if props.get("members") is not None and live != wanted:
            raise ElbApiError("import", listener_id, None, None, "the listener's members "
                              f"differ from the program: it holds {_names(live)}, the "
                              f"program says {_names(wanted)}. An import takes them as they "
                              "are: make the program match, then change it", kind=KIND)
        return dyn.CreateResult(listener_id, self._set_outputs(listener_id, props))

    @headline_first
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """One remove job for what is gone (or changed address), then one add job for what
        is new (or changed); nothing else is called."""
        listener_id = str(news["listener_id"])
        before, after = _wanted(olds), _wanted(news)
        removing = {s: a for s, a in before.items() if after.get(s) != a}
        adding = {s: a for s, a in after.items() if before.get(s) != a}
        if not removing and not adding:
            return dyn.UpdateResult({**olds, "job_timeout": news.get("job_timeout")})
        self._batch(listener_id, news, after, removing, adding)
        return dyn.UpdateResult(self._set_outputs(listener_id, news))

    def _batch(self, listener_id: str, props: Mapping[str, Any], wanted: dict[str, str],
               removing: dict[str, str], adding: dict[str, str]) -> None:
        """The remove job, then the add job; a failure of either reads the listener back
        and fails naming the members the job was for, with the state the service has."""
        seconds = self._deadline(props)
        try:
            if removing:
                ids = [str(m["id"]) for m in self._find(listener_id)
                       if m.get("server_id") in removing]
                if ids:
                    self._job("remove member", listener_id, "action",
                              {"removeMember": [{"id": i} for i in ids]}, removing, seconds)
            if adding:
                self._job("add member", listener_id, "",
                          [{"server_id": s, "address": a} for s, a in adding.items()], adding,
                          seconds)
        except ElbApiError as failed:
            error = failed
        else:
            return
        held = self._set_outputs(listener_id, props)
        holds = {str(m["server_id"]): str(m.get("address")) for m in held["listener_members"]}
        raise PartialState(error.with_hint(
            f"The listener now holds {_names(holds)}; the state says so, and the next `pulumi "
            "up` tries again"), listener_id, {**held, PROVIDER_KEY: props.get(PROVIDER_KEY)},
            dict(props))

    def _job(self, operation: str, listener_id: str, action: str, body: Any,
             naming: Mapping[str, str], seconds: float) -> None:
        answer = self._call_as_kind(self._api().members(listener_id).action, operation,
                                    "POST", action, body)
        what = f"({_names(naming)} on listener {listener_id})"
        if not isinstance(answer, dict) or "job_id" not in answer:
            raise ElbApiError(operation, what, None, None, "the service refused the batch",
                              kind=KIND)
        self._wait(operation, str(answer["job_id"]), f"{len(naming)} members of listener "
                   f"{listener_id}", what, seconds,
                   "It may still end: run `pulumi refresh` to see what the listener holds, "
                   "then `pulumi up`")

    def _set_outputs(self, listener_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs, and what the listener holds now (read back, every page)."""
        held = [{"server_id": m.get("server_id"), "address": m.get("server_address"),
                 "member_id": m.get("id"), "status": m.get("status"),
                 "health_status": m.get("health_status")} for m in self._find(listener_id)]
        return stored({"listener_id": listener_id, "members": [
            {"server_id": m["server_id"], "address": m["address"]} for m in held],
            "job_timeout": props.get("job_timeout"), "listener_members": held})

    @headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """The listener's members (every page); a listener that is gone gives an empty id."""
        if self._api().get(id_) is None:
            return dyn.ReadResult("", {})
        outputs = self._set_outputs(id_, props)
        inputs: dict[str, Any] = {k: outputs[k] for k in ("listener_id", "members")
                                  if k in outputs}
        if props.get("job_timeout") is not None:
            inputs["job_timeout"] = props["job_timeout"]
        return dyn.ReadResult(id_, outputs, inputs)

    @headline_first
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """One remove job for the members this resource holds (gone ones are skipped)."""
        held = _wanted(props)
        if held and self._api().get(id_) is not None:
            self._batch(id_, props, {}, held, {})


def _names(members: Mapping[str, str]) -> str:
    return ", ".join(f"ECS {s} ({a})" for s, a in sorted(members.items())) or "no members"


@dataclass
class MembersArgs:
    """Inputs of :class:`Members`: the listener and its backends, each ``{"server_id":
    <ECS ID>, "address": <its private IPv4>}``; ``job_timeout`` bounds each job."""

    listener_id: pulumi.Input[str] | None = None
    members: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[str]]]]] | None = \
        None
    job_timeout: pulumi.Input[float] | None = None


@lean_outputs
class Members(ElbResource[MembersArgs, MembersProvider], module="elb", name="Members",
              identity="listener_id", output_only=OUTPUT_ONLY):
    """All the backends of one classic ELB (v1.0) listener, as one resource."""


    listener_id: pulumi.Output[str]
    members: pulumi.Output[list[dict[str, str]]]
    job_timeout: pulumi.Output[float | None]
    #: What the listener holds: each member's ``server_id``, ``address``, ``member_id``,
    #: ``status`` and ``health_status``.
    listener_members: pulumi.Output[list[dict[str, Any]]]
