"""Lookups in Pulumi's ``get_*`` style: read a live listener, health check, members or
certificate without taking ownership of it (docs/engines.md, "Lookups").

Dynamic providers have no invokes, so a lookup runs in the program's own process, with the
provider's settings and sign-in (``elb:*`` stack config, then the environment and
``clouds.yaml``, :func:`~.settings.resolve_settings`). It calls the API at preview too, as
Pulumi's invokes do; offline engines point it at the fake. Under Pulumi's unit-test mocks it
goes to the mocks' ``call`` instead (``fake_elb.ElbMocks`` answers them). Nothing matching,
or more than one thing, is one clear error. Each ``get_x`` has a ``get_x_output`` form taking
Outputs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import pulumi

from .errors import ElbApiError

__all__ = ["CertificateResult", "HealthCheckResult", "ListenerResult", "MemberResult",
           "get_certificate", "get_certificate_output", "get_health_check",
           "get_health_check_output", "get_listener", "get_listener_output", "get_listeners",
           "get_listeners_output", "get_members", "get_members_output"]

_Result = TypeVar("_Result")
#: The client a lookup answered for someone else (:func:`answer`) uses.
_CLIENT: ContextVar[Any] = ContextVar("otc_elb_lookup_client", default=None)
#: The invoke tokens the lookups are known by under mocks.
TOKENS = {"listener": "elb:index:getListener", "listeners": "elb:index:getListeners",
          "health check": "elb:index:getHealthCheck", "members": "elb:index:getMembers",
          "certificate": "elb:index:getCertificate"}


@dataclass(frozen=True)
class ListenerResult:
    """A listener as ``Listener``'s outputs name its fields."""

    listener_id: str
    loadbalancer_id: str
    protocol: str
    backend_protocol: str
    port: int
    backend_port: int
    lb_algorithm: str
    name: str
    description: str | None = None
    session_sticky: bool | None = None
    sticky_session_type: str | None = None
    cookie_timeout: int | None = None
    tcp_timeout: int | None = None
    tcp_draining: bool | None = None
    tcp_draining_timeout: int | None = None
    udp_timeout: int | None = None
    ssl_protocols: str | None = None
    ssl_ciphers: str | None = None
    certificate_id: str | None = None
    certificates: list[str] | None = None
    status: str | None = None
    admin_state_up: bool | None = None
    healthcheck_id: str | None = None
    member_number: int | None = None
    create_time: str | None = None
    update_time: str | None = None


@dataclass(frozen=True)
class HealthCheckResult:
    """A health check as ``HealthCheck``'s outputs name its fields."""

    healthcheck_id: str
    listener_id: str
    healthcheck_protocol: str | None = None
    healthcheck_uri: str | None = None
    healthcheck_connect_port: int | None = None
    healthy_threshold: int | None = None
    unhealthy_threshold: int | None = None
    healthcheck_timeout: int | None = None
    healthcheck_interval: int | None = None
    create_time: str | None = None
    update_time: str | None = None


@dataclass(frozen=True)
class MemberResult:
    """A member as ``Member``'s outputs name its fields."""

    member_id: str
    listener_id: str
    server_id: str
    address: str | None = None
    internal_address: str | None = None
    status: str | None = None
    health_status: str | None = None
    create_time: str | None = None
    update_time: str | None = None


@dataclass(frozen=True)
class CertificateResult:
    """A certificate as ``Certificate``'s outputs name its fields; the private key is never
    part of a lookup (it would land in the program's plain values)."""

    certificate_id: str
    name: str | None = None
    description: str | None = None
    domain: str | None = None
    certificate: str | None = None
    create_time: str | None = None
    update_time: str | None = None


def _typed(cls: type[_Result], found: Mapping[str, Any]) -> _Result:
    """``found`` (a lookup's answer) as ``cls``: its fields by name, numbers as integers."""
    values: dict[str, Any] = {}
    for spec in fields(cls):  # type: ignore[arg-type]
        value = found.get(spec.name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        values[spec.name] = value
    return cls(**values)


# -- where a lookup goes: the API, or the mocks of a unit test -----------------------------
def _mocked() -> bool:
    from pulumi.runtime import mocks, settings

    return isinstance(settings.get_monitor(), mocks.MockMonitor)


def _client(collection: str = "listeners") -> Any:
    """The API client for this program: the provider's settings and sign-in, read here (or
    the one :func:`answer` was given)."""
    given = _CLIENT.get()
    if given is not None:
        return given if collection == "listeners" else given.collection(collection)
    from pulumi.runtime.config import get_config

    from .base import CONFIG_KEYS, DEFAULT_TIMEOUT
    from .client import ElbClient
    from .settings import RetrySettings, resolve_settings

    config = {key: get_config(f"elb:{key}") for key in CONFIG_KEYS}
    settings = resolve_settings({k: v for k, v in config.items() if v is not None},
                                os.environ)
    client = ElbClient.from_settings(settings, timeout=DEFAULT_TIMEOUT, retry=RetrySettings())
    return client if collection == "listeners" else client.collection(collection)


def _one(kind: str, found: list[Mapping[str, Any]], wanted: str) -> dict[str, Any]:
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise ElbApiError("lookup", None, None, None, f"{what} {kind}s match {wanted}"
                          + ("; give more to tell them apart" if found else ""), kind=kind)
    return dict(found[0])


def answer(token: str, args: Mapping[str, Any], client: Any = None) -> dict[str, Any]:
    """A lookup made against the API (with ``client``, or the program's own), as an
    invoke's result (outputs' names): what the public functions return typed, and what an
    engine or ``fake_elb.ElbMocks`` under mocks answers with."""
    if client is not None:
        token_client = _CLIENT.set(client)
        try:
            return answer(token, args)
        finally:
            _CLIENT.reset(token_client)
    kind = next((k for k, t in TOKENS.items() if t == token), None)
    if kind is None:
        raise ElbApiError("lookup", None, None, None, f"no lookup {token!r}", kind="listener")
    # Numbers cross an invoke as floats (80.0): whole ones are integers again.
    args = {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in args.items() if v is not None}
    wanted = ", ".join(f"{k}={args[k]!r}" for k in sorted(args)) or "nothing given"
    if kind == "listener":
        return _listener(args, wanted)
    if kind == "listeners":
        return {"listeners": [{**item, "listener_id": item.get("id")} for item in
                              _client().list(loadbalancer_id=args["loadbalancer_id"])]}
    if kind == "health check":
        live = _client("healthcheck").get(str(args["healthcheck_id"]))
        found = _one(kind, [live] if live is not None else [], wanted)
        return {**found, "healthcheck_id": found.get("id")}
    if kind == "members":
        return {"members": _members(str(args["listener_id"]))}
    return _certificate(args, wanted)


def _listener(args: Mapping[str, Any], wanted: str) -> dict[str, Any]:
    if args.get("listener_id") is None and args.get("loadbalancer_id") is None:
        raise ElbApiError("lookup", None, None, None, "give listener_id, or loadbalancer_id "
                          "with port or name", kind="listener")
    client = _client()
    if args.get("listener_id") is not None:
        live = client.get(str(args["listener_id"]))
        found = [live] if live is not None else []
    else:
        found = client.list(**{k: v for k, v in args.items()
                               if k in ("loadbalancer_id", "port", "name")})
    live = _one("listener", found, wanted)
    return {**live, "listener_id": live.get("id")}


def _members(listener_id: str) -> list[dict[str, Any]]:
    from .member import MemberProvider

    reader = MemberProvider()
    reader._client = _client()  # the program's client: the provider's paging, reused
    return [{**item, "member_id": item.get("id"), "listener_id": listener_id,
             "address": item.get("server_address"), "internal_address": item.get("address")}
            for item in reader._find(listener_id)]


def _certificate(args: Mapping[str, Any], wanted: str) -> dict[str, Any]:
    if args.get("certificate_id") is None and args.get("name") is None:
        raise ElbApiError("lookup", None, None, None, "give certificate_id or name",
                          kind="certificate")
    listed = _client("certificate").read_collection() or {}
    found = [c for c in listed.get("certificates") or []
             if args.get("certificate_id") in (None, c.get("id"))
             and args.get("name") in (None, c.get("name"))]
    live = _one("certificate", found, wanted)
    live.pop("private_key", None)  # never a plain value in the program
    return {**live, "certificate_id": live.get("id")}


def _lookup(kind: str, args: dict[str, Any]) -> Any:
    """The lookup's result: from the mocks' ``call`` in a unit test, else the API."""
    token = TOKENS[kind]
    if _mocked():
        return pulumi.runtime.invoke(token, {k: v for k, v in args.items()
                                             if v is not None}).value
    return answer(token, args)


# -- the lookups ----------------------------------------------------------------------------
def get_listener(listener_id: str | None = None, *, loadbalancer_id: str | None = None,
                 port: int | None = None, name: str | None = None) -> ListenerResult:
    """One listener: by its ID, or by its load balancer and port or name (one must match)."""
    return _typed(ListenerResult, _lookup("listener", {
        "listener_id": listener_id, "loadbalancer_id": loadbalancer_id, "port": port,
        "name": name}))


def get_listeners(loadbalancer_id: str) -> list[ListenerResult]:
    """Every listener of a load balancer (none is an empty list)."""
    found = _lookup("listeners", {"loadbalancer_id": loadbalancer_id})
    return [_typed(ListenerResult, item) for item in found["listeners"]]


def get_health_check(healthcheck_id: str) -> HealthCheckResult:
    """One health check, by its ID."""
    return _typed(HealthCheckResult, _lookup("health check",
                                             {"healthcheck_id": healthcheck_id}))


def get_members(listener_id: str) -> list[MemberResult]:
    """Every member of a listener, every page."""
    found = _lookup("members", {"listener_id": listener_id})
    return [_typed(MemberResult, item) for item in found["members"]]


def get_certificate(certificate_id: str | None = None, *,
                    name: str | None = None) -> CertificateResult:
    """One certificate, by its ID or its name (one must match); never its private key."""
    return _typed(CertificateResult, _lookup("certificate", {"certificate_id": certificate_id,
                                                             "name": name}))


# -- the Output forms ------------------------------------------------------------------------
def get_listener_output(listener_id: pulumi.Input[str | None] = None, *,
                        loadbalancer_id: pulumi.Input[str | None] = None,
                        port: pulumi.Input[int | None] = None,
                        name: pulumi.Input[str | None] = None) -> pulumi.Output[ListenerResult]:
    return pulumi.Output.all(listener_id, loadbalancer_id, port, name).apply(
        lambda a: get_listener(a[0], loadbalancer_id=a[1], port=a[2], name=a[3]))


def get_listeners_output(loadbalancer_id: pulumi.Input[str]
                         ) -> pulumi.Output[list[ListenerResult]]:
    return pulumi.Output.from_input(loadbalancer_id).apply(get_listeners)


def get_health_check_output(healthcheck_id: pulumi.Input[str]
                            ) -> pulumi.Output[HealthCheckResult]:
    return pulumi.Output.from_input(healthcheck_id).apply(get_health_check)


def get_members_output(listener_id: pulumi.Input[str]) -> pulumi.Output[list[MemberResult]]:
    return pulumi.Output.from_input(listener_id).apply(get_members)


def get_certificate_output(certificate_id: pulumi.Input[str | None] = None, *,
                           name: pulumi.Input[str | None] = None
                           ) -> pulumi.Output[CertificateResult]:
    return pulumi.Output.all(certificate_id, name).apply(
        lambda a: get_certificate(a[0], name=a[1]))
