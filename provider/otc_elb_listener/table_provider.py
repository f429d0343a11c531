"""One provider for every resource declared by a rule table: check, diff, create, take over
(adopt and import), update, read and delete, from the resource's declaration (its table, its
response fields, its collection, the input that adopts by ID, its secret fields, what
replaces it). A resource module is that declaration plus what is truly its own: the
listener's wait for ACTIVE, the health check's and the certificate's look for a lost POST
(docs/adding-a-resource.md).

What the engine hands each method (docs/engines.md): ``check`` gets old and new *inputs*
(unknowns during preview), ``diff``/``update`` get old *outputs* and new checked inputs,
``read``/``delete`` get old outputs. Numbers arrive as floats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi.dynamic as dyn

from .adoption import IMPORT, plan_takeover
from .base import PROVIDER_KEY, ElbProvider, headline_first, is_unknown, stored
from .errors import ElbApiError
from .report import report
from .rules.machinery import ID_RE, UNKNOWN, Violation
from .rules.table import RuleTable

if TYPE_CHECKING:
    from .client import Collection

#: Why ``check`` refuses an input that does not apply, though the service would accept it.
INAPPLICABLE = ("does not apply to this {kind} (only with {rule}): the service ignores it "
                "and shows it as null, so it would show as a change on every preview; remove "
                "it")


class TableProvider(ElbProvider):
    """CRUD of one kind of ELB object from its declaration (the class attributes below)."""

    #: The rule table, the fields an answer carries, and the collection under the project
    #: (``listeners``, ``healthcheck``, ``certificate``).
    table: ClassVar[RuleTable]
    response_fields: ClassVar[tuple[str, ...]]
    collection_name: ClassVar[str]

    def _violations(self, judged: dict[str, Any]) -> list[Violation]:
        """The table's verdict on a program's inputs (unknown values are not judged)."""
        raise NotImplementedError

    def _collection(self) -> Collection:
        api = self._api()
        return api if self.collection_name == "listeners" else \
            api.collection(self.collection_name)

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs the user set: the table's fields and the adopt-by-ID input, no nulls."""
        return {name: value for name, value in props.items()
                if (name in self.table.fields or name == self.adopt_input)
                and value is not None}

    def _outputs(self, live: Mapping[str, Any], managed: list[str]) -> dict[str, Any]:
        """Outputs from an API object: every response field (``id`` as the adopt-by-ID
        input), canonical booleans, and the fields the user manages (for ``read``); fields
        that are null are left out (see :func:`~.base.stored`)."""
        outputs = {name: live.get(name) for name in self.response_fields if name != "id"}
        for name, field in self.table.fields.items():
            if field.kind is bool and outputs.get(name) is not None:
                outputs[name] = self.table.canonical(name, outputs[name])
        outputs[self.adopt_input] = live["id"]
        outputs["managed_fields"] = sorted(managed)
        return stored(outputs)

    def _call(self, action: Callable[..., Any], *args: Any,
              props: Mapping[str, Any] | None = None) -> Any:
        """A collection call with the secret inputs in ``props`` taken out of its errors."""
        secrets = tuple(str(props[name]) for name in self.secret_fields
                        if props and props.get(name))
        return self._call_as_kind(action, *args, secrets=secrets)

    def _fetch(self, object_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call(self._collection().get, object_id)
        return found

    # -- check and diff: no API call --------------------------------------------------------
    @headline_first
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Judge the inputs with the rule table; no API call, except one GET when a new
        resource takes over a live object (``import_`` or the adopt-by-ID input), to show on
        the preview what ``up`` will do to it. Unknown values are not judged."""
        inputs = self._inputs(news)
        judged: dict[str, Any] = {}
        for name, value in inputs.items():
            if is_unknown(value):
                judged[name] = UNKNOWN
                continue
            value = self.table.coerce_number(name, value)
            if isinstance(value, tuple):
                value = list(value)
            inputs[name] = judged[name] = value
        return self._check_takeover(olds, news, inputs, judged)

    def _failures(self, judged: dict[str, Any]) -> list[dyn.CheckFailure]:
        failures = []
        for violation in self._violations(judged):
            reason = INAPPLICABLE.format(kind=self.kind, rule=self.table.fields[
                violation.field].applies.describe()) if violation.inapplicable else \
                f"{violation.rule} [{violation.code}]"
            failures.append(dyn.CheckFailure(violation.field, reason))
        return failures

    def _check_takeover(self, olds: Mapping[str, Any], news: Mapping[str, Any],
                        inputs: dict[str, Any], judged: dict[str, Any]) -> dyn.CheckResult:
        """The adopt-by-ID input and ``import_`` judged (one of them, a well-formed ID), the
        live object supplying the required fields a takeover leaves out, the table's
        verdict, and for a new resource that takes over a live object, its one GET (see
        :meth:`_preview_takeover`). ``judged`` holds unknown values as ``UNKNOWN``."""
        adopt = judged.pop(self.adopt_input, None)
        imported = news.get(IMPORT)
        failures: list[dyn.CheckFailure] = []
        if adopt is not None and adopt is not UNKNOWN and (
                not isinstance(adopt, str) or not ID_RE.fullmatch(adopt)):
            failures.append(dyn.CheckFailure(self.adopt_input, f"must be the ID of an "
                                             f"existing {self.kind} (32 lowercase hex "
                                             f"characters), got {adopt!r}"))
        if imported is not None and adopt is not None:
            failures.append(dyn.CheckFailure(self.adopt_input, f"give one of import_ (take "
                                             f"the live {self.kind} as it is) and "
                                             f"{self.adopt_input} (adopt it and PUT what "
                                             "differs)"))
        program = dict(judged)
        if adopt is not None or imported is not None:
            for name in self.table.required:  # the live object supplies what is left out
                judged.setdefault(name, UNKNOWN)
        failures += self._failures(judged)
        if imported is not None:
            inputs[IMPORT] = imported
        target = imported if imported is not None else adopt
        if not failures and not olds and isinstance(target, str):
            failures += self._preview_takeover("import" if imported is not None else "adopt",
                                               target, program)
        return dyn.CheckResult({**inputs, PROVIDER_KEY: news.get(PROVIDER_KEY)}, failures)

    def _preview_takeover(self, mode: str, object_id: str,
                          program: dict[str, Any]) -> list[dyn.CheckFailure]:
        """One GET of the live object a new resource takes over; what ``up`` will do to it
        (the PUT, or why it fails) shows on the resource. ``create`` reuses the answer."""
        live = self._fetch(object_id)
        if live is None:
            return [dyn.CheckFailure("import_" if mode == "import" else self.adopt_input,
                                     f"no {self.kind} {object_id} in this project (HTTP 404)")]
        self._remember_live(object_id, live)
        warning, message = plan_takeover(mode, object_id, live, program, self.table,
                                         self.secret_fields).message()
        report(message, warning=warning)
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Compare only the inputs the user set with the old outputs; no API call."""
        changed = [name for name, new in self._inputs(news).items()
                   if is_unknown(new) or not self.table.same_value(name, olds.get(name), new)]
        replaces = [name for name in changed
                    if name == self.adopt_input or self._replaces(name, news)]
        return dyn.DiffResult(
            changes=bool(changed), replaces=replaces,
            stables=[name for name in self.table.replace if name not in changed],
            delete_before_replace=bool(replaces) and self._delete_first(olds, news))

    def _replaces(self, name: str, news: Mapping[str, Any]) -> bool:
        """Does a change of ``name`` replace the object? (A PUT cannot change it.)"""
        return not self.table.fields[name].updatable

    def _delete_first(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Must the old object go before its replacement is made?"""
        return True

    # -- create, read, update, delete -------------------------------------------------------
    @headline_first
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """One POST. Taking over a live object: the GET ``check`` made (or one GET), then
        for the adopt-by-ID input one PUT of what differs; ``import_`` never PUTs."""
        inputs = self._inputs(props)
        adopt = inputs.pop(self.adopt_input, None)
        imported = props.get(IMPORT)
        if adopt is None and imported is None:
            live = self._new({name: self.table.wire_value(name, value)
                              for name, value in inputs.items()})
            return dyn.CreateResult(live["id"], self._outputs(live, list(inputs)))
        return self._take_over(adopt, imported, inputs)

    def _new(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST, and never resend it blindly: if its answer is lost, or is a 5xx after
        which it may have been applied, :meth:`_made_by_lost_post` finds out first; the
        transport resends it on its common schedule only when it was not applied."""
        began = time.time()
        live: dict[str, Any] = self._call(
            self._collection().create, body,
            lambda lost: self._made_by_lost_post(body, began, lost), props=body)
        return live

    def _made_by_lost_post(self, body: dict[str, Any], began: float,
                           lost: ElbApiError) -> dict[str, Any] | None:
        """The object a POST without a clear answer made, if provably this one's; ``None``
        when it was not applied (then it is sent again)."""
        raise NotImplementedError

    def _take_over(self, adopt: Any, imported: Any, inputs: dict[str, Any]) -> dyn.CreateResult:
        """``create`` of a resource that takes over a live object: the read ``check`` made
        (or one GET); an import changes nothing and fails naming each field that differs; an
        adoption PUTs what differs, if anything."""
        mode, target = ("adopt", str(adopt)) if adopt is not None else ("import", str(imported))
        live = self._live_object(target)
        if live is None:
            raise ElbApiError(mode, target, 404, None, f"no such {self.kind} in this project; "
                              f"remove {'import_' if adopt is None else self.adopt_input} to "
                              "create a new one", kind=self.kind)
        plan = plan_takeover(mode, target, live, inputs, self.table, self.secret_fields)
        if plan.fails:
            raise ElbApiError(mode, target, None, None, plan.refusal(), kind=self.kind)
        if plan.changes:
            live = self._call(self._collection().update, target, plan.changes, props=inputs)
            report(plan.sent(), warning=False)
        managed = [*inputs, self.adopt_input] if adopt is not None else list(inputs)
        return dyn.CreateResult(live["id"], self._outputs(live, managed))

    @headline_first
    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """One read. Gone gives an empty id; otherwise the live values, also as the inputs
        the user manages, so the next preview shows drift and the next up repairs it."""
        live = self._fetch(id_)
        if live is None:
            return dyn.ReadResult("", {})
        managed = [str(n) for n in props.get("managed_fields") or []]
        found = self._outputs(live, managed)
        return dyn.ReadResult(id_, found, {n: found[n] for n in managed if n in found})

    @headline_first
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Exactly one PUT carrying only the changed fields (none: no call); outputs from
        its answer."""
        inputs = self._inputs(news)
        body = {name: self.table.wire_value(name, value) for name, value in inputs.items()
                if name != self.adopt_input
                and not self.table.same_value(name, olds.get(name), value)}
        fixed = [name for name in body if not self.table.fields[name].updatable]
        if fixed:  # diff asks for a replacement; the engine never sends these here
            raise ElbApiError("update", id_, None, None, f"cannot change {', '.join(fixed)} "
                              "in place", kind=self.kind)
        if not body:
            return dyn.UpdateResult({**olds, "managed_fields": sorted(inputs)})
        live = self._updated(self._call(self._collection().update, id_, body, props=inputs))
        return dyn.UpdateResult(self._outputs(live, list(inputs)))

    def _updated(self, live: dict[str, Any]) -> dict[str, Any]:
        """The object after a PUT, once the service is done with it."""
        return live

    @headline_first
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """One DELETE; an object that is already gone counts as deleted."""
        self._call(self._collection().delete, id_, props=props)
