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


class FakeIam:
    """Users and the tokens issued to them; thread-safe."""

    def __init__(self, token_ttl: float = 24 * 3600.0) -> None:
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._users: dict[tuple[str, str], User] = {}
        #: token -> (expiry as epoch seconds, project ID)
        self._issued: dict[str, tuple[float, str]] = {}
        #: access key -> (secret key, project ID), for AK/SK-signed requests
        self.credentials: dict[str, tuple[str, str]] = {}

    def reset(self) -> None:
        with self._lock:
            self._users.clear()
            self._issued.clear()
            self.credentials.clear()

    def add_credential(self, access: str, secret: str, project_id: str) -> dict[str, Any]:
        """An access key pair that signs requests for one project."""
        fields = {"access": access, "secret": secret, "project_id": project_id}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if bad:
            raise ApiError(400, "ELB.1001", f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            self.credentials[access] = (secret, project_id)
        return {"access": access, "project_id": project_id}

    def add_user(self, domain: str, name: str, password: str, project_id: str,
                 project_name: str) -> dict[str, Any]:
        fields = {"domain": domain, "name": name, "password": password,
                  "project_id": project_id, "project_name": project_name}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if bad:
            raise ApiError(400, "ELB.1001", f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            self._users[(domain, name)] = User(domain, name, password, project_id, project_name)
        return {"domain": domain, "name": name, "project_id": project_id,
                "project_name": project_name}

    def check(self, token: str, project_id: str) -> str | None:
        """Why an issued token does not open ``project_id`` (``None``: it does; ``"unknown"``:
        this IAM never issued it)."""
        with self._lock:
            issued = self._issued.get(token)
        if issued is None:
            return "unknown"
        expires, project = issued
        if time.time() >= expires:
            return "the X-Auth-Token has expired"
        if project != project_id:
            return "the X-Auth-Token is scoped to another project"
        return None

    def issue(self, body: Any, elb_url: str) -> tuple[str, dict[str, Any]]:
        """A token for a password identity, or 401 (unknown user, wrong password) / 400."""
        try:
            identity = body["auth"]["identity"]
            user = identity["password"]["user"]
            name, password = user["name"], user["password"]
            domain = user["domain"]["name"]
            scope = body["auth"]["scope"]["project"]
        except (KeyError, TypeError):
            raise ApiError(400, "ELB.1001", "auth: a password identity (auth.identity.password"
                           ".user.name, password, domain.name) and a project scope "
                           "(auth.scope.project) are mandatory") from None
        if "password" not in identity.get("methods", []):
            raise ApiError(400, "ELB.1001", "auth.identity.methods: must include 'password'")
        with self._lock:
            found = self._users.get((domain, name))
        if found is None or not secrets.compare_digest(str(password), found.password):
            raise ApiError(401, "ELB.1103", "The request you have made requires "
                           "authentication (unknown user or wrong password)")
        wanted_id, wanted_name = scope.get("id"), scope.get("name")
        if wanted_id not in (None, found.project_id) or \
                wanted_name not in (None, found.project_name) or \
                (wanted_id is None and wanted_name is None):
            raise ApiError(401, "ELB.1103", "the user has no role in the requested project")
        token = "fake-iam-" + secrets.token_hex(24)
        expires = time.time() + self.token_ttl
        with self._lock:
            self._issued[token] = (expires, found.project_id)
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(expires))
        payload = {"token": {
            "expires_at": expires_at, "methods": ["password"],
            "user": {"name": found.name, "domain": {"name": found.domain}},
            "project": {"id": found.project_id, "name": found.project_name,
                        "domain": {"name": found.domain}},
            "catalog": [{"type": "elb", "name": "elb", "endpoints": [
                {"interface": "public", "region": found.project_name.split("_")[0],
                 "url": elb_url}]}],
        }}
        return token, payload
