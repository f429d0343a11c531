"""The fake's certificates (for HTTPS listeners), over the same state and lock as listeners:
docs/api-rules.md Decisions 17, 22, 23 and 28.

Judged with the provider's own table (:mod:`otc_elb_listener.rules.certificate`): as the
service judges it, the PEM must parse and the key must belong to the certificate (ELB.1011).
Answers echo ``private_key`` as the service does; the journal never holds it. There is no GET
of one certificate: the list is how clients read one. A certificate a listener uses cannot be
deleted (docs/api-rules.md Decision 22).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from otc_elb_listener.rules import certificate as rules

from .errors import ApiError
from .ids import new_id, timestamp


class _State(Protocol):
    lock: threading.Lock
    strict: bool

    def project(self, project_id: str) -> Any: ...


def self_signed(domain: str = "fake.example.com") -> tuple[str, str]:
    """A real certificate and its key (EC P-256, a day's validity), for seeding and tests."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


@functools.lru_cache(maxsize=1)
def _seed_pair() -> tuple[str, str]:
    return self_signed("seeded.example.com")


def _check_path_id(certificate_id: str) -> None:
    if len(certificate_id) != 32:
        raise ApiError(400, "ELB.5020", f"certificate_id must be 32 characters, got "
                       f"{len(certificate_id)}")


class Certificates:
    """Create, list, change and delete the certificates of one fake's state."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def create(self, project_id: str, body: Any, *, id: str | None = None) -> dict[str, Any]:
        violations = rules.validate_create(body)
        if violations:
            raise ApiError.from_violations(violations)
        now = timestamp()
        created = {"id": id or new_id(), "name": "", "description": "", "domain": None, **body,
                   "create_time": now, "update_time": now}
        with self.state.lock:
            self.state.project(project_id).certificates[created["id"]] = created
        return {**created, "tenant_id": project_id}

    def seed(self, project_id: str, certificate_id: str) -> dict[str, Any]:
        """An existing certificate, as if made long ago: a real one, the same pair for every
        seed (made once per process: tests seed thousands)."""
        certificate, private_key = _seed_pair()
        now = timestamp()
        seeded = {"id": certificate_id, "name": "seeded", "description": "", "domain": None,
                  "certificate": certificate, "private_key": private_key,
                  "create_time": now, "update_time": now}
        with self.state.lock:
            self.state.project(project_id).certificates[certificate_id] = seeded
        return dict(seeded)

    def list(self, project_id: str, filters: Mapping[str, list[str]] | None = None
             ) -> dict[str, Any]:
        """Every certificate of the project; the list takes no filter (a query is
        ignored)."""
        with self.state.lock:
            found = [dict(c) for c in self.state.project(project_id).certificates.values()]
        return {"certificates": found, "instance_num": str(len(found))}

    def update(self, project_id: str, certificate_id: str, body: Any) -> dict[str, Any]:
        _check_path_id(certificate_id)
        with self.state.lock:
            current = self.state.project(project_id).certificates.get(certificate_id)
            if current is None:
                raise ApiError(404, "ELB.5040", f"certificate {certificate_id} does not exist")
            violations = rules.validate_update(body, strict=self.state.strict)
            if violations:
                raise ApiError.from_violations(violations)
            current.update({k: v for k, v in body.items() if k in ("name", "description")},
                           update_time=timestamp())
            return dict(current)

    def delete(self, project_id: str, certificate_id: str) -> None:
        _check_path_id(certificate_id)
        with self.state.lock:
            project = self.state.project(project_id)
            if certificate_id not in project.certificates:
                raise ApiError(404, "ELB.5040", f"certificate {certificate_id} does not exist")
            users = sorted(listener["id"] for listener in project.listeners.values()
                           if listener.get("certificate_id") == certificate_id
                           or certificate_id in (listener.get("certificates") or []))
            if users:
                raise ApiError(400, "ELB.1001", f"certificate {certificate_id} is used by "
                               f"listener {', '.join(users)}: point the listener at another "
                               "certificate, or delete it, first")
            del project.certificates[certificate_id]
