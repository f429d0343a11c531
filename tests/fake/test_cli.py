"""``fake-elb serve`` as a user runs it: one-line errors, loopback unless told, an access log."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import requests

from fake_elb.transport.client import stop_process


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fake_elb", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.startswith("fake-elb ")


@pytest.mark.parametrize(("args", "words"), [
    (["--port", "70000"], "out of range"),
    (["--port", "http"], "not a port number"),
    (["--host", "no-such-host.invalid"], "does not resolve"),
    (["--host", "0.0.0.0"], "--allow-remote"),
])
def test_mistakes_are_one_line_errors(args: list[str], words: str) -> None:
    result = _run("serve", *args)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line or
                "fake-elb:" in line]) >= 1


def test_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run("serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "the port is in use" in result.stderr


def test_access_log_and_how_to_stop() -> None:
    process = subprocess.Popen([sys.executable, "-m", "fake_elb", "serve", "--log"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip()
        assert "stop it with Ctrl-C" in process.stderr.readline()
        requests.get(f"{url}/v1.0/p/elbaas/listeners?port=80", timeout=10)
        line = process.stderr.readline()
        assert line.startswith("GET /v1.0/p/elbaas/listeners 403 ") and line.endswith("ms\n")
        assert "port=80" not in line
    finally:
        stop_process(process)  # type: ignore[arg-type]


def test_remote_binding_needs_the_flag_and_warns() -> None:
    process = subprocess.Popen([sys.executable, "-m", "fake_elb", "serve", "--host", "0.0.0.0",
                                "--allow-remote"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        assert "WARNING" in process.stderr.readline()
    finally:
        stop_process(process)  # type: ignore[arg-type]
