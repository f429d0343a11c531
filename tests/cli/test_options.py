"""What users put on a Listener, through both engines: every resource option and the CLI flags
used in CI. For each, the in-process engine either gives the CLI's plan and API calls, or
refuses in one line before any API call (it never silently ignores what the CLI honours).

The matrix (option x engine -> same / refused) is the parametrization below."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from fake_elb import ServerControl
from fake_elb.engine import CliFailed, CliStack, HarnessError, OfflineStack, Plan
from otc_elb_listener import Listener, ListenerArgs, ListenerProvider
from tests.support import PROJECT, REPO, Api, Elb

Program = Callable[[], Any]


def _listener(elb: Elb, name: str = "web", port: int = 80, **opts: Any) -> Listener:
    """A listener; ``provider=`` goes by keyword, ``opts_provider=`` through the options;
    ``api_name=`` keeps the listener's own name when the resource is renamed."""
    provider = opts.pop("provider", None)
    api_name = opts.pop("api_name", name)
    if "opts_provider" in opts:
        opts["provider"] = opts.pop("opts_provider")
    return Listener(name, ListenerArgs(**elb.inputs(port=port, name=api_name)),
                    opts=pulumi.ResourceOptions(**opts) if opts else None, provider=provider)


def _engines(pulumi_cli: Path, elb: Elb) -> dict[str, Any]:
    return {"cli": CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                            pythonpath=[REPO]),
            "in-process": OfflineStack(config=elb.config, secrets=elb.secrets, cwd=REPO)}


def _methods(elb: Elb, since: int) -> list[str]:
    return [method for method, _ in elb.calls(since)]


def _bodies(elb: Elb, since: int) -> list[str]:
    import json

    return sorted(f"{method} {json.dumps(body, sort_keys=True)}"
                  for method, body in elb.calls(since))


# -- options both engines run: the same plan and the same API calls --------------------------
class Parent(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("example:index:Frontend", name)


def _run_alike(elb: Elb) -> list[Program]:
    """delete_before_replace (unset/True/False), retain_on_delete, ignore_changes, parent,
    depends_on, custom_timeouts, and a provider by keyword and through opts."""
    def first() -> None:
        parent = Parent("frontend")
        a = _listener(elb, "a", 81, parent=parent,
                      custom_timeouts=pulumi.CustomTimeouts(create="1m"))
        _listener(elb, "b", 82, depends_on=[a], provider=ListenerProvider(),
                  ignore_changes=["description"])
        _listener(elb, "c", 83, opts_provider=ListenerProvider(), retain_on_delete=True)

    def second() -> None:
        parent = Parent("frontend")
        a = _listener(elb, "a", 84, parent=parent, delete_before_replace=True)
        Listener("b", ListenerArgs(**{**elb.inputs(port=86, name="b"), "protocol": "TCP",
                                      "backend_protocol": "TCP", "description": "x"}),
                 opts=pulumi.ResourceOptions(depends_on=[a], ignore_changes=["description"],
                                             delete_before_replace=False))
        _listener(elb, "c", 85, retain_on_delete=True, opts_provider=ListenerProvider())

    return [first, second]


def _outcome(engine: Any, elb: Elb, call: Callable[[], Plan]) -> tuple[Any, list[str]]:
    since = elb.mark()
    try:
        plan = call()
    except HarnessError:
        return "failed", _bodies(elb, since)
    # the listeners' steps: the in-process engine answers other resources (the component
    # parent) with mocks and shows no step for them
    return sorted((s.op, s.name, s.changed) for s in plan.steps if s.name in "abc"), \
        _bodies(elb, since)


def test_options_both_engines_run_give_the_same_plan_and_calls(
        pulumi_cli: Path, fake_elb_server: ServerControl) -> None:
    seen: dict[str, list[Any]] = {}
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id="c0" * 16)
        with _engines(pulumi_cli, elb)[kind] as engine:
            first, second = _run_alike(elb)
            seen[kind] = [_outcome(engine, elb, lambda p=p: engine.run_program(p))
                          for p in (first, second)]
            seen[kind].append(_outcome(engine, elb, engine.destroy))
    assert seen["in-process"] == seen["cli"]
    up, change, destroy = seen["cli"]
    assert [call.split()[0] for call in up[1]] == ["POST", "POST", "POST"]
    # b is replaced (protocol), its replacement created with the description that
    # ignore_changes kept out of the update; a and c are updated
    assert [call.split()[0] for call in change[1]] == ["DELETE", "POST", "PUT", "PUT"]
    assert any('"description": "x"' in call for call in change[1])
    assert [call.split()[0] for call in destroy[1]] == ["DELETE", "DELETE"]  # c is retained


# -- taking over live listeners: import_ and listener_id, the same through both engines --------
def _takeover_outcome(elb: Elb, engine: Any, lives: list[str], program: Program) -> list[Any]:
    """A preview, then an up: the steps, their warnings and the calls of each."""
    outcome: list[Any] = []
    for preview in (True, False):
        since = elb.mark()
        try:
            plan = engine.run_program(program, preview=preview)
            outcome.append(sorted((s.name, s.op, s.warnings) for s in plan.steps
                                  if s.name.startswith("web")))
        except HarnessError as error:
            outcome.append(["failed", "port is 80, the program says 81" in str(error)])
        outcome.append(sorted(_methods(elb, since)))
    outcome.append([Api(elb.control.url).get(live).json()["name"] for live in lives])
    return outcome


def _takeover(how: str, elb: Elb, lives: list[str]) -> Program:
    """``import_`` of a listener that differs; or one imported as it is beside one adopted."""
    if how == "import_ differing":
        return lambda: _listener(elb, port=81, api_name="live", import_=lives[0])

    def program() -> None:
        _listener(elb, port=80, api_name="live", import_=lives[0])
        Listener("web-adopted", ListenerArgs(listener_id=lives[1], name="adopted"))
    return program


@pytest.mark.parametrize("how", ["import_ differing", "import_ as it is, listener_id"])
def test_taking_over_a_live_listener_previews_what_up_will_do_in_both_engines(
        how: str, pulumi_cli: Path, fake_elb_server: ServerControl) -> None:
    """import_ works on a Listener (despite pulumi/pulumi#16175) with import semantics; the
    preview of a takeover makes one GET and warns what up will do; up makes one GET per
    pass, plus the PUT of an adoption."""
    seen: dict[str, list[Any]] = {}
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id="c1" * 16)
        lives = [elb.control.add_listener(PROJECT, id=c * 32, **elb.inputs(port=port,
                                                                          name="live"))["id"]
                 for c, port in (("d", 80), ("e", 82))]
        with _engines(pulumi_cli, elb)[kind] as engine:
            seen[kind] = _takeover_outcome(elb, engine, lives, _takeover(how, elb, lives))
    assert seen["in-process"] == seen["cli"]
    preview, preview_calls, up, up_calls, names = seen["cli"]
    if how == "import_ differing":
        assert preview_calls == ["GET"]  # one GET per listener at preview
        [(_, op, [warning])] = preview
        assert op == "create" and f"importing listener {'d' * 32} will fail" in warning
        assert "port is 80, the program says 81" in warning
        assert up == ["failed", True] and "PUT" not in up_calls and names == ["live", "live"]
        return
    assert preview_calls == ["GET", "GET"]
    imported, adopted = preview
    assert imported == ("web", "create", [])  # as it is: nothing to warn about
    assert adopted[1] == "create" and "up will PUT name ('live' -> 'adopted')" in adopted[2][0]
    assert up == preview
    assert up_calls.count("PUT") == 1 and up_calls.count("GET") <= 4
    assert names == ["live", "adopted"]


# -- options only the CLI runs: the in-process engine refuses before any API call -------------
def _protect(elb: Elb, engine: Any) -> list[Any]:
    engine.run_program(lambda: _listener(elb, protect=True))
    since = elb.mark()
    outcome = []
    for call in (engine.destroy, lambda: engine.run_program(lambda: None)):
        with pytest.raises(CliFailed, match="protect"):
            call()
    outcome.append(_methods(elb, since))
    return outcome


def _aliases(elb: Elb, engine: Any) -> list[Any]:
    engine.run_program(lambda: _listener(elb, "web"))
    since = elb.mark()
    plan = engine.run_program(lambda: _listener(elb, "frontend", api_name="web", aliases=[
        pulumi.Alias(name="web")]))
    return [plan.ops(), _methods(elb, since)]


def _aliases_new_parent(elb: Elb, engine: Any) -> list[Any]:
    """Moved into a component: the alias to the old parent (the stack) keeps it the same."""
    engine.run_program(lambda: _listener(elb, "web"))
    since = elb.mark()

    def moved() -> None:
        parent = Parent("frontend")
        _listener(elb, "web", parent=parent, aliases=[
            pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])

    plan = engine.run_program(moved)
    return [plan.ops()["web"], _methods(elb, since)]


def _replace_on_changes(elb: Elb, engine: Any) -> list[Any]:
    engine.run_program(lambda: _listener(elb, replace_on_changes=["port"]))
    since = elb.mark()
    plan = engine.run_program(lambda: _listener(elb, port=81, replace_on_changes=["port"]))
    # the provider's Diff says what replaces: replace_on_changes has no effect on it
    return [plan.ops(), _methods(elb, since)]


def _deleted_with(elb: Elb, engine: Any) -> list[Any]:
    def program() -> None:
        a = _listener(elb, "a", 81)
        _listener(elb, "b", 82, deleted_with=a)

    engine.run_program(program)
    since = elb.mark()
    engine.destroy()
    return [_methods(elb, since)]  # b goes with a: only a's DELETE is sent


@pytest.mark.parametrize(("option", "scenario", "cli_outcome", "before_refusal"), [
    ("protect", _protect, [[]], []),
    ("aliases", _aliases, [{"frontend": "same"}, []], ["POST"]),  # the first up has none
    ("aliases", _aliases_new_parent, ["same", []], ["POST"]),
    ("replace_on_changes", _replace_on_changes, [{"web": "update"}, ["PUT"]], []),
    ("deleted_with", _deleted_with, [["DELETE"]], []),
])
def test_options_only_the_cli_runs_are_refused_in_process(
        option: str, scenario: Callable[[Elb, Any], list[Any]], cli_outcome: list[Any],
        before_refusal: list[str], pulumi_cli: Path, elb: Elb) -> None:
    engines = _engines(pulumi_cli, elb)
    with engines["cli"] as cli:
        assert scenario(elb, cli) == cli_outcome
    _fresh(elb)
    since = elb.mark()
    with engines["in-process"] as in_process, pytest.raises(HarnessError) as refused:
        scenario(elb, in_process)
    assert f"does not run the resource option {option}" in str(refused.value)
    assert str(refused.value).count("\n") == 0
    assert _methods(elb, since) == before_refusal  # nothing sent for the refused operation


def _fresh(elb: Elb) -> None:
    """The fake as the other engine found it: empty, with the same load balancer."""
    elb.control.reset()
    elb.control.set_strict(True)
    elb.control.add_loadbalancer(PROJECT, id=elb.lb)


# -- the CLI's flags ------------------------------------------------------------------------
def test_cli_flags_work_through_the_cli_engine_and_are_refused_in_process(
        pulumi_cli: Path, elb: Elb) -> None:
    def two(port_a: int = 81, port_b: int = 82) -> Program:
        return lambda: (_listener(elb, "a", port_a, delete_before_replace=True),
                        _listener(elb, "b", port_b))

    engines = _engines(pulumi_cli, elb)
    with engines["cli"] as cli:
        cli.run_program(two())
        since = elb.mark()
        assert cli.run_program(two(91, 92), target=["a"]).ops()["a"] == "update"
        assert [(m, b) for m, b in elb.calls(since)] == [("PUT", {"port": 91})]
        with pytest.raises(CliFailed):
            cli.run_program(two(91, 93), preview=True, expect_no_changes=True)
        since = elb.mark()
        assert cli.run_program(two(91, 82), replace=["a"]).ops()["a"] == "replace"
        assert cli.run_program(two(91, 82), refresh=True).ops() == {"a": "refresh", "b": "refresh"}
        cli.destroy(target=["b"])
        assert [m for m, _ in elb.calls(since)].count("DELETE") == 2  # a's old one, and b
    _fresh(elb)
    with engines["in-process"] as in_process:
        for flags in ({"target": ["a"]}, {"replace": ["a"]}, {"refresh": True},
                      {"expect_no_changes": True}):
            with pytest.raises(HarnessError, match="does not run --"):
                in_process.run_program(two(), **flags)
        with pytest.raises(HarnessError, match="does not run --target"):
            in_process.destroy(target=["b"])


# -- what a test asserts on a failure: the same attributes from both engines ------------------
def test_failures_carry_code_status_operation_and_resource_in_both_engines(
        pulumi_cli: Path, elb: Elb) -> None:
    from fake_elb import CheckFailed as ExportedCheckFailed
    from fake_elb import HarnessError as ExportedHarnessError

    seen = {}
    for kind in ("cli", "in-process"):
        _fresh(elb)
        with _engines(pulumi_cli, elb)[kind] as engine:
            with pytest.raises(ExportedCheckFailed) as refused:
                engine.run_program(lambda: _listener(elb, "web", 70000))
            elb.control.faults.add(operation="create", status=409, code="ELB.1001", times=1)
            with pytest.raises(ExportedHarnessError) as failed:
                engine.run_program(lambda: _listener(elb, "web"))
        seen[kind] = (refused.value.name, refused.value.failures[0][0],
                      "ELB.6041" in refused.value.failures[0][1],
                      failed.value.code, failed.value.status, failed.value.operation,
                      failed.value.resource)
    assert seen["cli"] == seen["in-process"] == (
        "web", "port", True, "ELB.1001", 409, "create", "web")
