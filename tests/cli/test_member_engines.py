"""A listener, its health check and three members in one ``up``, through both engines: the same
plan and the same calls (job polls aside: their number depends on timing). Preview makes no
call; members are added in parallel by the CLI and the job's progress shows on each member; a
changed health check interval is one PUT of it, a member left out is one remove; destroy goes
in dependency order (members and health check, then the listener)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fake_elb import ServerControl
from fake_elb.engine import CliStack, HarnessError, OfflineStack
from otc_elb_listener import (
    HealthCheck,
    HealthCheckArgs,
    Listener,
    ListenerArgs,
    Member,
    MemberArgs,
)
from tests.support import PROJECT, REPO, Elb

SERVERS = [(f"{i}" * 8 + "-0000-4000-8000-" + f"{i}" * 12, f"192.168.1.{10 + i}")
           for i in range(1, 4)]


def _program(elb: Elb, servers: list[tuple[str, str]], interval: int = 5) -> Any:
    def program() -> None:
        web = Listener("web", ListenerArgs(**elb.inputs(protocol="TCP", backend_protocol="TCP")))
        HealthCheck("web-check", HealthCheckArgs(listener_id=web.listener_id,
                                                 healthcheck_interval=interval))
        for index, (server, address) in enumerate(servers):
            Member(f"web-{index}", MemberArgs(listener_id=web.listener_id, server_id=server,
                                              address=address))
    return program


def _calls(elb: Elb, since: int) -> list[str]:
    """Method and last path part of each call, job polls and member lists aside."""
    found = []
    for entry in elb.control.requests[since:]:
        path = entry["path"]
        if "/jobs/" in path or (entry["method"] == "GET" and path.endswith("/members")):
            continue
        last = path.rsplit("/", 1)[1] if "members" in path else \
            path.split("/elbaas/")[1].split("/")[0]
        found.append(f"{entry['method']} {last}")
    return sorted(found)


def _run(engine: Any, elb: Elb) -> list[Any]:
    seen = []
    for call in (lambda: engine.run_program(_program(elb, SERVERS), preview=True),
                 lambda: engine.run_program(_program(elb, SERVERS)),
                 lambda: engine.run_program(_program(elb, SERVERS[:2], interval=9)),
                 engine.destroy):
        since = elb.mark()
        plan = call()
        seen.append((sorted(plan.ops().items()), _calls(elb, since)))
    return seen


def test_members_run_alike_through_both_engines(pulumi_cli: Path,
                                                fake_elb_server: ServerControl) -> None:
    results = {}
    output = ""
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id="c3" * 16)
        for server, address in SERVERS:
            fake_elb_server.add_server(PROJECT, server, address)
        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine:
            results[kind] = _run(engine, elb)
            output = engine.output if kind == "cli" else output
    assert results["in-process"] == results["cli"]
    preview, up, fewer, destroy = results["cli"]
    assert preview[1] == []  # zero calls at preview
    assert up[1].count("POST members") == 3 and "POST healthcheck" in up[1]
    assert fewer == ([("web", "same"), ("web-0", "same"), ("web-1", "same"),
                      ("web-2", "delete"), ("web-check", "update")],
                     ["POST action", "PUT healthcheck"])
    assert elb.control.requests and any(
        e["body"] == {"healthcheck_interval": 9} for e in elb.control.requests)
    assert destroy[1] == sorted(["POST action", "POST action", "DELETE healthcheck",
                                 "DELETE listeners"])
    assert f"member {SERVERS[0][0]}: job" in output and "SUCCESS" in output


def test_a_failed_job_reaches_the_terminal_escaped(cli_stack: CliStack, elb: Elb) -> None:
    """A job's ``fail_reason`` and ``error_code`` carried escape sequences and newlines into
    the CLI's output (a retitled terminal, a cleared screen, a forged line)."""
    from fake_elb.engine import CliFailed
    from otc_elb_listener import Member, MemberArgs

    elb.control.add_server(PROJECT, SERVERS[0][0], SERVERS[0][1], "web-1")
    elb.control.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005\x1b[2J",
                                "fail_reason": "\x1b]0;owned\x07\nDiagnostics: forged"}])
    listener_id = elb.control.add_listener(PROJECT, **elb.inputs(protocol="TCP",
                                                                backend_protocol="TCP"))["id"]

    def program() -> None:
        Member("web-1", MemberArgs(listener_id=listener_id, server_id=SERVERS[0][0],
                                   address=SERVERS[0][1]))

    try:
        cli_stack.run_program(program)
    except CliFailed as failed:
        output = str(failed) + cli_stack.output
    else:
        raise AssertionError("the add's job failed: up must fail")
    assert "\x1b" not in output and "\x07" not in output
    assert "\\x1b]0;owned\\x07\\nDiagnostics: forged" in output
    assert "\nDiagnostics: forged" not in output


def test_a_failed_members_batch_leaves_the_state_the_service_has(
        pulumi_cli: Path, fake_elb_server: ServerControl) -> None:
    """Through both engines: the batch's job fails, ``up`` fails naming its members, and the
    state holds what the listener holds (a partial failure the engine records); the next
    ``up`` adds them."""
    from otc_elb_listener import Members, MembersArgs

    servers = [*SERVERS, ("44444444-0000-4000-8000-444444444444", "192.168.1.14")]
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id="c4" * 16)
        for server, address in servers:
            fake_elb_server.add_server(PROJECT, server, address)
        listener_id = fake_elb_server.add_listener(PROJECT, **elb.inputs(
            protocol="TCP", backend_protocol="TCP"))["id"]

        def program(count: int, listener: str = listener_id) -> Any:
            def declare() -> None:
                Members("web-members", MembersArgs(listener_id=listener, members=[
                    {"server_id": s, "address": a} for s, a in servers[:count]]))
            return declare

        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine:
            assert engine.run_program(program(2)).ops() == {"web-members": "create"}
            fake_elb_server.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005",
                                            "fail_reason": "no capacity"}])
            with pytest.raises(HarnessError) as failed:
                engine.run_program(program(4))
            assert f"ECS {servers[3][0]}" in str(failed.value)
            stored = _members_state(engine, kind)
            live = sorted(m["server_id"] for m in _live(fake_elb_server, listener_id))
            assert sorted(m["server_id"] for m in stored) == live == sorted(
                s for s, _ in servers[:2]), kind
            assert engine.run_program(program(4)).ops() == {"web-members": "update"}
            assert len(_live(fake_elb_server, listener_id)) == 4


def _members_state(engine: Any, kind: str) -> list[dict[str, Any]]:
    if kind == "cli":
        [state] = [r for r in engine.export()["resources"] if r["type"].endswith(":Members")]
        return list(state["outputs"]["listener_members"])
    return list(engine.state["web-members"].outputs["listener_members"])


def _live(fake: ServerControl, listener_id: str) -> list[dict[str, Any]]:
    import requests

    from fake_elb import DEFAULT_TOKEN

    answer = requests.get(f"{fake.url}/v1.0/{PROJECT}/elbaas/listeners/{listener_id}/members",
                          headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10).json()
    return list(answer) if isinstance(answer, list) else []
