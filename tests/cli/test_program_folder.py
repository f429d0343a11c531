"""The four resources together in a program folder (``examples/https_listener``), run as a
user runs it: the real CLI and its Python language host, against ``fake-elb serve``. An
HTTPS listener, its certificate, its health check and three members: the preview makes no
call; ``up`` is the POSTs and the jobs' polls; a changed health check interval is one PUT;
one more member is one job; a certificate rotation is one ``up``; destroy goes in
dependency order (members, health check, listener, certificate). The private key is a
secret in state (input and output, read in ``pulumi stack export``) and never in the state
file, the CLI's output or the fake's journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_elb.engine import CliStack
from fake_elb.service.certificates import self_signed
from tests.support import PROJECT, REPO, Elb

#: How ``pulumi stack export`` marks a secret value.
SECRET_SIG, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
FOLDER = REPO / "examples" / "https_listener"
SERVERS = [{"name": f"{i}", "id": f"{i}" * 8 + "-0000-4000-8000-" + f"{i}" * 12,
            "address": f"192.168.2.{10 + i}"} for i in range(1, 5)]


@pytest.fixture
def folder_stack(pulumi_cli: Path, elb: Elb) -> Iterator[CliStack]:
    for server in SERVERS:
        elb.control.add_server(PROJECT, server["id"], server["address"], server["name"])
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  program_dir=FOLDER) as stack:
        yield stack


def _calls(elb: Elb, since: int) -> list[str]:
    """Each API call as ``METHOD last-path-part``, job polls counted apart as ``GET job``."""
    found = []
    for entry in elb.control.requests[since:]:
        path = entry["path"]
        if "/jobs/" in path:
            found.append("GET job")
            continue
        tail = path.split("/elbaas/")[1].split("/")
        part = tail[-1] if tail[-1] in ("members", "action") else tail[0]
        found.append(f"{entry['method']} {part}")
    return found


def _config(elb: Elb, cert: str, servers: list[dict[str, str]], interval: int = 10
            ) -> dict[str, Any]:
    return {"loadbalancerId": elb.lb, "certificate": cert, "servers": json.dumps(servers),
            "healthcheckInterval": interval}


def test_the_four_resources_in_a_program_folder(folder_stack: CliStack, elb: Elb) -> None:
    cert, key = self_signed("www.example.com")
    folder_stack.set_config(secrets={"privateKey": key})
    three = SERVERS[:3]
    since = elb.mark()
    preview = folder_stack.run_program(FOLDER, config=_config(elb, cert, three), preview=True)
    assert set(preview.ops().values()) == {"create"} and len(preview.ops()) == 6
    assert _calls(elb, since) == []  # zero calls at preview
    since = elb.mark()
    up = folder_stack.run_program(FOLDER, config=_config(elb, cert, three))
    made = _calls(elb, since)
    assert made[:2] == ["POST certificate", "POST listeners"]  # then the check and members
    assert sorted(c for c in made if c != "GET job") == sorted(
        ["POST certificate", "POST listeners", "POST healthcheck"] + ["POST members"] * 3
        + ["GET members"] * 3)  # each add, and one read of the member it made
    assert 3 <= made.count("GET job") <= 6  # a job of 0.2 s is seen done by its first poll
    assert up.outputs["listener_id"]
    [state] = [r for r in folder_stack.export()["resources"]
               if r["type"].endswith("elb:Certificate")]
    for where in ("inputs", "outputs"):  # the key is a secret in state, input and output
        assert state[where]["private_key"].get(SECRET_SIG) == SECRET_VALUE
    since = elb.mark()
    plan = folder_stack.run_program(FOLDER, config=_config(elb, cert, three, interval=20))
    assert [n for n, op in plan.ops().items() if op != "same"] == ["web-check"]
    assert _calls(elb, since) == ["PUT healthcheck"]
    assert elb.control.requests[-1]["body"] == {"healthcheck_interval": 20}
    since = elb.mark()
    plan = folder_stack.run_program(FOLDER, config=_config(elb, cert, SERVERS, interval=20))
    assert {n: op for n, op in plan.ops().items() if op != "same"} == {"web-4": "create"}
    assert [c for c in _calls(elb, since) if c != "GET job"] == ["POST members", "GET members"]
    new_cert, new_key = self_signed("www.example.com")
    folder_stack.set_config(secrets={"privateKey": new_key})
    since = elb.mark()
    plan = folder_stack.run_program(FOLDER, config=_config(elb, new_cert, SERVERS, interval=20))
    assert {n: op for n, op in plan.ops().items() if op != "same"} == {
        "web-cert": "replace", "web": "update"}
    assert _calls(elb, since) == ["POST certificate", "PUT listeners", "DELETE certificate"]
    since = elb.mark()
    folder_stack.destroy()
    gone = [c for c in _calls(elb, since) if c != "GET job"]
    assert sorted(gone[:5]) == ["DELETE healthcheck"] + ["POST action"] * 4
    assert gone[5:] == ["DELETE listeners", "DELETE certificate"]
    assert f"member {SERVERS[0]['id']}: job" in folder_stack.output  # progress, on the member
    everywhere = "\n".join([folder_stack.output, folder_stack.state_text(),
                            json.dumps(elb.control.requests)])
    for secret in (key, new_key):
        for line in secret.splitlines()[1:-1]:
            assert line not in everywhere
