"""What users see from the real ``pulumi`` CLI with the Listener provider, scenario by
scenario: the plan, the exit code, the exact API calls, and the stored state."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from fake_elb import DEFAULT_TOKEN
from fake_elb.engine import UNKNOWN_OUTPUT, CliFailed, CliStack, DynamicResource
from tests.support import PROJECT, Api, Elb


def _resources(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"].rsplit("::", 1)[1]: r for r in deployment.get("resources", [])
            if r["type"].startswith("pulumi-python:dynamic")}


# -- a, b: create, then nothing changed ---------------------------------------------------------
def test_a_preview_of_a_new_stack_calls_nothing_and_up_posts_once(cli_stack: CliStack,
                                                                  elb: Elb) -> None:
    plan = cli_stack.preview([elb.listener()])
    assert [(s.op, s.name, s.changed) for s in plan.steps] == [("create", "web", [])]
    assert elb.calls() == []

    plan = cli_stack.up([elb.listener()])
    assert plan.ops() == {"web": "create"}
    assert elb.calls() == [("POST", {**elb.inputs()})]
    state = _resources(cli_stack.export())["web"]
    assert state["outputs"]["port"] == 80
    assert state["outputs"]["status"] == "ACTIVE"
    assert len(state["id"]) == 32 and state["outputs"]["listener_id"] == state["id"]


def test_b_nothing_changed_is_unchanged_with_no_api_call(cli_stack: CliStack, elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    assert cli_stack.preview([elb.listener()]).ops() == {"web": "same"}
    assert cli_stack.up([elb.listener()]).ops() == {"web": "same"}
    assert elb.calls(mark) == []


# -- c: an updatable field --------------------------------------------------------------------
def test_c_a_port_change_is_one_put_carrying_only_the_port(cli_stack: CliStack,
                                                           elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    changed = elb.listener(inputs=elb.inputs(port=8081))
    plan = cli_stack.preview([changed])
    assert [(s.op, s.changed) for s in plan.steps] == [("update", ["port"])]
    assert "~ port" not in cli_stack.output or "80 => 8081" in cli_stack.output
    assert elb.calls(mark) == []
    cli_stack.up([changed])
    calls = elb.calls(mark)
    assert calls == [("PUT", {"port": 8081})]
    assert type(calls[0][1]["port"]) is int  # not 8081.0: the engine sends doubles
    assert _resources(cli_stack.export())["web"]["outputs"]["port"] == 8081


# -- d: replacement ---------------------------------------------------------------------------
def test_d_protocol_change_on_the_same_port_deletes_first(cli_stack: CliStack,
                                                         elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    tcp = elb.listener(inputs=elb.inputs(protocol="TCP", backend_protocol="TCP"))
    plan = cli_stack.up([tcp])
    step = plan.steps[0]
    assert (step.op, step.replaces, step.delete_before_replace) == (
        "replace", ["backend_protocol", "protocol"], True)
    assert [method for method, _ in elb.calls(mark)] == ["DELETE", "POST"]


def test_d_protocol_change_on_a_new_port_creates_first(cli_stack: CliStack, elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    tcp = elb.listener(inputs=elb.inputs(protocol="TCP", backend_protocol="TCP", port=81))
    step = cli_stack.up([tcp]).steps[0]
    assert (step.op, step.delete_before_replace) == ("replace", False)
    assert [method for method, _ in elb.calls(mark)] == ["POST", "DELETE"]


def test_d_explicit_create_first_on_the_same_port_fails_with_port_in_use(
        cli_stack: CliStack, elb: Elb) -> None:
    """``delete_before_replace=False`` on the resource overrides the provider: the engine
    creates first, the service refuses the port (6101), and the user is told what to do."""
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    tcp = elb.listener(inputs=elb.inputs(protocol="TCP", backend_protocol="TCP"),
                       delete_before_replace=False)
    with pytest.raises(CliFailed) as failed:
        cli_stack.up([tcp])
    assert failed.value.exit_code != 0
    # the first line the CLI shows for the resource is the useful one, not "Traceback"
    diagnostics = failed.value.output.split("Listener (web):", 1)[1].strip().splitlines()
    assert diagnostics[0].startswith("error: ELB create of listener failed: "
                                     "HTTP 400 ELB.6101: port: port 80 is already used")
    assert "delete_before_replace" in diagnostics[0]
    assert [method for method, _ in elb.calls(mark)] == ["POST"]
    old = _resources(cli_stack.export())["web"]
    assert old["outputs"]["protocol"] == "HTTP"  # the old listener is still the stack's


# -- e: drift ---------------------------------------------------------------------------------
def test_e_refresh_shows_drift_and_the_next_up_repairs_it_with_one_put(
        cli_stack: CliStack, elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    listener_id = _resources(cli_stack.export())["web"]["id"]
    assert Api(elb.control.url).put(listener_id, {"backend_port": 9090}).ok
    plan = cli_stack.refresh()
    assert [(s.op, s.changed) for s in plan.steps] == [("update", ["backend_port"])]
    mark = elb.mark()
    plan = cli_stack.up([elb.listener()])
    assert [(s.op, s.changed) for s in plan.steps] == [("update", ["backend_port"])]
    assert elb.calls(mark) == [("PUT", {"backend_port": 8080})]


def test_e_refresh_drops_a_deleted_listener_and_up_creates_it_again(cli_stack: CliStack,
                                                                    elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    listener_id = _resources(cli_stack.export())["web"]["id"]
    assert Api(elb.control.url).delete(listener_id).ok
    plan = cli_stack.refresh()
    assert plan.ops() == {"web": "delete"}
    assert _resources(cli_stack.export()) == {}
    mark = elb.mark()
    assert cli_stack.up([elb.listener()]).ops() == {"web": "create"}
    assert [method for method, _ in elb.calls(mark)] == ["POST"]


# -- f: check failures ------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "prop", "words"), [
    ({"port": 70000}, "port", ["1", "65535", "70000"]),
    ({"protocol": "HTTPS"}, "certificate_id", ["HTTPS", "certificate_id"]),
])
def test_f_preview_fails_naming_the_property_the_rule_and_the_value(
        cli_stack: CliStack, elb: Elb, changes: dict[str, Any], prop: str,
        words: list[str]) -> None:
    with pytest.raises(CliFailed) as failed:
        cli_stack.preview([elb.listener(inputs=elb.inputs(**changes))])
    assert failed.value.exit_code != 0
    assert prop in failed.value.output
    for word in words:
        assert word in failed.value.output
    assert elb.calls() == []


# -- g: values unknown at preview time ---------------------------------------------------------
def test_g_certificates_from_another_resource_preview_fine(cli_stack: CliStack,
                                                           elb: Elb) -> None:
    """``certificate_id`` and ``certificates`` come from another resource's output, unknown
    during the preview: it succeeds, and ``up`` creates both."""
    cert = elb.control.add_certificate(PROJECT)["id"]
    import pulumi

    from fake_elb.engine import declare
    from tests.cli.support import Echo

    def program() -> None:
        source = Echo("cert", cert)
        inputs = elb.inputs(protocol="HTTPS", port=443, certificate_id=source.value,
                            certificates=[source.value])
        declare(DynamicResource("web", elb.provider, inputs, elb.listener().type))
        pulumi.export("cert", source.value)

    plan = cli_stack.run_program(program, preview=True)
    assert plan.ops() == {"cert": "create", "web": "create"}
    assert plan.outputs["cert"] is UNKNOWN_OUTPUT
    plan = cli_stack.run_program(program)
    assert plan.outputs == {"cert": cert}
    body = elb.calls()[-1][1]
    assert body["certificate_id"] == cert and body["certificates"] == [cert]


def test_g_outputs_after_up_plain_and_secret(cli_stack: CliStack, elb: Elb) -> None:
    """``up``'s outputs come from the engine's events (no ``stack output`` runs after it);
    the events show secrets masked, so a secret anywhere makes the stack read them back."""
    import pulumi

    from fake_elb.engine import declare

    def program(secret: bool) -> None:
        web = declare(elb.listener())
        pulumi.export("port", web.port)
        pulumi.export("tags", {"team": "web", "key": pulumi.Output.secret("s3cr3t")
                               if secret else "plain"})

    assert cli_stack.run_program(lambda: program(False)).outputs == {
        "port": 80, "tags": {"team": "web", "key": "plain"}}
    assert cli_stack.run_program(lambda: program(True)).outputs == {
        "port": 80, "tags": {"team": "web", "key": "s3cr3t"}}


# -- h: options and several listeners ----------------------------------------------------------
def test_h_ignore_changes_is_honoured(cli_stack: CliStack, elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    mark = elb.mark()
    plan = cli_stack.up([elb.listener(inputs=elb.inputs(port=81), ignore_changes=["port"])])
    assert plan.ops() == {"web": "same"}
    assert elb.calls(mark) == []


def test_h_three_listeners_in_parallel_then_destroy_deletes_each_once(
        pulumi_cli: Path, elb: Elb) -> None:
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  parallel=3) as stack:
        trio = [elb.listener(f"l{port}", inputs=elb.inputs(port=port, name=f"l{port}"))
                for port in (81, 82, 83)]
        assert stack.up(trio).ops() == {"l81": "create", "l82": "create", "l83": "create"}
        assert sorted(body["port"] for _, body in elb.calls()) == [81, 82, 83]
        ids = {r["id"] for r in _resources(stack.export()).values()}
        mark = elb.mark()
        assert stack.destroy().ops() == {"l81": "delete", "l82": "delete", "l83": "delete"}
        deletes = [entry["path"].rsplit("/", 1)[1] for entry in elb.control.requests[mark:]]
        assert sorted(deletes) == sorted(ids)


def test_h_retain_on_delete_sends_no_delete(cli_stack: CliStack, elb: Elb) -> None:
    cli_stack.up([elb.listener(retain_on_delete=True)])
    mark = elb.mark()
    assert cli_stack.destroy().ops() == {"web": "retain"}  # shown as retained, not deleted
    assert elb.calls(mark) == []
    assert len(Api(elb.control.url).list().json()) == 1


# -- i: secrets --------------------------------------------------------------------------------
def test_i_the_secret_token_is_nowhere_and_the_pickled_path_is_public(cli_stack: CliStack,
                                                                       elb: Elb) -> None:
    cli_stack.up([elb.listener()])
    cli_stack.up([elb.listener(inputs=elb.inputs(port=81))])
    exported = json.dumps(cli_stack.export())
    state = cli_stack.state_text()
    token = DEFAULT_TOKEN
    for form in (token, base64.b64encode(token.encode()).decode(), token.encode().hex()):
        assert form not in exported
        assert form not in state
        assert form not in cli_stack.output
        assert form not in json.dumps(elb.control.requests)
    # __provider holds no credential, so it is stored plain (not encrypted twice a resource)
    for where in ("inputs", "outputs"):
        plain = _resources(cli_stack.export())["web"][where]["__provider"]
        assert isinstance(plain, str)
        pickled = base64.b64decode(plain)
        assert b"otc_elb_listener.listener" in pickled and token.encode() not in pickled


def test_i_a_provider_holding_a_secret_output_is_stored_as_a_secret(cli_stack: CliStack,
                                                                    elb: Elb) -> None:
    """Pulumi still makes the pickled provider a secret when a secret Output went into it
    (here a user's subclass that keeps one)."""
    from otc_elb_listener import Listener, ListenerArgs
    from tests.cli.support import SecretHoldingProvider

    def program() -> None:
        holding = SecretHoldingProvider.make("not-for-the-state")
        Listener("web", ListenerArgs(**elb.inputs()), provider=holding)

    cli_stack.run_program(program)
    stored = _resources(cli_stack.export())["web"]["inputs"]["__provider"]
    assert isinstance(stored, dict) and stored.get("4dabf18193072939515e22adb298388d") == \
        "1b47061264138c4ac30d75fd1eb44270"  # the CLI's mark of a secret value


# -- j: config frozen at the last up -----------------------------------------------------------
def test_j_refresh_and_destroy_use_the_config_of_the_last_up(cli_stack: CliStack,
                                                              elb: Elb) -> None:
    """The engine configures refresh/destroy from the state: a token changed in config after
    ``up`` is not seen by them. With the old token revoked, the user is told what to do."""
    cli_stack.up([elb.listener()])
    cli_stack.set_config(secrets={"elb:token": "a-new-token"})
    elb.control.set_tokens(["a-new-token"])  # the old token no longer works
    with pytest.raises(CliFailed) as failed:
        cli_stack.refresh()
    output = failed.value.output
    assert "401" in output and "ELB.1103" in output
    assert "pulumi up" in output  # what to do
    assert "a-new-token" not in output and DEFAULT_TOKEN not in output
    with pytest.raises(CliFailed) as failed:
        cli_stack.destroy()
    assert "ELB.1103" in failed.value.output
    # What the message says works: an up stores the new token, then refresh and destroy do.
    assert cli_stack.up([elb.listener()]).ops() == {"web": "same"}
    assert cli_stack.refresh().ops() == {"web": "same"}
    assert cli_stack.destroy().ops() == {"web": "delete"}


# -- sign-in with a password in secret config ---------------------------------------------------
def test_a_stack_signs_in_with_a_password_held_in_secret_config(pulumi_cli: Path,
                                                                elb: Elb) -> None:
    password = "s3cret-Passw0rd for the CLI"
    elb.control.add_user("OTC-DOMAIN", "deployer", password, PROJECT, "eu-de_demo")
    config = {"elb:authUrl": f"{elb.control.url}/v3", "elb:userName": "deployer",
              "elb:domainName": "OTC-DOMAIN", "elb:projectName": "eu-de_demo"}
    with CliStack(config=config, secrets={"elb:password": password}, cli=pulumi_cli) as stack:
        assert stack.up([elb.listener()]).ops() == {"web": "create"}
        assert [(e["method"], e["path"].split("/")[1]) for e in elb.control.requests] == [
            ("POST", "v3"), ("POST", "v1.0")]
        exported = json.dumps(stack.export())
        for form in (password, base64.b64encode(password.encode()).decode()):
            assert form not in exported and form not in stack.state_text()
            assert form not in stack.output
            assert form not in json.dumps(elb.control.requests)
        assert stack.destroy().ops() == {"web": "delete"}


@pytest.mark.parametrize("remote", [
    {"elb:authUrl": "https://iam.eu-de.otc.t-systems.com/v3", "elb:userName": "u"},
    {"elb:cloud": "otc"},
])
def test_the_cli_engine_refuses_a_remote_iam_or_a_clouds_yaml_cloud(
        pulumi_cli: Path, elb: Elb, remote: dict[str, str], tmp_path: Path) -> None:
    """Second hostile review, item 5: the CLI engine too, from the test or a stack file."""
    from fake_elb.engine import HarnessError

    with pytest.raises(HarnessError, match="real cloud"), CliStack(
            config={**elb.config, **remote}, secrets=elb.secrets, cli=pulumi_cli):
        pass
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n" + "".join(f"  {k}: {v}\n" for k, v in remote.items()))
    with pytest.raises(HarnessError, match="real cloud"), CliStack(
            config=elb.config, secrets=elb.secrets, cli=pulumi_cli, program_dir=tmp_path,
            stack_file=stack_file):
        pass


# -- config: sent once, when it changes ---------------------------------------------------------
def test_config_is_sent_once_before_the_next_run_and_only_when_it_changed(
        pulumi_cli: Path, elb: Elb, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``pulumi config set-all`` starts the CLI: the stack's own config and the first
    run's go in one, a run with the same config sends none, and a changed value (or one
    turned secret) is sent alone, and is what the next run sees."""
    from fake_elb.engine.automation import LeanStack

    sent: list[dict[str, tuple[str, bool]]] = []
    real = LeanStack.set_all_config

    def spy(self: LeanStack, values: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        sent.append({key: (value.value, value.secret) for key, value in values.items()})
        real(self, values, *args, **kwargs)

    monkeypatch.setattr(LeanStack, "set_all_config", spy)
    program = "import pulumi\npulumi.export('port', pulumi.Config().get('port'))\n"
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli) as stack:
        run = stack._work / "program.py"
        run.write_text(program)
        assert sent == []  # nothing before the first run
        assert stack.run_program(run, config={"port": 81}).outputs == {"port": "81"}
        assert [sorted(s) for s in sent] == [["elb:endpoint", "elb:projectId", "elb:token",
                                               "project:port"]]
        assert stack.run_program(run, config={"port": 81}).outputs == {"port": "81"}
        assert len(sent) == 1
        assert stack.run_program(run, config={"port": 82}).outputs == {"port": "82"}
        assert sent[1:] == [{"project:port": ("82", False)}]
        stack.set_config(secrets={"port": 82})
        assert stack.run_program(run).outputs == {"port": "82"}
        assert sent[2:] == [{"project:port": ("82", True)}]
