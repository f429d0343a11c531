"""The real-CLI tier: ``pulumi`` itself against ``fake-elb serve``, fully offline.

Marked ``cli``. Where there is no CLI, the tier skips with one line saying how to get one;
with ``CI=true`` a missing CLI fails instead (CI must never skip it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_elb import DEFAULT_TOKEN, ServerControl
from fake_elb.engine import CliStack, DynamicResource, require_cli
from otc_elb_listener.listener import TYPE_TOKEN, ListenerProvider
from tests.conftest import PROJECT

#: The repository root, so that the provider host can import test-only providers.
REPO = Path(__file__).resolve().parent.parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cli)


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    return require_cli()


class Elb:
    """The fake server with one External load balancer, and listener inputs for it."""

    def __init__(self, control: ServerControl, lb_id: str | None = None) -> None:
        self.control = control
        control.set_strict(True)  # the provider never sends a field the service ignores
        self.lb = control.add_loadbalancer(PROJECT, id=lb_id)["id"]
        self.provider = ListenerProvider()
        self.config = {"elb:endpoint": control.url, "elb:projectId": PROJECT}
        self.secrets = {"elb:token": DEFAULT_TOKEN}

    def inputs(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = dict(loadbalancer_id=self.lb, protocol="HTTP",
                                    backend_protocol="HTTP", port=80, backend_port=8080,
                                    lb_algorithm="roundrobin", name="web")
        return {**base, **changes}

    def listener(self, name: str = "web", **options: Any) -> DynamicResource:
        inputs = options.pop("inputs", None) or self.inputs()
        return DynamicResource(name, self.provider, inputs, TYPE_TOKEN, **options)

    def calls(self, since: int = 0) -> list[tuple[str, Any]]:
        """(method, body) of the listener API calls since ``since`` (control plane excluded)."""
        return [(entry["method"], entry["body"]) for entry in self.control.requests[since:]]

    def mark(self) -> int:
        return len(self.control.requests)


@pytest.fixture
def elb(fake_elb_server: ServerControl) -> Elb:
    return Elb(fake_elb_server)


@pytest.fixture
def cli_stack(pulumi_cli: Path, elb: Elb) -> Iterator[CliStack]:
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack:
        yield stack
