"""The ``HealthCheck`` dynamic resource (one per listener) and its provider.

The same standard as the Listener: ``check`` judges every rule of the health check's table at
preview with no API call; ``update`` is one ``PUT`` of the changed fields; ``listener_id``
replaces (so does a change of protocol to UDP, which a ``PUT`` cannot set); ``refresh``
shows drift; deleting one already gone counts as done. An existing health check is taken
over by ``healthcheck_id`` (adopt: one ``PUT`` of what differs) or ``import_`` (as it is).
The provider is configured exactly like the listener's (the same ``elb:*`` settings and
sign-in); it is pickled into state by this module's path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from .adoption import IMPORT
from .base import ElbProvider, headline_first, is_unknown, table_inputs, table_outputs
from .client import ElbClient
from .errors import ElbApiError
from .pickling import pickler_left_intact
from .resource import (
    LiveLookup,
    arg_names,
    identity_output,
    lean_outputs,
    provider_and_options,
    resource_inputs,
)
from .rules import healthcheck as rules
from .rules.machinery import UNKNOWN

__all__ = ["HealthCheck", "HealthCheckArgs", "HealthCheckProvider"]

TYPE_TOKEN = "pulumi-python:dynamic/elb:HealthCheck"
#: Input that adopts an existing health check instead of creating one.
ADOPT = "healthcheck_id"
KIND = "health check"
OUTPUT_ONLY = ("create_time", "update_time", "managed_fields")


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return table_inputs(props, rules.TABLE, ADOPT)


def _outputs(live: Mapping[str, Any], managed: list[str]) -> dict[str, Any]:
    return table_outputs(live, rules.RESPONSE_FIELDS, ADOPT, managed)


class HealthCheckProvider(ElbProvider):
    """CRUD for a listener's health check; settings and sign-in as every provider here."""

    kind = KIND
    adopt_input = ADOPT

    def _checks(self) -> ElbClient:
        return self._api().collection("healthcheck")

    def _call(self, action: Any, *args: Any) -> Any:
        return self._call_as_kind(action, *args)

    # -- check and diff: no API call ----------------------------------------------------
    @headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Judge the inputs with the table; one GET only when a new resource takes over a
        live health check (to show on the preview what ``up`` will do)."""
        inputs = _inputs(news)
        judged: dict[str, Any] = {}
        for name, value in inputs.items():
            value = UNKNOWN if is_unknown(value) else rules.TABLE.coerce_number(name, value)
            judged[name] = value
            if value is not UNKNOWN:
                inputs[name] = value
        return self._check_takeover(olds, news, inputs, judged, rules.TABLE, lambda judged: [
            dyn.CheckFailure(v.field, f"{v.rule} [{v.code}]")
            for v in rules.validate_create(judged, unknown_ok=True)])

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call(self._checks().get, object_id)
        return found

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """The inputs set, compared with the old outputs; ``listener_id`` (and a protocol
        changed to UDP, which a PUT cannot set) replaces."""
        changed = [name for name, new in _inputs(news).items()
                   if is_unknown(new) or not rules.TABLE.same_value(name, olds.get(name), new)]
        replaces = [name for name in changed if name in (ADOPT, "listener_id") or (
            name == "healthcheck_protocol" and news.get(name) == "UDP")]
        return dyn.DiffResult(changes=bool(changed), replaces=replaces,
                              stables=[n for n in ("listener_id",) if n not in changed],
                              delete_before_replace=bool(replaces))

    # -- create, read, update, delete ------------------------------------------------------
    @headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One POST; a takeover reuses the GET ``check`` made, then (adopting) one PUT."""
        inputs = _inputs(props)
        adopt = inputs.pop(ADOPT, None)
        imported = props.get(IMPORT)
        body = {name: rules.TABLE.wire_value(name, value) for name, value in inputs.items()}
        if adopt is None and imported is None:
            live = self._call(self._checks().create, body,
                              lambda lost: self._made_by_lost_post(body, lost))
            return dyn.CreateResult(live["id"], _outputs(live, list(inputs)))
        return self._take_over(adopt, imported, inputs, rules.TABLE,
                               lambda i, body: self._call(self._checks().update, i, body),
                               _outputs)

    def _made_by_lost_post(self, body: Mapping[str, Any],
                      lost: ElbApiError) -> dict[str, Any] | None:
        """A POST whose answer was lost: the listener's ``healthcheck_id`` tells whether it
        made one (a listener has at most one). Taken only if every field is as sent."""
        listener = self._api().get(str(body["listener_id"]))
        found_id = (listener or {}).get("healthcheck_id")
        if not found_id:
            return None
        found: dict[str, Any] | None = self._checks().get(found_id)
        if found is not None and all(rules.TABLE.same_value(n, found.get(n), v)
                                     for n, v in body.items()):
            return found
        raise ElbApiError("create", None, None, "ELB.1001", f"listener {body['listener_id']} "
                          f"has health check {found_id}, which differs from the program: not "
                          f"taking it (the POST got {lost.status or 'no answer'})", kind=KIND)

    @headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """One GET; gone gives an empty id; the live values become the managed inputs."""
        return self._read_object(id_, props, _outputs)

    @headline_first
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """One PUT of the changed updatable fields (none: no call)."""
        inputs = _inputs(news)
        body = {name: rules.TABLE.wire_value(name, value) for name, value in inputs.items()
                if name != ADOPT and rules.FIELDS[name].updatable
                and not rules.TABLE.same_value(name, olds.get(name), value)}
        if not body:
            return dyn.UpdateResult({**olds, "managed_fields": sorted(inputs)})
        return dyn.UpdateResult(_outputs(self._call(self._checks().update, id_, body),
                                         list(inputs)))

    @headline_first
    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """One DELETE; a health check already gone counts as deleted."""
        self._call(self._checks().delete, id_)


@dataclass
class HealthCheckArgs:
    """Inputs of a :class:`HealthCheck`; names and rules are those of the ELB API.

    ``listener_id`` is required unless ``healthcheck_id`` adopts an existing health check.
    Unset fields read back as the service's defaults (protocol HTTP for HTTP/HTTPS listeners
    and TCP otherwise, connect port the listener's backend port, thresholds 3, timeout 10,
    interval 5).
    """

    listener_id: pulumi.Input[str] | None = None
    healthcheck_protocol: pulumi.Input[str] | None = None
    healthcheck_uri: pulumi.Input[str] | None = None
    healthcheck_connect_port: pulumi.Input[int] | None = None
    healthy_threshold: pulumi.Input[int] | None = None
    unhealthy_threshold: pulumi.Input[int] | None = None
    healthcheck_timeout: pulumi.Input[int] | None = None
    healthcheck_interval: pulumi.Input[int] | None = None
    #: Adopt this existing health check instead of creating one.
    healthcheck_id: pulumi.Input[str] | None = None


_ARG_NAMES = arg_names(HealthCheckArgs)


@lean_outputs
class HealthCheck(LiveLookup, dyn.Resource, module="elb", name="HealthCheck"):
    """A classic ELB (v1.0) listener's health check; every API response field is an output."""

    healthcheck_id: pulumi.Output[str]
    listener_id: pulumi.Output[str]
    healthcheck_protocol: pulumi.Output[str]
    healthcheck_uri: pulumi.Output[str | None]
    healthcheck_connect_port: pulumi.Output[int]
    healthy_threshold: pulumi.Output[int]
    unhealthy_threshold: pulumi.Output[int]
    healthcheck_timeout: pulumi.Output[int]
    healthcheck_interval: pulumi.Output[int]
    create_time: pulumi.Output[str]
    update_time: pulumi.Output[str]
    managed_fields: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, args: HealthCheckArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None, *,
                 provider: HealthCheckProvider | None = None, **kwargs: Any) -> None:
        props = resource_inputs("HealthCheck", _ARG_NAMES, OUTPUT_ONLY, args, kwargs)
        chosen, opts = provider_and_options("HealthCheck", HealthCheckProvider, provider, opts,
                                            props)
        with pickler_left_intact():
            super().__init__(chosen, resource_name, props, opts)
        self.healthcheck_id = identity_output(self, self.healthcheck_id)
