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

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from .adoption import IMPORT
from .base import (
    ElbProvider,
    headline_first,
    is_unknown,
    made_since,
    table_inputs,
    table_outputs,
)
from .client import ElbClient
from .pickling import pickler_left_intact
from .resource import (
    LiveLookup,
    arg_names,
    identity_output,
    lean_outputs,
    provider_and_options,
    resource_inputs,
)
from .rules import certificate as rules
from .rules.machinery import UNKNOWN

__all__ = ["Certificate", "CertificateArgs", "CertificateProvider"]

ADOPT = "certificate_id"
KIND = "certificate"
OUTPUT_ONLY = ("create_time", "update_time", "managed_fields")


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return table_inputs(props, rules.TABLE, ADOPT)


def _outputs(live: Mapping[str, Any], managed: list[str]) -> dict[str, Any]:
    return table_outputs(live, rules.RESPONSE_FIELDS, ADOPT, managed)


class CertificateProvider(ElbProvider):
    """CRUD for a certificate; settings and sign-in as every provider here."""

    kind = KIND
    adopt_input = ADOPT
    secret_fields = rules.SECRET_FIELDS

    def _certificates(self) -> ElbClient:
        return self._api().collection("certificate")

    def _call(self, action: Any, *args: Any, key: str | None = None) -> Any:
        return self._call_as_kind(action, *args, secrets=(key or "",))

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        """The certificate, found in the list (the service has no GET of one)."""
        answer = self._call(self._certificates().read_collection)
        found = [c for c in (answer or {}).get("certificates") or [] if c.get("id") == object_id]
        return dict(found[0]) if found else None

    @headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Every rule, PEM form included, with no API call (one GET when a new resource takes
        over a live certificate)."""
        inputs = _inputs(news)
        judged = {name: UNKNOWN if is_unknown(value) else value
                  for name, value in inputs.items()}
        return self._check_takeover(olds, news, inputs, judged, rules.TABLE, lambda judged: [
            dyn.CheckFailure(v.field, f"{v.rule} [{v.code}]")
            for v in rules.validate_create(judged, unknown_ok=True)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = [name for name, new in _inputs(news).items()
                   if is_unknown(new) or not rules.TABLE.same_value(name, olds.get(name), new)]
        replaces = [name for name in changed if name == ADOPT or name in rules.REPLACE_FIELDS]
        return dyn.DiffResult(changes=bool(changed), replaces=replaces,
                              delete_before_replace=False)  # the new one first: rotation

    @headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One POST; a takeover reuses the list ``check`` read, then (adopting) one PUT."""
        inputs = _inputs(props)
        adopt = inputs.pop(ADOPT, None)
        imported = props.get(IMPORT)
        key = inputs.get("private_key")
        if adopt is None and imported is None:
            began = time.time()
            live = self._call(self._certificates().create, inputs,
                              lambda _lost: self._made_by_lost_post(inputs, began), key=key)
            return dyn.CreateResult(live["id"], _outputs(live, list(inputs)))
        return self._take_over(adopt, imported, inputs, rules.TABLE,
                               lambda i, body: self._call(self._certificates().update, i, body,
                                                          key=key),
                               _outputs)

    def _made_by_lost_post(self, body: Mapping[str, Any], began: float
                           ) -> dict[str, Any] | None:
        """A POST whose answer was lost: the certificate it made, if the list has one with
        the same name and PEM made since the POST began (its ``create_time`` against this
        machine's clock, within a second); ``None`` sends it again."""
        answer = self._call(self._certificates().read_collection, key=body.get("private_key"))
        made = [c for c in (answer or {}).get("certificates") or []
                if c.get("certificate") == body.get("certificate")
                and c.get("name") == body.get("name")
                and made_since(c, began)]
        return dict(made[-1]) if made else None

    @headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """The list, filtered by ID; gone gives an empty id."""
        return self._read_object(id_, props, _outputs)

    @headline_first
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """One PUT of a changed name or description (none: no call)."""
        inputs = _inputs(news)
        body = {name: value for name, value in inputs.items()
                if name in ("name", "description")
                and not rules.TABLE.same_value(name, olds.get(name), value)}
        if not body:
            return dyn.UpdateResult({**olds, "managed_fields": sorted(inputs)})
        live = self._call(self._certificates().update, id_, body,
                          key=inputs.get("private_key"))
        return dyn.UpdateResult(_outputs(live, list(inputs)))

    @headline_first
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """One DELETE; gone counts as deleted. One a listener still uses is refused by the
        service, naming the listener."""
        self._call(self._certificates().delete, id_, key=props.get("private_key"))


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


_ARG_NAMES = arg_names(CertificateArgs)


@lean_outputs
class Certificate(LiveLookup, dyn.Resource, module="elb", name="Certificate"):
    """A classic ELB (v1.0) certificate; ``private_key`` is a secret input and output."""

    certificate_id: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]
    domain: pulumi.Output[str | None]
    certificate: pulumi.Output[str]
    private_key: pulumi.Output[str]
    create_time: pulumi.Output[str]
    update_time: pulumi.Output[str]
    managed_fields: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, args: CertificateArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None, *,
                 provider: CertificateProvider | None = None, **kwargs: Any) -> None:
        props = resource_inputs("Certificate", _ARG_NAMES, OUTPUT_ONLY, args, kwargs)
        if props.get("private_key") is not None:  # secret in state as an input too
            props["private_key"] = pulumi.Output.secret(props["private_key"])
        chosen, opts = provider_and_options("Certificate", CertificateProvider, provider, opts,
                                            props)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            additional_secret_outputs=["private_key"]))
        with pickler_left_intact():
            super().__init__(chosen, resource_name, props, opts)
        self.certificate_id = identity_output(self, self.certificate_id)
