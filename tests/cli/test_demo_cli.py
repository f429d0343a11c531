"""The README's main command on this machine: the demo through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples import deploy
from fake_elb import ServerControl


def test_the_demo_shows_real_cli_output_and_the_api_calls(
        pulumi_cli: Path, fake_elb_server: ServerControl,
        capsys: pytest.CaptureFixture[str]) -> None:
    lb = fake_elb_server.add_loadbalancer(deploy.PROJECT_ID)
    deploy.with_built_cli(pulumi_cli, fake_elb_server, lb)
    out = capsys.readouterr().out
    assert "+ 2 to create" in out  # the CLI's own preview summary
    assert "[diff: ~port]" in out and "~ port: 80 => 8081" in out
    assert "-> 200 {'port': 8081}" in out
    assert "- 2 deleted" in out
    assert [e["method"] for e in fake_elb_server.requests] == ["POST", "PUT", "DELETE"]
