"""Messages on a resource (``otc_elb_listener.report``): into the engine's ``Log`` channel in
a provider host, else the package's logger; never a failed step, never a terminal escape."""

from __future__ import annotations

from typing import Any

import pytest

from otc_elb_listener import report


def test_an_engine_that_does_not_answer_is_tried_once_per_process(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Every report waited out a 10 s deadline when argv[1] was no answering engine (a
    member reports on every poll)."""
    import grpc

    opened: list[str] = []

    class Dead:
        def __init__(self, address: str) -> None:
            opened.append(address)

        def __enter__(self) -> Any:
            raise grpc.RpcError("deadline exceeded")

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(report, "_engine_address", lambda: "127.0.0.1:9")
    monkeypatch.setattr(report, "_unreachable", False)
    monkeypatch.setattr(grpc, "insecure_channel", Dead)
    caplog.set_level("INFO", "otc_elb_listener")
    for poll in range(5):
        report.report(f"job RUNNING after {poll} s", warning=False, urn="urn:pulumi:x")
    assert opened == ["127.0.0.1:9"] and report.DEADLINE <= 2.0
    assert caplog.text.count("job RUNNING after") == 5  # the rest went to the log


def test_a_report_never_carries_a_control_character(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "otc_elb_listener")
    report.report("job \x1b]0;owned\x07\x1b[2J\nforged", warning=False, urn="")
    assert "\x1b" not in caplog.text and "\\x1b]0;owned\\x07\\x1b[2J\\nforged" in caplog.text
