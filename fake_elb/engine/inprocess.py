"""Run dynamic providers in the real Pulumi provider host, offline, the way the engine does.

Pulumi's own test tools (``set_mocks``) run no provider code, and the CLI is not always at
hand. This module starts the real host (``python -u -m pulumi.dynamic``) as a subprocess,
talks gRPC to it and keeps the engine's state (id, inputs, outputs per resource) between
deployments, so a test sees what ``pulumi preview``/``up``/``refresh``/``destroy`` would do:

    with OfflineStack(config={"elb:endpoint": url, "elb:projectId": pid},
                      secrets={"elb:token": token}) as stack:
        plan = stack.up([DynamicResource("web", ListenerProvider(), inputs, TYPE_TOKEN)])
        print(plan)              # + create web
        plan = stack.run_program("__main__.py")   # a whole Pulumi program, offline

Only the engine's calls are reproduced (Check, Diff, Create, Update, Read, Delete, Configure
and its start-up calls), in its order: preview never calls Create or Update; a replacement
creates before it deletes unless the provider or the resource asks for delete-before-replace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

from otc_elb_listener.offline import OFFLINE_VARIABLE

from .config import refuse_remote, stack_file_config
from .host import ProviderHost
from .model import (
    PROVIDER_KEY,
    CheckFailed,
    DynamicResource,
    HarnessError,
    OtherResources,
    Plan,
    ResourceState,
    Step,
    changed_keys,
    refuse_flags,
    resources_only,
)
from .program import run_in_host
from .wire import from_struct, serialize_provider, to_struct


class OfflineStack:
    """One stack's state plus the engine's steps, each operation in fresh provider hosts.

    As the CLI engine does (the Automation API's ``pulumi up --yes --skip-preview``): ``up``
    is one update pass in a provider host process of its own (so is every other operation,
    ``pulumi up`` in a terminal runs a preview pass first); a create-first replacement deletes the
    old listener after all creates and updates, and a failed delete stays pending for the next
    run; ``ignore_changes`` is applied before Check; a ``same`` step stores the new inputs;
    refresh calls Diff to show an update or the same.

    Offline means offline: the hosts get none of the caller's ``OS_*``/``ELB_*``/proxy
    variables, and an ``elb:endpoint`` that is not loopback is refused unless
    ``allow_remote=True``. ``other_resources`` answers for resources of other providers in
    whole programs: ``(type, name, inputs) -> (id, outputs)``. ``Pulumi.<stack>.yaml`` in
    ``cwd`` is read unless ``use_stack_file=False`` (the ``offline_stack`` fixture passes
    only the test's own config).
    """

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 stack: str = "dev", cwd: str | Path | None = None,
                 pythonpath: Iterable[str | Path] = (), env: Mapping[str, str] | None = None,
                 startup_timeout: float = 60.0, allow_remote: bool = False,
                 other_resources: OtherResources | None = None,
                 use_stack_file: bool = True) -> None:
        self.project = project
        self.stack = stack
        self.cwd = Path(cwd or Path.cwd())
        stack_file = self.cwd / f"Pulumi.{stack}.yaml"
        from_file = stack_file_config(stack_file, project) if use_stack_file else {}
        self.config = {**from_file, **(config or {})}
        self.secrets = dict(secrets or {})
        refuse_remote({**self.config, **self.secrets}, project, allow_remote)
        if allow_remote:  # meant: the provider may reach what the config names
            env = {**(env or {}), OFFLINE_VARIABLE: ""}
        self._host_args: dict[str, Any] = dict(project=project, cwd=self.cwd,
                                               pythonpath=pythonpath, env=env,
                                               startup_timeout=startup_timeout)
        self.other_resources = other_resources
        self.state: dict[str, ResourceState] = {}
        #: Old resources a create-first replacement left to delete (retried every run).
        self.pending_deletes: list[tuple[str, ResourceState]] = []
        #: Dependents a delete-first replacement deleted in this pass (see
        #: :meth:`_take_down_dependents`).
        self.taken_down: set[str] = set()
        self._blobs: dict[int, tuple[Any, str]] = {}
        self.host: ProviderHost | None = None

    def __enter__(self) -> OfflineStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_host()

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    def _blob(self, provider: Any) -> str:
        """The serialized provider, made once per provider object (the object is kept, so its
        ``id()`` cannot be reused by another while cached)."""
        if isinstance(provider, str):
            return provider
        cached = self._blobs.get(id(provider))
        if cached is None or cached[0] is not provider:
            cached = (provider, serialize_provider(provider))
            self._blobs[id(provider)] = cached
        return cached[1]

    # -- provider hosts: one per operation pass, as the CLI runs them ------------------------
    def _open_host(self) -> ProviderHost:
        self._close_host()
        self.host = ProviderHost(self.config, self.secrets, **self._host_args).start()
        return self.host

    def _close_host(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    def _call(self, method: str, request: Any, what: str) -> Any:
        assert self.host is not None
        return self.host.call(method, request, what)

    def _pass(self, body: Callable[[], Plan]) -> Plan:
        self.taken_down = set()
        self._open_host()
        try:
            return body()
        finally:
            self._close_host()

    # -- operations ----------------------------------------------------------------------
    def preview(self, resources: Sequence[DynamicResource], **flags: Any) -> Plan:
        """Check and Diff only: what ``pulumi preview`` shows; nothing is created or changed.
        The CLI's flags are refused in one line (see :func:`.model.refuse_flags`)."""
        refuse_flags(flags)
        resources = resources_only(resources, "preview")
        return self._pass(lambda: self._deploy(resources, preview=True))

    def up(self, resources: Sequence[DynamicResource], **flags: Any) -> Plan:
        """The update pass that creates, updates, replaces and deletes so that the stack
        matches ``resources``."""
        refuse_flags(flags)
        resources = resources_only(resources, "up")
        return self._pass(lambda: self._deploy(resources, preview=False))

    def _deploy(self, resources: Sequence[DynamicResource], preview: bool) -> Plan:
        plan = Plan("preview" if preview else "up")
        replaced: list[tuple[str, ResourceState]] = []
        for resource in resources:
            step, _ = self.step(resource, preview, replaced)
            plan.steps.append(step)
        wanted = {r.name for r in resources}
        plan.steps += self.delete_all([n for n in self.state if n not in wanted], preview)
        if not preview:
            self.delete_replaced(replaced)
        return plan

    def step(self, resource: DynamicResource, preview: bool,
             replaced: list[tuple[str, ResourceState]]) -> tuple[Step, dict[str, Any]]:
        """Register one resource as the engine does; returns the step and its outputs. A
        create-first replacement appends the old state to ``replaced`` (deleted at the end)."""
        name = resource.name
        blob = self._blob(resource.provider)
        program_news = {**resource.inputs, PROVIDER_KEY: blob}
        news = dict(program_news)
        old = self.state.get(name)
        if old is not None:  # ignore_changes: the engine keeps the old values, before Check
            for key in resource.ignore_changes:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        urn = old.urn if old else self.urn(resource.type, name)
        checked = self._check(name, urn, old.inputs if old else {}, news)
        if old is None:
            warned = self.host.warnings(urn) if self.host is not None else []
            # A dependent a delete-first replacement took down comes back as its replacement.
            op = "replace" if name in self.taken_down else "create"
            if preview:
                return Step(op, name, warnings=warned), dict(checked)
            new_state = self._create(resource, urn, checked)
            return Step(op, name, warnings=warned), new_state.outputs
        diff = self._call("Diff", provider_pb2.DiffRequest(
            id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
            old_inputs=to_struct(old.inputs), name=name, type=resource.type), f"diff {name}")
        changed = changed_keys(old.inputs, checked)
        if diff.changes == provider_pb2.DiffResponse.DIFF_NONE or (
                diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and not changed
                and checked.get(PROVIDER_KEY) == old.inputs.get(PROVIDER_KEY)):
            old.retain_on_delete = resource.retain_on_delete
            if not preview:  # a same step stores the new inputs with the old outputs
                old.inputs, old.dependencies = dict(checked), dict(resource.dependencies)
            return Step("same", name), old.outputs
        replaces = sorted(diff.replaces)  # the engine lists them sorted
        if replaces:
            return self._replace(resource, old, urn, program_news, replaces,
                                 bool(diff.deleteBeforeReplace), preview, replaced)
        if preview:  # computed outputs of an update are unknown until it runs
            return Step("update", name, changed), dict(checked)
        try:
            response = self._call("Update", provider_pb2.UpdateRequest(
                id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
                old_inputs=to_struct(old.inputs), name=name, type=resource.type),
                f"update {name}")
        except HarnessError as failed:
            if failed.partial is not None:  # as the engine: the state the provider reported
                partial_id, outputs, inputs = failed.partial
                self.state[name] = ResourceState(urn, resource.type, partial_id or old.id,
                                                 inputs, outputs, resource.retain_on_delete,
                                                 dict(resource.dependencies))
            raise
        self.state[name] = ResourceState(urn, resource.type, old.id, dict(checked),
                                         from_struct(response.properties),
                                         resource.retain_on_delete,
                                         dict(resource.dependencies))
        return Step("update", name, changed), self.state[name].outputs

    def _replace(self, resource: DynamicResource, old: ResourceState, urn: str,
                 program_news: dict[str, Any], replaces: list[str], provider_first: bool,
                 preview: bool, replaced: list[tuple[str, ResourceState]]
                 ) -> tuple[Step, dict[str, Any]]:
        """A replacement step: the new resource first, or the old one deleted first."""
        name = resource.name
        # The resource option, when set, overrides the provider in both directions.
        first_delete = provider_first if resource.delete_before_replace is None \
            else resource.delete_before_replace
        # The replacement is a new resource: the engine checks the program's inputs again,
        # without olds, so ignore_changes does not hold for it.
        checked = self._check(name, urn, {}, program_news)
        step = Step("replace", name, changed_keys(old.inputs, checked), replaces, first_delete,
                    self.host.warnings(urn) if self.host is not None else [])
        if preview:
            return step, dict(checked)
        if first_delete:
            self._take_down_dependents(name)
            self._delete(name, old)
            new_state = self._create(resource, urn, checked)
        else:
            new_state = self._create(resource, urn, checked)
            replaced.append((name, old))
        return step, new_state.outputs

    def read_step(self, resource: DynamicResource, resource_id: str
                  ) -> tuple[Step, dict[str, Any]]:
        """``Resource.get``: one Read of a live object the stack does not own (at preview
        too, as the engine does); it is never updated or deleted, only discarded."""
        name = resource.name
        urn = self.urn(resource.type, name)
        props = {**resource.inputs, PROVIDER_KEY: self._blob(resource.provider)}
        response = self._call("Read", provider_pb2.ReadRequest(
            id=resource_id, urn=urn, properties=to_struct(props), inputs=to_struct(props),
            name=name, type=resource.type), f"read {name}")
        if not response.id:
            raise HarnessError(f"read {name}: Read failed: resource '{resource_id}' does not "
                               "exist")
        outputs = from_struct(response.properties)
        self.state[name] = ResourceState(urn, resource.type, response.id, props, outputs,
                                         external=True)
        return Step("read", name), outputs

    def _take_down_dependents(self, replaced: str) -> None:
        """As the engine before a delete-first replacement: each resource with an input from
        the resource ``replaced`` that its provider would replace were that input unknown is
        deleted first (its own dependents before it, newest first) and comes back as a
        replacement when the program registers it again (docs/engines.md, "Plans")."""
        for name, state in reversed(list(self.state.items())):
            inputs = [key for key, names in state.dependencies.items() if replaced in names]
            if not inputs or name in self.taken_down:
                continue
            news = {**state.inputs, **{key: rpc.UNKNOWN for key in inputs}}
            diff = self._call("Diff", provider_pb2.DiffRequest(
                id=state.id, urn=state.urn, olds=to_struct(state.outputs),
                news=to_struct(news), old_inputs=to_struct(state.inputs), name=name,
                type=state.type), f"diff {name}")
            if diff.replaces:
                self._take_down_dependents(name)
                self._delete(name, state)
                self.taken_down.add(name)

    def _check(self, name: str, urn: str, olds: Mapping[str, Any],
               news: Mapping[str, Any]) -> dict[str, Any]:
        response = self._call("Check", provider_pb2.CheckRequest(
            urn=urn, olds=to_struct(olds), news=to_struct(news), name=name), f"check {name}")
        if response.failures:
            raise CheckFailed(name, [(f.property, f.reason) for f in response.failures])
        return from_struct(response.inputs)

    def _create(self, resource: DynamicResource, urn: str,
                checked: Mapping[str, Any]) -> ResourceState:
        response = self._call("Create", provider_pb2.CreateRequest(
            urn=urn, properties=to_struct(checked), name=resource.name, type=resource.type),
            f"create {resource.name}")
        state = ResourceState(urn, resource.type, response.id, dict(checked),
                              from_struct(response.properties), resource.retain_on_delete,
                              dict(resource.dependencies))
        self.state[resource.name] = state
        return state

    def _delete(self, name: str, old: ResourceState, forget: bool = True) -> None:
        if not old.retain_on_delete:
            self._call("Delete", provider_pb2.DeleteRequest(
                id=old.id, urn=old.urn, properties=to_struct(old.outputs),
                old_inputs=to_struct(old.inputs), name=name, type=old.type),
                f"delete {name}")
        if forget and self.state.get(name) is old:
            del self.state[name]

    def delete_replaced(self, replaced: list[tuple[str, ResourceState]]) -> None:
        """Delete what create-first replacements left, after every create and update, and
        what earlier runs could not delete; a failure stays pending for the next run."""
        todo, self.pending_deletes = [*self.pending_deletes, *replaced], []
        failure: HarnessError | None = None
        for name, old in todo:
            try:
                self._delete(name, old, forget=False)
            except HarnessError as error:
                self.pending_deletes.append((name, old))
                failure = failure or error
        if failure is not None:
            raise failure

    def delete_all(self, names: Iterable[str], preview: bool) -> list[Step]:
        steps = []
        for name in reversed(list(names)):  # a retained resource only leaves the state
            state = self.state[name]
            if state.external:  # read with Resource.get: dropped, never deleted
                steps.append(Step("discard", name))
                if not preview:
                    del self.state[name]
                continue
            steps.append(Step("retain" if state.retain_on_delete else "delete", name))
            if not preview:
                self._delete(name, state)
        return steps

    def refresh(self) -> Plan:
        """Read every resource, then Diff it against its stored inputs, as the engine does: a
        gone one leaves the state; drift shows as an update (or the same)."""
        return self._pass(self._refresh)

    def _refresh(self) -> Plan:
        plan = Plan("refresh")
        for name, old in list(self.state.items()):
            response = self._call("Read", provider_pb2.ReadRequest(
                id=old.id, urn=old.urn, properties=to_struct(old.outputs),
                inputs=to_struct(old.inputs), name=name, type=old.type), f"read {name}")
            if not response.id:
                del self.state[name]
                plan.steps.append(Step("delete", name))
                continue
            outputs = from_struct(response.properties)
            inputs = from_struct(response.inputs) if response.HasField("inputs") else old.inputs
            inputs.setdefault(PROVIDER_KEY, old.inputs.get(PROVIDER_KEY))
            diff = self._call("Diff", provider_pb2.DiffRequest(
                id=response.id, urn=old.urn, olds=to_struct(outputs), news=to_struct(inputs),
                old_inputs=to_struct(inputs), name=name, type=old.type), f"diff {name}")
            changed = changed_keys(old.inputs, inputs)
            outputs_changed = changed_keys(old.outputs, outputs)
            shows_update = diff.changes == provider_pb2.DiffResponse.DIFF_SOME or (
                diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and outputs_changed)
            old.id, old.outputs, old.inputs = response.id, outputs, inputs
            plan.steps.append(Step("update", name, changed) if shows_update or changed
                              else Step("same", name))
        return plan

    def destroy(self, *, target: Sequence[str] = ()) -> Plan:
        """Delete every resource, newest first (``retain_on_delete`` ones only leave state)."""
        refuse_flags({"target": target})
        return self._pass(lambda: Plan("destroy", self.delete_all(list(self.state),
                                                                   preview=False)))

    # -- whole programs ------------------------------------------------------------------
    def run_program(self, program: str | Path | Callable[[], Any], *,
                    config: Mapping[str, Any] | None = None, preview: bool = False,
                    **flags: Any) -> Plan:
        """Run a Pulumi program under ``set_mocks``; its dynamic resources go to the host.

        ``config`` is the program's stack config (keys without a namespace get the project's;
        ``Pulumi.<stack>.yaml`` in ``cwd`` is read first). An ``up`` is one update pass, as
        the CLI engine's. Resources of other providers are
        answered by ``other_resources`` (default: their inputs echoed back, id
        ``<name>-id``). Stack outputs come back resolved in :attr:`Plan.outputs`.
        """
        refuse_flags(flags)
        if not preview:  # what this engine does not run is refused before anything is sent
            run_in_host(self, program, config, preview=True, scan=True)
        return self._pass(lambda: run_in_host(self, program, config, preview=preview))
