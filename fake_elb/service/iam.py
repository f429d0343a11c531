"""The fake's IAM: Keystone v3 password tokens, as Open Telekom Cloud / Huawei Cloud issue them.

``POST /v3/auth/tokens`` with a password identity and a project scope (by ID, or by name
within the user's domain) answers 201 with the token in ``X-Subject-Token`` and a body whose
``token`` carries ``expires_at``, ``project`` and a ``catalog`` whose ELB endpoint is the fake
itself. Users are registered through the control plane; tokens live ``token_ttl`` seconds.
Passwords are kept only here and never written to the journal.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .errors import ApiError


@dataclass(frozen=True)
class User:
    domain: str
    name: str
    password: str
    project_id: str
    project_name: str

    def __repr__(self) -> str:  # never show the password
        return f"User({self.domain!r}, {self.name!r}, project {self.project_id!r})"


@dataclass(frozen=True)
class Credential:
    """An access key pair for one project; a temporary one also has its security token."""

    secret: str
    project_id: str
    security_token: str | None = None

    def __repr__(self) -> str:  # never show the secret or the token
        return f"Credential(project {self.project_id!r})"


_MALFORMED = "ELB.1001"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, _MALFORMED, f"{where}: must be a JSON object, got "
                       f"{type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, _MALFORMED, f"{where}: must be a non-empty string, got "
                       f"{type(value).__name__}")
    return value


def _same_secret(given: str, kept: str) -> bool:
    """Constant-time, for any text (``compare_digest`` on str takes ASCII only)."""
    return secrets.compare_digest(given.encode("utf-8"), kept.encode("utf-8"))


@dataclass(frozen=True)
class _Request:
    """A password sign-in, read strictly: every malformed part is a 400 naming it."""

    domain: str
    name: str
    password: str
    project_id: str | None
    project_name: str | None
    project_domain: str | None

    @classmethod
    def parse(cls, body: Any) -> _Request:
        auth = _object(_object(body, "the body").get("auth"), "auth")
        identity = _object(auth.get("identity"), "auth.identity")
        methods = identity.get("methods")
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods) \
                or "password" not in methods:
            raise ApiError(400, _MALFORMED, "auth.identity.methods: must be a list of "
                           "strings that includes 'password'")
        user = _object(_object(identity.get("password"), "auth.identity.password").get("user"),
                       "auth.identity.password.user")
        where = "auth.identity.password.user"
        domain = _text(_object(user.get("domain"), f"{where}.domain").get("name"),
                       f"{where}.domain.name")
        project = _object(_object(auth.get("scope"), "auth.scope").get("project"),
                          "auth.scope.project")
        project_id = project.get("id")
        project_name = project.get("name")
        project_domain = None
        if project_id is not None:
            _text(project_id, "auth.scope.project.id")
        elif project_name is not None:
            _text(project_name, "auth.scope.project.name")
            project_domain = _text(_object(project.get("domain"), "auth.scope.project.domain")
                                   .get("name"), "auth.scope.project.domain.name")
        else:
            raise ApiError(400, _MALFORMED, "auth.scope.project: an id, or a name with its "
                           "domain.name, is mandatory")
        return cls(domain, _text(user.get("name"), f"{where}.name"),
                   _text(user.get("password"), f"{where}.password"), project_id, project_name,
                   project_domain)


class FakeIam:
    """Users and the tokens issued to them; thread-safe. As keystone does, a user's tokens
    are revoked when the user goes or their password changes."""

    def __init__(self, token_ttl: float = 24 * 3600.0) -> None:
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._users: dict[tuple[str, str], User] = {}
        #: token -> (expiry as epoch seconds, project ID, the user it was issued to)
        self._issued: dict[str, tuple[float, str, tuple[str, str]]] = {}
        #: access key -> its credential, for AK/SK-signed requests
        self.credentials: dict[str, Credential] = {}

    def reset(self) -> None:
        with self._lock:
            self._users.clear()
            self._issued.clear()
            self.credentials.clear()

    def revoke_all(self) -> None:
        """Every issued token stops working (``POST /_fake/tokens`` accepts exactly a list)."""
        with self._lock:
            self._issued.clear()

    def add_credential(self, access: str, secret: str, project_id: str,
                       security_token: str | None = None) -> dict[str, Any]:
        """An access key pair that signs requests for one project; a temporary one is only
        accepted with its security token (``X-Security-Token``)."""
        fields = {"access": access, "secret": secret, "project_id": project_id}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if security_token is not None and (not isinstance(security_token, str)
                                           or not security_token):
            bad.append("security_token")
        if bad:
            raise ApiError(400, _MALFORMED, f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            self.credentials[access] = Credential(secret, project_id, security_token)
        return {"access": access, "project_id": project_id,
                "temporary": security_token is not None}

    def add_user(self, domain: str, name: str, password: str, project_id: str,
                 project_name: str) -> dict[str, Any]:
        """A user; registering one again with another password revokes their tokens."""
        fields = {"domain": domain, "name": name, "password": password,
                  "project_id": project_id, "project_name": project_name}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if bad:
            raise ApiError(400, _MALFORMED, f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            before = self._users.get((domain, name))
            if before is not None and not _same_secret(password, before.password):
                self._revoke_locked((domain, name))
            self._users[(domain, name)] = User(domain, name, password, project_id, project_name)
        return {"domain": domain, "name": name, "project_id": project_id,
                "project_name": project_name}

    def remove_user(self, domain: Any, name: Any) -> None:
        """The user goes, and every token issued to them with it; 404 if there is none."""
        key = (_text(domain, "domain"), _text(name, "name"))
        with self._lock:
            if self._users.pop(key, None) is None:
                raise ApiError(404, "ELB.8904", f"no user {name!r} in domain {domain!r}")
            self._revoke_locked(key)

    def _revoke_locked(self, user: tuple[str, str]) -> None:
        for token in [t for t, issued in self._issued.items() if issued[2] == user]:
            del self._issued[token]

    def check(self, token: str, project_id: str) -> str | None:
        """Why an issued token does not open ``project_id`` (``None``: it does; ``"unknown"``:
        this IAM never issued it, or revoked it)."""
        with self._lock:
            issued = self._issued.get(token)
        if issued is None:
            return "unknown"
        expires, project, _ = issued
        if time.time() >= expires:
            return "the X-Auth-Token has expired"
        if project != project_id:
            return "the X-Auth-Token is scoped to another project"
        return None

    def issue(self, body: Any, elb_url: str) -> tuple[str, dict[str, Any]]:
        """A token for a password identity, or 401 (unknown user, wrong password, no role in
        the project) / 400 (malformed, naming the part)."""
        wanted = _Request.parse(body)
        with self._lock:
            found = self._users.get((wanted.domain, wanted.name))
        if found is None or not _same_secret(wanted.password, found.password):
            raise ApiError(401, "ELB.1103", "The request you have made requires "
                           "authentication (unknown user or wrong password)")
        if wanted.project_id is not None:
            in_project = wanted.project_id == found.project_id
        else:  # a project name means the project of that name in the domain named with it
            in_project = (wanted.project_name, wanted.project_domain) == (found.project_name,
                                                                          found.domain)
        if not in_project:
            raise ApiError(401, "ELB.1103", "the user has no role in the requested project")
        token = "fake-iam-" + secrets.token_hex(24)
        expires = time.time() + self.token_ttl
        with self._lock:
            self._issued[token] = (expires, found.project_id, (found.domain, found.name))
        return token, _token_body(found, expires, elb_url)


def _token_body(user: User, expires: float, elb_url: str) -> dict[str, Any]:
    expires_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(expires))
    return {"token": {
        "expires_at": expires_at, "methods": ["password"],
        "user": {"name": user.name, "domain": {"name": user.domain}},
        "project": {"id": user.project_id, "name": user.project_name,
                    "domain": {"name": user.domain}},
        "catalog": [{"type": "elb", "name": "elb", "endpoints": [
            {"interface": "public", "region": user.project_name.split("_")[0],
             "url": elb_url}]}],
    }}
