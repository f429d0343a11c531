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
    #: A virtual MFA passcode the user's sign-in must carry (each is good once), if any.
    passcode: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"User({self.domain!r}, {self.name!r}, project {self.project_id!r})"


@dataclass(frozen=True)
class Agency:
    """An agency of a delegating account: users of ``trusted_domain`` may take it on, and
    its token opens one project of the delegating account."""

    domain: str
    name: str
    trusted_domain: str
    project_id: str
    project_name: str


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
    """A password sign-in (with a virtual MFA passcode, when ``totp`` is among its methods),
    scoped to a project or to the user's domain (to take on an agency), read strictly:
    every malformed part is a 400 naming it."""

    domain: str
    name: str
    password: str
    project_id: str | None
    project_name: str | None
    project_domain: str | None
    passcode: str | None = None

    @classmethod
    def parse(cls, body: Any) -> _Request:
        auth = _object(_object(body, "the body").get("auth"), "auth")
        identity = _object(auth.get("identity"), "auth.identity")
        methods = identity.get("methods")
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods) \
                or "password" not in methods:
            raise ApiError(400, _MALFORMED, "auth.identity.methods: must be a list of "
                           "strings that includes 'password' (or is ['assume_role'])")
        user = _object(_object(identity.get("password"), "auth.identity.password").get("user"),
                       "auth.identity.password.user")
        where = "auth.identity.password.user"
        domain = _text(_object(user.get("domain"), f"{where}.domain").get("name"),
                       f"{where}.domain.name")
        passcode = None
        if "totp" in methods:
            totp = _object(_object(identity.get("totp"), "auth.identity.totp").get("user"),
                           "auth.identity.totp.user")
            passcode = _text(totp.get("passcode"), "auth.identity.totp.user.passcode")
        scope = _object(auth.get("scope"), "auth.scope")
        if "domain" in scope and "project" not in scope:
            _text(_object(scope.get("domain"), "auth.scope.domain").get("name"),
                  "auth.scope.domain.name")
            return cls(domain, _text(user.get("name"), f"{where}.name"),
                       _text(user.get("password"), f"{where}.password"), None, None, None,
                       passcode)
        project = _object(scope.get("project"), "auth.scope.project")
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
                   project_domain, passcode)


def _assume_role(body: Any) -> tuple[str, str, str]:
    """(delegating domain, agency name, delegated project: its ID or name) of an agency
    sign-in (IAM's "Obtaining an Agency Token"), or a 400 naming the malformed part."""
    auth = _object(_object(body, "the body").get("auth"), "auth")
    identity = _object(auth.get("identity"), "auth.identity")
    role = _object(identity.get("assume_role"), "auth.identity.assume_role")
    domain = role.get("domain_name") if role.get("domain_name") is not None else \
        role.get("domain_id")
    where = "auth.identity.assume_role"
    project = _object(_object(auth.get("scope"), "auth.scope").get("project"),
                      "auth.scope.project")
    wanted = project.get("id") if project.get("id") is not None else project.get("name")
    return (_text(domain, f"{where}.domain_name"), _text(role.get("agency_name"),
            f"{where}.agency_name"), _text(wanted, "auth.scope.project.id (or name)"))


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
        #: (delegating domain, agency name) -> the agency
        self._agencies: dict[tuple[str, str], Agency] = {}
        #: (domain, user) -> passcodes already used (each is good once)
        self._used_passcodes: dict[tuple[str, str], set[str]] = {}

    def reset(self) -> None:
        with self._lock:
            self._users.clear()
            self._issued.clear()
            self.credentials.clear()
            self._agencies.clear()
            self._used_passcodes.clear()

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
                 project_name: str, passcode: str | None = None) -> dict[str, Any]:
        """A user; registering one again with another password revokes their tokens. With
        ``passcode`` the user signs in with a virtual MFA too, and may register a new
        passcode the same way (each is good once)."""
        fields = {"domain": domain, "name": name, "password": password,
                  "project_id": project_id, "project_name": project_name}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if passcode is not None and (not isinstance(passcode, str) or not passcode):
            bad.append("passcode")
        if bad:
            raise ApiError(400, _MALFORMED, f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            before = self._users.get((domain, name))
            if before is not None and not _same_secret(password, before.password):
                self._revoke_locked((domain, name))
            self._users[(domain, name)] = User(domain, name, password, project_id, project_name,
                                               passcode)
        return {"domain": domain, "name": name, "project_id": project_id,
                "project_name": project_name}

    def add_agency(self, domain: Any, name: Any, trusted_domain: Any, project_id: Any,
                   project_name: Any) -> dict[str, Any]:
        """An agency of the account ``domain``: users of ``trusted_domain`` may take it on
        for the project (``project_id``, ``project_name``) it grants."""
        fields = {"domain": domain, "name": name, "trusted_domain": trusted_domain,
                  "project_id": project_id, "project_name": project_name}
        bad = [key for key, value in fields.items() if not isinstance(value, str) or not value]
        if bad:
            raise ApiError(400, _MALFORMED, f"{bad[0]}: a non-empty string is mandatory")
        with self._lock:
            self._agencies[(domain, name)] = Agency(domain, name, trusted_domain, project_id,
                                                    project_name)
        return dict(fields)

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

    def issue(self, body: Any, elb_url: str, token: str | None = None
              ) -> tuple[str, dict[str, Any]]:
        """A token for a password identity (with its MFA passcode where the user has one),
        or for an agency (``assume_role``, authenticated by the user's own ``token``); 401
        (unknown user, wrong password or passcode, no role in the project, an agency that
        does not exist or does not trust the user's account) or 400 (malformed, naming the
        part)."""
        methods = _object(_object(_object(body, "the body").get("auth"), "auth")
                          .get("identity"), "auth.identity").get("methods")
        if methods == ["assume_role"]:
            return self._agency_token(body, elb_url, token)
        wanted = _Request.parse(body)
        found = self._signed_in(wanted)
        if wanted.project_id is None and wanted.project_name is None:  # the user's domain
            project_id, project_name = "", ""
        elif (wanted.project_id == found.project_id) if wanted.project_id is not None else (
                (wanted.project_name, wanted.project_domain) == (found.project_name,
                                                                 found.domain)):
            project_id, project_name = found.project_id, found.project_name
        else:
            raise ApiError(401, "ELB.1103", "the user has no role in the requested project")
        return self._issue(found, project_id, project_name, found.domain, elb_url)

    def _signed_in(self, wanted: _Request) -> User:
        with self._lock:
            found = self._users.get((wanted.domain, wanted.name))
            if found is None or not _same_secret(wanted.password, found.password):
                raise ApiError(401, "ELB.1103", "The request you have made requires "
                               "authentication (unknown user or wrong password)")
            if found.passcode is not None:
                used = self._used_passcodes.setdefault((found.domain, found.name), set())
                if wanted.passcode is None or not _same_secret(wanted.passcode,
                                                               found.passcode) \
                        or wanted.passcode in used:
                    raise ApiError(401, "ELB.1103", "the virtual MFA passcode is missing, "
                                   "wrong, or used already (each is good once)")
                used.add(wanted.passcode)
        return found

    def _agency_token(self, body: Any, elb_url: str, token: str | None
                      ) -> tuple[str, dict[str, Any]]:
        domain, agency_name, wanted = _assume_role(body)
        with self._lock:
            issued = self._issued.get(token or "")
            agency = self._agencies.get((domain, agency_name))
            user = self._users.get(issued[2]) if issued is not None else None
        if issued is None or time.time() >= issued[0] or user is None:
            raise ApiError(401, "ELB.1103", "an agency token needs the user's own valid token "
                           "in X-Auth-Token")
        if agency is None:
            raise ApiError(401, "ELB.1103", f"no agency {agency_name!r} in account {domain!r}")
        if agency.trusted_domain != user.domain:
            raise ApiError(401, "ELB.1103", f"agency {agency_name!r} does not trust account "
                           f"{user.domain!r}")
        if wanted not in (agency.project_id, agency.project_name):
            raise ApiError(401, "ELB.1103", f"agency {agency_name!r} grants no role in "
                           f"project {wanted!r}")
        return self._issue(user, agency.project_id, agency.project_name, agency.domain,
                           elb_url)

    def _issue(self, user: User, project_id: str, project_name: str, project_domain: str,
               elb_url: str) -> tuple[str, dict[str, Any]]:
        token = "fake-iam-" + secrets.token_hex(24)
        expires = time.time() + self.token_ttl
        with self._lock:
            self._issued[token] = (expires, project_id, (user.domain, user.name))
        return token, _token_body(user, expires, elb_url, project_id, project_name,
                                  project_domain)


def _token_body(user: User, expires: float, elb_url: str, project_id: str,
                project_name: str, project_domain: str) -> dict[str, Any]:
    expires_at = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(expires))
    token: dict[str, Any] = {
        "expires_at": expires_at, "methods": ["password"],
        "user": {"name": user.name, "domain": {"name": user.domain}}}
    if project_id:
        token["project"] = {"id": project_id, "name": project_name,
                            "domain": {"name": project_domain}}
        token["catalog"] = [{"type": "elb", "name": "elb", "endpoints": [
            {"interface": "public", "region": project_name.split("_")[0], "url": elb_url}]}]
    else:
        token["domain"] = {"name": user.domain}
    return {"token": token}
