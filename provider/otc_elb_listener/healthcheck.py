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

from .errors import ElbApiError
from .resource import TableResource, lean_outputs
from .rules import healthcheck as rules
from .rules.machinery import Violation
from .table_provider import TableProvider

__all__ = ["HealthCheck", "HealthCheckArgs", "HealthCheckProvider"]

TYPE_TOKEN = "pulumi-python:dynamic/elb:HealthCheck"


class HealthCheckProvider(TableProvider):
    """CRUD for a listener's health check; settings and sign-in as every provider here."""

    kind = "health check"
    adopt_input = "healthcheck_id"
    table = rules.TABLE
    response_fields = rules.RESPONSE_FIELDS
    collection_name = "healthcheck"

    def _violations(self, judged: dict[str, Any]) -> list[Violation]:
        return rules.validate_create(judged, unknown_ok=True)

    def _replaces(self, name: str, news: Mapping[str, Any]) -> bool:
        """``listener_id`` replaces, and so does a protocol changed to UDP (a PUT cannot
        set it)."""
        return super()._replaces(name, news) or (
            name == "healthcheck_protocol" and news.get(name) == "UDP")

    def _made_by_lost_post(self, body: dict[str, Any], began: float,
                           lost: ElbApiError) -> dict[str, Any] | None:
        """A POST whose answer was lost: the listener's ``healthcheck_id`` tells whether it
        made one (a listener has at most one). Taken only if every field is as sent."""
        listener = self._api().get(str(body["listener_id"]))
        found_id = (listener or {}).get("healthcheck_id")
        if not found_id:
            return None
        found = self._fetch(found_id)
        if found is not None and all(self.table.same_value(n, found.get(n), v)
                                     for n, v in body.items()):
            return found
        raise ElbApiError("create", None, None, "ELB.1001", f"listener {body['listener_id']} "
                          f"has health check {found_id}, which differs from the program: not "
                          f"taking it (the POST got {lost.status or 'no answer'})",
                          kind=self.kind)


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


@lean_outputs
class HealthCheck(TableResource[HealthCheckArgs, HealthCheckProvider], module="elb",
                  name="HealthCheck", identity="healthcheck_id"):
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
