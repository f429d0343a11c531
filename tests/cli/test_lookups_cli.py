"""Lookups (``get_listener`` and its siblings) in a program, through both engines: the API
read with the provider's settings at preview and at up, typed results named as the
resources' outputs, and one clear error for nothing or more than one match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from fake_elb import ServerControl
from fake_elb.engine import CliStack, HarnessError, OfflineStack
from otc_elb_listener import (
    get_certificate,
    get_health_check,
    get_listener,
    get_listener_output,
    get_listeners,
    get_members,
)
from tests.support import PROJECT, REPO, Elb


def _engine(kind: str, elb: Elb, cli: Path) -> Any:
    if kind == "cli":
        return CliStack(config=elb.config, secrets=elb.secrets, cli=cli, pythonpath=[REPO])
    return OfflineStack(config=elb.config, secrets=elb.secrets, cwd=REPO)


@pytest.mark.parametrize("kind", ["cli", "in-process"])
def test_lookups_read_the_live_estate(pulumi_cli: Path, fake_elb_server: ServerControl,
                                      kind: str) -> None:
    elb = Elb(fake_elb_server)
    web = elb.control.add_listener(PROJECT, **elb.inputs(name="web", port=80))
    elb.control.add_listener(PROJECT, **elb.inputs(name="api", port=81))
    check = elb.control.add_healthcheck(PROJECT, listener_id=web["id"])
    cert = elb.control.add_certificate(PROJECT)

    def program() -> None:
        found = get_listener(loadbalancer_id=elb.lb, port=80)
        pulumi.export("by_port", found.listener_id)
        pulumi.export("port", found.port)
        pulumi.export("by_output", get_listener_output(web["id"]).apply(lambda r: r.name))
        pulumi.export("names", sorted(r.name for r in get_listeners(elb.lb)))
        pulumi.export("check", get_health_check(check["id"]).listener_id)
        pulumi.export("members", len(get_members(web["id"])))
        pulumi.export("cert", get_certificate(cert["id"]).certificate_id)

    with _engine(kind, elb, pulumi_cli) as engine:
        preview = engine.run_program(program, preview=True)
        plan = engine.run_program(program)
    expected = {"by_port": web["id"], "port": 80, "by_output": "web",
                "names": ["api", "web"], "check": web["id"], "members": 0,
                "cert": cert["id"]}
    assert plan.outputs == expected
    assert preview.outputs["by_port"] == web["id"]  # read at preview too
    assert {e["method"] for e in elb.control.requests} == {"GET"}


@pytest.mark.parametrize("kind", ["cli", "in-process"])
def test_nothing_or_two_matches_is_one_clear_error(pulumi_cli: Path,
                                                   fake_elb_server: ServerControl,
                                                   kind: str) -> None:
    elb = Elb(fake_elb_server)
    elb.control.add_listener(PROJECT, **elb.inputs(name="web", port=80))
    elb.control.add_listener(PROJECT, **elb.inputs(name="web", port=81))
    with _engine(kind, elb, pulumi_cli) as engine:
        with pytest.raises(HarnessError, match=r"2 listeners match loadbalancer_id=.*, "
                                               r"name='web'; give more to tell them apart"):
            engine.run_program(lambda: get_listener(loadbalancer_id=elb.lb, name="web"),
                               preview=True)
        with pytest.raises(HarnessError, match=r"no listeners match .*port=99"):
            engine.run_program(lambda: get_listener(loadbalancer_id=elb.lb, port=99),
                               preview=True)
