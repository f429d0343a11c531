"""The certificate's rule table (for HTTPS listeners): docs/api-rules.md Decisions 17, 22, 23
and 28. The provider's ``check`` and the fake judge with it, the certificate and key pair included
(:func:`pair_violation`, with the cryptography package).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Final

from .machinery import INVALID, Field, Violation, same_code
from .table import RuleTable

__all__ = ["ERROR_CODES", "FIELDS", "REPLACE_FIELDS", "RESPONSE_FIELDS", "SECRET_FIELDS",
           "TABLE", "pair_violation", "pem_violation", "validate_create", "validate_update"]

NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
DESCRIPTION_RE: Final = re.compile(r"[^<>]*")
#: api-rules.md Decision 28: a letter of either case or a digit first (``www.example.com`` is
#: typed).
DOMAIN_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")

ERROR_CODES: Final[Mapping[str, str]] = {
    "ELB.1001": "documented: request parameters invalid, the general code",
    "ELB.1011": "documented: the certificate is not valid (PEM form, or the key does not "
                "match it: docs/api-rules.md Decision 22)",
    "ELB.5013": "documented: the private key is not valid (PEM form)",
    "ELB.5020": "documented: a certificate ID that is not 32 characters",
    "ELB.5040": "documented: the certificate does not exist (404 on its path, api-rules.md "
                "Decision 17)",
}

_FIELDS: Final = (
    Field("name", str, "Certificate name.", minimum=0, maximum=64, pattern=NAME_RE,
          pattern_rule="only letters, digits, '_' and '-'", default=""),
    Field("description", str, "Free text.", minimum=0, maximum=128, pattern=DESCRIPTION_RE,
          pattern_rule="no '<' or '>'", default=""),
    Field("domain", str, "The domain the certificate serves (SNI); null when unset. Changing "
          "it replaces the certificate.", updatable=False, minimum=1, maximum=254,
          pattern=DOMAIN_RE, pattern_rule="letters, digits, '-' and '.', starting with a "
          "letter or a digit"),
    Field("certificate", str, "The certificate, PEM. Changing it replaces the certificate.",
          required=True, updatable=False, minimum=1, maximum=65536,
          code=same_code("ELB.1011")),
    Field("private_key", str, "Its private key, PEM (a secret). Changing it replaces the "
          "certificate.", required=True, updatable=False, minimum=1, maximum=65536,
          code=same_code("ELB.5013"), secret=True),
)

TABLE: Final = RuleTable("certificate", _FIELDS, fixed_code=INVALID, null_code=INVALID)
FIELDS: Final[Mapping[str, Field]] = TABLE.fields
REPLACE_FIELDS: Final = TABLE.replace
#: The fields that are secrets wherever they go (state, logs, errors, the journal).
SECRET_FIELDS: Final = TABLE.secret
RESPONSE_FIELDS: Final = ("id", *FIELDS, "create_time", "update_time")

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?"
                  r"-----END \1-----")
#: What each field's PEM blocks may be called.
_PEM_LABELS: Final = {"certificate": ("CERTIFICATE",),
                      "private_key": ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")}


def pem_violation(name: str, value: str) -> Violation | None:
    """The PEM *form* of a certificate or key: BEGIN/END blocks of the right label around
    base64 (whether it parses as X.509, and the key matches, is the service's to judge).
    The message never quotes the value: a key is a secret."""
    blocks = _PEM.findall(value)
    labels = _PEM_LABELS[name]
    wanted = " or ".join(f"'-----BEGIN {label}-----'" for label in labels)
    if not blocks or blocks[0][0] not in labels:
        return Violation(name, f"must be PEM text: {wanted} ... '-----END ...-----' around "
                         "base64 (the value is not shown)", FIELDS[name].code[0])
    for _, body in blocks:
        try:
            base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            return Violation(name, "must be PEM text: the base64 between BEGIN and END does "
                             "not decode (the value is not shown)", FIELDS[name].code[0])
    return None


def pair_violation(certificate: str, private_key: str) -> Violation | None:
    """What the service judges beyond the PEM form (api-rules.md Decision 22): the certificate
    parses as X.509, the key parses, and the key belongs to the certificate (the same public key).
    ELB.1011 for each, as the service answers; the message names the field and never quotes
    it. Needs the ``cryptography`` package (imported here only: a provider that never checks
    a certificate never loads it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, TypeError):
        return Violation("certificate", "must be an X.509 certificate in PEM: it does not "
                         "parse (the value is not shown)", "ELB.1011")
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        return Violation("private_key", "must be an unencrypted private key in PEM: it does "
                         "not parse (the value is not shown)", "ELB.1011")
    form = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*form) != key.public_key().public_bytes(*form):
        return Violation("private_key", "must belong to the certificate: its public key is "
                         "not the certificate's (the value is not shown)", "ELB.1011")
    return None


def validate_create(body: Any, *, unknown_ok: bool = False) -> list[Violation]:
    """Every violation of a create body the form of its fields shows."""
    violations, typed = TABLE.structure_violations(body, updating=False, unknown_ok=unknown_ok)
    if not isinstance(body, dict):
        return violations
    for name in TABLE.required:
        if name not in body:
            violations.append(Violation(name, "is mandatory when creating a certificate",
                                        INVALID))
    found, kept = TABLE.field_violations(typed, {}, updating=False, strict=False)
    violations += found
    broken = {v.field for v in violations}
    for name in _PEM_LABELS:
        value = kept.get(name)
        if isinstance(value, str) and name not in broken:
            pem = pem_violation(name, value)
            if pem is not None:
                violations.append(pem)
                broken.add(name)
    certificate, private_key = kept.get("certificate"), kept.get("private_key")
    if not broken & set(_PEM_LABELS) and isinstance(certificate, str) and \
            isinstance(private_key, str):
        mismatch = pair_violation(certificate, private_key)
        if mismatch is not None:
            violations.append(mismatch)
    return TABLE.in_table_order(violations)


def validate_update(body: Any, *, strict: bool = False) -> list[Violation]:
    """Every violation of a PUT body: name and description change; ``domain``, which
    production clients send in every PUT, is taken and ignored (refused in strict mode)."""
    if isinstance(body, dict) and "domain" in body and not strict:
        body = {k: v for k, v in body.items() if k != "domain"}
    violations, typed = TABLE.structure_violations(body, updating=True, unknown_ok=False)
    if not isinstance(body, dict):
        return violations
    found, _ = TABLE.field_violations(typed, {}, updating=True, strict=False)
    return TABLE.in_table_order(violations + found)


def markdown_table() -> str:
    """The table as docs/api-rules.md shows it."""
    return TABLE.markdown_table()
