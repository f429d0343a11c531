"""The ``Listener`` dynamic resource and its provider.

What the engine hands each method (docs/engines.md): ``check`` gets
old and new *inputs* (unknowns during preview), ``diff``/``update`` get old *outputs* and new
checked inputs, ``read``/``delete`` get old outputs. Numbers arrive as floats. Everything the
provider object holds when the program constructs a ``Listener`` is pickled into state, so it
holds only tuning knobs; endpoint, project and token are read in ``configure()`` inside the
provider host and the HTTP client is built on first use.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic as dyn

from . import spec
from .adoption import ADOPT, IMPORT
from .base import DEFAULT_WAIT, ElbProvider, made_since, stored
from .base import headline_first as _headline_first
from .base import is_unknown as _is_unknown
from .errors import ConfigError, ElbApiError
from .pickling import pickler_left_intact
from .report import report
from .resource import (
    LiveLookup,
    arg_names,
    identity_output,
    lean_outputs,
    provider_and_options,
    resource_inputs,
)
from .settings import (
    Settings,
    resolve_settings,
)
from .waiting import poll_delay

if TYPE_CHECKING:
    pass

__all__ = ["ConfigError", "Listener", "ListenerArgs", "ListenerProvider", "Settings",
           "pickler_left_intact", "resolve_settings"]

TYPE_TOKEN = "pulumi-python:dynamic/elb:Listener"
#: Outputs the API computes, plus what ``read`` needs to know (the fields the user manages).
OUTPUT_ONLY = ("status", "admin_state_up", "healthcheck_id", "member_number", "create_time",
               "update_time", "managed_fields")
#: Why ``check`` refuses an input that does not apply, though the service would accept it.
INAPPLICABLE = ("does not apply to this listener (only with {rule}): the service ignores it "
                "and shows it as null, so it would show as a change on every preview; remove "
                "it")
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


def user_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the user set: table fields and ``listener_id``, without nulls."""
    return {name: value for name, value in props.items()
            if (name in spec.FIELDS or name == ADOPT) and value is not None}


def listener_outputs(listener: Mapping[str, Any], managed: list[str]) -> dict[str, Any]:
    """Outputs from an API listener object: every response field (``id`` as ``listener_id``),
    canonical booleans, and the list of fields the user manages (for ``read``); fields that
    are null are left out (see :func:`~.base.stored`)."""
    outputs = {name: listener.get(name) for name in spec.RESPONSE_FIELDS if name != "id"}
    for name in spec.FIELDS:
        if spec.FIELDS[name].kind is bool and outputs[name] is not None:
            outputs[name] = spec.canonical(name, outputs[name])
    outputs[ADOPT] = listener["id"]
    outputs["managed_fields"] = sorted(managed)
    return stored(outputs)


def _table_failures(judged: dict[str, Any]) -> list[dyn.CheckFailure]:
    """The rule table's verdict on a program's inputs, as ``check`` reports it."""
    failures = []
    for violation in spec.validate_create(judged, unknown_ok=True, strict=True):
        if violation.inapplicable:
            failures.append(dyn.CheckFailure(violation.field, INAPPLICABLE.format(
                rule=spec.FIELDS[violation.field].applies.describe())))
        else:
            failures.append(dyn.CheckFailure(violation.field, f"{violation.rule} "
                                             f"[{violation.code}]"))
    return failures


#: The statuses of a listener the service is still making or changing.
PENDING = ("PENDING_CREATE", "PENDING_UPDATE")


class ListenerProvider(ElbProvider):
    """CRUD for one classic ELB listener; the rules come from :mod:`otc_elb_listener.spec`.
    Settings, sign-in and what is pickled: :class:`~.base.ElbProvider`."""


    # -- check -----------------------------------------------------------------------------
    @_headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Judge the inputs with the rule table; no API call, except one GET when a new
        resource takes over a live listener (``import_`` or ``listener_id``), to show on the
        preview what ``up`` will do to it. Unknown values are not judged."""
        inputs = user_inputs(news)
        judged: dict[str, Any] = {}
        for name, value in inputs.items():
            if _is_unknown(value):
                judged[name] = spec.UNKNOWN
                continue
            value = spec.coerce_number(name, value)
            if isinstance(value, tuple):
                value = list(value)
            inputs[name] = judged[name] = value
        return self._check_takeover(olds, news, inputs, judged, spec.TABLE, _table_failures)

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        return self._api().get(object_id)

    # -- diff ------------------------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Compare only the inputs the user set with the old outputs; no API call."""
        changed = []
        for name, new in user_inputs(news).items():
            old = olds.get(name)
            if _is_unknown(new) or not spec.same_value(name, old, new):
                changed.append(name)
        replaces = [n for n in changed if n == ADOPT or not spec.FIELDS[n].updatable]
        return dyn.DiffResult(
            changes=bool(changed), replaces=replaces,
            stables=[n for n in spec.REPLACE_FIELDS if n not in changed],
            delete_before_replace=bool(replaces) and self._same_port(olds, news),
        )

    @staticmethod
    def _same_port(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Would the replacement take the port the old listener holds? (Then the API refuses
        to create it while the old one exists, so the old one must go first.)"""
        for name in ("loadbalancer_id", "port"):
            new = news.get(name, olds.get(name))
            if _is_unknown(new):
                return True
            if not spec.same_value(name, olds.get(name), new):
                return False
        return True

    # -- create ----------------------------------------------------------------------------
    @_headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One POST. Taking over a live listener: the GET ``check`` made (or one GET), then
        for ``listener_id`` one PUT of what differs; ``import_`` never PUTs."""
        inputs = user_inputs(props)
        adopt = inputs.pop(ADOPT, None)
        imported = props.get(IMPORT)
        body = {name: spec.wire_value(name, value) for name, value in inputs.items()}
        if adopt is None and imported is None:
            try:
                listener = self._create_once(body)
            except ElbApiError as error:
                hint = CREATE_HINTS.get(error.code or "")
                if hint is None:
                    raise
                raise error.with_hint(hint) from None
            listener = self._until_active("create", listener)
            return dyn.CreateResult(listener["id"], listener_outputs(listener, list(inputs)))
        return self._take_over(adopt, imported, inputs, spec.TABLE, self._api().update,
                               listener_outputs)

    def _create_once(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST, and never resend it blindly. If its answer is lost, or is a 5xx after which
        it may have been applied, find out first (:meth:`_find_applied`); the client resends
        it on its common retry schedule only when it was not applied."""
        began = time.time()
        return self._api().create(body, look_first=lambda lost: self._find_applied(
            body, began, lost))

    def _find_applied(self, body: dict[str, Any], began: float,
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
            spec.same_value(name, listener.get(name), value) for name, value in body.items())]
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
            f"{lost.status or 'no answer'}: {lost.message})")

    # -- update ----------------------------------------------------------------------------
    @_headline_first
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Exactly one PUT carrying only the changed updatable fields; outputs from its answer."""
        inputs = user_inputs(news)
        body = {name: spec.wire_value(name, value) for name, value in inputs.items()
                if name != ADOPT and not spec.same_value(name, olds.get(name), value)}
        fixed = [name for name in body if not spec.FIELDS[name].updatable]
        if fixed:  # diff asks for a replacement; the engine never sends these here
            raise ElbApiError("update", _id, None, None, f"cannot change {', '.join(fixed)} "
                              "in place")
        managed = list(inputs)
        if not body:
            return dyn.UpdateResult({**olds, "managed_fields": sorted(managed)})
        listener = self._until_active("update", self._api().update(_id, body))
        return dyn.UpdateResult(listener_outputs(listener, managed))

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
                                  "`pulumi up`")
            time.sleep(delay)
            found = self._api().get(listener_id)
            if found is None:
                raise ElbApiError(operation, listener_id, 404, None, "the listener went away "
                                  f"while {status}")
            listener, status = found, found.get("status")
            report(f"listener {listener_id}: {status} after {time.monotonic() - began:.1f} s",
                   warning=False)
        if status == "ERROR":
            raise ElbApiError(operation, listener_id, None, None, "the service put the "
                              "listener in status ERROR: it could not apply it. The listener "
                              "exists: look at it in the console, then delete it or take it "
                              "over (listener_id or import_)")
        return listener

    # -- read ------------------------------------------------------------------------------
    @_headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """One GET (see :meth:`~.base.ElbProvider._read_object`)."""
        return self._read_object(id_, props, listener_outputs)

    # -- delete ----------------------------------------------------------------------------
    @_headline_first
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """One DELETE; a listener that is already gone counts as deleted."""
        self._api().delete(id_)


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


_ARG_NAMES = arg_names(ListenerArgs)


@lean_outputs
class Listener(LiveLookup, dyn.Resource, module="elb", name="Listener"):
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
    create_time: pulumi.Output[str]
    update_time: pulumi.Output[str]
    managed_fields: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, args: ListenerArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None, *,
                 provider: ListenerProvider | None = None, **kwargs: Any) -> None:
        props = resource_inputs("Listener", _ARG_NAMES, OUTPUT_ONLY, args, kwargs)
        chosen, opts = provider_and_options("Listener", ListenerProvider, provider, opts, props)
        with pickler_left_intact():
            super().__init__(chosen, resource_name, props, opts)
        self.listener_id = identity_output(self, self.listener_id)
