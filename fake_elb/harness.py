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

from .control import stop_process

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
    return {k: rpc.unwrap_rpc_secret(v) for k, v in result.items()}


def serialize_provider(provider: Any) -> str:
    """``__provider`` exactly as ``pulumi.dynamic.Resource.__init__`` makes it (dill, base64)."""
    if isinstance(provider, str):
        return provider
    from pulumi.dynamic.dynamic import serialize_provider as dill_provider
    from pulumi.runtime._serialization import _serialize

    serialized, _ = _serialize(True, dill_provider, provider)
    return str(serialized)


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


# -- the host process ------------------------------------------------------------------------
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
        env = {**os.environ, **self.extra_env, "PULUMI_PROJECT": self.project,
               "PULUMI_CONFIG": json.dumps({k: str(v) for k, v in all_config.items()}),
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
        args = {**self.config, **{k: _secret(v) for k, v in self.secrets.items()}}
        self.call("Configure", provider_pb2.ConfigureRequest(
            variables={k: str(v) for k, v in all_config.items()}, args=to_struct(args),
            acceptSecrets=True, acceptResources=True), "start-up")

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
                                                  "ModuleNotFoundError", "unpickl")):
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
    """One stack's state plus the engine's steps, driving a :class:`ProviderHost`."""

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 stack: str = "dev", cwd: str | Path | None = None,
                 pythonpath: Iterable[str | Path] = (), env: Mapping[str, str] | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.project = project
        self.stack = stack
        self.host = ProviderHost(config, secrets, project=project, cwd=cwd,
                                 pythonpath=pythonpath, env=env, startup_timeout=startup_timeout)
        self.state: dict[str, ResourceState] = {}
        self._blobs: dict[int, str] = {}

    def __enter__(self) -> OfflineStack:
        self.host.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.host.close()

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    def _blob(self, provider: Any) -> str:
        if isinstance(provider, str):
            return provider
        key = id(provider)
        if key not in self._blobs:
            self._blobs[key] = serialize_provider(provider)
        return self._blobs[key]

    # -- operations ----------------------------------------------------------------------
    def preview(self, resources: Sequence[DynamicResource]) -> Plan:
        """Check and Diff only: what ``pulumi preview`` shows; nothing is created or changed."""
        return self._deploy(resources, preview=True)

    def up(self, resources: Sequence[DynamicResource]) -> Plan:
        """Create, update, replace and delete so that the stack matches ``resources``."""
        return self._deploy(resources, preview=False)

    def _deploy(self, resources: Sequence[DynamicResource], preview: bool) -> Plan:
        plan = Plan("preview" if preview else "up")
        for resource in resources:
            plan.steps.append(self.step(resource, preview)[0])
        wanted = {r.name for r in resources}
        plan.steps += self._delete_all([n for n in self.state if n not in wanted], preview)
        return plan

    def step(self, resource: DynamicResource, preview: bool) -> tuple[Step, dict[str, Any]]:
        """Register one resource as the engine does; returns the step and its outputs."""
        name = resource.name
        blob = self._blob(resource.provider)
        news = {**resource.inputs, PROVIDER_KEY: blob}
        old = self.state.get(name)
        urn = old.urn if old else self.urn(resource.type, name)
        checked = self._check(name, urn, old.inputs if old else {}, news)
        if old is None:
            changed = sorted(k for k in checked if k != PROVIDER_KEY)
            if preview:
                return Step("create", name, changed), dict(checked)
            new_state = self._create(resource, urn, checked)
            return Step("create", name, changed), new_state.outputs
        diff = self.host.call("Diff", provider_pb2.DiffRequest(
            id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
            old_inputs=to_struct(old.inputs), name=name, type=resource.type), f"diff {name}")
        changed = sorted(k for k in set(checked) | set(old.inputs)
                         if k != PROVIDER_KEY and checked.get(k) != old.inputs.get(k))
        if diff.changes == provider_pb2.DiffResponse.DIFF_NONE or (
                diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and not changed
                and checked.get(PROVIDER_KEY) == old.inputs.get(PROVIDER_KEY)):
            old.retain_on_delete = resource.retain_on_delete
            return Step("same", name), old.outputs
        replaces = list(diff.replaces)
        if replaces:
            # The resource option, when set, overrides the provider in both directions.
            first_delete = bool(diff.deleteBeforeReplace) \
                if resource.delete_before_replace is None else resource.delete_before_replace
            step = Step("replace", name, changed, replaces, first_delete)
            if preview:
                return step, dict(checked)
            if first_delete:
                self._delete(name, old)
                new_state = self._create(resource, urn, checked)
            else:
                new_state = self._create(resource, urn, checked)
                self._delete(name, old)
            return step, new_state.outputs
        if preview:
            return Step("update", name, changed), {**old.outputs, **checked}
        response = self.host.call("Update", provider_pb2.UpdateRequest(
            id=old.id, urn=urn, olds=to_struct(old.outputs), news=to_struct(checked),
            old_inputs=to_struct(old.inputs), name=name, type=resource.type),
            f"update {name}")
        self.state[name] = ResourceState(urn, resource.type, old.id, dict(checked),
                                         from_struct(response.properties),
                                         resource.retain_on_delete)
        return Step("update", name, changed), self.state[name].outputs

    def _check(self, name: str, urn: str, olds: Mapping[str, Any],
               news: Mapping[str, Any]) -> dict[str, Any]:
        response = self.host.call("Check", provider_pb2.CheckRequest(
            urn=urn, olds=to_struct(olds), news=to_struct(news), name=name), f"check {name}")
        if response.failures:
            raise CheckFailed(name, [(f.property, f.reason) for f in response.failures])
        return from_struct(response.inputs)

    def _create(self, resource: DynamicResource, urn: str,
                checked: Mapping[str, Any]) -> ResourceState:
        response = self.host.call("Create", provider_pb2.CreateRequest(
            urn=urn, properties=to_struct(checked), name=resource.name, type=resource.type),
            f"create {resource.name}")
        state = ResourceState(urn, resource.type, response.id, dict(checked),
                              from_struct(response.properties), resource.retain_on_delete)
        self.state[resource.name] = state
        return state

    def _delete(self, name: str, old: ResourceState) -> None:
        if not old.retain_on_delete:
            self.host.call("Delete", provider_pb2.DeleteRequest(
                id=old.id, urn=old.urn, properties=to_struct(old.outputs),
                old_inputs=to_struct(old.inputs), name=name, type=old.type),
                f"delete {name}")
        if self.state.get(name) is old:
            del self.state[name]

    def _delete_all(self, names: Iterable[str], preview: bool) -> list[Step]:
        steps = []
        for name in reversed(list(names)):
            steps.append(Step("delete", name))
            if not preview:
                self._delete(name, self.state[name])
        return steps

    def refresh(self) -> Plan:
        """Read every resource; a gone one leaves the state, drift updates outputs and inputs."""
        plan = Plan("refresh")
        for name, old in list(self.state.items()):
            response = self.host.call("Read", provider_pb2.ReadRequest(
                id=old.id, urn=old.urn, properties=to_struct(old.outputs),
                inputs=to_struct(old.inputs), name=name, type=old.type), f"read {name}")
            if not response.id:
                del self.state[name]
                plan.steps.append(Step("delete", name, ["(gone)"]))
                continue
            outputs = from_struct(response.properties)
            changed = sorted(k for k in set(outputs) | set(old.outputs)
                             if k != PROVIDER_KEY and outputs.get(k) != old.outputs.get(k))
            old.id = response.id
            old.outputs = outputs
            if response.HasField("inputs"):
                old.inputs = from_struct(response.inputs)
            plan.steps.append(Step("refresh" if changed else "same", name, changed))
        return plan

    def destroy(self) -> Plan:
        """Delete every resource, newest first (``retain_on_delete`` ones only leave state)."""
        return Plan("destroy", self._delete_all(list(self.state), preview=False))

    # -- whole programs ------------------------------------------------------------------
    def run_program(self, program: str | Path | Callable[[], Any], *,
                    config: Mapping[str, Any] | None = None, preview: bool = False) -> Plan:
        """Run a Pulumi program under ``set_mocks``; its dynamic resources go to the host.

        ``config`` is the program's stack config (keys without a namespace get the project's);
        the provider host keeps the config it was started with. Other resource types are
        echoed back as mocks do. Stack outputs come back resolved in :attr:`Plan.outputs`.
        """
        import pulumi
        from pulumi.runtime import mocks as pulumi_mocks
        from pulumi.runtime import settings as pulumi_settings
        from pulumi.runtime.stack import run_pulumi_func
        from pulumi.runtime.sync_await import _sync_await

        plan = Plan("preview" if preview else "up")
        seen: list[str] = []
        engine = self

        class _Monitor(pulumi_mocks.MockMonitor):
            """Keeps the resource options that mocks do not pass on."""

            def __init__(self, mocks: Any) -> None:
                super().__init__(mocks)
                self.options: dict[str, tuple[bool, bool]] = {}

            def RegisterResource(self, request: Any) -> Any:
                self.options[request.name] = (bool(request.deleteBeforeReplace),
                                              bool(request.retainOnDelete))
                return super().RegisterResource(request)  # type: ignore[no-untyped-call]

        class _Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args: pulumi.runtime.MockResourceArgs
                             ) -> tuple[str | None, dict[str, Any]]:
                if not args.typ.startswith("pulumi-python:dynamic"):
                    return f"{args.name}-id", dict(args.inputs)
                inputs = {k: rpc.unwrap_rpc_secret(v) for k, v in args.inputs.items()}
                provider = inputs.pop(PROVIDER_KEY)
                delete_first, retain = monitor.options.get(args.name, (False, False))
                resource = DynamicResource(args.name, provider, inputs, args.typ,
                                           delete_first, retain)
                step, outputs = engine.step(resource, preview)
                plan.steps.append(step)
                seen.append(args.name)
                resource_id = engine.state[args.name].id if args.name in engine.state else None
                return resource_id, {k: v for k, v in outputs.items() if k != PROVIDER_KEY}

            def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
                return {}, []

        program_config = {(k if ":" in k else f"{self.project}:{k}"): str(v)
                          for k, v in (config or {}).items()}
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
        monitor = _Monitor(_Mocks())
        pulumi.runtime.set_mocks(monitor.mocks, project=self.project, stack=self.stack,
                                 preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(program_config)
        if callable(program):
            body: Callable[[], Any] = program
        else:
            path = Path(program)

            def body() -> Any:
                return runpy.run_path(str(path), run_name="__main__")

        _sync_await(run_pulumi_func(body))
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        for name, value in exported.items():
            output = pulumi.Output.from_input(value)
            known = _sync_await(output.is_known())
            plan.outputs[name] = _sync_await(output.future()) if known else UNKNOWN_OUTPUT
        plan.steps += self._delete_all([n for n in self.state if n not in seen], preview)
        return plan


def decoded_provider(blob: str) -> bytes:
    """The raw pickle inside a ``__provider`` value (to check what it carries)."""
    return base64.b64decode(blob)
