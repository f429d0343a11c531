"""A whole Pulumi program run by the in-process engine: the SDK under ``set_mocks``, with
every dynamic resource sent to the real provider host (:class:`ProgramHost`)."""

from __future__ import annotations

import asyncio
import runpy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func

from ._pulumi import drain_sdk_tasks, forget_previous_run, sdk_event_loop, sync_await
from .model import (
    PROVIDER_KEY,
    UNKNOWN_OUTPUT,
    DynamicResource,
    HarnessError,
    OtherResources,
    Plan,
    ResourceState,
    Step,
)
from .wire import config_text, unwrap_secrets


class ProgramHost(Protocol):
    """What a program run needs of the engine that hosts it (:class:`.inprocess.OfflineStack`
    is the one)."""

    project: str
    stack: str
    config: dict[str, Any]
    secrets: dict[str, Any]
    state: dict[str, ResourceState]
    other_resources: OtherResources | None

    def step(self, resource: DynamicResource, preview: bool,
             replaced: list[tuple[str, ResourceState]]) -> tuple[Step, dict[str, Any]]: ...

    def read_step(self, resource: DynamicResource, resource_id: str
                  ) -> tuple[Step, dict[str, Any]]: ...

    def delete_all(self, names: list[str], preview: bool) -> list[Step]: ...

    def delete_replaced(self, replaced: list[tuple[str, ResourceState]]) -> None: ...

#: Per resource, the options mocks do not pass on: delete_before_replace (tri-state),
#: retain_on_delete, ignore_changes, and the property dependencies (input -> resource names).
_Options = tuple[bool | None, bool, list[str], dict[str, list[str]]]
#: Resource options the CLI honours and this engine does not run: (option, is it set?).
#: ``custom_timeouts``, ``depends_on`` and ``parent`` are run: the first never reaches a
#: dynamic provider, and the order of a one-at-a-time program already honours the others.
_NOT_RUN: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("protect", lambda r: bool(r.protect)),
    ("aliases", lambda r: bool(list(r.aliasURNs) or list(r.aliases))),
    ("import_", lambda r: bool(r.importId)),
    ("deleted_with", lambda r: bool(r.deletedWith)),
    ("replace_on_changes", lambda r: bool(list(r.replaceOnChanges))),
)
REFUSAL = ("the in-process engine does not run the resource option {option} (resource "
           "{name!r}); run this program with the CLI engine (CliStack, the default of "
           "offline_stack)")


class _Monitor(pulumi_mocks.MockMonitor):
    """Keeps the resource options that mocks do not pass on, and the ones this engine
    refuses to run (see :data:`_NOT_RUN`)."""

    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.options: dict[str, _Options] = {}
        self.refused: dict[str, str] = {}
        #: Resources the program reads (``Resource.get``), not owns.
        self.reads: set[str] = set()

    def ReadResource(self, request: Any) -> Any:
        self.reads.add(request.name)
        return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def RegisterResource(self, request: Any) -> Any:
        delete_first = bool(request.deleteBeforeReplace) \
            if request.deleteBeforeReplaceDefined else None
        self.options[request.name] = (delete_first, bool(request.retainOnDelete),
                                      list(request.ignoreChanges),
                                      {name: [urn.rsplit("::", 1)[-1] for urn in deps.urns]
                                       for name, deps in request.propertyDependencies.items()})
        for option, is_set in _NOT_RUN:
            if is_set(request):
                self.refused[request.name] = REFUSAL.format(option=option, name=request.name)
                break
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


class _Registrar(pulumi.runtime.Mocks):
    """Answers the program's registrations: dynamic resources become engine steps."""

    def __init__(self, stack: ProgramHost, preview: bool, scan: bool = False) -> None:
        self.stack = stack
        self.preview = preview
        self.scan = scan
        self.plan = Plan("preview" if preview else "up")
        self.seen: list[str] = []
        self.replaced: list[tuple[str, ResourceState]] = []
        self.failures: list[BaseException] = []
        self.monitor = _Monitor(self)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs
                     ) -> tuple[str | None, dict[str, Any]]:
        stack = self.stack
        refused = self.monitor.refused.get(args.name)
        if refused is not None:
            self.failures.append(HarnessError(refused))
            raise self.failures[-1]
        if self.scan:  # only the refusals count: nothing reaches a provider
            return None, dict(args.inputs)
        if not args.typ.startswith("pulumi-python:dynamic"):
            if stack.other_resources is not None:
                return stack.other_resources(args.typ, args.name, dict(args.inputs))
            return f"{args.name}-id", dict(args.inputs)
        inputs = {k: unwrap_secrets(v) for k, v in args.inputs.items()}
        provider = inputs.pop(PROVIDER_KEY)
        delete_first, retain, ignore, dependencies = self.monitor.options.get(
            args.name, (None, False, [], {}))
        resource = DynamicResource(args.name, provider, inputs, args.typ, delete_first, retain,
                                   ignore, dependencies)
        try:
            if args.name in self.monitor.reads:  # Resource.get: read, never owned
                step, outputs = stack.read_step(resource, str(args.resource_id))
            else:
                step, outputs = stack.step(resource, self.preview, self.replaced)
        except BaseException as error:
            self.failures.append(error)
            raise
        self.plan.steps.append(step)
        self.seen.append(args.name)
        # As the CLI: at preview a replacement's ID is unknown (a new object is coming), an
        # update's and an unchanged resource's stays known.
        known = args.name in stack.state and not (self.preview and step.op == "replace")
        resource_id = stack.state[args.name].id if known else None
        return resource_id, {k: v for k, v in outputs.items() if k != PROVIDER_KEY}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        """This package's lookups are answered from the API, as the CLI's run makes them;
        other invokes answer nothing."""
        from otc_elb_listener.errors import ElbApiError
        from otc_elb_listener.lookups import TOKENS, answer

        if args.token not in TOKENS.values():
            return {}, []
        failure: HarnessError | None = None
        try:
            return answer(args.token, dict(args.args)), []
        except ElbApiError as error:  # as the CLI shows a program's failure: one line
            failure = HarnessError(f"lookup {args.token}: {error}", error.fields())
        self.failures.append(failure)
        raise failure


def run_in_host(stack: ProgramHost, program: str | Path | Callable[[], Any],
                config: Mapping[str, Any] | None, preview: bool, scan: bool = False) -> Plan:
    """One pass of ``program`` (see :meth:`.inprocess.OfflineStack.run_program`). A ``scan`` runs it
    as a preview that reaches no provider, to refuse what this engine does not run before
    anything is sent."""
    registrar = _Registrar(stack, preview or scan, scan)
    def key(name: str) -> str:
        return name if ":" in name else f"{stack.project}:{name}"

    # The program sees the whole stack config, secrets included (as secrets), as under the
    # CLI: a lookup signs in with them.
    program_config = {key(k): config_text(v) for k, v in {
        **stack.secrets, **stack.config, **(config or {})}.items()}
    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    _ensure_open_event_loop()
    pulumi.runtime.set_mocks(registrar, project=stack.project, stack=stack.stack,
                             preview=preview or scan, monitor=registrar.monitor)
    pulumi.runtime.set_all_config(program_config, [key(k) for k in stack.secrets])
    forget_previous_run(_retrieve)
    failures = registrar.failures
    try:
        try:
            sync_await(run_pulumi_func(_body(program)))
        except BaseException as error:
            _silence_reported(failures or [error])
            raise (failures[0] if failures else error) from None
        if failures:  # a resource failed after the program body returned
            raise failures[0]
        outputs = _stack_outputs()
    finally:
        drain_sdk_tasks()
    plan = registrar.plan
    if scan:
        return plan
    plan.outputs.update(outputs)
    plan.steps += stack.delete_all([n for n in stack.state if n not in registrar.seen],
                                   preview)
    if not preview:
        stack.delete_replaced(registrar.replaced)
    return plan


def _body(program: str | Path | Callable[[], Any]) -> Callable[[], Any]:
    if callable(program):
        return program
    path = Path(program)
    return lambda: runpy.run_path(str(path), run_name="__main__")


def _stack_outputs() -> dict[str, Any]:
    """The program's exported stack outputs, resolved (unknown ones marked as such)."""
    root = pulumi_settings.get_root_resource()
    exported = getattr(root, "outputs", {}) or {}
    outputs: dict[str, Any] = {}
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        known = sync_await(output.is_known())
        outputs[name] = sync_await(output.future()) if known else UNKNOWN_OUTPUT
    return outputs


def _ensure_open_event_loop() -> None:
    """The SDK makes its first futures on the thread's current event loop before it runs
    anything. After an ``asyncio.run()`` in the same thread (a user's async test, a
    pytest-asyncio test, the fake server's own test) there is none, or a closed one, and the
    program failed with "There is no current event loop in thread 'MainThread'"."""
    if sdk_event_loop().is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def _silence_reported(errors: list[BaseException]) -> None:
    """The SDK copies a failed registration's error into every output future of the
    resource; nobody awaits them, so asyncio would print each one ("Future exception was
    never retrieved") when they are collected. The caller already has the error: drop those."""
    loop = sdk_event_loop()
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
