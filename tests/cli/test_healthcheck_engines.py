"""A listener and its health check through both engines: the same plan and the same API calls
(preview with zero calls, one POST each, a changed interval is one PUT, destroy in dependency
order), as a user's program makes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_elb import ServerControl
from fake_elb.engine import CliStack, OfflineStack
from otc_elb_listener import HealthCheck, HealthCheckArgs, Listener, ListenerArgs
from tests.cli.conftest import REPO, Elb


def _program(elb: Elb, interval: int) -> Any:
    def program() -> None:
        web = Listener("web", ListenerArgs(**elb.inputs()))
        HealthCheck("web-check", HealthCheckArgs(listener_id=web.listener_id,
                                                 healthcheck_interval=interval,
                                                 healthcheck_uri="/health"))
    return program


def _calls(elb: Elb, since: int) -> list[tuple[str, str, Any]]:
    """(method, collection, body), the listener's ID (new in each run) as ``<listener>``."""
    return [(e["method"], e["path"].rsplit("/elbaas/", 1)[1].split("/")[0],
             {**e["body"], "listener_id": "<listener>"} if isinstance(e["body"], dict)
             and "listener_id" in e["body"] else e["body"])
            for e in elb.control.requests[since:]]


def _run(engine: Any, elb: Elb) -> list[Any]:
    seen: list[Any] = []
    for call in (lambda: engine.run_program(_program(elb, 5), preview=True),
                 lambda: engine.run_program(_program(elb, 5)),
                 lambda: engine.run_program(_program(elb, 9)),
                 engine.destroy):
        since = elb.mark()
        plan = call()
        seen.append((sorted(plan.ops().items()), _calls(elb, since)))
    return seen


def test_a_health_check_runs_alike_through_both_engines(
        pulumi_cli: Path, fake_elb_server: ServerControl) -> None:
    results = {}
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id="c2" * 16)
        engine: Any = CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                               pythonpath=[REPO]) if kind == "cli" else OfflineStack(
            config=elb.config, secrets=elb.secrets, cwd=REPO)
        with engine:
            results[kind] = _run(engine, elb)
    assert results["in-process"] == results["cli"]
    preview, up, change, destroy = results["cli"]
    assert preview == ([("web", "create"), ("web-check", "create")], [])
    assert [(m, p) for m, p, _ in up[1]] == [("POST", "listeners"), ("POST", "healthcheck")]
    assert up[1][1][2]["healthcheck_uri"] == "/health"
    assert change == ([("web", "same"), ("web-check", "update")],
                      [("PUT", "healthcheck", {"healthcheck_interval": 9})])
    assert [(m, p) for m, p, _ in destroy[1]] == [("DELETE", "healthcheck"),
                                                  ("DELETE", "listeners")]
