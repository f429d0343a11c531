"""Pulumi dynamic providers for the Open Telekom Cloud / Huawei Cloud classic ELB: a listener,
its health check, its backend members, and the certificates HTTPS listeners use; and the
lookups that read them without owning them.

``from otc_elb_listener import Listener, ListenerArgs, HealthCheck, HealthCheckArgs``. The
import name is this project's own and must never change: the providers are pickled into
users' Pulumi state by module path. Kept light: the Pulumi SDK is imported only when one of
those names is used, so importing :mod:`otc_elb_listener.rules` (as the fake does) does not
pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .certificate import Certificate, CertificateArgs, CertificateProvider
    from .client import ElbClient
    from .errors import ElbApiError
    from .healthcheck import HealthCheck, HealthCheckArgs, HealthCheckProvider
    from .listener import Listener, ListenerArgs, ListenerProvider
    from .lookups import (
        CertificateResult,
        HealthCheckResult,
        ListenerResult,
        MemberResult,
        get_certificate,
        get_certificate_output,
        get_health_check,
        get_health_check_output,
        get_listener,
        get_listener_output,
        get_listeners,
        get_listeners_output,
        get_members,
        get_members_output,
    )
    from .member import Member, MemberArgs, MemberProvider
    from .members import Members, MembersArgs, MembersProvider
    from .settings import RetrySettings

__all__ = [
    "Certificate",
    "CertificateArgs",
    "CertificateProvider",
    "CertificateResult",
    "ElbApiError",
    "ElbClient",
    "HealthCheck",
    "HealthCheckArgs",
    "HealthCheckProvider",
    "HealthCheckResult",
    "Listener",
    "ListenerArgs",
    "ListenerProvider",
    "ListenerResult",
    "Member",
    "MemberArgs",
    "MemberProvider",
    "MemberResult",
    "Members",
    "MembersArgs",
    "MembersProvider",
    "RetrySettings",
    "get_certificate",
    "get_certificate_output",
    "get_health_check",
    "get_health_check_output",
    "get_listener",
    "get_listener_output",
    "get_listeners",
    "get_listeners_output",
    "get_members",
    "get_members_output",
]
_HOME = {"ElbApiError": "errors", "ElbClient": "client", "RetrySettings": "settings",
         "Listener": "listener", "ListenerArgs": "listener", "ListenerProvider": "listener",
         "HealthCheck": "healthcheck", "HealthCheckArgs": "healthcheck",
         "HealthCheckProvider": "healthcheck", "Certificate": "certificate",
         "CertificateArgs": "certificate", "CertificateProvider": "certificate",
         "Member": "member", "MemberArgs": "member", "MemberProvider": "member",
         "Members": "members", "MembersArgs": "members", "MembersProvider": "members",
         **{name: "lookups" for name in (
             "CertificateResult", "HealthCheckResult", "ListenerResult", "MemberResult",
             "get_certificate", "get_certificate_output", "get_health_check",
             "get_health_check_output", "get_listener", "get_listener_output",
             "get_listeners", "get_listeners_output", "get_members", "get_members_output")}}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        from importlib import import_module
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
