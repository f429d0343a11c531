"""Errors a person can read, for every kind of resource and in both engines: one line under
the resource (what was being done, to which object, the service's code and message), no
Python traceback and no chained-exception text unless ``OTC_ELB_TRACEBACK=1`` asks for it;
and the same ``code``, ``status``, ``operation``, ``kind`` and ``resource`` on the
:class:`~fake_elb.HarnessError` of either engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_elb.engine import CliStack, HarnessError, OfflineStack
from fake_elb.service.certificates import self_signed
from otc_elb_listener import (
    Certificate,
    CertificateArgs,
    HealthCheck,
    HealthCheckArgs,
    Listener,
    ListenerArgs,
    Member,
    MemberArgs,
)
from tests.support import PROJECT, REPO, Elb

SERVER = ("77777777-0000-4000-8000-777777777777", "192.168.7.10")
CERT, KEY = self_signed()
TRACEBACK_WORDS = ("Traceback (most recent call last)", "The above exception",
                   "direct cause", 'File "')


def _run(declare: Callable[[], Any]) -> Callable[[], None]:
    def program() -> None:
        declare()
    return program


def _listener(elb: Elb) -> str:
    return str(elb.control.add_listener(PROJECT, **elb.inputs(protocol="TCP",
                                                            backend_protocol="TCP"))["id"])


def _failing(elb: Elb, kind: str) -> Callable[[], None]:
    """A program whose one resource of ``kind`` fails at up, and what makes it fail."""
    if kind == "listener":
        elb.control.faults.add(method="POST", path=r".*/listeners", status=409,
                               code="ELB.1001", times=1)
        return _run(lambda: Listener("web", ListenerArgs(**elb.inputs())))
    if kind == "health check":
        listener_id = _listener(elb)
        elb.control.faults.add(method="POST", path=r".*/healthcheck", status=409,
                               code="ELB.1001", times=1)
        return _run(lambda: HealthCheck("web-check", HealthCheckArgs(
            listener_id=listener_id)))
    if kind == "member":
        listener_id = _listener(elb)
        elb.control.set_jobs(next=[{"outcome": "fail", "error_code": "ELB.2005",
                                    "fail_reason": "the ECS is stopped"}])
        return _run(lambda: Member("web-1", MemberArgs(
            listener_id=listener_id, server_id=SERVER[0], address=SERVER[1])))
    elb.control.faults.add(method="POST", path=r".*/certificate", status=409,
                           code="ELB.1001", times=1)
    return _run(lambda: Certificate("web-cert", CertificateArgs(
        certificate=CERT, private_key=KEY)))


EXPECTED: dict[str, tuple[Any, ...]] = {
    "listener": ("ELB.1001", 409, "create", "listener", "web"),
    "health check": ("ELB.1001", 409, "create", "health check", "web-check"),
    "member": ("ELB.2005", None, "add member", "member", "web-1"),
    "certificate": ("ELB.1001", 409, "create", "certificate", "web-cert"),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_failure_is_one_readable_line_with_its_fields_in_both_engines(
        pulumi_cli: Path, elb: Elb, kind: str) -> None:
    seen = {}
    for engine_kind in ("cli", "in-process"):
        elb.control.reset()
        elb.__init__(elb.control)  # type: ignore[misc]
        elb.control.add_server(PROJECT, *SERVER, "web-1")
        program = _failing(elb, kind)
        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if engine_kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine, pytest.raises(HarnessError) as failed:
            engine.run_program(program)
        text = str(failed.value) + (engine.output if engine_kind == "cli" else "")
        assert not any(word in text for word in TRACEBACK_WORDS), (engine_kind, text)
        assert f"ELB {EXPECTED[kind][2]} of {kind}" in text
        error = failed.value
        seen[engine_kind] = (error.code, error.status, error.operation, error.kind,
                             error.resource)
    assert seen["cli"] == seen["in-process"] == EXPECTED[kind]


def test_a_failed_member_job_names_the_member_and_the_listener(pulumi_cli: Path,
                                                               elb: Elb) -> None:
    elb.control.add_server(PROJECT, *SERVER, "web-1")
    program = _failing(elb, "member")
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack, pytest.raises(HarnessError) as failed:
        stack.run_program(program)
    lines = [line.strip() for line in str(failed.value).splitlines()
             if "ELB add member" in line]
    assert lines and all(f"(ECS {SERVER[0]} on listener " in line for line in lines)
    assert "ELB.2005: job " in lines[0] and "the ECS is stopped" in lines[0]


def test_the_traceback_is_there_when_asked_for(pulumi_cli: Path, elb: Elb,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTC_ELB_TRACEBACK", "1")
    program = _failing(elb, "listener")
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack, pytest.raises(HarnessError) as failed:
        stack.run_program(program)
    assert "Traceback (most recent call last)" in str(failed.value)


def test_missing_credentials_are_one_line_listing_every_way_to_sign_in(
        pulumi_cli: Path, elb: Elb) -> None:
    with CliStack(config=elb.config, cli=pulumi_cli, pythonpath=[REPO]) as stack, \
            pytest.raises(HarnessError) as failed:
        stack.run_program(_run(lambda: Listener("web", ListenerArgs(**elb.inputs()))))
    text = str(failed.value)
    assert not any(word in text for word in TRACEBACK_WORDS), text
    for way in ("elb:accessKey", "elb:userName", "elb:cloud", "clouds.yaml", "elb:token",
                "OS_ACCESS_KEY", "OS_AUTH_TOKEN"):
        assert way in text, way


REFUSED: dict[str, tuple[Callable[[Elb], Any], str, str]] = {
    "listener": (lambda elb: Listener("web", ListenerArgs(**elb.inputs(port=70000))),
                 "port", "ELB.6041"),
    "health check": (lambda elb: HealthCheck("web-check", HealthCheckArgs(
        listener_id="a" * 32, healthcheck_interval=0)), "healthcheck_interval", "ELB.7001"),
    "member": (lambda elb: Member("web-1", MemberArgs(listener_id="a" * 32,
                                                      server_id=SERVER[0],
                                                      address="300.0.0.1")),
               "address", "ELB.1001"),
    "certificate": (lambda elb: Certificate("web-cert", CertificateArgs(
        certificate="not pem", private_key=KEY)), "certificate", "ELB.1011"),
}


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_check_failure_has_property_reason_and_code_in_both_engines(
        pulumi_cli: Path, elb: Elb, kind: str) -> None:
    from fake_elb.engine import CheckFailed

    declare, prop, code = REFUSED[kind]
    seen = {}
    for engine_kind in ("cli", "in-process"):
        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if engine_kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine, pytest.raises(CheckFailed) as refused:
            engine.run_program(_run(lambda: declare(elb)), preview=True)
        first = refused.value.failures[0]
        seen[engine_kind] = (first.property, first.code, refused.value.code,
                             first.reason == first[1])
    assert seen["cli"] == seen["in-process"] == (prop, code, code, True)


def test_a_key_that_is_not_the_certificates_is_one_line_at_preview(pulumi_cli: Path,
                                                                   elb: Elb) -> None:
    _, other_key = self_signed()
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack, pytest.raises(HarnessError) as refused:
        stack.run_program(_run(lambda: Certificate("web-cert", CertificateArgs(
            certificate=CERT, private_key=other_key))), preview=True)
    text = str(refused.value)
    assert not any(word in text for word in TRACEBACK_WORDS), text
    assert "private_key" in text and "must belong to the certificate" in text
    assert elb.control.requests == []
