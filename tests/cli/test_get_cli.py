"""``Listener.get`` and its siblings: Pulumi's static lookup of live objects the stack does
not own, through the real CLI: every output is read from the live object, and neither
``up`` nor ``destroy`` changes or deletes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from fake_elb import ServerControl
from fake_elb.engine import CliStack, OfflineStack
from otc_elb_listener import HealthCheck, Listener, Member, Members
from tests.support import PROJECT, REPO, Elb

SERVER = ("88888888-0000-4000-8000-888888888888", "192.168.8.10")


def test_get_reads_live_objects_and_destroy_leaves_them(pulumi_cli: Path,
                                                        fake_elb_server: ServerControl
                                                        ) -> None:
    seen_plans = {}
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server)
        live = elb.control.add_listener(PROJECT, **elb.inputs(
            protocol="TCP", backend_protocol="TCP", port=9000))
        check = elb.control.add_healthcheck(PROJECT, listener_id=live["id"])

        def program(listener: str = live["id"], check_id: str = check["id"]) -> Any:
            seen = Listener.get("seen", listener)
            HealthCheck.get("seen-check", check_id)
            pulumi.export("port", seen.port)
            pulumi.export("listener_id", seen.listener_id)
            pulumi.export("name", seen.name)
            Members.get("seen-members", listener)

        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine:
            preview = engine.run_program(program, preview=True)
            plan = engine.run_program(program)
            destroyed = engine.destroy()
        assert plan.outputs == {"port": 9000, "listener_id": live["id"], "name": "web"}
        assert {e["method"] for e in elb.control.requests} == {"GET"}  # nothing written
        seen_plans[kind] = (preview.ops(), plan.ops(), destroyed.ops())
    assert seen_plans["cli"] == seen_plans["in-process"]
    assert set(seen_plans["cli"][1].values()) == {"read"}
    assert set(seen_plans["cli"][2].values()) == {"discard"}


def test_member_get_needs_its_listener(cli_stack: CliStack, elb: Elb) -> None:
    live = elb.control.add_listener(PROJECT, **elb.inputs(protocol="TCP",
                                                          backend_protocol="TCP"))
    elb.control.add_server(PROJECT, *SERVER, "web-1")
    elb.control.set_jobs(duration=0)
    import requests

    from fake_elb import DEFAULT_TOKEN

    base = f"{elb.control.url}/v1.0/{PROJECT}/elbaas/listeners/{live['id']}/members"
    requests.post(base, json=[{"server_id": SERVER[0], "address": SERVER[1]}],
                  headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10)
    member = requests.get(base, headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10).json()[0]

    def program() -> Any:
        found = Member.get("seen-member", member["id"], listener_id=live["id"])
        pulumi.export("server", found.server_id)

    plan = cli_stack.run_program(program)
    assert plan.outputs == {"server": SERVER[0]}
