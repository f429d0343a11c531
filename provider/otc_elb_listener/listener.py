"""The ``Listener`` dynamic resource and its provider: the declaration of a table-driven
provider (:mod:`.table_provider`) and what only a listener does. It is pickled into state by
this module's path, which never changes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from .adoption import ADOPT
from .base import DEFAULT_WAIT, is_unknown, made_since
from .errors import ConfigError, ElbApiError
from .pickling import pickler_left_intact
from .report import report
from .resource import TableResource, lean_outputs
from .rules import listener as listener_rules
from .rules.machinery import Violation
from .settings import Settings, resolve_settings
from .table_provider import TableProvider
from .waiting import poll_delay

__all__ = ["ConfigError", "Listener", "ListenerArgs", "ListenerProvider", "Settings",
           "pickler_left_intact", "resolve_settings"]

TYPE_TOKEN = "pulumi-python:dynamic/elb:Listener"
KIND = "listener"
#: Outputs the API computes, plus what ``read`` needs to know (the fields the user manages).
OUTPUT_ONLY = ("status", "admin_state_up", "healthcheck_id", "member_number", "create_time",
               "update_time", "managed_fields")
#: What to do when a create is refused for a reason a replacement causes: the engine creates
#: the new listener before it deletes the old one unless told otherwise.
CREATE_HINTS = {
    "ELB.6101": "If Pulumi is replacing a listener that holds this port, the old one must go "
                "first: set the resource option delete_before_replace=True (an explicit "
                "delete_before_replace=False makes the engine create first)",
    "ELB.6091": "If Pulumi is replacing a listener of this load balancer, the old one must go "
                "first to stay within the quota: set the resource option "
                "delete_before_replace=True",
}


#: The statuses of a listener the service is still making or changing.
PENDING = ("PENDING_CREATE", "PENDING_UPDATE")


class ListenerProvider(TableProvider):
    """CRUD for one classic ELB listener, declared by :mod:`.rules.listener`; what is its
    own: the create hints, the lost POST found by load balancer and port, and the wait for
    ACTIVE. Settings, sign-in and what is pickled: :class:`~.base.ElbProvider`."""

    kind = KIND
    adopt_input = ADOPT
    table = listener_rules.TABLE
    response_fields = listener_rules.RESPONSE_FIELDS
    collection_name = "listeners"

    def _violations(self, judged: dict[str, Any]) -> list[Violation]:
        return listener_rules.validate_create(judged, unknown_ok=True, strict=True)

    def _delete_first(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Would the replacement take the port the old listener holds? (Then the API refuses
        to create it while the old one exists, so the old one must go first.)"""
        for name in ("loadbalancer_id", "port"):
            new = news.get(name, olds.get(name))
            if is_unknown(new):
                return True
            if not listener_rules.same_value(name, olds.get(name), new):
                return False
        return True

    def _new(self, body: dict[str, Any]) -> dict[str, Any]:
        """One POST (never resent blindly); a refusal a replacement causes gets its hint;
        then the wait for ACTIVE."""
        try:
            listener = super()._new(body)
        except ElbApiError as error:
            hint = CREATE_HINTS.get(error.code or "")
            if hint is None:
                raise
            raise error.with_hint(hint) from None
        return self._until_active("create", listener)

    def _made_by_lost_post(self, body: dict[str, Any], began: float,
                           lost: ElbApiError) -> dict[str, Any] | None:
        """The listener a POST that got no clear answer created, if it did. A port holds
        one listener per load balancer, so one GET by load balancer and port tells. A
        listener there is taken only if it is provably ours: every field as sent, and created
        after the first POST began by the service's clock (another stack's identical listener
        is never adopted). None there: the POST was not applied."""
        found, service_now = self._api().list_with_clock(
            "create", loadbalancer_id=body["loadbalancer_id"], port=body["port"])
        if not found:
            return None
        began_by_service = began + (service_now - time.time())
        as_sent = [listener for listener in found if all(
            listener_rules.same_value(name, listener.get(name), value)
            for name, value in body.items())]
        for listener in as_sent:
            if made_since(listener, began_by_service):
                return listener
        other = (as_sent or found)[0]
        why = ("was created before this create began (by the service's clock), so it is not "
               "this stack's" if as_sent else "differs from the program")
        raise ElbApiError(
            "create", None, None, "ELB.6101",
            f"port {body['port']} of load balancer {body['loadbalancer_id']} is used by "
            f"listener {other.get('id')}, which {why}: not adopting it (the POST got "
            f"{lost.status or 'no answer'}: {lost.message})", kind=KIND)

    def _updated(self, live: dict[str, Any]) -> dict[str, Any]:
        return self._until_active("update", live)

    def _until_active(self, operation: str, listener: dict[str, Any]) -> dict[str, Any]:
        """The listener once ACTIVE: a new or changed listener may stay ``PENDING_CREATE``
        or ``PENDING_UPDATE`` a while, and what depends on it must wait (its health check
        and members are made after this returns). Polled on the job schedule, bounded by
        ``elb:statusTimeout``; ``ERROR`` is one error naming the listener. An answer that
        is ACTIVE already costs nothing."""
        listener_id = str(listener.get("id"))
        status = listener.get("status")
        began = time.monotonic()
        seconds = float(self._config.get("statusTimeout") or DEFAULT_WAIT)
        while status in PENDING:
            waited = time.monotonic() - began
            delay = poll_delay(waited)
            if waited + delay > seconds:
                raise ElbApiError(operation, listener_id, None, None, f"the listener was "
                                  f"still {status} after {seconds:g} s (elb:statusTimeout); "
                                  "it may still become ACTIVE: run `pulumi refresh`, then "
                                  "`pulumi up`", kind=KIND)
            time.sleep(delay)
            found = self._api().get(listener_id)
            if found is None:
                raise ElbApiError(operation, listener_id, 404, None, "the listener went away "
                                  f"while {status}", kind=KIND)
            listener, status = found, found.get("status")
            report(f"listener {listener_id}: {status} after {time.monotonic() - began:.1f} s",
                   warning=False)
        if status == "ERROR":
            raise ElbApiError(operation, listener_id, None, None, "the service put the "
                              "listener in status ERROR: it could not apply it. The listener "
                              "exists: look at it in the console, then delete it or take it "
                              "over (listener_id or import_)", kind=KIND)
        return listener


@dataclass
class ListenerArgs:
    """Inputs of a :class:`Listener`; names and rules are those of the ELB API.

    Required unless ``listener_id`` adopts an existing listener: ``loadbalancer_id``,
    ``protocol``, ``backend_protocol``, ``port``, ``backend_port``, ``lb_algorithm``, ``name``.
    Changing ``loadbalancer_id``, ``protocol``, ``backend_protocol``, ``session_sticky``,
    ``sticky_session_type``, ``cookie_timeout`` or ``listener_id`` replaces the listener.
    """

    loadbalancer_id: pulumi.Input[str] | None = None
    protocol: pulumi.Input[str] | None = None
    backend_protocol: pulumi.Input[str] | None = None
    port: pulumi.Input[int] | None = None
    backend_port: pulumi.Input[int] | None = None
    lb_algorithm: pulumi.Input[str] | None = None
    name: pulumi.Input[str] | None = None
    description: pulumi.Input[str] | None = None
    session_sticky: pulumi.Input[bool] | None = None
    sticky_session_type: pulumi.Input[str] | None = None
    cookie_timeout: pulumi.Input[int] | None = None
    tcp_timeout: pulumi.Input[int] | None = None
    tcp_draining: pulumi.Input[bool] | None = None
    tcp_draining_timeout: pulumi.Input[int] | None = None
    udp_timeout: pulumi.Input[int] | None = None
    ssl_protocols: pulumi.Input[str] | None = None
    ssl_ciphers: pulumi.Input[str] | None = None
    certificate_id: pulumi.Input[str] | None = None
    certificates: pulumi.Input[list[pulumi.Input[str]]] | None = None
    #: Adopt this existing listener instead of creating one.
    listener_id: pulumi.Input[str] | None = None


@lean_outputs
class Listener(TableResource[ListenerArgs, ListenerProvider], module="elb", name="Listener",
               identity="listener_id", output_only=OUTPUT_ONLY):
    """A classic ELB (v1.0) listener; every API response field is an output."""


    listener_id: pulumi.Output[str]
    loadbalancer_id: pulumi.Output[str]
    protocol: pulumi.Output[str]
    backend_protocol: pulumi.Output[str]
    port: pulumi.Output[int]
    backend_port: pulumi.Output[int]
    lb_algorithm: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    session_sticky: pulumi.Output[bool | None]
    sticky_session_type: pulumi.Output[str | None]
    cookie_timeout: pulumi.Output[int | None]
    tcp_timeout: pulumi.Output[int | None]
    tcp_draining: pulumi.Output[bool | None]
    tcp_draining_timeout: pulumi.Output[int | None]
    udp_timeout: pulumi.Output[int | None]
    ssl_protocols: pulumi.Output[str | None]
    ssl_ciphers: pulumi.Output[str | None]
    certificate_id: pulumi.Output[str | None]
    certificates: pulumi.Output[list[str] | None]
    status: pulumi.Output[str]
    admin_state_up: pulumi.Output[bool]
    healthcheck_id: pulumi.Output[str | None]
    member_number: pulumi.Output[int | None]
