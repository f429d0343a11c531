"""Run Pulumi programs through the real ``pulumi`` CLI, offline, and read back what it did.

The CLI is the judge of what users see. It runs here as the Automation API runs it: the
program is an *inline* program, so this Python process serves the language runtime and the CLI
drives the rest for real (engine, plan, checkpoint, secrets, and the dynamic-provider plugin
``pulumi-resource-pulumi-python`` in a process of its own). Everything is local: a file backend
and ``PULUMI_HOME`` in a temporary directory, a passphrase, no update check, no plugin download,
and none of the caller's cloud credentials or proxies.

    with CliStack(config={"elb:endpoint": url, "elb:projectId": pid},
                  secrets={"elb:token": token}) as stack:
        plan = stack.up([DynamicResource("web", ListenerProvider(), inputs, TYPE_TOKEN)])

A :class:`~fake_elb.engine.Plan` comes back, the type the in-process engine returns, built
from the CLI's engine events; :attr:`CliStack.output` holds everything the CLI printed.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from otc_elb_listener.offline import OFFLINE_VARIABLE

from .automation import create_lean_stack, inline_twin, pulumi_command
from .folder import copy_program, project_name
from .locate import CLI_HINT, find_cli, offline_environment
from .model import (
    UNKNOWN_OUTPUT,
    CheckFailed,
    DynamicResource,
    Failure,
    HarnessError,
    Plan,
    Step,
    changed_keys,
    check_flags,
    resources_only,
)

#: The engine's step operations folded into one :class:`Step` per resource.
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}
#: How the engine's events show a secret value.
_SECRET = "[secret]"

class CliFailed(HarnessError):
    """The CLI exited non-zero; ``command`` (``up``), ``exit_code`` and ``output`` (stdout and
    stderr) say why; ``operation`` is the provider's (``create``), as for both engines."""

    def __init__(self, operation: str, exit_code: int, output: str) -> None:
        self.command = operation
        self.exit_code = exit_code
        self.output = output
        HarnessError.__init__(self, f"pulumi {operation} failed (exit code {exit_code}):\n{output}")


#: A check failure as the CLI prints it, once per property (Diagnostics repeat it).
_CHECK_FAILURE = re.compile(r"^\s*error: \S+ resource '([^']+)': property (\S+) value .*? has a "
                            r"problem: (.*)$", re.M)


class CliCheckFailed(CliFailed, CheckFailed):
    """The CLI stopped because ``check`` refused inputs: a :class:`CheckFailed` too, with
    the same ``name`` and ``failures`` the in-process engine gives."""

    def __init__(self, operation: str, exit_code: int, output: str,
                 found: list[tuple[str, str, str]]) -> None:
        CliFailed.__init__(self, operation, exit_code, output)
        self.name = found[0][0]
        self.failures = [Failure(prop, reason) for prop, reason in dict.fromkeys(
            (prop, reason) for name, prop, reason in found if name == self.name)]


def _type_parts(type_token: str) -> tuple[str | None, str]:
    """``pulumi-python:dynamic/elb:Listener`` -> (``elb``, ``Listener``)."""
    module_and_name = type_token.split(":", 1)[1]  # dynamic/elb:Listener or dynamic:Resource
    module, name = module_and_name.rsplit(":", 1)
    return (module.split("/", 1)[1] if "/" in module else None), name


_RESOURCE_CLASSES: dict[str, type] = {}


def _resource_class(type_token: str) -> type:
    """A ``pulumi.dynamic.Resource`` subclass whose type token is ``type_token``."""
    if type_token not in _RESOURCE_CLASSES:
        import pulumi.dynamic as dyn

        module, name = _type_parts(type_token)
        if module is None:
            _RESOURCE_CLASSES[type_token] = dyn.Resource
        else:
            _RESOURCE_CLASSES[type_token] = type(name, (dyn.Resource,), {}, module=module,
                                                 name=name)
    return _RESOURCE_CLASSES[type_token]


def declare(resource: DynamicResource) -> Any:
    """Register one :class:`DynamicResource` in a running Pulumi program."""
    import pulumi

    if isinstance(resource.provider, str):
        raise HarnessError(f"{resource.name}: the CLI needs a provider object, not its blob")
    from otc_elb_listener.pickling import pickler_left_intact

    opts = pulumi.ResourceOptions(delete_before_replace=resource.delete_before_replace,
                                  retain_on_delete=resource.retain_on_delete or None,
                                  ignore_changes=list(resource.ignore_changes) or None)
    with pickler_left_intact():
        return _resource_class(resource.type)(resource.provider, resource.name,
                                              dict(resource.inputs), opts)


class CliStack:
    """One stack in a temporary local backend, driven by the real CLI."""

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 stack: str = "dev", cwd: str | Path | None = None,
                 cli: str | Path | None = None, parallel: int | None = None,
                 pythonpath: Sequence[str | Path] = (),
                 echo: Callable[[str], None] | None = None,
                 program_dir: str | Path | None = None,
                 stack_file: str | Path | None = None, allow_remote: bool = False) -> None:
        """``program_dir``: a ``Pulumi.yaml`` program folder, run by the CLI as ``pulumi up``
        runs it there (on a temporary copy: nothing is written into the folder), with only
        the config given here, plus ``stack_file`` as ``Pulumi.<stack>.yaml`` when named.
        Without it, programs run inline (functions, or files run in this process). Config
        that would reach a real cloud is refused unless ``allow_remote`` (see
        :func:`.config.refuse_remote`)."""
        found = Path(cli) if cli else find_cli()
        if found is None:
            raise HarnessError(f"no pulumi CLI found: {CLI_HINT}")
        self.cli = found
        self.project = project
        self.stack_name = stack
        self.config = dict(config or {})
        self.secrets = dict(secrets or {})
        self.cwd = Path(cwd) if cwd else None
        self.parallel = parallel
        #: Where the provider host finds the modules of providers pickled by reference.
        self.pythonpath = [str(p) for p in pythonpath]
        #: Called with each line the CLI prints, as it prints it (e.g. ``print``).
        self.echo = echo
        self.output = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._program: Callable[[], Any] = lambda: None
        self._stack: Any = None
        #: The folder's stack with a function as its program (made on first use).
        self._inline: Any = None
        self.program_dir = Path(program_dir).resolve() if program_dir else None
        self.stack_file = Path(stack_file) if stack_file else None
        self.allow_remote = allow_remote
        self._all_config: dict[str, Any] = {}
        if self.program_dir is not None:
            self.project = project_name(self.program_dir)

    # -- life cycle ------------------------------------------------------------------------
    def __enter__(self) -> CliStack:
        from pulumi import automation as auto

        self._tmp = tempfile.TemporaryDirectory(prefix="elb-cli-")
        root = Path(self._tmp.name)
        work = self._work = self.cwd or root / "work"
        for path in (root / "home", root / "state", work):
            path.mkdir(parents=True, exist_ok=True)
        self.env = offline_environment(root / "home", root / "state", self.cli)
        if self.pythonpath:
            self.env["PYTHONPATH"] = os.pathsep.join(self.pythonpath)
        command = pulumi_command(self.cli.parent.parent) if self.cli.parent.name == "bin" \
            else None
        if self.allow_remote:
            self.env[OFFLINE_VARIABLE] = ""
        if self.program_dir is not None:
            work = self._work = copy_program(self.program_dir, root / "program",
                                             self.stack_name, self.stack_file)
            options = auto.LocalWorkspaceOptions(work_dir=str(work), pulumi_home=str(
                root / "home"), env_vars=self.env, pulumi_command=command)
            self._stack = create_lean_stack(self.stack_name, options)
        else:
            settings = auto.ProjectSettings(name=self.project, runtime=auto.ProjectRuntimeInfo(
                name="python", options={"virtualenv": sys.prefix}))
            options = auto.LocalWorkspaceOptions(
                work_dir=str(work), pulumi_home=str(root / "home"), env_vars=self.env,
                project_settings=settings, pulumi_command=command)
            self._stack = create_lean_stack(self.stack_name, options, self._run_program)
        self.set_config(self.config, self.secrets)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _run_program(self) -> Any:
        return self._program()

    def set_config(self, config: Mapping[str, Any] | None = None,
                   secrets: Mapping[str, Any] | None = None) -> None:
        """``pulumi config set`` (``--secret`` for ``secrets``), sent with the next command;
        plain keys get the project's namespace."""
        from pulumi import automation as auto

        from .config import refuse_remote, stack_file_config

        if not self._all_config and self.stack_file is not None:
            self._all_config.update(stack_file_config(self.stack_file, self.project))
        self._all_config.update({self._key(k): v for k, v in {**(config or {}),
                                                              **(secrets or {})}.items()})
        refuse_remote(self._all_config, self.project, self.allow_remote)
        values = {self._key(k): auto.ConfigValue(str(v)) for k, v in (config or {}).items()}
        values.update({self._key(k): auto.ConfigValue(str(v), secret=True)
                       for k, v in (secrets or {}).items()})
        self._stack.queue_config(values)

    def send_config(self) -> None:
        """Send queued config now; otherwise the next command that runs the program does."""
        self._stack.send_config()

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    # -- operations ------------------------------------------------------------------------
    def preview(self, resources: Sequence[DynamicResource], **flags: Any) -> Plan:
        """``pulumi preview`` of resources declared one by one; a program is previewed with
        ``run_program(program, preview=True)``."""
        declared = resources_only(resources, "preview")
        return self._deploy(lambda: [declare(r) for r in declared], True,
                            inline=self.program_dir is not None, **flags)

    def up(self, resources: Sequence[DynamicResource], **flags: Any) -> Plan:
        """``pulumi up`` of resources declared one by one; a program goes to
        ``run_program(program)``."""
        declared = resources_only(resources, "up")
        return self._deploy(lambda: [declare(r) for r in declared], False,
                            inline=self.program_dir is not None, **flags)

    def run_program(self, program: str | Path | Callable[[], Any], *,
                    config: Mapping[str, Any] | None = None, preview: bool = False,
                    **flags: Any) -> Plan:
        """A whole program (a file such as ``__main__.py``, or a function) through the CLI.
        With a program folder, ``program`` is that folder or its ``__main__.py``. ``flags``
        are the CLI's (:data:`~fake_elb.engine.model.FLAGS`): ``target``/``replace``
        (resource names or URNs), ``refresh``, ``expect_no_changes``."""
        self.set_config(config)
        if self.program_dir is not None:
            if callable(program):  # the folder's stack, this function as its program
                return self._deploy(program, preview, inline=True, **flags)
            named = Path(program)
            if (named if named.is_absolute() else self.program_dir / named
                    ).resolve() not in (self.program_dir, self.program_dir / "__main__.py"):
                raise HarnessError(f"this stack runs the program folder {self.program_dir}; "
                                   f"{program!r} is not it (pass a function, or use a "
                                   "CliStack without program_dir for other files)")
            return self._deploy(self._program, preview, **flags)
        if callable(program):
            return self._deploy(program, preview, **flags)
        path = Path(program)

        def body() -> Any:
            return runpy.run_path(str(path), run_name="__main__")

        return self._deploy(body, preview, **flags)

    def refresh(self) -> Plan:
        events: list[Any] = []
        self._invoke("refresh", lambda: self._stack.refresh(
            on_output=self._collect, on_event=events.append, color="never"))
        return self._plan("refresh", events)

    def destroy(self, *, target: Sequence[str] = ()) -> Plan:
        """``pulumi destroy`` (``--target`` names resources or URNs)."""
        events: list[Any] = []
        urns = self._urns(target)
        self._invoke("destroy", lambda: self._stack.destroy(
            on_output=self._collect, on_event=events.append, color="never",
            parallel=self.parallel, target=urns or None))
        return self._plan("destroy", events)

    def _urns(self, names: Sequence[str]) -> list[str]:
        """URNs for resource names (or URNs as they are), from the stack's state."""
        if not names or all(name.startswith("urn:") for name in names):
            return list(names)
        known = {r["urn"].rsplit("::", 1)[1]: r["urn"] for r in
                 self.export().get("resources", [])}
        missing = [n for n in names if not n.startswith("urn:") and n not in known]
        if missing:
            raise HarnessError(f"no resource named {', '.join(missing)} in the stack")
        return [n if n.startswith("urn:") else known[n] for n in names]

    def command(self, *args: str, timeout: float = 3600) -> str:
        """One CLI command as a user types it in the program's folder (``"up", "--yes"``),
        on this stack, non-interactive, without the Automation API's event log; its stdout
        (stderr goes to :attr:`output`). Non-zero exit: :class:`CliFailed`."""
        import subprocess

        self.send_config()
        result = subprocess.run([str(self.cli), *args, "--stack", self.stack_name,
                                 "--non-interactive"], cwd=self._work, capture_output=True,
                                text=True, env={**os.environ, **self.env}, timeout=timeout)
        self.output += result.stderr
        if result.returncode != 0:
            raise CliFailed(args[0], result.returncode, f"{result.stdout}\n{result.stderr}")
        return result.stdout

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` as a user runs it (secrets stay encrypted; the Automation
        API's own export adds ``--show-secrets``)."""
        deployment: dict[str, Any] = json.loads(self.command("stack", "export",
                                                             timeout=120))["deployment"]
        return deployment

    def state_text(self) -> str:
        """Every file the local backend wrote (checkpoints, history, backups), as text."""
        assert self._tmp is not None
        return "\n".join(path.read_text(errors="replace")
                         for path in sorted((Path(self._tmp.name) / "state").rglob("*"))
                         if path.is_file())

    def _deploy(self, program: Callable[[], Any], preview: bool, inline: bool = False,
                **flags: Any) -> Plan:
        check_flags(flags)
        self._program = program
        runner = self._stack
        if inline:  # a function on a program folder's stack
            if self._inline is None:
                self._inline = inline_twin(self._stack, self._run_program)
            runner = self._inline
        events: list[Any] = []
        operation = "preview" if preview else "up"
        options = dict(on_output=self._collect, on_event=events.append, color="never",
                       parallel=self.parallel, target=self._urns(flags.get("target", ()))
                       or None, replace=self._urns(flags.get("replace", ())) or None,
                       refresh=flags.get("refresh") or None,
                       expect_no_changes=flags.get("expect_no_changes") or None)
        self._invoke(operation, lambda: (runner.preview if preview else runner.up)(**options))
        plan = self._plan(operation, events)
        plan.outputs = self._event_outputs(events)
        if not preview and _SECRET in json.dumps(plan.outputs, default=str):
            plan.outputs = self._stack.stored_outputs()  # events show secrets masked
        return plan

    def _collect(self, line: str) -> None:
        self.output += line + "\n"
        if self.echo is not None:
            self.echo(line)

    def _invoke(self, operation: str, call: Callable[[], Any]) -> Any:
        from pulumi.automation.errors import CommandError

        self.send_config()
        try:
            return call()
        except CommandError as error:
            # The Automation API keeps only the text "\n code: N\n stdout: ...\n stderr: ...".
            found = re.fullmatch(r"\s*code: (-?\d+)\n stdout: (.*)\n stderr: (.*)",
                                 str(error), re.S)
            code, text = (int(found[1]), f"{found[2]}\n{found[3]}".strip()) if found else \
                (-1, str(error))
            self.output += text
            failures = _CHECK_FAILURE.findall(text)
            if failures:
                raise CliCheckFailed(operation, code, text, failures) from None
            raise CliFailed(operation, code, text) from None

    # -- events -> plan --------------------------------------------------------------------
    @staticmethod
    def _step_events(events: Sequence[Any], kind: str) -> list[Any]:
        """The step metadata of resources (not the stack or its providers) from events of
        one kind: ``resource_pre_event`` (planned) or ``res_outputs_event`` (done)."""
        found = []
        for event in events:
            step = getattr(event, kind, None)
            if step is not None and not step.metadata.type.startswith("pulumi:"):
                found.append(step.metadata)
        return found

    def _plan(self, operation: str, events: Sequence[Any]) -> Plan:
        """One :class:`Step` per resource, in the order the engine first touched it. A
        refresh's outcome (update, same, delete) is known only when its step is done."""
        by_name: dict[str, list[Any]] = {}
        for meta in self._step_events(events, "resource_pre_event"):
            by_name.setdefault(meta.urn.rsplit("::", 1)[1], []).append(meta)
        outcome = {meta.urn.rsplit("::", 1)[1]: meta
                   for meta in self._step_events(events, "res_outputs_event")}
        plan = Plan(operation)
        warned = _warnings(events)
        for name, metas in by_name.items():
            ops = [m.op.value for m in metas]
            if operation == "refresh":
                done = outcome.get(name)
                op = done.op.value if done is not None else "delete"
                changed = sorted(_changed_inputs(done)) if op == "update" else []
                plan.steps.append(Step(op, name, changed))
                continue
            # Only steps that have both sides compare (a delete-replaced step has no new side).
            diffs = sorted({d for m in metas if m.old is not None and m.new is not None
                            for d in _changed_inputs(m)})
            if _REPLACE_OPS & set(ops):
                keys = sorted({k for m in metas for k in (m.keys or [])})
                first_delete = "delete-replaced" in ops and "create-replacement" in ops and \
                    ops.index("delete-replaced") < ops.index("create-replacement")
                plan.steps.append(Step("replace", name, diffs, keys, first_delete))
            else:
                op = ops[0]
                if op == "delete" and metas[0].old is not None and metas[0].old.retain_on_delete:
                    op = "retain"  # the engine forgets it and sends no Delete
                plan.steps.append(Step(op, name, [] if op in ("create", "delete", "retain")
                                       else diffs))
            plan.steps[-1].warnings = warned.get(metas[0].urn, [])
        return plan

    def _event_outputs(self, events: Sequence[Any]) -> dict[str, Any]:
        """The stack outputs the events show: values (secrets masked), or
        :data:`UNKNOWN_OUTPUT` at preview."""
        outputs: dict[str, Any] = {}
        for event in events:
            done = getattr(event, "res_outputs_event", None)
            if done is None or done.metadata.type != "pulumi:pulumi:Stack":
                continue
            state = done.metadata.new
            for key, value in ((state.outputs if state else None) or {}).items():
                outputs[key] = UNKNOWN_OUTPUT if _is_unknown_text(value) else value
        return outputs


def _warnings(events: Sequence[Any]) -> dict[str, list[str]]:
    """The warnings the engine showed on each resource (by URN), each once."""
    found: dict[str, dict[str, None]] = {}
    for event in events:
        diagnostic = getattr(event, "diagnostic_event", None)
        if diagnostic is not None and diagnostic.urn and diagnostic.severity == "warning":
            found.setdefault(diagnostic.urn, {})[diagnostic.message.strip()] = None
    return {urn: list(messages) for urn, messages in found.items()}


def _changed_inputs(meta: Any) -> list[str]:
    """The inputs a step changes, as the CLI shows them (``~ port: 80 => 81``): the engine's
    own list when the provider sent one, else old and new inputs compared (a dynamic
    provider's Diff carries no list of changed keys)."""
    if meta.diffs:
        return list(meta.diffs)
    return changed_keys((meta.old.inputs if meta.old else None) or {},
                         (meta.new.inputs if meta.new else None) or {})


def _is_unknown_text(value: Any) -> bool:
    from pulumi.runtime.rpc import UNKNOWN

    return bool(value == UNKNOWN)
