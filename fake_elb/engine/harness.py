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

import asyncio
import base64
import json
import os
import runpy
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ..transport.client import stop_process

PROVIDER_KEY = "__provider"
DEFAULT_TYPE = "pulumi-python:dynamic:Resource"


class _UnknownOutput:
    """A stack output a preview cannot know yet (``pulumi preview`` shows ``output<T>``)."""

    def __repr__(self) -> str:
        return "(known after up)"


UNKNOWN_OUTPUT = _UnknownOutput()


class HarnessError(RuntimeError):
    """The provider host failed: it did not start, could not load the provider, or a call
    failed. The message names the resource and the call, and carries the host's own text."""


class CheckFailed(HarnessError):
    """``check`` refused the inputs of a resource; ``failures`` holds (property, reason)."""

    def __init__(self, name: str, failures: list[tuple[str, str]]) -> None:
        self.name = name
        self.failures = failures
        lines = "\n".join(f"  {prop}: {reason}" for prop, reason in failures)
        super().__init__(f"check failed for {name}:\n{lines}")


@dataclass
class DynamicResource:
    """One resource of a deployment: a provider object (or its serialized form) and inputs."""

    name: str
    provider: Any  # a pulumi.dynamic.ResourceProvider, or the base64 string Pulumi stores
    inputs: Mapping[str, Any]
    type: str = DEFAULT_TYPE
    #: Tri-state, as the resource option: ``None`` leaves it to the provider's diff; ``True``
    #: or ``False`` overrides the provider in either direction.
    delete_before_replace: bool | None = None
    retain_on_delete: bool = False
    #: Input names whose changes the engine ignores (applied before Check, as the engine does).
    ignore_changes: Sequence[str] = ()


@dataclass
class ResourceState:
    """What the engine keeps for a resource between deployments."""

    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    retain_on_delete: bool = False


@dataclass
class Step:
    """One line of a plan: what happened (or would happen) to one resource."""

    op: str  # create, same, update, replace, delete, refresh, read
    name: str
    changed: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False

    def __str__(self) -> str:
        symbol = {"create": "+", "same": " ", "update": "~", "replace": "+-",
                  "delete": "-", "refresh": "~", "read": " "}.get(self.op, "?")
        text = f"{symbol} {self.op:<8} {self.name}"
        if self.changed:
            text += f"  changed: {', '.join(self.changed)}"
        if self.replaces:
            order = "delete first" if self.delete_before_replace else "create first"
            text += f"  (replaces on {', '.join(self.replaces)}; {order})"
        return text


@dataclass
class Plan:
    """The steps of one operation, and for a program run its stack outputs."""

    operation: str
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def ops(self) -> dict[str, str]:
        return {step.name: step.op for step in self.steps}

    def __str__(self) -> str:
        lines = [f"{self.operation}:"] + [f"  {step}" for step in self.steps]
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.op] = counts.get(step.op, 0) + 1
        lines.append("  " + (", ".join(f"{n} {op}" for op, n in counts.items()) or "no resources"))
        if self.outputs:
            lines.append("  outputs:")
            lines += [f"    {k}: {v!r}" for k, v in self.outputs.items()]
        return "\n".join(lines)


# -- (de)serialization, as the SDK does it ------------------------------------------------------
def _run(coro: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _unknowns_to_wire(value: Any) -> Any:
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns_to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_to_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine sends them (``rpc.serialize_properties``; numbers as doubles)."""
    result: struct_pb2.Struct = _run(rpc.serialize_properties(_unknowns_to_wire(dict(props)),
                                                              {}))
    return result


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    result: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns=True)
    return {k: _unwrap_secrets(v) for k, v in result.items()}


def _unwrap_secrets(value: Any) -> Any:
    """Secrets at any depth as plain values (the host does not accept secrets)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def serialize_provider(provider: Any) -> str:
    """``__provider`` exactly as ``pulumi.dynamic.Resource.__init__`` makes it (dill, base64)."""
    if isinstance(provider, str):
        return provider
    from pulumi.dynamic.dynamic import serialize_provider as dill_provider
    from pulumi.runtime._serialization import _serialize

    from otc_elb_listener.listener import pickler_left_intact

    with pickler_left_intact():
        serialized, _ = _serialize(True, dill_provider, provider)
    return str(serialized)


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


# -- the host process ------------------------------------------------------------------------
#: The caller's variables that must not reach an offline provider host: credentials,
#: endpoints and proxies of a real cloud.
_SCRUBBED_PREFIXES = ("OS_", "ELB_")
_PROXY_VARIABLES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                              "https_proxy", "all_proxy"})
LOOPBACK_NO_PROXY = "127.0.0.1,localhost,::1"


def offline_host_environment() -> dict[str, str]:
    """``os.environ`` without cloud credentials, endpoints or proxies, loopback never
    proxied."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(_SCRUBBED_PREFIXES) and name not in _PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK_NO_PROXY
    return env


class ProviderHost:
    """The real ``python -u -m pulumi.dynamic`` process and a gRPC stub to it."""

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 cwd: str | Path | None = None, pythonpath: Iterable[str | Path] = (),
                 env: Mapping[str, str] | None = None, startup_timeout: float = 60.0) -> None:
        self.project = project
        self.config = {self._key(k): v for k, v in (config or {}).items()}
        self.secrets = {self._key(k): v for k, v in (secrets or {}).items()}
        self.cwd = Path(cwd or Path.cwd())
        self.pythonpath = [str(p) for p in pythonpath] or [str(self.cwd)]
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._stderr: Any = None

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def start(self) -> ProviderHost:
        all_config = {**self.config, **self.secrets}
        # As the CLI starts the plugin: PULUMI_CONFIG holds only the pulumi-python namespace
        # (normally empty); the stack config arrives through Configure.
        env = {**offline_host_environment(), **self.extra_env, "PULUMI_PROJECT": self.project,
               "PULUMI_CONFIG": "{}",
               "PYTHONPATH": os.pathsep.join([*self.pythonpath,
                                              os.environ.get("PYTHONPATH", "")]).rstrip(
                                                  os.pathsep)}
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the host)
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"], cwd=self.cwd,
            env=env, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        try:
            port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(self.channel).result(timeout=self.startup_timeout)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
            self._engine_startup(all_config)
        except BaseException:
            self.close()
            raise
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(self.startup_timeout)
        line = self.process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if not line.isdigit():
            raise HarnessError(f"the provider host did not start (first line {line!r}): "
                               f"{self.stderr_tail()}")
        return int(line)

    def stderr_tail(self, limit: int = 3000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read().decode(errors="replace")[-limit:])

    def _engine_startup(self, all_config: Mapping[str, Any]) -> None:
        """GetPluginInfo, CheckConfig (unimplemented by dynamic hosts), Configure."""
        self.call("GetPluginInfo", empty_pb2.Empty(), "start-up")
        try:
            self.call("CheckConfig", provider_pb2.CheckRequest(), "start-up")
        except HarnessError as error:
            if "not implemented" not in str(error).lower():
                raise
        # Config values reach providers as strings, as the engine sends them.
        args = {**{k: _config_text(v) for k, v in self.config.items()},
                **{k: _secret(_config_text(v)) for k, v in self.secrets.items()}}
        self.call("Configure", provider_pb2.ConfigureRequest(
            variables={k: _config_text(v) for k, v in all_config.items()},
            args=to_struct(args), acceptSecrets=True, acceptResources=True), "start-up")

    def call(self, method: str, request: Any, what: str) -> Any:
        """One gRPC call; failures become :class:`HarnessError` naming ``what``."""
        if self.stub is None:
            raise HarnessError("the provider host is not running")
        try:
            return getattr(self.stub, method)(request, timeout=300)
        except grpc.RpcError as error:
            details = error.details() if hasattr(error, "details") else str(error)
            hint = ""
            if any(s in (details or "") for s in ("dill", "Can't get attribute",
                                                  "ModuleNotFoundError", "No module named",
                                                  "unpickl")):
                hint = (" (the host could not load the provider: is its module importable "
                        "from the project directory / PYTHONPATH?)")
            raise HarnessError(f"{what}: {method} failed{hint}: {details}") from None

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the engine ------------------------------------------------------------------------------
class OfflineStack:
    """One stack's state plus the engine's steps, each operation in fresh provider hosts.

    As the CLI does: ``up`` is a preview pass and then an update pass, each in a provider host
    process of its own (so is every other operation); a create-first replacement deletes the
    old listener after all creates and updates, and a failed delete stays pending for the next
    run; ``ignore_changes`` is applied before Check; a ``same`` step stores the new inputs;
    refresh calls Diff to show an update or the same.

    Offline means offline: the hosts get none of the caller's ``OS_*``/``ELB_*``/proxy
    variables, and an ``elb:endpoint`` that is not loopback is refused unless
    ``allow_remote=True``. ``other_resources`` answers for resources of other providers in
    whole programs: ``(type, name, inputs) -> (id, outputs)``.
    """

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 stack: str = "dev", cwd: str | Path | None = None,
                 pythonpath: Iterable[str | Path] = (), env: Mapping[str, str] | None = None,
                 startup_timeout: float = 60.0, allow_remote: bool = False,
                 other_resources: OtherResources | None = None) -> None:
        self.project = project
        self.stack = stack
        self.cwd = Path(cwd or Path.cwd())
        stack_file = self.cwd / f"Pulumi.{stack}.yaml"
        self.config = {**_stack_file_config(stack_file, project), **(config or {})}
        self.secrets = dict(secrets or {})
        _refuse_remote({**self.config, **self.secrets}, project, allow_remote)
        self._host_args: dict[str, Any] = dict(project=project, cwd=self.cwd,
                                               pythonpath=pythonpath, env=env,
                                               startup_timeout=startup_timeout)
        self.other_resources = other_resources
        self.state: dict[str, ResourceState] = {}
        #: Old resources a create-first replacement left to delete (retried every run).
        self.pending_deletes: list[tuple[str, ResourceState]] = []
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
        self._open_host()
        try:
            return body()
        finally:
            self._close_host()

    # -- operations ----------------------------------------------------------------------
    def preview(self, resources: Sequence[DynamicResource]) -> Plan:
        """Check and Diff only: what ``pulumi preview`` shows; nothing is created or changed."""
        return self._pass(lambda: self._deploy(resources, preview=True))

    def up(self, resources: Sequence[DynamicResource]) -> Plan:
        """A preview pass, then the update pass that creates, updates, replaces and deletes
        so that the stack matches ``resources``."""
        self.preview(resources)
        return self._pass(lambda: self._deploy(resources, preview=False))

    def _deploy(self, resources: Sequence[DynamicResource], preview: bool) -> Plan:
        plan = Plan("preview" if preview else "up")
        replaced: list[tuple[str, ResourceState]] = []
        for resource in resources:
            step, _ = self.step(resource, preview, replaced)
            plan.steps.append(step)
        wanted = {r.name for r in resources}
        plan.steps += self._delete_all([n for n in self.state if n not in wanted], preview)
        if not preview:
            self._delete_replaced(replaced)
        return plan

    def step(self, resource: DynamicResource, preview: bool,
             replaced: list[tuple[str, ResourceState]]) -> tuple[Step, dict[str, Any]]:
        """Register one resource as the engine does; returns the step and its outputs. A
        create-first replacement appends the old state to ``replaced`` (deleted at the end)."""
        name = resource.name
        blob = self._blob(resource.provider)
        news = {**resource.inputs, PROVIDER_KEY: blob}
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
            if preview:
                return Step("create", name), dict(checked)
            new_state = self._create(resource, urn, checked)
            return Step("create", name), new_state.outputs
        diff = self._call("Diff", provider_pb2.DiffRequest(
            id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
            old_inputs=to_struct(old.inputs), name=name, type=resource.type), f"diff {name}")
        changed = _changed_keys(old.inputs, checked)
        if diff.changes == provider_pb2.DiffResponse.DIFF_NONE or (
                diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and not changed
                and checked.get(PROVIDER_KEY) == old.inputs.get(PROVIDER_KEY)):
            old.retain_on_delete = resource.retain_on_delete
            if not preview:  # a same step stores the new inputs with the old outputs
                old.inputs = dict(checked)
            return Step("same", name), old.outputs
        replaces = sorted(diff.replaces)  # the engine lists them sorted
        if replaces:
            # The resource option, when set, overrides the provider in both directions.
            first_delete = bool(diff.deleteBeforeReplace) \
                if resource.delete_before_replace is None else resource.delete_before_replace
            step = Step("replace", name, changed, replaces, first_delete)
            if preview:
                return step, dict(checked)
            # Before the replacement's Create the engine checks the inputs again, without olds.
            checked = self._check(name, urn, {}, news)
            if first_delete:
                self._delete(name, old)
                new_state = self._create(resource, urn, checked)
            else:
                new_state = self._create(resource, urn, checked)
                replaced.append((name, old))
            return step, new_state.outputs
        if preview:  # computed outputs of an update are unknown until it runs
            return Step("update", name, changed), dict(checked)
        response = self._call("Update", provider_pb2.UpdateRequest(
            id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
            old_inputs=to_struct(old.inputs), name=name, type=resource.type),
            f"update {name}")
        self.state[name] = ResourceState(urn, resource.type, old.id, dict(checked),
                                         from_struct(response.properties),
                                         resource.retain_on_delete)
        return Step("update", name, changed), self.state[name].outputs

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
                              from_struct(response.properties), resource.retain_on_delete)
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

    def _delete_replaced(self, replaced: list[tuple[str, ResourceState]]) -> None:
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

    def _delete_all(self, names: Iterable[str], preview: bool) -> list[Step]:
        steps = []
        for name in reversed(list(names)):
            steps.append(Step("delete", name))
            if not preview:
                self._delete(name, self.state[name])
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
            changed = _changed_keys(old.inputs, inputs)
            outputs_changed = _changed_keys(old.outputs, outputs)
            shows_update = diff.changes == provider_pb2.DiffResponse.DIFF_SOME or (
                diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and outputs_changed)
            old.id, old.outputs, old.inputs = response.id, outputs, inputs
            plan.steps.append(Step("update", name, changed) if shows_update or changed
                              else Step("same", name))
        return plan

    def destroy(self) -> Plan:
        """Delete every resource, newest first (``retain_on_delete`` ones only leave state)."""
        return self._pass(lambda: Plan("destroy", self._delete_all(list(self.state),
                                                                   preview=False)))

    # -- whole programs ------------------------------------------------------------------
    def run_program(self, program: str | Path | Callable[[], Any], *,
                    config: Mapping[str, Any] | None = None, preview: bool = False) -> Plan:
        """Run a Pulumi program under ``set_mocks``; its dynamic resources go to the host.

        ``config`` is the program's stack config (keys without a namespace get the project's;
        ``Pulumi.<stack>.yaml`` in ``cwd`` is read first). An ``up`` runs the program twice,
        a preview pass and an update pass, as the CLI does. Resources of other providers are
        answered by ``other_resources`` (default: their inputs echoed back, id
        ``<name>-id``). Stack outputs come back resolved in :attr:`Plan.outputs`.
        """
        if not preview:
            self._pass(lambda: self._run_program(program, config, preview=True))
        return self._pass(lambda: self._run_program(program, config, preview=preview))

    def _run_program(self, program: str | Path | Callable[[], Any],
                     config: Mapping[str, Any] | None, preview: bool) -> Plan:
        import pulumi
        from pulumi.runtime import mocks as pulumi_mocks
        from pulumi.runtime import settings as pulumi_settings
        from pulumi.runtime.stack import run_pulumi_func
        from pulumi.runtime.sync_await import _sync_await

        plan = Plan("preview" if preview else "up")
        seen: list[str] = []
        replaced: list[tuple[str, ResourceState]] = []
        engine = self
        failures: list[BaseException] = []

        class _Monitor(pulumi_mocks.MockMonitor):
            """Keeps the resource options that mocks do not pass on."""

            def __init__(self, mocks: Any) -> None:
                super().__init__(mocks)
                self.options: dict[str, tuple[bool | None, bool, list[str]]] = {}

            def RegisterResource(self, request: Any) -> Any:
                delete_first = bool(request.deleteBeforeReplace) \
                    if request.deleteBeforeReplaceDefined else None
                self.options[request.name] = (delete_first, bool(request.retainOnDelete),
                                              list(request.ignoreChanges))
                return super().RegisterResource(request)  # type: ignore[no-untyped-call]

        class _Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args: pulumi.runtime.MockResourceArgs
                             ) -> tuple[str | None, dict[str, Any]]:
                if not args.typ.startswith("pulumi-python:dynamic"):
                    if engine.other_resources is not None:
                        return engine.other_resources(args.typ, args.name, dict(args.inputs))
                    return f"{args.name}-id", dict(args.inputs)
                inputs = {k: _unwrap_secrets(v) for k, v in args.inputs.items()}
                provider = inputs.pop(PROVIDER_KEY)
                delete_first, retain, ignore = monitor.options.get(args.name,
                                                                   (None, False, []))
                resource = DynamicResource(args.name, provider, inputs, args.typ,
                                           delete_first, retain, ignore)
                try:
                    step, outputs = engine.step(resource, preview, replaced)
                except BaseException as error:
                    failures.append(error)
                    raise
                plan.steps.append(step)
                seen.append(args.name)
                resource_id = engine.state[args.name].id if args.name in engine.state else None
                return resource_id, {k: v for k, v in outputs.items() if k != PROVIDER_KEY}

            def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
                return {}, []

        program_config = {(k if ":" in k else f"{self.project}:{k}"): _config_text(v)
                          for k, v in {**self.config, **(config or {})}.items()}
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
        _ensure_open_event_loop()
        monitor = _Monitor(_Mocks())
        pulumi.runtime.set_mocks(monitor.mocks, project=self.project, stack=self.stack,
                                 preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(program_config)
        _forget_previous_run(pulumi_settings)
        if callable(program):
            body: Callable[[], Any] = program
        else:
            path = Path(program)

            def body() -> Any:
                return runpy.run_path(str(path), run_name="__main__")

        try:
            _sync_await(run_pulumi_func(body))
        except BaseException as error:
            _silence_reported(failures or [error])
            raise (failures[0] if failures else error) from None
        if failures:  # a resource failed after the program body returned
            raise failures[0]
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        for name, value in exported.items():
            output = pulumi.Output.from_input(value)
            known = _sync_await(output.is_known())
            plan.outputs[name] = _sync_await(output.future()) if known else UNKNOWN_OUTPUT
        plan.steps += self._delete_all([n for n in self.state if n not in seen], preview)
        if not preview:
            self._delete_replaced(replaced)
        return plan


def _ensure_open_event_loop() -> None:
    """The SDK makes its first futures on the thread's current event loop before it runs
    anything. After an ``asyncio.run()`` in the same thread (a user's async test, a
    pytest-asyncio test, the fake server's own test) there is none, or a closed one, and the
    program failed with "There is no current event loop in thread 'MainThread'"."""
    from pulumi.runtime.sync_await import _ensure_event_loop

    if _ensure_event_loop().is_closed():  # type: ignore[no-untyped-call]
        asyncio.set_event_loop(asyncio.new_event_loop())


def _forget_previous_run(pulumi_settings: Any) -> None:
    """The SDK keeps a failed run's RPC error and its unfinished output tasks process-wide:
    without this, the next run would fail with the old error (and warn that a future's
    exception was never retrieved)."""
    pulumi_settings._get_rpc_manager().clear()
    sdk = pulumi_settings.SETTINGS
    with sdk.lock:
        leftovers = list(sdk.outputs)
        sdk.outputs.clear()
    for task in leftovers:  # left to finish, their errors retrieved and dropped
        task.add_done_callback(_retrieve)


def _silence_reported(errors: list[BaseException]) -> None:
    """The SDK copies a failed registration's error into every output future of the
    resource; nobody awaits them, so asyncio would print each one ("Future exception was
    never retrieved") when they are collected. The caller already has the error: drop those."""
    from pulumi.runtime.sync_await import _ensure_event_loop

    loop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    previous = loop.get_exception_handler()
    reported = {id(error) for error in errors}

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if id(context.get("exception")) in reported:
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def _retrieve(task: Any) -> None:
    if not task.cancelled():
        task.exception()


#: Answers for resources of other providers in whole programs: (type, name, inputs) ->
#: (id, outputs).
OtherResources = Callable[[str, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ, as the CLI lists them (``__provider`` aside)."""
    return sorted(k for k in set(old) | set(new)
                  if k != PROVIDER_KEY and old.get(k) != new.get(k))


def _config_text(value: Any) -> str:
    """Config as the engine hands it over: always a string (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _stack_file_config(path: Path, project: str) -> dict[str, Any]:
    """The ``config:`` of ``Pulumi.<stack>.yaml``, as plain values (secure values cannot be
    decrypted offline and are refused with a clear error)."""
    if not path.exists():
        return {}
    import yaml

    loaded = yaml.safe_load(path.read_text()) or {}
    config = loaded.get("config") or {}
    result: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise HarnessError(f"{path.name}: {key} is encrypted; pass it in secrets= instead")
        result[key if ":" in key else f"{project}:{key}"] = value
    return result


def _refuse_remote(config: Mapping[str, Any], project: str, allow_remote: bool) -> None:
    """Offline tooling never talks to a real cloud unless told to."""
    if allow_remote:
        return
    from urllib.parse import urlsplit

    endpoint = config.get("elb:endpoint")
    if endpoint is None:
        if config.get("elb:region") is not None:
            raise HarnessError("elb:region without elb:endpoint would reach the real cloud; "
                               "set elb:endpoint to the fake's URL (or allow_remote=True)")
        return
    host = urlsplit(str(endpoint)).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.endswith(".invalid"):
        raise HarnessError(f"elb:endpoint {endpoint!r} is not loopback: offline tests do not "
                           "talk to a real cloud (pass allow_remote=True to mean it)")


def decoded_provider(blob: str) -> bytes:
    """The raw pickle inside a ``__provider`` value (to check what it carries)."""
    return base64.b64decode(blob)
