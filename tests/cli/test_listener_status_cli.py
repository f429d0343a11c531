"""A listener the service keeps PENDING_CREATE, through the real CLI: ``up`` makes its health
check only once the listener is ACTIVE, and a listener that ends in ERROR is one error
naming it."""

from __future__ import annotations

import pytest

from fake_elb.engine import CliStack, HarnessError
from otc_elb_listener import HealthCheck, HealthCheckArgs, Listener, ListenerArgs
from tests.support import Elb


def _program(elb: Elb) -> None:
    web = Listener("web", ListenerArgs(**elb.inputs()))
    HealthCheck("web-check", HealthCheckArgs(listener_id=web.listener_id))


def test_the_health_check_waits_for_an_active_listener(cli_stack: CliStack,
                                                       elb: Elb) -> None:
    elb.control.set_listener_transition(create=2.0)
    plan = cli_stack.run_program(lambda: _program(elb))
    assert plan.ops() == {"web": "create", "web-check": "create"}
    calls = [(e["method"], e["path"].split("/elbaas/")[1].split("/")[0])
             for e in elb.control.requests]
    assert calls[0] == ("POST", "listeners") and calls[-1] == ("POST", "healthcheck")
    assert set(calls[1:-1]) == {("GET", "listeners")}  # polled until ACTIVE, then the check
    assert "ACTIVE after" in cli_stack.output


def test_a_listener_in_error_is_one_error_naming_it(cli_stack: CliStack, elb: Elb) -> None:
    elb.control.set_listener_transition(create=0.5, end="ERROR")
    with pytest.raises(HarnessError) as failed:
        cli_stack.run_program(lambda: _program(elb))
    polled = [e["path"] for e in elb.control.requests if e["method"] == "GET"]
    listener_id = polled[-1].rsplit("/", 1)[1]
    text = str(failed.value)
    assert f"ELB create of listener {listener_id} failed" in text and "status ERROR" in text
    assert "Traceback" not in text and failed.value.resource == "web"
    assert not any(e["path"].endswith("/healthcheck") for e in elb.control.requests)
