"""One typed client of the control plane, for both transports.

:class:`FakeControl` implements every control call once, as a request to ``/_fake/*``; the
in-process fake (:class:`~fake_elb.MockElb`) hands the request straight to the service and
:class:`~fake_elb.ServerControl` sends it over HTTP, so a test or an engine written against
``FakeControl`` runs against either, with the same answers and the same errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any


class ControlError(RuntimeError):
    """The control plane refused a call (a bad argument): the status and the ELB body."""

    def __init__(self, action: str, status: int, body: str) -> None:
        self.action = action
        self.status = status
        super().__init__(f"fake ELB control {action} failed: {status} {body}")


class FaultControl:
    """``/_fake/faults``: add a rule (its fields as keyword arguments), list, clear."""

    def __init__(self, control: FakeControl) -> None:
        self._control = control

    def add(self, **fields: Any) -> dict[str, Any]:
        """Add a fault rule; the rule as stored (see :class:`fake_elb.service.faults.FaultRule`)."""
        result: dict[str, Any] = self._control._send("POST", "faults", fields)
        return result

    def clear(self) -> None:
        self._control._send("DELETE", "faults")

    @property
    def rules(self) -> list[dict[str, Any]]:
        """The rules, oldest first, each with ``fired``: how often it has acted."""
        result: list[dict[str, Any]] = self._control._send("GET", "faults")
        return result


class FakeControl(ABC):
    """Seed and steer a fake ELB, whichever transport serves it."""

    endpoint: str

    def __init__(self) -> None:
        self.faults = FaultControl(self)

    @abstractmethod
    def _send(self, method: str, action: str, payload: Any = None) -> Any:
        """One control request; its JSON answer (``None`` for 204), or :class:`ControlError`."""

    def add_loadbalancer(self, project_id: str, type: str = "External",
                         id: str | None = None) -> dict[str, Any]:
        """A classic load balancer of ``project_id`` (``External`` or ``Internal``)."""
        result: dict[str, Any] = self._send("POST", "loadbalancers", {
            "project_id": project_id, "type": type, "id": id})
        return result

    def add_certificate(self, project_id: str, id: str | None = None) -> dict[str, Any]:
        """A certificate of ``project_id`` that HTTPS and SSL listeners may name."""
        result: dict[str, Any] = self._send("POST", "certificates", {
            "project_id": project_id, "id": id})
        return result

    def add_listener(self, project_id: str, *, id: str | None = None,
                     create_time: str | None = None, status: str | None = None,
                     **fields: Any) -> dict[str, Any]:
        """An existing listener, as if made long ago: ``fields`` as a create takes them (and
        its rules), ``create_time`` as ``YYYY-MM-DD HH:MM:SS``. Not journaled."""
        result: dict[str, Any] = self._send("POST", "listeners", {
            "project_id": project_id, "listener": fields, "id": id,
            "create_time": create_time, "status": status})
        return result

    def add_healthcheck(self, project_id: str, *, id: str | None = None,
                        create_time: str | None = None, **fields: Any) -> dict[str, Any]:
        """An existing health check on an existing listener, as if made long ago: ``fields``
        as a create takes them (and its rules). Not journaled."""
        result: dict[str, Any] = self._send("POST", "healthchecks", {
            "project_id": project_id, "healthcheck": fields, "id": id,
            "create_time": create_time})
        return result

    def add_server(self, project_id: str, server_id: str, address: str,
                   name: str = "ecs") -> dict[str, Any]:
        """An ECS that can become a member: its ID (as registered, with or without dashes)
        and its private IPv4 address."""
        result: dict[str, Any] = self._send("POST", "servers", {
            "project_id": project_id, "server_id": server_id, "address": address,
            "name": name})
        return result

    def set_member_health(self, project_id: str, member_id: str,
                          health_status: str | None) -> dict[str, Any]:
        """What the service says of a member's health from now on: ``ABNORMAL`` or
        ``UNAVAILABLE`` (to test code that waits for ``NORMAL``), or ``None`` to follow
        the listener's health check again (NORMAL with one, UNAVAILABLE without)."""
        result: dict[str, Any] = self._send("POST", "members/health", {
            "project_id": project_id, "member_id": member_id, "health_status": health_status})
        return result

    def set_jobs(self, duration: float | None = None, next: list[dict[str, Any]] | None = None,
                 empty_members_as_object: bool | None = None) -> None:
        """Member jobs: seconds each takes (0.2 by default); what the next ones do instead
        of succeeding (``{"outcome": "fail"|"stuck"|"slow", ...}``); an empty member list
        answered as ``{}``, as the real service was seen to."""
        self._send("POST", "jobs", {"duration": duration, "next": next,
                                    "empty_members_as_object": empty_members_as_object})

    def change_listener(self, project_id: str, listener_id: str,
                        **changes: Any) -> dict[str, Any]:
        """Change a listener out of band (someone in the console): a PUT's rules, not
        journaled."""
        result: dict[str, Any] = self._send("POST", "listeners/update", {
            "project_id": project_id, "id": listener_id, "changes": changes})
        return result

    def remove_listener(self, project_id: str, listener_id: str) -> None:
        """Delete a listener out of band; not journaled."""
        self._send("POST", "listeners/delete", {"project_id": project_id, "id": listener_id})

    def add_user(self, domain: str, name: str, password: str, project_id: str,
                 project_name: str, passcode: str | None = None) -> dict[str, Any]:
        """An IAM user who can get a token for one project (``POST /v3/auth/tokens``); with
        ``passcode``, only together with that virtual MFA passcode, good once."""
        result: dict[str, Any] = self._send("POST", "users", {
            "domain": domain, "name": name, "password": password, "project_id": project_id,
            "project_name": project_name, **({"passcode": passcode} if passcode else {})})
        return result

    def add_agency(self, domain: str, name: str, trusted_domain: str, project_id: str,
                   project_name: str) -> dict[str, Any]:
        """An agency of account ``domain`` that users of ``trusted_domain`` may take on, for
        one project (IAM's agency token: ``assume_role``)."""
        result: dict[str, Any] = self._send("POST", "agencies", {
            "domain": domain, "name": name, "trusted_domain": trusted_domain,
            "project_id": project_id, "project_name": project_name})
        return result

    def remove_user(self, domain: str, name: str) -> None:
        """The user goes, and every token IAM issued to them stops working."""
        self._send("POST", "users/delete", {"domain": domain, "name": name})

    def add_credential(self, access: str, secret: str, project_id: str,
                       security_token: str | None = None) -> dict[str, Any]:
        """An access key pair whose signed requests the fake accepts for one project; a
        temporary one (``security_token``) only with its token in ``X-Security-Token``."""
        body = {"access": access, "secret": secret, "project_id": project_id}
        if security_token is not None:
            body["security_token"] = security_token
        result: dict[str, Any] = self._send("POST", "credentials", body)
        return result

    def set_listener_transition(self, create: float | None = None,
                                update: float | None = None,
                                end: str | None = None) -> None:
        """Hold a new listener ``PENDING_CREATE`` for ``create`` seconds, a changed one
        ``PENDING_UPDATE`` for ``update`` seconds, then give it ``end`` (``ACTIVE``, the
        default, or ``ERROR``); instant by default, and after ``reset``."""
        self._send("POST", "transitions", {k: v for k, v in (
            ("create", create), ("update", update), ("end", end)) if v is not None})

    def dump_state(self) -> dict[str, Any]:
        """The estate as JSON (docs/fake.md, "State"): what ``fake-elb serve --state`` writes."""
        result: dict[str, Any] = self._send("GET", "state")
        return result

    def load_state(self, estate: dict[str, Any]) -> None:
        """Replace the estate with one :meth:`dump_state` gave (all or nothing)."""
        self._send("POST", "state", estate)

    def set_put_answer(self, put: str) -> None:
        """How listener and health-check PUTs are answered: ``"200"`` with the object (the
        default), ``"202"`` with it, or ``"202-empty"``, no body (the service may do either)."""
        self._send("POST", "answers", {"put": put})

    def set_strict(self, strict: bool) -> None:
        """Strict mode refuses fields that do not apply (the real service ignores them)."""
        self._send("POST", "strict", {"strict": strict})

    def set_tokens(self, tokens: Iterable[str]) -> None:
        """Accept exactly these tokens from now on (a revoked or rotated token gets 401)."""
        self._send("POST", "tokens", {"tokens": list(tokens)})

    def reset(self) -> None:
        """Empty state, journal and fault rules."""
        self._send("POST", "reset")

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every API call so far, oldest first: method, path, query, status, parsed body."""
        result: list[dict[str, Any]] = self._send("GET", "requests")
        return result
