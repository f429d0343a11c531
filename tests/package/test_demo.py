"""The README's main command: its CLI branch's commands (with a stand-in ``pulumi`` that
records them: the real CLI cannot be installed here) and its offline branch end to end."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from examples import deploy
from fake_elb import ServerControl
from tests.support import PROJECT


def test_cli_branch_runs_preview_up_update_destroy_with_a_local_backend(
        tmp_path: Path, fake_elb_server: ServerControl) -> None:
    log = tmp_path / "calls.jsonl"
    stub = tmp_path / "pulumi"
    stub.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    f"open({str(log)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
                    "'backend': os.environ.get('PULUMI_BACKEND_URL'), "
                    "'passphrase': os.environ.get('PULUMI_CONFIG_PASSPHRASE')}) + '\\n')\n")
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    lb = fake_elb_server.add_loadbalancer(PROJECT)
    deploy.with_cli(str(stub), fake_elb_server, lb)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    commands = [" ".join(a for a in c["argv"] if not a.startswith("/")) for c in calls]
    assert all(c["backend"].startswith("file://") and c["passphrase"] == "" for c in calls)
    assert all(c["argv"][-1] == "--non-interactive" for c in calls)
    assert commands[0] == "stack init demo --non-interactive"
    assert any(c.startswith(f"config set --config-file elb:endpoint {fake_elb_server.url}")
               for c in commands)
    assert any("--secret elb:token" in c for c in commands)
    verbs = [c.split(" --")[0] for c in commands if not c.startswith("config")]
    assert verbs == ["stack init demo", "preview", "up", "up", "refresh", "destroy", "stack rm"]
    assert commands.index(next(c for c in commands if "port 8081" in c)) > \
        commands.index(next(c for c in commands if c.startswith("up")))
    assert not (Path(deploy.ROOT) / "Pulumi.demo.yaml").exists()  # state stays in the tmp dir


def test_offline_branch_creates_then_updates_one_port(
        fake_elb_server: ServerControl, capsys: pytest.CaptureFixture[str]) -> None:
    lb = fake_elb_server.add_loadbalancer(deploy.PROJECT_ID)
    deploy.with_harness(fake_elb_server, lb)
    out = capsys.readouterr().out
    assert "+ create   web" in out and "~ update   web  changed: port" in out
    assert "-> 200 {'port': 8081}" in out and "- delete   web" in out
    methods = [e["method"] for e in fake_elb_server.requests]
    assert methods == ["POST", "PUT", "DELETE"]
