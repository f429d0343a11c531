"""The in-process engine (``fake_elb.engine.OfflineStack``) must agree with the real CLI:
every scenario runs through both, against the same fake, and must give the same plan
(operation, changed properties, replacement keys and order per resource) and the same API
calls."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_elb import ServerControl
from fake_elb.engine import CliStack, HarnessError, OfflineStack, Plan
from tests.support import PROJECT, REPO, Api, Elb

#: Both engines see the same load balancer, so their API journals compare equal.
LB_ID = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
Engine = Any  # OfflineStack or CliStack: the same operations
Scenario = Callable[[Engine, Elb, "Record"], None]


class Record(list[Any]):
    """What one engine did, operation by operation: its plan (steps sorted by resource: a
    program registers independent resources in no fixed order) and the API calls it made."""

    def __init__(self, control: ServerControl) -> None:
        super().__init__()
        self.control = control
        self.seen = 0

    def calls(self) -> list[tuple[str, str, int | None, str]]:
        """The calls since the last look, listener IDs blanked, in a stable order."""
        entries = self.control.requests
        new, self.seen = entries[self.seen:], len(entries)
        return sorted((e["method"], re.sub(r"(?<=listeners/)[0-9a-f]{32}", "<id>", e["path"]),
                       e["status"], json.dumps(e["body"], sort_keys=True)) for e in new)


def _attempt(record: Record, what: str, call: Callable[[], Plan]) -> None:
    record.calls()  # set-up calls between operations are not the engine's
    try:
        plan = call()
    except HarnessError as error:
        codes = sorted(set(re.findall(r"ELB\.\d{4}", str(error))))
        record.append((what, "failed", codes, record.calls()))
        return
    steps = sorted((s.op, s.name, s.changed, s.replaces,
                    s.delete_before_replace if s.op == "replace" else None) for s in plan.steps)
    record.append((what, steps, record.calls()))


def _listener_id(engine: Engine, name: str = "web") -> str:
    if isinstance(engine, OfflineStack):
        return engine.state[name].id
    resources = engine.export()["resources"]
    return str(next(r["id"] for r in resources if r["urn"].endswith(f"::{name}")))


def lifecycle(engine: Engine, elb: Elb, record: Record) -> None:
    web = elb.listener
    _attempt(record, "preview new", lambda: engine.preview([web()]))
    _attempt(record, "up new", lambda: engine.up([web()]))
    _attempt(record, "up same", lambda: engine.up([web()]))
    port = elb.inputs(port=8081)
    _attempt(record, "preview port", lambda: engine.preview([web(inputs=port)]))
    _attempt(record, "up port", lambda: engine.up([web(inputs=port)]))
    tcp = elb.inputs(port=8081, protocol="TCP", backend_protocol="TCP")
    _attempt(record, "replace same port", lambda: engine.up([web(inputs=tcp)]))
    moved = {**tcp, "port": 8082, "backend_port": 81}
    _attempt(record, "replace new port", lambda: engine.up([web(inputs=moved)]))
    _attempt(record, "destroy", engine.destroy)


def drift(engine: Engine, elb: Elb, record: Record) -> None:
    engine.up([elb.listener()])
    api = Api(elb.control.url)
    api.put(_listener_id(engine), {"backend_port": 9090, "description": "by hand"})
    _attempt(record, "refresh drift", engine.refresh)
    _attempt(record, "up repairs", lambda: engine.up([elb.listener()]))
    api.delete(_listener_id(engine))
    _attempt(record, "refresh gone", engine.refresh)
    _attempt(record, "up again", lambda: engine.up([elb.listener()]))


def options(engine: Engine, elb: Elb, record: Record) -> None:
    engine.up([elb.listener(retain_on_delete=True)])
    _attempt(record, "ignored port", lambda: engine.up([elb.listener(
        inputs=elb.inputs(port=81), ignore_changes=["port"], retain_on_delete=True)]))
    tcp = elb.inputs(protocol="TCP", backend_protocol="TCP")
    _attempt(record, "explicit create first", lambda: engine.up([elb.listener(
        inputs=tcp, delete_before_replace=False, retain_on_delete=True)]))
    _attempt(record, "explicit delete first", lambda: engine.up([elb.listener(
        inputs={**tcp, "port": 90}, delete_before_replace=True)]))
    two = [elb.listener("a", inputs=elb.inputs(port=91, name="a")),
           elb.listener("b", inputs=elb.inputs(port=92, name="b"))]
    _attempt(record, "swap for two", lambda: engine.up(two))
    _attempt(record, "drop one", lambda: engine.up(two[:1]))
    _attempt(record, "destroy", engine.destroy)


def check_failures(engine: Engine, elb: Elb, record: Record) -> None:
    _attempt(record, "bad port", lambda: engine.preview([elb.listener(
        inputs=elb.inputs(port=70000))]))
    _attempt(record, "https without certificate", lambda: engine.up([elb.listener(
        inputs=elb.inputs(protocol="HTTPS"))]))
    _attempt(record, "then a good one", lambda: engine.up([elb.listener()]))


@pytest.mark.parametrize("scenario", [lifecycle, drift, options, check_failures],
                         ids=lambda s: s.__name__)
def test_both_engines_give_the_same_plan_and_the_same_api_calls(
        scenario: Scenario, pulumi_cli: Path, fake_elb_server: ServerControl) -> None:
    outcomes = {}
    for kind in ("cli", "in-process"):
        fake_elb_server.reset()
        elb = Elb(fake_elb_server, lb_id=LB_ID)
        record = Record(fake_elb_server)
        engine: Any = (CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                                pythonpath=[REPO]) if kind == "cli" else
                       OfflineStack(config=elb.config, secrets=elb.secrets, cwd=REPO))
        with engine:
            scenario(engine, elb, record)
        outcomes[kind] = record
    for cli_step, our_step in zip(outcomes["cli"], outcomes["in-process"], strict=True):
        assert our_step == cli_step
    assert all(PROJECT in entry["path"] for entry in fake_elb_server.requests)
