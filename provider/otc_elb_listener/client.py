"""The ELB API's collections, each a small adapter on one :class:`~.transport.Transport`
(keystoneauth's ``Adapter`` on its ``Session``): listeners, health checks, certificates, a
listener's members and the project's jobs. What a request is about (its kind and ID) comes
from the collection, so every error names the right kind of object.

:class:`ElbClient` is the listener collection and the door to the others; it is how a
provider, a lookup or a user's script reaches the API.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from . import offline
from .auth import AkSkSignIn, PasswordSignIn, SignIn, TokenSignIn
from .errors import ConfigError, ElbApiError, NotFound
from .rules.machinery import ID_RE
from .settings import RetrySettings, Settings
from .transport import Call, LookFirst, Transport, _Applied, is_not_found

__all__ = ["Collection", "ElbApiError", "ElbClient", "NotFound", "RetrySettings"]

#: The kind of object each collection holds, as errors name it.
KINDS = {"listeners": "listener", "healthcheck": "health check", "certificate": "certificate",
         "members": "member", "jobs": "job"}


class Collection:
    """One collection under the project (``elbaas/healthcheck``): create, get, list, update
    and delete of its objects, through the shared transport."""

    def __init__(self, transport: Transport, path: str, kind: str) -> None:
        self.transport = transport
        self.path = path
        self.kind = kind

    @property
    def base(self) -> str:
        """The collection's URL."""
        return f"{self.transport.prefix}/{self.path}"

    def _url(self, call: Call) -> str:
        """The collection's URL, or its object's; an ID that is not one never goes into it."""
        if call.object_id is None:
            return self.base
        if not ID_RE.fullmatch(call.object_id):
            raise ElbApiError(call.operation, call.object_id[:64], None, None,
                              f"a {self.kind} ID is 32 lowercase hex characters",
                              kind=self.kind)
        return f"{self.base}/{call.object_id}"

    def _call(self, operation: str, method: str, object_id: str | None = None,
              **options: Any) -> tuple[Call, Any]:
        call = Call(operation, self.kind, object_id)
        return call, self.transport.call(call, method, self._url(call), **options)

    def create(self, body: Any, look_first: LookFirst | None = None) -> dict[str, Any]:
        """POST an object. With ``look_first``, a POST whose outcome is uncertain is resent
        (on the common schedule) only when ``look_first`` finds it was not applied, and what
        it finds applied is the answer; without it, such a POST raises."""
        call = Call("create", self.kind)
        try:
            response = self.transport.call(call, "POST", self.base, body=body,
                                           look_first=look_first)
        except _Applied as applied:
            return applied.found
        result: dict[str, Any] = self.transport.json(call, response)
        return result

    def get(self, object_id: str) -> dict[str, Any] | None:
        """The object, or ``None`` when it is not there."""
        call, response = self._call("read", "GET", object_id)
        if is_not_found(response):
            return None
        result: dict[str, Any] = self.transport.json(call, response)
        return result

    def read_collection(self, operation: str = "list", **filters: Any) -> Any:
        """The collection's answer as it is (a certificate list is an object, a member list
        may be ``{}`` when empty)."""
        call, response = self._call(operation, "GET", params=filters or None)
        return self.transport.json(call, response, (dict, list))

    def list(self, **filters: Any) -> builtins.list[dict[str, Any]]:
        return self.list_with_clock(**filters)[0]

    def list_with_clock(self, operation: str = "list",
                        **filters: Any) -> tuple[builtins.list[dict[str, Any]], float]:
        """The objects, and the service's clock when it answered (see
        :meth:`~.transport.Transport.clock`)."""
        call, response = self._call(operation, "GET", params=filters)
        result: builtins.list[dict[str, Any]] = self.transport.json(call, response, list)
        return result, self.transport.clock(response)

    def update(self, object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One PUT; the object as it now is. The service may answer 200 or 202 with the
        object, or 202 without a body: then the object is read once (docs/engines.md,
        "What each command does")."""
        call, response = self._call("update", "PUT", object_id, body=body)
        if response.status_code == 202 and not response.content.strip():
            found = self.get(object_id)
            if found is None:
                raise call.error(404, None, "the service accepted the PUT (202) but the "
                                 "object is gone")
            return found
        result: dict[str, Any] = self.transport.json(call, response)
        return result

    def delete(self, object_id: str) -> bool:
        """Delete; ``False`` when it was already gone."""
        call, response = self._call("delete", "DELETE", object_id)
        if is_not_found(response):
            return False
        if response.status_code >= 300:
            raise self.transport.error(call, response)
        return True

    def action(self, operation: str, method: str, path: str = "", body: Any = None,
               params: Mapping[str, Any] | None = None, object_id: str | None = None,
               shape: type | tuple[type, ...] = dict, gone_ok: bool = False) -> Any:
        """One call to ``path`` under the collection (``action``, a job's ID), retried per
        policy (a POST is never resent blindly): its JSON, ``None`` when empty, and with
        ``gone_ok`` ``None`` when the service says "not there" (else that is raised, as
        :class:`~.errors.NotFound`)."""
        call = Call(operation, self.kind, object_id)
        url = f"{self.base}/{quote(path, safe='/')}" if path else self.base
        response = self.transport.call(call, method, url, body=body, params=params)
        if gone_ok and is_not_found(response):
            return None
        return self.transport.json(call, response, (*(
            shape if isinstance(shape, tuple) else (shape,)), type(None)))


class ElbClient(Collection):
    """The listeners of one project, and the door to the other collections; safe across
    threads."""

    def __init__(self, endpoint: str, project_id: str, sign_in: SignIn | str, *,
                 timeout: float | tuple[float, float] = (10.0, 60.0),
                 retry: RetrySettings | None = None, verify_tls: bool | str = True) -> None:
        """``sign_in``: a :class:`~.auth.SignIn` plugin, or a ready token."""
        super().__init__(Transport(
            endpoint, project_id, TokenSignIn(sign_in) if isinstance(sign_in, str) else sign_in,
            timeout=timeout, retry=retry or RetrySettings(), verify_tls=verify_tls),
            "elbaas/listeners", KINDS["listeners"])

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | tuple[float, float],
                      retry: RetrySettings) -> ElbClient:
        """The client for resolved settings, with the sign-in plugin they call for."""
        sign_in: SignIn
        if settings.aksk is not None:
            assert settings.project_id is not None
            sign_in = AkSkSignIn(settings.aksk, settings.project_id)
        elif settings.password is not None:
            sign_in = PasswordSignIn(settings.password, timeout=timeout,
                                     verify_tls=settings.verify_tls)
        else:
            assert settings.token is not None
            sign_in = TokenSignIn(settings.token)
        learned_endpoint, learned_project = sign_in.target()
        endpoint = settings.endpoint or learned_endpoint
        if endpoint is None:
            raise ConfigError("ELB listener provider: the IAM token's catalog lists no ELB "
                              "endpoint; set config elb:endpoint (or elb:region)")
        project_id = settings.project_id or learned_project
        assert project_id is not None
        offline.guard(endpoint, "the ELB endpoint")
        return cls(endpoint, project_id, sign_in, timeout=timeout, retry=retry,
                   verify_tls=settings.verify_tls)

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("ElbClient holds a token and must not be pickled")

    @property
    def session(self) -> Any:
        return self.transport.session

    @property
    def sign_in(self) -> SignIn:
        return self.transport.sign_in

    def _redact(self, text: str) -> str:
        return self.transport.redact(text)

    def collection(self, name: str) -> Collection:
        """Another collection of the same project (``healthcheck``, ``certificate``),
        sharing this one's transport."""
        return Collection(self.transport, f"elbaas/{name}", KINDS.get(name, name))

    def members(self, listener_id: str) -> Collection:
        """The members of one listener (``elbaas/listeners/{id}/members``)."""
        self._url(Call("read", KINDS["listeners"], listener_id))  # a listener ID, or refused
        return Collection(self.transport, f"elbaas/listeners/{listener_id}/members",
                          KINDS["members"])

    def jobs(self) -> Collection:
        """The project's jobs (``jobs/{job_id}``): the member adds and removes."""
        return Collection(self.transport, "jobs", KINDS["jobs"])

