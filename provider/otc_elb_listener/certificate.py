"""The ``Certificate`` dynamic resource (for HTTPS listeners) and its provider.

The service has no GET of one certificate: reading is a list filtered by ID. A PUT changes
``name`` and ``description``; ``domain``, ``certificate`` and ``private_key`` replace it,
and a replacement creates the new certificate first, so a rotation is one ``up`` (the
listener's ``certificate_id`` moves to the new one, then the old one is deleted).

The private key is a secret everywhere: the resource wraps the input as a secret and marks
the output secret (``additional_secret_outputs`` alone covers outputs only), the provider
takes it out of every error (the service echoes it), and no message quotes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .base import made_since
from .errors import ElbApiError
from .resource import TableResource, lean_outputs
from .rules import certificate as rules
from .rules.machinery import Violation
from .table_provider import TableProvider

__all__ = ["Certificate", "CertificateArgs", "CertificateProvider"]


class CertificateProvider(TableProvider):
    """CRUD for a certificate; settings and sign-in as every provider here."""

    kind = "certificate"
    adopt_input = "certificate_id"
    secret_fields = rules.SECRET_FIELDS
    table = rules.TABLE
    response_fields = rules.RESPONSE_FIELDS
    collection_name = "certificate"

    def _violations(self, judged: dict[str, Any]) -> list[Violation]:
        return rules.validate_create(judged, unknown_ok=True)

    def _delete_first(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        return False  # the new one first: a rotation is one ``up``

    def _listed(self, props: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every certificate of the project (the service has no GET of one)."""
        answer = self._call(self._collection().read_collection, props=props)
        return [dict(c) for c in (answer or {}).get("certificates") or []]

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        """The certificate, found in the list."""
        return next((c for c in self._listed({}) if c.get("id") == object_id), None)

    def _made_by_lost_post(self, body: dict[str, Any], began: float,
                           lost: ElbApiError) -> dict[str, Any] | None:
        """A POST whose answer was lost: the certificate it made, if the list has one with
        the same name and PEM made since the POST began (its ``create_time`` against this
        machine's clock, within a second); ``None`` sends it again."""
        made = [c for c in self._listed(body) if c.get("certificate") == body.get("certificate")
                and c.get("name") == body.get("name") and made_since(c, began)]
        return made[-1] if made else None


@dataclass
class CertificateArgs:
    """Inputs of a :class:`Certificate`. ``certificate`` and ``private_key`` (PEM) are required
    unless ``certificate_id`` adopts an existing one; ``private_key`` is kept as a secret."""

    certificate: pulumi.Input[str] | None = None
    #: A secret: kept out of ``repr`` (and so out of any log or error that prints the args).
    private_key: pulumi.Input[str] | None = field(default=None, repr=False)
    name: pulumi.Input[str] | None = None
    description: pulumi.Input[str] | None = None
    domain: pulumi.Input[str] | None = None
    #: Adopt this existing certificate instead of creating one.
    certificate_id: pulumi.Input[str] | None = None


@lean_outputs
class Certificate(TableResource[CertificateArgs, CertificateProvider], module="elb",
                  name="Certificate", identity="certificate_id"):
    """A classic ELB (v1.0) certificate; ``private_key`` is a secret input and output."""

    certificate_id: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    domain: pulumi.Output[str | None]
    certificate: pulumi.Output[str]
    private_key: pulumi.Output[str]

    def _options(self, props: dict[str, Any], opts: pulumi.ResourceOptions | None
                 ) -> pulumi.ResourceOptions | None:
        """The private key is a secret in state as an input too (``additional_secret_outputs``
        alone covers outputs only)."""
        if props.get("private_key") is not None:
            props["private_key"] = pulumi.Output.secret(props["private_key"])
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            additional_secret_outputs=["private_key"]))
