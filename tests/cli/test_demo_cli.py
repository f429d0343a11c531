"""The README's main command on this machine: the demo runs the README's commands on the
program folder through the real CLI and its Python language host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from examples import deploy
from fake_elb import ServerControl


def test_the_demo_runs_the_readme_commands_on_the_program_folder(
        pulumi_cli: Path, fake_elb_server: ServerControl,
        capfd: pytest.CaptureFixture[str]) -> None:
    assert deploy.language_host_beside(str(pulumi_cli)), "the CLI tier needs the language host"
    lb = fake_elb_server.add_loadbalancer(deploy.PROJECT_ID)
    deploy.with_cli(str(pulumi_cli), fake_elb_server, lb)
    out = capfd.readouterr().out
    for command in ("$ pulumi stack init demo", "$ pulumi preview", "$ pulumi up --yes",
                    "$ pulumi refresh --yes", "$ pulumi destroy --yes"):
        assert command in out, command
    assert "+ 2 to create" in out  # the CLI's own preview summary
    # the preview's stack outputs: listener_id known (the listener keeps its identity), so
    # the keys are aligned to its width
    assert re.search(r"~ port +: 80 => 8081", out)
    assert "-> 200 {'port': 8081}" in out
    assert "- 2 deleted" in out
    # refresh reads in its preview pass and again in its update pass: one GET each
    assert [e["method"] for e in fake_elb_server.requests] == [
        "POST", "PUT", "GET", "GET", "DELETE"]
    assert not (deploy.ROOT / "Pulumi.demo.yaml").exists()
