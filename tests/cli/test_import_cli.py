"""Taking a whole estate over, through the real CLI: ``otc-elb import`` writes the program
for one load balancer's listeners (HTTP, TCP, HTTPS with its certificate), a health check
and members, leaving another load balancer out; ``pulumi up`` imports everything with zero
writes and every live object unchanged; ``pulumi preview --expect-no-changes`` passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fake_elb import DEFAULT_TOKEN, ServerControl
from fake_elb.engine import CliStack
from tests.support import PROJECT, Elb

SERVERS = [("ecs-a", "192.168.9.10"), ("ecs-b", "192.168.9.11")]


def _import(fake: ServerControl, out: Path,
            *loadbalancers: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELB_ENDPOINT": fake.url, "OS_PROJECT_ID": PROJECT,
           "OS_AUTH_TOKEN": DEFAULT_TOKEN}
    args = [arg for lb in loadbalancers for arg in ("--loadbalancer", lb)]
    return subprocess.run([sys.executable, "-m", "otc_elb_listener", "import", *args,
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_an_estate_is_imported_with_zero_writes(pulumi_cli: Path, elb: Elb,
                                                tmp_path: Path) -> None:
    control = elb.control
    control.set_strict(False)
    other = control.add_loadbalancer(PROJECT)["id"]
    control.add_listener(PROJECT, **elb.inputs(name="elsewhere", loadbalancer_id=other))
    cert = control.add_certificate(PROJECT)
    control.add_listener(PROJECT, **elb.inputs(name="web", port=80, description="site"))
    tcp = control.add_listener(PROJECT, **elb.inputs(name="db", protocol="TCP",
                                                     backend_protocol="TCP", port=5432))
    control.add_listener(PROJECT, **elb.inputs(name="tls", protocol="HTTPS", port=443,
                                               certificate_id=cert["id"]))
    control.add_healthcheck(PROJECT, listener_id=tcp["id"], healthcheck_interval=7)
    control.set_jobs(duration=0)
    for server, address in SERVERS:
        control.add_server(PROJECT, server, address)
    import requests

    requests.post(f"{control.url}/v1.0/{PROJECT}/elbaas/listeners/{tcp['id']}/members",
                  json=[{"server_id": s, "address": a} for s, a in SERVERS],
                  headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10)
    before = control.dump_state()
    out = tmp_path / "estate"
    made = _import(control, out, elb.lb)
    assert made.returncode == 0, made.stderr
    assert f"load balancer {elb.lb}: 3 listeners, 1 health checks, 2 members" in made.stderr
    [line] = made.stdout.splitlines()
    key = line.split()[4]
    assert line.startswith(f"pulumi config set --secret {key} ")
    code = (out / "__main__.py").read_text()
    # a certificate, three listeners, a health check, the members: one resource each
    assert "elsewhere" not in code and code.count("import_=") == 6
    assert _import(control, tmp_path / "again", elb.lb).returncode == 0
    assert (tmp_path / "again" / "__main__.py").read_text() == code  # the same file
    live_key = next(c["private_key"] for c in requests.get(
        f"{control.url}/v1.0/{PROJECT}/elbaas/certificate",
        headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10).json()["certificates"])
    since = len(control.requests)
    with CliStack(config=elb.config, secrets={**elb.secrets, key: live_key}, cli=pulumi_cli,
                  program_dir=out) as stack:
        up = stack.run_program(out)
        assert set(up.ops().values()) == {"create"} and len(up.ops()) == 6
        assert {e["method"] for e in control.requests[since:]} == {"GET"}  # zero writes
        stack.run_program(out, preview=True, expect_no_changes=True)
    assert json.dumps(control.dump_state(), sort_keys=True) == json.dumps(before,
                                                                          sort_keys=True)


def test_an_unknown_load_balancer_is_one_clear_error(elb: Elb, tmp_path: Path) -> None:
    made = _import(elb.control, tmp_path / "out", "f" * 32)
    assert made.returncode == 2 and "Traceback" not in made.stderr
    assert f"load balancer {'f' * 32}" in made.stderr and "no listener" in made.stderr
